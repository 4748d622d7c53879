from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any, Literal, cast

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from api.agency_signing import service as signing
from api.applications import states
from api.applications.schemas import application_out
from api.applications.service import get_for
from api.certificates import pdf, service
from api.certificates.status import IndexStatus
from api.auth.deps import CurrentIdentity
from api.deps import PlatformDep, SessionDep, read_body
from httpkit import NowDep
from api.materials import service as materials
from api.models import Application, BatchState, Certificate, CertificateBatch, CertificateState
from httpkit.problems import PROBLEM_BASE, BadRequest, Forbidden, NotFound
from api.pulls.service import pulled_data, require_agency
from chain import intents
from identity import oa
from identity.verify import Verifier
from chain.registry import Role

router = APIRouter(prefix="/v1", tags=["review and certificates"])
MAX_DOCUMENT_BYTES = 1024 * 1024
HEX32 = r"^0x[0-9a-fA-F]{64}$"
MAX_BULK_DECISIONS = 1000


class Decision(BaseModel):
    decision: Literal["approve", "reject"]
    reason: str = Field(min_length=1, max_length=2000, description="why; shown to the applicant")


class BulkDecision(Decision):
    application_id: str = Field(min_length=1, max_length=100)


class BulkDecisions(BaseModel):
    decisions: list[BulkDecision] = Field(min_length=1, max_length=MAX_BULK_DECISIONS)


