"""Audit over the index: records, trails, findings and consent receipts."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import cast
from dataclasses import dataclass

from sqlalchemy import Select, and_, exists, or_, select
from sqlalchemy.orm import Session, aliased

from api.audit import trails
from api.audit.indexer import REFUSALS, Indexer, application_ref
from api.audit.models import ChainRecord
from api.auth.service import Identity
from api.catalog import CATEGORIES, merged_scope
from api.context import Platform
from api.models import Application, Certificate, CertificateBatch
from api.settings import AuditSettings
from httpkit.problems import BadRequest, Forbidden, NotFound
from chain.consents import ConsentState
from chain.hexcodec import unhex
from chain.registry import Role

OVERSEERS = {Role.AUDITOR, Role.GOVERNOR}
BID_EVENTS = ("BidCommitted", "BidWithdrawn")
OPENING_EVENTS = ("TenderOpened", "TenderFailed")


def sealed_bid_activity():
    """Bid commitments and withdrawals of a tender not yet opened: served to nobody (Art 21: names and
    count stay secret until the opening; each bidder keeps its own signed receipts)."""
    opening = aliased(ChainRecord)
    opened = exists().where(opening.case_ref == ChainRecord.case_ref, opening.contract == ChainRecord.contract,
                            opening.event.in_(OPENING_EVENTS))  # fmt: skip
    return and_(ChainRecord.event.in_(BID_EVENTS), ~opened)


RECORD_FIELDS = ("block_number", "log_index", "block_time", "tx_hash", "contract", "contract_name", "event", "kind",
                 "tx_sender", "member", "applicant", "case_ref", "args")  # fmt: skip
CURSOR = re.compile(r"^(\d{1,18})\.(\d{1,9})$")
HEX32 = re.compile(r"^0x[0-9a-fA-F]{64}$")
ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


def as_row(record: ChainRecord) -> dict:
    return {name: getattr(record, name) for name in (*trails.STEP_FIELDS, "member", "applicant", "case_ref")}


def names_of(platform: Platform) -> trails.Names:
    cache: dict[str, str | None] = {}

    def name(address: str) -> str | None:
        if address not in cache:
            try:
                member = platform.members.member(address)
            except Exception:
                member = None
            cache[address] = member.info.name if member else None
        return cache[address]

    return name


# -- records ---------------------------------------------------------------------------------


@dataclass
class RecordQuery:
    kind: list[str] | None = None
    member: str | None = None
    applicant: str | None = None
    contract: str | None = None  # an address or a contract name
    event: str | None = None
    case_ref: str | None = None
    since: int | None = None  # block time, inclusive
    until: int | None = None  # block time, exclusive
    cursor: str | None = None
    limit: int = 100


def _checksum(value: str, what: str) -> str:
    from web3 import Web3

    if not ADDRESS.match(value):
        raise BadRequest(f"{what} must be an address (0x + 40 hex digits)")
    return Web3.to_checksum_address(value)


def applicant_is(address: str):
    """Records of ``address`` or of a consent pseudonym its wallet linked: on chain a consent names
    only its pseudonym, and the links are the platform's (off chain), so an overseer finds an
    applicant's records by its wallet."""
    linked = select(Application.consent_pseudonym).where(Application.applicant == address, Application.consent_pseudonym.is_not(None))
    return or_(ChainRecord.applicant == address, ChainRecord.applicant.in_(linked))


