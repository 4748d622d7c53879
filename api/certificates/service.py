"""Agency decisions and certificate issuance in Merkle batches.

An approval queues a certificate. The :class:`Issuer` wraps queued certificates of one
agency into one OpenAttestation batch when ``issue.batch_size`` are waiting or the oldest
has waited ``issue.batch_seconds``, and anchors the batch's Merkle root with one
``issue(root)`` from the agency's ISSUER key.

Exactly once, through crashes: the batch (root, every wrapped document, every proof) is
committed to the database *before* the transaction, in one transaction with the intent
``certificates:issue:<root>`` queued for the writer of the agency's key (:mod:`api.writes`). A process killed anywhere finds the
batch pending at start and finishes it with the same root, so no certificate is issued
twice and none is lost.

With agency-held keys the platform cannot sign ``issue(root)``: the batch waits in state
``awaiting`` (its certificates stay batched) until the agency has signed the transaction in its
own client (:mod:`api.agency_signing`); the issuer finishes it once that is mined.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from datetime import UTC, datetime
from typing import cast

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from api.agency_signing.service import SignatureAwaited, agency_write
from api.writes.service import WriteAccepted, queue
from api.applications import states
from api.applications.service import claimed_identity
from api.context import Platform
from api.workers import LoopWorker
from api.models import Application, BatchState, Certificate, CertificateBatch, CertificateState
from httpkit.problems import Conflict, Forbidden, NotFound, Problem, ServiceUnavailable
from chain import intents
from chain.hexcodec import hx, unhex
from chain.documents import DocumentStoreClient
from chain.registry import Member
from chain.faults import checkpoint
from identity import oa

log = logging.getLogger("govchain.certificates")
TEMPLATE = "GOVCHAIN_CERTIFICATE"


def _seal(platform: Platform, certificate_id: str, document: dict) -> bytes:
    data = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    return platform.keys.seal(data, f"certificates/{certificate_id}".encode())


def document_of(platform: Platform, certificate: Certificate) -> dict:
    return json.loads(platform.keys.open(certificate.document, f"certificates/{certificate.id}".encode()))


def mask_id_number(id_number: str) -> str:
    return id_number[:4] + "*" * (len(id_number) - 8) + id_number[-4:]


def store_of(platform: Platform, agency: str) -> DocumentStoreClient:
    address = platform.contracts.document_store(agency)
    if address is None:
        raise ServiceUnavailable(f"the agency {agency} has no DocumentStore in GovRegistry; it must create one first")
    return platform.contracts.store_client(address)


def certificate_data(platform: Platform, application: Application, certificate_id: str, now: datetime) -> dict:
    """The certificate's OpenAttestation v2 data (salted and wrapped later, in its batch)."""
    matters = [platform.catalog.matters[c] for c in application.matters]
    kind = platform.catalog.certificate[matters[0].certificate]
    agency = cast(Member, platform.members.member(application.agency))  # the application was made with an active agency
    claimed = claimed_identity(platform, application)
    return {
        "$template": {"name": TEMPLATE, "type": "EMBEDDED_RENDERER", "url": platform.settings.public_url + "/verify"},
        "id": certificate_id,
        "name": f"{kind.name_zh} {kind.name_en}",
        "certificate": {"type": matters[0].certificate, "titleZh": kind.name_zh, "titleEn": kind.name_en},
        "matters": [{"code": m.code, "nameZh": m.name_zh, "nameEn": m.name_en} for m in matters],
        "recipient": {"name": claimed["name"], "idNumberMasked": mask_id_number(claimed["id_number"])},
        "applicationRef": application.id,
        "issuedOn": now.date().isoformat(),
        "issuers": [{
            "name": agency.info.name,
            "documentStore": platform.contracts.document_store(application.agency),
            "identityProof": {"type": "DNS-TXT", "location": agency.info.domain},
        }],
    }  # fmt: skip


def _apply(platform: Platform, session: Session, application: Application, approve: bool, reason: str, now: datetime) -> Certificate | None:
    """One decision, written to the session but not committed. Every refusal is raised before
    anything is changed, so a refused decision leaves the session as it was."""
    states.require(application, states.SUBMITTED)
    if approve:
        store_of(platform, application.agency)  # refuse now, not in the batch, if there is no store
    application.decision_reason, application.decided_at = reason, now
    if not approve:
        states.advance(application, states.REJECTED)
        return None
    certificate_id = "cert_" + uuid.uuid4().hex
    data = certificate_data(platform, application, certificate_id, now)
    certificate = Certificate(id=certificate_id, application_id=application.id, agency=application.agency, state=CertificateState.QUEUED,
                              document=_seal(platform, certificate_id, data), created_at=now)  # fmt: skip
    session.add(certificate)
    states.advance(application, states.APPROVED)
    return certificate


