"""Audit routes: indexed records, case trails (verifiable against the chain), findings, consent receipts."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse, StreamingResponse

from api.audit import service
from api.audit.indexer import KINDS, Indexer
from api.auth.service import Identity
from api.auth.deps import CurrentIdentity, require_role
from api.deps import PlatformDep, SessionDep
from chain.registry import Role
from httpkit import NowDep

router = APIRouter(prefix="/v1", tags=["audit"])
Overseer = Annotated[Identity, Depends(require_role(Role.AUDITOR, Role.GOVERNOR))]
Reader = Annotated[Identity, Depends(require_role(Role.AUDITOR, Role.GOVERNOR, Role.AGENCY))]


@router.get("/records", responses={200: {"content": {"application/json": {}, "text/csv": {}}, "description": "a JSON page, or CSV with ?format=csv"}})
def records(
    identity: Reader, platform: PlatformDep, session: SessionDep,
    kind: Annotated[list[str] | None, Query(description=f"one or more of {', '.join(KINDS)}")] = None,
    member: Annotated[str | None, Query(description="the member acting (agency, holder, issuer ...)")] = None,
    applicant: Annotated[str | None, Query(description="the applicant's address")] = None,
    contract: Annotated[str | None, Query(description="a contract address or name (e.g. ConsentRegistry, DocumentStore)")] = None,
    event: Annotated[str | None, Query(max_length=40)] = None,
    case_ref: Annotated[str | None, Query(pattern=r"^0x[0-9a-fA-F]{40,64}$", description="consent id, keccak(application id), tender id, root")] = None,
    since: Annotated[int | None, Query(ge=0, description="block time from (unix seconds, inclusive)")] = None,
    until: Annotated[int | None, Query(ge=0, description="block time until (unix seconds, exclusive)")] = None,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
):  # fmt: skip
    """Anchored records from the audit index, in chain order. An agency sees the records it acted
    in; auditors and governors see all. JSON pages with a keyset ``next_cursor``, or the whole
    selection as a streamed CSV (``?format=csv``)."""
    indexer = platform.workers.of(Indexer)
    query = service.RecordQuery(kind=kind, member=member, applicant=applicant, contract=contract, event=event, case_ref=case_ref,
                                since=since, until=until, cursor=cursor, limit=limit)  # fmt: skip
    if format == "csv":
        chunks = service.records_csv(platform, identity, query)
        return StreamingResponse(chunks, media_type="text/csv; charset=utf-8",
                                 headers={"Content-Disposition": 'attachment; filename="govchain-records.csv"'})  # fmt: skip
    page = service.records_page(session, identity, query)
    page["indexed_block"] = indexer.cursors.get(indexer.watched().cursor_name) if indexer._watched else None
    return JSONResponse(page)  # plain JSON types already: skip the encoder (a 1,000-row page costs it most of its time)


@router.get("/audit/applications/{application_id}/trail")
def application_trail(application_id: str, identity: CurrentIdentity, platform: PlatformDep, session: SessionDep, verify: bool = False):
    """The application's story on chain: consent, pulls, commitments, submission, certificate batch,
    revocations, delivery. ``?verify=true`` re-checks every step against its receipt."""
    return service.application_trail(platform, session, identity, application_id, verify)


@router.get("/audit/tenders/{tender_id}/trail")
def tender_trail(tender_id: str, identity: CurrentIdentity, platform: PlatformDep, session: SessionDep, verify: bool = False):
    """Every TenderLedger step of the tender. ``?verify=true`` re-checks every step against its receipt."""
    return service.tender_trail(platform, session, identity, tender_id, verify)


@router.get("/audit/findings")
def findings(
    identity: Overseer, platform: PlatformDep, session: SessionDep,
    rule: Annotated[str | None, Query(description="pull_near_expiry, pull_burst, pull_refused, certificate_revoked_soon, bid_changed_near_deadline")] = None,
    expiry_window_seconds: Annotated[int | None, Query(ge=0)] = None,
    burst_pulls: Annotated[int | None, Query(ge=2)] = None,
    burst_minutes: Annotated[float | None, Query(gt=0)] = None,
    revoked_within_seconds: Annotated[int | None, Query(ge=0)] = None,
    bid_change_minutes: Annotated[float | None, Query(ge=0)] = None,
):  # fmt: skip
    """Findings of the audit rules over the index; thresholds default to GOVCHAIN_AUDIT_* settings."""
    changes = {"expiry_window_seconds": expiry_window_seconds, "burst_pulls": burst_pulls, "burst_minutes": burst_minutes,
               "revoked_within_seconds": revoked_within_seconds, "bid_change_minutes": bid_change_minutes}  # fmt: skip
    settings = platform.settings.audit.model_copy(update={k: v for k, v in changes.items() if v is not None})
    found = service.findings(platform, session, settings, rule)
    return {"findings": found, "settings": {f"audit_{k}": getattr(settings, k) for k in changes}}


@router.get("/me/consents/{consent_id}/receipt")
def consent_receipt(
    consent_id: Annotated[str, Path(pattern=r"^0x[0-9a-fA-F]{64}$")], identity: CurrentIdentity, platform: PlatformDep, session: SessionDep,
    now: NowDep,
):  # fmt: skip
    """The consent as an ISO/IEC TS 27560 consent record: principal, purposes, data, controllers,
    recipients, validity, how to withdraw, and every event with its transaction (the applicant; auditors)."""
    return service.consent_receipt(platform, session, identity, consent_id, int(now.timestamp()))