def records_select(identity: Identity, query: RecordQuery) -> Select:
    """The records ``identity`` may see that match ``query``, in chain order."""
    statement = select(ChainRecord).where(~sealed_bid_activity())
    if not identity.roles & OVERSEERS:
        if Role.AGENCY not in identity.roles:
            raise Forbidden(f"{identity.address} needs one of the roles AUDITOR, GOVERNOR, AGENCY on GovRegistry")
        statement = statement.where(or_(ChainRecord.member == identity.address, ChainRecord.tx_sender == identity.address))
    if query.kind:
        statement = statement.where(ChainRecord.kind.in_(query.kind))
    if query.member:
        statement = statement.where(ChainRecord.member == _checksum(query.member, "member"))
    if query.applicant:
        statement = statement.where(applicant_is(_checksum(query.applicant, "applicant")))
    if query.contract:
        if ADDRESS.match(query.contract):
            statement = statement.where(ChainRecord.contract == _checksum(query.contract, "contract"))
        else:
            statement = statement.where(ChainRecord.contract_name == query.contract)
    if query.event:
        statement = statement.where(ChainRecord.event == query.event)
    if query.case_ref:
        statement = statement.where(ChainRecord.case_ref == query.case_ref.lower())
    # block time never decreases along the chain: a time range is a block range, which the
    # (filter, block, log index) indexes seek to instead of scanning
    if query.since is not None:
        first = (select(ChainRecord.block_number).where(ChainRecord.block_time >= query.since)
                 .order_by(ChainRecord.block_time, ChainRecord.block_number).limit(1).scalar_subquery())  # fmt: skip
        statement = statement.where(ChainRecord.block_time >= query.since, ChainRecord.block_number >= first)
    if query.until is not None:
        last = (select(ChainRecord.block_number).where(ChainRecord.block_time < query.until)
                .order_by(ChainRecord.block_time.desc(), ChainRecord.block_number.desc()).limit(1).scalar_subquery())  # fmt: skip
        statement = statement.where(ChainRecord.block_time < query.until, ChainRecord.block_number <= last)
    if query.cursor:
        match = CURSOR.match(query.cursor)
        if not match:
            raise BadRequest("cursor is the next_cursor of a previous page")
        block, index = int(match[1]), int(match[2])
        statement = statement.where(or_(ChainRecord.block_number > block, and_(ChainRecord.block_number == block, ChainRecord.log_index > index)))
    return statement.order_by(ChainRecord.block_number, ChainRecord.log_index)


def record_json(record: ChainRecord) -> dict:
    return {name: getattr(record, name) for name in RECORD_FIELDS}


def records_page(session: Session, identity: Identity, query: RecordQuery) -> dict:
    rows = list(session.scalars(records_select(identity, query).limit(query.limit + 1)))
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    next_cursor = f"{rows[-1].block_number}.{rows[-1].log_index}" if more and rows else None
    return {"records": [record_json(r) for r in rows], "next_cursor": next_cursor}


def records_csv(platform: Platform, identity: Identity, query: RecordQuery) -> Iterator[str]:
    """Every matching record as CSV, written in chunks (never the whole export in memory)."""
    statement = records_select(identity, query)

    def chunks() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(RECORD_FIELDS)
        with platform.sessions() as session:
            for count, record in enumerate(session.scalars(statement.execution_options(yield_per=1000)), 1):
                row = record_json(record)
                row["args"] = json.dumps(row["args"], separators=(",", ":"), sort_keys=True)
                writer.writerow(["" if row[name] is None else row[name] for name in RECORD_FIELDS])
                if count % 500 == 0:
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
        yield buffer.getvalue()

    return chunks()


# -- trails ----------------------------------------------------------------------------------


def application_refs(session: Session, application: Application) -> tuple[list[str], dict]:
    """The references of an application's on-chain story, and notes for the summaries."""
    refs, notes = [application_ref(application.id)], {}
    if application.consent_id:
        refs.append(application.consent_id.lower())
    certificate = session.scalar(select(Certificate).where(Certificate.application_id == application.id))
    if certificate is not None:
        if certificate.target_hash:
            refs.append(certificate.target_hash.lower())
            notes["target_hash"] = certificate.target_hash.lower()
        batch = session.get(CertificateBatch, certificate.batch_id) if certificate.batch_id else None
        if batch is not None:
            refs.append(batch.merkle_root.lower())
            notes["batch_root"] = batch.merkle_root.lower()
    return refs, notes