def decide(platform: Platform, session: Session, application: Application, approve: bool, reason: str, now: datetime) -> Certificate | None:
    """The agency approves (a certificate is queued for the next batch) or rejects with a reason."""
    certificate = _apply(platform, session, application, approve, reason, now)
    session.commit()
    if certificate is not None:
        platform.workers.wake("issuer")
    return certificate


def decide_many(platform: Platform, session: Session, agency: str, items: list[tuple[str, bool, str]], now: datetime) -> list[tuple[Application | None, Certificate | None, Problem | None]]:
    """Many decisions of one agency (``(application_id, approve, reason)`` each) in one database
    transaction: per-item results. An item that does not apply (unknown application, another
    agency's, not awaiting a decision, decided earlier in the same list) is refused with its
    problem and changes nothing; every other item is applied, all committed together, and the
    issuer is woken once. Returns, per item in order, ``(application, certificate, refusal)``."""
    ids = list(dict.fromkeys(application_id for application_id, _, _ in items))
    found = {a.id: a for a in session.scalars(select(Application).where(Application.id.in_(ids)))} if ids else {}
    results: list[tuple[Application | None, Certificate | None, Problem | None]] = []
    queued = False
    for application_id, approve, reason in items:
        application = found.get(application_id)
        try:
            if application is None:
                raise NotFound(f"no application {application_id}")
            if application.agency != agency:
                raise Forbidden(f"only the handling agency {application.agency} may decide on {application_id}")
            certificate = _apply(platform, session, application, approve, reason, now)
        except Problem as refusal:
            results.append((application, None, refusal))
            continue
        queued = queued or certificate is not None
        results.append((application, certificate, None))
    session.commit()
    if queued:
        platform.workers.wake("issuer")
    return results


def certificate_for(session: Session, application: Application) -> Certificate:
    certificate = session.scalar(select(Certificate).where(Certificate.application_id == application.id))
    if certificate is None:
        raise NotFound(f"{application.id} has no certificate")
    return certificate


def revoke(platform: Platform, session: Session, certificate: Certificate, reason: str, now: datetime) -> Certificate:
    """Revoke one certificate: its target hash, so the rest of its batch stays valid."""
    if certificate.state == CertificateState.REVOKED:
        raise Conflict(f"{certificate.id} is revoked already")
    if certificate.state != CertificateState.ISSUED:
        raise Conflict(f"{certificate.id} is {certificate.state}; only an issued certificate can be revoked")
    store, target_hash = store_of(platform, certificate.agency), cast(str, certificate.target_hash)  # an issued certificate has one
    call = store.revoke_call(target_hash)
    receipt = agency_write(platform, intents.certificates_revoke(target_hash), store.writer(), call)
    certificate.state, certificate.revoke_reason, certificate.revoke_tx, certificate.revoked_at = CertificateState.REVOKED, reason, receipt.tx_hash, now
    session.commit()
    return certificate


def revoke_batch(platform: Platform, session: Session, batch: CertificateBatch, reason: str, now: datetime) -> CertificateBatch:
    """Revoke a whole batch: its Merkle root, which every certificate in it proves up to."""
    if batch.state != BatchState.ISSUED:
        raise Conflict(f"batch {batch.merkle_root} is {batch.state}; only an issued batch can be revoked")
    store = store_of(platform, batch.agency)
    call = store.revoke_call(batch.merkle_root)
    receipt = agency_write(platform, intents.certificates_revoke(batch.merkle_root), store.writer(), call)
    batch.state, batch.revoke_tx = BatchState.REVOKED, receipt.tx_hash
    session.execute(
        update(Certificate).where(Certificate.batch_id == batch.id, Certificate.state == CertificateState.ISSUED)
        .values(state=CertificateState.REVOKED, revoke_reason=reason, revoke_tx=receipt.tx_hash, revoked_at=now)
    )  # fmt: skip
    session.commit()
    return batch