class Revocation(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


def _agency(identity) -> None:
    if Role.AGENCY not in identity.roles:
        raise Forbidden(f"{identity.address} needs the AGENCY role")


def _certificate_out(platform, session, certificate: Certificate) -> dict:
    batch = session.get(CertificateBatch, certificate.batch_id) if certificate.batch_id else None
    return {
        "id": certificate.id, "application_id": certificate.application_id, "state": certificate.state,
        "target_hash": certificate.target_hash, "merkle_root": batch.merkle_root if batch else None,
        "document_store": batch.store if batch else None, "issue_tx": batch.tx_hash if batch else None,
        "block_number": batch.block_number if batch else None, "issued_at": certificate.issued_at,
        "revoked_at": certificate.revoked_at, "revoke_reason": certificate.revoke_reason, "revoke_tx": certificate.revoke_tx,
        "verify_url": _verify_link(platform, certificate) if certificate.target_hash else None,
    }  # fmt: skip


def _verify_link(platform, certificate: Certificate) -> str:
    return pdf.qr_payload(platform.settings.public_url + "/verify", cast(str, certificate.target_hash))  # asked only when it has one


def _certificate(session, identity, certificate_id: str) -> Certificate:
    certificate = session.get(Certificate, certificate_id)
    if certificate is None:
        raise NotFound(f"no certificate {certificate_id}")
    get_for(session, identity, certificate.application_id)  # applicant, its agency or an auditor
    return certificate


# -- agency review ----------------------------------------------------------------------------


@router.get("/agency/applications")
def agency_queue(
    identity: CurrentIdentity, platform: PlatformDep, session: SessionDep,
    state: Annotated[str, Query(description="applications in this state")] = states.SUBMITTED,
    limit: Annotated[int, Query(ge=1, le=500)] = 100, offset: Annotated[int, Query(ge=0)] = 0,
):  # fmt: skip
    """The agency's applications in a state (submitted: awaiting review), oldest first."""
    _agency(identity)
    if state not in states.TRANSITIONS:
        raise BadRequest(f"unknown state {state!r}; states: {', '.join(states.TRANSITIONS)}")
    query = select(Application).where(Application.agency == identity.address, Application.state == state)
    rows = session.scalars(query.order_by(Application.submitted_at, Application.created_at).limit(limit).offset(offset))
    return [application_out(a, platform.catalog) for a in rows]


@router.get("/agency/applications/{application_id}")
def review_bundle(application_id: str, identity: CurrentIdentity, platform: PlatformDep, session: SessionDep):
    """Everything the agency reviews: the application, the pulled data (opened), the materials and the receipt."""
    application = get_for(session, identity, application_id)
    require_agency(identity, application)
    return {
        "application": application_out(application, platform.catalog),
        "pulled": pulled_data(platform, session, application),
        "materials": materials.listing(platform, session, application),
        "receipt": application.manifest,
        "delivery_method": application.delivery_method,
    }


@router.post("/applications/{application_id}/decision")
def decide(application_id: str, body: Decision, identity: CurrentIdentity, platform: PlatformDep, session: SessionDep, now: NowDep):
    """The agency approves (the certificate joins the next issuance batch) or rejects, with a reason."""
    application = get_for(session, identity, application_id)
    require_agency(identity, application)
    certificate = service.decide(platform, session, application, body.decision == "approve", body.reason, now)
    out: dict[str, Any] = {"application": application_out(application, platform.catalog)}
    if certificate is not None:
        out["certificate"] = _certificate_out(platform, session, certificate)
    return out


@router.post("/agency/decisions")
def decide_many(body: BulkDecisions, identity: CurrentIdentity, platform: PlatformDep, session: SessionDep, now: NowDep):
    """Up to 1,000 decisions of the signed-in agency in one request and one database transaction,
    with a result per item, in order. Each item is judged on its own: one that does not apply
    (404 unknown application, 403 another agency's, 409 not awaiting a decision or decided earlier
    in the same list, 503 no DocumentStore) is refused with its problem details and changes
    nothing; all the others are applied and committed together (the answer is 200 either way;
    ``decided`` and ``refused`` count them). Approvals queue their certificates for the next
    batch, as one decision at a time does; the issuer is woken once."""
    _agency(identity)
    items = [(d.application_id, d.decision == "approve", d.reason) for d in body.decisions]
    results = []
    for (application_id, _, _), (application, certificate, refusal) in zip(
        items, service.decide_many(platform, session, identity.address, items, now), strict=True
    ):  # fmt: skip
        if refusal is not None:
            problem = {"type": PROBLEM_BASE + refusal.slug, "title": refusal.title, "status": refusal.status, "detail": refusal.detail, **refusal.extra}
            results.append({"application_id": application_id, "status": refusal.status, "problem": problem})
            continue
        out: dict[str, Any] = {"application_id": application_id, "status": 200, "state": cast(Application, application).state}  # not refused: found
        if certificate is not None:
            out["certificate"] = {"id": certificate.id, "state": certificate.state}
        results.append(out)
    decided = sum(1 for r in results if r["status"] == 200)
    return {"decided": decided, "refused": len(results) - decided, "results": results}


@router.post("/agency/issuance/flush")
def flush(identity: CurrentIdentity, platform: PlatformDep, session: SessionDep, now: NowDep):
    """Issue every queued certificate now instead of waiting for the batch to fill. With agency-held
    keys a batch first awaits the agency's own signature: listed with ``state`` awaiting and the URL
    of its ``signature_request`` (the worker issues it once the agency's transaction is mined)."""
    _agency(identity)
    batches = platform.workers.of(service.Issuer).work(now, force=True)
    issued = [{"merkle_root": b.merkle_root, "size": b.size, "state": b.state, "tx_hash": b.tx_hash, "block_number": b.block_number} for b in batches]
    awaiting = session.scalars(select(CertificateBatch).where(CertificateBatch.agency == identity.address, CertificateBatch.state == BatchState.AWAITING))
    return issued + [_awaiting_out(platform, batch) for batch in awaiting]


def _awaiting_out(platform, batch: CertificateBatch) -> dict:
    request = signing.awaiting_for(platform, intents.certificates_issue(batch.merkle_root))
    url = signing.request_out(platform, request)["url"] if request is not None else None
    return {"merkle_root": batch.merkle_root, "size": batch.size, "state": batch.state, "signature_request": url}


@router.get("/certificate-batches/{merkle_root}")
def certificate_batch(merkle_root: Annotated[str, Path(pattern=HEX32)], identity: CurrentIdentity, session: SessionDep):
    """A batch for its issuing agency: its state and every certificate's target hash (the agency's
    client recomputes the Merkle root from them before it signs ``issue(root)``)."""
    batch = _batch(session, merkle_root)
    if identity.address != batch.agency:
        raise Forbidden(f"only the issuing agency {batch.agency} may read this batch")
    certificates = session.scalars(select(Certificate).where(Certificate.batch_id == batch.id).order_by(Certificate.id))
    return {"merkle_root": batch.merkle_root, "store": batch.store, "size": batch.size, "state": batch.state, "tx_hash": batch.tx_hash,
            "certificates": [{"id": c.id, "application_id": c.application_id, "target_hash": c.target_hash} for c in certificates]}  # fmt: skip


def _batch(session, merkle_root: str) -> CertificateBatch:
    batch = session.scalar(select(CertificateBatch).where(CertificateBatch.merkle_root == merkle_root.lower()))
    if batch is None:
        raise NotFound(f"no batch with root {merkle_root}")
    return batch


# -- certificates -----------------------------------------------------------------------------


@router.get("/applications/{application_id}/certificate")
def application_certificate(application_id: str, identity: CurrentIdentity, platform: PlatformDep, session: SessionDep):
    application = get_for(session, identity, application_id)
    return _certificate_out(platform, session, service.certificate_for(session, application))


@router.get("/certificates/{certificate_id}")
def certificate(certificate_id: str, identity: CurrentIdentity, platform: PlatformDep, session: SessionDep):
    return _certificate_out(platform, session, _certificate(session, identity, certificate_id))


@router.get("/certificates/{certificate_id}/document")
def certificate_document(certificate_id: str, identity: CurrentIdentity, platform: PlatformDep, session: SessionDep):
    """The wrapped OpenAttestation document (a .oa file anyone can verify)."""
    certificate = _certificate(session, identity, certificate_id)
    if certificate.target_hash is None:
        raise NotFound(f"{certificate_id} is {certificate.state}; its document exists once its batch is cut")
    document = service.document_of(platform, certificate)
    return Response(json.dumps(document, ensure_ascii=False, indent=2), media_type="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{certificate_id}.oa"'})  # fmt: skip


@router.get("/certificates/{certificate_id}/pdf", response_class=Response, responses={200: {"content": {"application/pdf": {}}}})
def certificate_pdf(certificate_id: str, identity: CurrentIdentity, platform: PlatformDep, session: SessionDep):
    """A printable PDF with a QR code carrying the verification link and the target hash (rendered on request)."""
    certificate = _certificate(session, identity, certificate_id)
    if certificate.state not in (CertificateState.ISSUED, CertificateState.REVOKED):
        raise NotFound(f"{certificate_id} is {certificate.state}; the PDF exists once it is issued")
    document = service.document_of(platform, certificate)
    target_hash = cast(str, certificate.target_hash)  # issued or revoked: it has one
    data = oa.unsalt(document["data"])
    issuer = data["issuers"][0]
    view = pdf.CertificateView(
        certificate_id=certificate.id, title_zh=data["certificate"]["titleZh"], title_en=data["certificate"]["titleEn"],
        holder_name=data["recipient"]["name"], id_number_masked=data["recipient"]["idNumberMasked"],
        matter_zh="；".join(m["nameZh"] for m in data["matters"]), matter_en="; ".join(m["nameEn"] for m in data["matters"]),
        agency_name=issuer["name"], issued_on=date.fromisoformat(data["issuedOn"]), document_store=issuer["documentStore"],
        target_hash=target_hash,
    )  # fmt: skip
    body = pdf.render(view, platform.settings.public_url + "/verify", target_hash)
    return Response(body, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{certificate_id}.pdf"'})


@router.post("/certificates/{certificate_id}/revoke")
def revoke(certificate_id: str, body: Revocation, identity: CurrentIdentity, platform: PlatformDep, session: SessionDep, now: NowDep):
    """The issuing agency revokes one certificate (the others in its batch stay valid)."""
    certificate = _certificate(session, identity, certificate_id)
    if identity.address != certificate.agency or Role.ISSUER not in identity.roles:
        raise Forbidden(f"only the issuing agency {certificate.agency} may revoke {certificate_id}")
    return _certificate_out(platform, session, service.revoke(platform, session, certificate, body.reason, now))


@router.post("/certificate-batches/{merkle_root}/revoke")
def revoke_batch(
    merkle_root: Annotated[str, Path(pattern=HEX32)], body: Revocation, identity: CurrentIdentity, platform: PlatformDep,
    session: SessionDep, now: NowDep,
):  # fmt: skip
    """The issuing agency revokes a whole batch by its Merkle root."""
    batch = _batch(session, merkle_root)
    if identity.address != batch.agency or Role.ISSUER not in identity.roles:
        raise Forbidden(f"only the issuing agency {batch.agency} may revoke this batch")
    batch = service.revoke_batch(platform, session, batch, body.reason, now)
    return {"merkle_root": batch.merkle_root, "state": batch.state, "revoke_tx": batch.revoke_tx, "size": batch.size}


# -- verification (public) -------------------------------------------------------------------


VerifySource = Annotated[
    Literal["chain"] | None,
    Query(description="chain: read the status from the chain now; by default from the audit index, or the chain when the index lags the head"),
]


def _verifier(platform) -> Verifier:
    """The platform's verifier: status from the audit index, the chain when the index lags (api.certificates.status)."""
    settings = platform.settings
    return platform.contracts.verifier(platform.members, lambda chain: IndexStatus(platform.sessions, chain, max_lag=settings.verify.max_index_lag))


@router.post("/verify", tags=["verification"], openapi_extra={"requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}, "required": True}})
async def verify(request: Request, platform: PlatformDep, source: VerifySource = None):
    """Verify a wrapped certificate: integrity, status on chain, issuer identity; each with its reason, and the
    block the status holds at (``checkedAtBlock``) with where it was read (``source``: index or chain). No sign-in."""
    body = await read_body(request, MAX_DOCUMENT_BYTES, "documents")
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(f"the body is not a JSON document: {exc}") from None
    verdict = await run_in_threadpool(_verifier(platform).verify, document, fresh=source == "chain")
    return verdict.to_json()


@router.get("/verify/{target_hash}", tags=["verification"])
def verify_by_hash(target_hash: Annotated[str, Path(pattern=HEX32)], platform: PlatformDep, session: SessionDep, source: VerifySource = None):
    """What the QR code links to: the verdict on the certificate with this target hash, and its public face
    (title, issuer, date; not the holder's data)."""
    certificate = session.scalar(select(Certificate).where(Certificate.target_hash == target_hash.lower()))
    if certificate is None:
        raise NotFound(f"no certificate with target hash {target_hash} was issued here")
    document = service.document_of(platform, certificate)
    verdict = _verifier(platform).verify(document, fresh=source == "chain")
    data = oa.unsalt(document["data"])
    public = {"title_zh": data["certificate"]["titleZh"], "title_en": data["certificate"]["titleEn"],
              "issuer": data["issuers"][0]["name"], "issued_on": data["issuedOn"], "target_hash": certificate.target_hash}  # fmt: skip
    return {**verdict.to_json(), "certificate": public}