def application_actors(platform: Platform, session: Session, application: Application) -> dict:
    """The contracts and actors whose events belong to ``application``'s trail: the DocumentStore
    that issued its certificate, the relayer and the handling agency as anchorers of their kinds."""
    from web3 import Web3

    certificate = session.scalar(select(Certificate).where(Certificate.application_id == application.id))
    batch = session.get(CertificateBatch, certificate.batch_id) if certificate is not None and certificate.batch_id else None
    stores = {Web3.to_checksum_address(batch.store)} if batch is not None else set()
    relayers = {platform.keyring.signer("relayer").address}
    return trails.application_selection(platform.contracts.registry(), agency=Web3.to_checksum_address(application.agency), relayers=relayers, stores=stores)


def application_trail(platform: Platform, session: Session, identity: Identity, application_id: str, verify: bool) -> dict:
    application = session.get(Application, application_id)
    if application is None:
        raise NotFound(f"no application {application_id}")
    own = identity.address == application.applicant or (identity.address == application.agency and Role.AGENCY in identity.roles)
    if not own and not identity.roles & OVERSEERS:
        raise Forbidden(f"{identity.address} is neither an auditor, a governor, the applicant nor the handling agency of {application_id}")
    indexer = platform.workers.of(Indexer)
    indexer.refresh()
    refs, notes = application_refs(session, application)
    rows = [as_row(r) for r in session.scalars(select(ChainRecord).where(ChainRecord.case_ref.in_(refs)))]
    actors = application_actors(platform, session, application)
    rows = trails.own_rows(rows, **actors)

    def from_chain() -> list[dict]:
        documents = tuple(notes[k] for k in ("target_hash", "batch_root") if k in notes)
        found = trails.chain_rows(indexer.watched(), platform.contracts.registry(), application_id=application.id,
                                  consent_id=application.consent_id.lower() if application.consent_id else None, documents=documents)  # fmt: skip
        return trails.own_rows(found, **actors)

    return _finish("application", application.id, rows, platform, notes, verify, from_chain)


def tender_trail(platform: Platform, session: Session, identity: Identity, tender_id: str, verify: bool) -> dict:
    if not HEX32.match(tender_id):
        raise BadRequest("a tender id is 0x followed by 64 hex digits")
    tender_id = tender_id.lower()
    indexer = platform.workers.of(Indexer)
    indexer.refresh()
    rows = [as_row(r) for r in session.scalars(select(ChainRecord).where(ChainRecord.case_ref == tender_id, ChainRecord.contract_name == "TenderLedger",
                                                                         ~sealed_bid_activity()))]  # fmt: skip
    created = next((r for r in rows if r["event"] == "TenderCreated"), None)
    if created is None:
        raise NotFound(f"no tender {tender_id} in the index")
    if not identity.roles & OVERSEERS and identity.address != created["args"]["agency"]:
        raise Forbidden(f"{identity.address} is neither an auditor, a governor nor the agency of tender {tender_id}")
    return _finish("tender", tender_id, rows, platform, {}, verify, lambda: trails.chain_rows(indexer.watched(), platform.contracts.registry(), tender_id=tender_id))


def _finish(kind: str, case_id: str, rows: list[dict], platform: Platform, notes: dict, verify: bool, from_chain: Callable[[], list[dict]]) -> dict:
    """The trail; with ``verify`` each step checked against its receipt and the set of steps
    re-derived from the chain's logs (a step the index lacks is reported, not dropped)."""
    names = names_of(platform)
    trail = trails.trail_of(kind, case_id, rows, names, notes)
    if verify:
        try:
            chain_side = from_chain()
        except Exception as exc:  # the node failed: the trail cannot be called verified
            trail["verified"], trail["verification"] = False, f"could not read the case's logs from the chain: {exc}"
            return trail
        trails.verify(trail, rows, trails.ChainChecker(platform.contracts.chain(), platform.workers.of(Indexer).watched()), from_chain=chain_side, names=names, notes=notes)
    return trail


# -- findings --------------------------------------------------------------------------------

SEVERITY_OF_REFUSAL = {"wrong_requester": "high", "requester_not_agency": "high", "unknown_consent": "high", "revoked": "medium", "expired": "medium",
                       "max_pulls_reached": "medium", "paused": "medium", "category_not_covered": "medium"}  # fmt: skip