class Issuer(LoopWorker):
    """The background batcher: one per API process (several processes share work through
    row locks on PostgreSQL; SQLite runs one). The ``issuer`` worker of :mod:`api.workers`."""

    name = "issuer"
    thread_name = "certificate-issuer"

    def __init__(self, platform: Platform):
        super().__init__()
        self.platform = platform
        self.batch_size = platform.settings.issue.batch_size
        self.max_wait = platform.settings.issue.batch_seconds
        self._flush_lock = threading.Lock()

    # -- the background thread (api.workers.LoopWorker): finishes what is pending, cuts what is due

    def interval(self) -> float:
        return min(self.max_wait, 1.0) if self.max_wait > 0 else 1.0

    def run_round(self) -> None:
        self.work(datetime.now(UTC))

    def work(self, now: datetime, *, force: bool = False) -> list[CertificateBatch]:
        """Finish pending batches (and those whose agency signature is now mined), then cut new ones
        where due; returns the batches issued (not those still awaiting the agency's signature)."""
        with self._flush_lock:
            anchored = [self._anchor(batch_id) for batch_id in self._pending()]
            for agency in self._due(now, force):
                while (batch_id := self._cut(agency)) is not None:
                    anchored.append(self._anchor(batch_id))
                    if not self._more_full(agency):
                        break
            return [batch for batch in anchored if batch is not None]

    def _pending(self) -> list[int]:
        with self.platform.sessions() as session:
            query = select(CertificateBatch.id).where(CertificateBatch.state.in_((BatchState.PENDING, BatchState.AWAITING))).order_by(CertificateBatch.id)
            return list(session.scalars(query))

    def _due(self, now: datetime, force: bool) -> list[str]:
        with self.platform.sessions() as session:
            rows = session.execute(
                select(Certificate.agency, func.count(), func.min(Certificate.created_at))
                .where(Certificate.state == CertificateState.QUEUED).group_by(Certificate.agency)
            ).all()  # fmt: skip
        due = []
        for agency, count, oldest in rows:
            if force or count >= self.batch_size or (now - oldest).total_seconds() >= self.max_wait:
                due.append(agency)
        return due

    def _more_full(self, agency: str) -> bool:
        with self.platform.sessions() as session:
            count = session.scalar(select(func.count()).where(Certificate.state == CertificateState.QUEUED, Certificate.agency == agency))
        return count >= self.batch_size

    def _cut(self, agency: str) -> int | None:
        """Wrap up to ``batch_size`` queued certificates into one batch, committed before any send."""
        platform = self.platform
        with platform.sessions() as session:
            query = select(Certificate).where(Certificate.state == CertificateState.QUEUED, Certificate.agency == agency)
            query = query.order_by(Certificate.created_at, Certificate.id).limit(self.batch_size)
            if session.bind.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = list(session.scalars(query))
            if not rows:
                return None
            wrapped = oa.wrap([document_of(platform, row) for row in rows])
            root = wrapped[0]["signature"]["merkleRoot"]
            store = platform.contracts.document_store(agency)
            batch = CertificateBatch(agency=agency, store=store, merkle_root=hx(unhex(root)), size=len(rows), state=BatchState.PENDING)
            session.add(batch)
            session.flush()
            for row, document in zip(rows, wrapped, strict=True):
                row.document = _seal(platform, row.id, document)
                row.target_hash = hx(unhex(document["signature"]["targetHash"]))
                row.batch_id, row.state = batch.id, CertificateState.BATCHED
            if platform.settings.agency_keys == "dev-derived":  # its issue(root) queued with it (agency-held: the agency signs it)
                store_client = platform.contracts.store_client(batch.store)
                queue(platform, session, intents.certificates_issue(batch.merkle_root), store_client.writer(), store_client.issue_call(batch.merkle_root))
            session.commit()
            checkpoint("issuer.after_cut")  # fault drills: killed with a batch cut, before its issue(root)
            return batch.id

    def _anchor(self, batch_id: int) -> CertificateBatch | None:
        """Issue the batch's root, or (agency-held keys) leave it awaiting the agency's signature:
        its certificates stay batched, not issued, until the agency's transaction is mined."""
        platform = self.platform
        with platform.sessions() as session:
            batch = session.get(CertificateBatch, batch_id)
            store = platform.contracts.store_client(batch.store)
            call = store.issue_call(batch.merkle_root)
            try:
                receipt = agency_write(platform, intents.certificates_issue(batch.merkle_root), store.writer(), call)
            except WriteAccepted:
                return None  # queued, not mined within the wait: finished at a later round
            except SignatureAwaited as awaited:
                if batch.state != BatchState.AWAITING:
                    batch.state = BatchState.AWAITING
                    session.commit()
                    log.info("batch %s awaits the signature of %s (request %s)", batch.merkle_root, batch.agency, awaited.request_id)
                return None
            now = datetime.now(UTC)
            batch.state, batch.tx_hash, batch.block_number, batch.issued_at = BatchState.ISSUED, receipt.tx_hash, receipt.block_number, now
            applications = select(Certificate.application_id).where(Certificate.batch_id == batch.id)
            session.execute(update(Certificate).where(Certificate.batch_id == batch.id, Certificate.state == CertificateState.BATCHED).values(state=CertificateState.ISSUED, issued_at=now))
            session.execute(update(Application).where(Application.id.in_(applications), Application.state == states.APPROVED).values(state=states.ISSUED))
            session.commit()
            log.info("issued batch %s: %d certificates in %s", batch.merkle_root, batch.size, receipt.tx_hash)
            return batch