def _finding(rule: str, severity: str, case_ref: str | None, records: list[ChainRecord], explanation: str) -> dict:
    return {
        "rule": rule, "severity": severity, "case_ref": case_ref, "tx_hashes": sorted({r.tx_hash for r in records}),
        "time": max(r.block_time for r in records), "member": records[0].member, "explanation": explanation,
    }  # fmt: skip


def findings(platform: Platform, session: Session, settings: AuditSettings, rule: str | None = None) -> list[dict]:
    """Every finding of the audit rules over the index (windows and thresholds from ``settings``)."""
    platform.workers.of(Indexer).refresh()
    out: list[dict] = []
    rules = {
        "pull_near_expiry": _near_expiry, "pull_burst": _bursts, "pull_refused": _refused,
        "certificate_revoked_soon": _revoked_soon, "bid_changed_near_deadline": _late_bid_changes,
    }  # fmt: skip
    if rule is not None and rule not in rules:
        raise BadRequest(f"unknown rule {rule!r}; rules are {', '.join(rules)}")
    for name, check in rules.items():
        if rule in (None, name):
            out += check(session, settings)
    out.sort(key=lambda f: (f["time"], f["rule"]))
    return out


def _granted(session: Session, consent_ids: set[str]) -> dict[str, ChainRecord]:
    found: dict[str, ChainRecord] = {}
    ids = sorted(consent_ids)
    for start in range(0, len(ids), 500):
        for record in session.scalars(select(ChainRecord).where(ChainRecord.event == "ConsentGranted", ChainRecord.case_ref.in_(ids[start : start + 500]))):
            found[cast(str, record.case_ref)] = record  # selected by it
    return found


def _near_expiry(session: Session, settings: AuditSettings) -> list[dict]:
    pulls = list(session.scalars(select(ChainRecord).where(ChainRecord.event == "DataPulled")))
    granted = _granted(session, {cast(str, p.case_ref) for p in pulls})  # a pull's case is its consent
    window, out = settings.expiry_window_seconds, []
    for pull in pulls:
        case_ref = cast(str, pull.case_ref)
        consent = granted.get(case_ref)
        if consent is None:
            continue
        left = consent.args["expiresAt"] - pull.block_time
        if 0 <= left <= window:
            out.append(_finding("pull_near_expiry", "low", case_ref, [pull],
                                f"{CATEGORIES[pull.args['category']]} pulled by {pull.member} {left} s before consent "
                                f"{case_ref[:10]}… expires (window {window} s)"))  # fmt: skip
    return out


def _bursts(session: Session, settings: AuditSettings) -> list[dict]:
    pulls = session.scalars(select(ChainRecord).where(ChainRecord.kind == "pull").order_by(ChainRecord.block_number, ChainRecord.log_index))
    by_agency: dict[str, list[ChainRecord]] = defaultdict(list)
    for pull in pulls:
        by_agency[cast(str, pull.member)].append(pull)  # a pull names its agency
    span, threshold, out = settings.burst_minutes * 60, settings.burst_pulls, []
    for agency, rows in by_agency.items():
        start = 0
        burst_end = -1  # index of the last row already reported in a burst
        for end in range(len(rows)):
            while rows[end].block_time - rows[start].block_time > span:
                start += 1
            if end - start + 1 >= threshold and end > burst_end:
                # extend to the whole run of pulls that stays within the span, report it once
                last = end
                while last + 1 < len(rows) and rows[last + 1].block_time - rows[start].block_time <= span:
                    last += 1
                run = rows[start : last + 1]
                out.append(_finding("pull_burst", "medium", agency, run,
                                    f"{len(run)} pulls by {agency} within {settings.burst_minutes:g} minutes "
                                    f"(threshold {threshold}) over {len({r.case_ref for r in run})} consents"))  # fmt: skip
                burst_end = last
    return out


def _refused(session: Session, settings: AuditSettings) -> list[dict]:
    out = []
    for record in session.scalars(select(ChainRecord).where(ChainRecord.event == "PullRefused").order_by(ChainRecord.block_number, ChainRecord.log_index)):
        reason = REFUSALS.get(record.args["reason"], str(record.args["reason"]))
        category = CATEGORIES[record.args["category"]] if record.args["category"] < len(CATEGORIES) else record.args["category"]
        out.append(_finding("pull_refused", SEVERITY_OF_REFUSAL.get(reason, "low"), record.case_ref, [record],
                            f"pull of {category} by {record.member} refused by holder {record.args['holder']}: {reason}"))  # fmt: skip
    return out


def _revoked_soon(session: Session, settings: AuditSettings) -> list[dict]:
    window, out = settings.revoked_within_seconds, []
    for revoked in session.scalars(select(ChainRecord).where(ChainRecord.event == "DocumentRevoked")):
        document = cast(str, revoked.case_ref)  # a revocation's case is its document
        root = document
        certificate = session.scalar(select(Certificate).where(Certificate.target_hash == document))
        if certificate is not None and certificate.batch_id:
            root = cast(CertificateBatch, session.get(CertificateBatch, certificate.batch_id)).merkle_root.lower()
        issued = session.scalar(select(ChainRecord).where(ChainRecord.event == "DocumentIssued", ChainRecord.case_ref == root,
                                                          ChainRecord.contract == revoked.contract))  # fmt: skip
        if issued is None:
            continue
        after = revoked.block_time - issued.block_time
        if after <= window:
            what = f"certificate {certificate.id}" if certificate is not None else f"batch {root[:10]}…"
            out.append(_finding("certificate_revoked_soon", "medium", document, [issued, revoked],
                                f"{what} revoked {after} s after its batch {root[:10]}… was issued (window {window} s)"))  # fmt: skip
    return out


def _late_bid_changes(session: Session, settings: AuditSettings) -> list[dict]:
    window, out = settings.bid_change_minutes * 60, []
    changes = list(session.scalars(select(ChainRecord).where(
        or_(ChainRecord.event == "BidWithdrawn", ChainRecord.event == "BidCommitted"), ~sealed_bid_activity())
        .order_by(ChainRecord.block_number, ChainRecord.log_index)))  # only once the tender is opened  # fmt: skip
    tenders = {r.case_ref: r for r in session.scalars(select(ChainRecord).where(
        ChainRecord.event == "TenderCreated", ChainRecord.case_ref.in_({c.case_ref for c in changes})))}  # fmt: skip
    for change in changes:
        if change.event == "BidCommitted" and change.args["version"] <= 1:
            continue
        created = tenders.get(change.case_ref)
        if created is None:
            continue
        before = created.args["bidDeadline"] - change.block_time
        if 0 <= before <= window:
            what = "replaced" if change.event == "BidCommitted" else "withdrawn"
            out.append(_finding("bid_changed_near_deadline", "medium", change.case_ref, [change],
                                f"bid {change.args['pseudonym'][:10]}… {what} (version {change.args['version']}) {before} s before "
                                f"the deadline (window {settings.bid_change_minutes:g} minutes)"))  # fmt: skip
    return out


# -- consent receipts (ISO/IEC TS 27560) -----------------------------------------------------

SCHEMA_VERSION = "ISO/IEC TS 27560:2023; govchain consent receipt 1"


def consent_receipt(platform: Platform, session: Session, identity: Identity, consent_id: str, now: int) -> dict:
    consent_id = consent_id.lower()
    platform.workers.of(Indexer).refresh()
    granted = session.scalar(select(ChainRecord).where(ChainRecord.event == "ConsentGranted", ChainRecord.case_ref == consent_id))
    if granted is None:
        raise NotFound(f"no consent {consent_id} in the index")
    applicant = granted.args["applicant"]  # the consent's pseudonym
    linked = session.scalar(select(Application).where(Application.consent_id == consent_id, Application.consent_pseudonym == applicant))
    if (linked is None or identity.address != linked.applicant) and Role.AUDITOR not in identity.roles:
        raise Forbidden(f"consent {consent_id} is not {identity.address}'s")
    events = list(session.scalars(select(ChainRecord).where(ChainRecord.case_ref == consent_id,
                                                            ChainRecord.contract_name == "ConsentRegistry")
                                  .order_by(ChainRecord.block_number, ChainRecord.log_index)))  # fmt: skip
    application = session.scalar(select(Application).where(Application.consent_id == consent_id))
    terms = granted.args
    matters = [platform.catalog.matters[c] for c in application.matters] if application else []
    scope = merged_scope(matters) if matters else {c: [] for i, c in enumerate(CATEGORIES) if terms["categories"] >> i & 1}
    state = platform.contracts.consents().get(unhex(consent_id))

    def party(address: str, role: str) -> dict:
        member = platform.members.member(address)
        info = member.info if member else None
        return {"role": role, "address": address, "name": info.name if info else None, "orgCode": info.org_code if info else None,
                "domain": info.domain if info else None}  # fmt: skip

    holders = sorted({e.tx_sender for e in events if e.event == "DataPulled"})  # the holder sends recordPulls
    kinds = {"ConsentGranted": "granted", "DataPulled": "pull_released", "PullRefused": "pull_refused", "ConsentRevoked": "revoked",
             "ConsentPaused": "paused", "ConsentResumed": "resumed"}  # fmt: skip
    revocation = f"/v1/me/consents/{consent_id}/revocation"
    return {
        "schemaVersion": SCHEMA_VERSION,
        "recordId": consent_id,
        "receiptId": f"urn:govchain:{granted.chain_id}:{granted.contract}:consent:{consent_id}",
        "generatedAt": now,
        "language": "zh-CN",
        "principal": {
            "id": applicant,
            "idType": "per-consent pseudonymous account address (no name, ID number or wallet is kept on chain)",
            **({"linkedWallet": linked.applicant} if linked is not None and identity.address == linked.applicant else {}),
        },
        "purposes": [{"code": m.code, "purpose": m.name_zh, "purposeEn": m.name_en, "legalBasis": "consent", "purposeHash": terms["purposeHash"]} for m in matters]
        or [{"code": None, "purpose": None, "legalBasis": "consent", "purposeHash": terms["purposeHash"]}],  # fmt: skip
        "dataCategories": [{"category": c, "attributes": attrs} for c, attrs in scope.items()],
        "scopeHash": terms["scopeHash"],
        "controllers": [party(terms["agency"], "controller")],
        "recipients": [party(terms["agency"], "requester"), *(party(h, "data holder (served)") for h in holders)],
        "validity": {"notBefore": terms["notBefore"], "expiresAt": terms["expiresAt"], "maxPulls": terms["maxPulls"], "pulls": state.pulls},
        "state": state.state.name.lower() if state.state is not ConsentState.NONE else "unknown",
        "withdrawal": {
            "method": "signed revocation (EIP-712 Revocation(consentId, deadline), signed by the principal's key)",
            "request": f"GET {revocation}",
            "submit": f"POST {revocation}",
            "onChain": "ConsentRegistry.revokeConsentBySig (relayed), or revokeConsent sent by the principal",
            "effect": "every later pull is refused and logged as refused",
        },
        "events": [
            {
                "type": kinds.get(e.event, e.event),
                "time": e.block_time,
                "txHash": e.tx_hash,
                "blockNumber": e.block_number,
                "logIndex": e.log_index,
                "by": e.tx_sender,
                **({"category": CATEGORIES[e.args["category"]], "holder": e.tx_sender, "requester": e.member} if e.kind == "pull" else {}),
                **({"reason": REFUSALS.get(e.args["reason"])} if e.event == "PullRefused" else {}),
            }
            for e in events
        ],  # fmt: skip
        "evidence": {"chainId": granted.chain_id, "contract": granted.contract, "grantedTx": granted.tx_hash, "grantedBlock": granted.block_number},
    }
