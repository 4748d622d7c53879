"""Paperless submission: materials uploaded (or a commitment signed instead), the manifest
anchored on chain, and the delivery the applicant chose.

Files are checked by content, sealed with HPKE to the handling agency's registered key and
stored content-addressed; the database row is written only after the blob, and the blob is
removed again if the row cannot be written, so a refused or failed upload leaves nothing.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from eth_utils import keccak
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.agency_signing.service import agency_write
from api.applications import states
from api.applications.service import sealed, unsealed
from api.blobs import BlobStore
from api.catalog import Material
from api.context import Platform
from api.writes.service import write
from api.materials import sniff
from api.models import Application, Commitment, DeliveryEvent, DeliveryMethod, DeliveryStatus, MaterialFile
from httpkit.problems import BadRequest, Conflict, Forbidden, NotFound
from chain import intents
from identity import commitment as commitments
from identity import manifest
from identity.canonical import evidence_json_v0
from identity.keys import hpke_key_for
from identity.sealing import hpke_open, hpke_seal
from chain.hexcodec import hx, unhex

UPLOAD_STATES = (states.DRAFT, states.FACE_VERIFIED, states.CONSENTED, states.DATA_PULLED)
COMMITMENT_CHECK_DAYS = 30  # after-the-fact check of a commitment is due within this many days
COMMITMENT_MIME = "application/vnd.govchain.commitment+json"
DELIVERY_STEPS: dict[str, tuple[DeliveryMethod, ...]] = {DeliveryStatus.PRINTED: (DeliveryMethod.MAIL,), DeliveryStatus.MAILED: (DeliveryMethod.MAIL,),
                  DeliveryStatus.DELIVERED: (DeliveryMethod.MAIL, DeliveryMethod.ELECTRONIC)}  # fmt: skip
DELIVERY_ORDER = tuple(DeliveryStatus)


def blobs(platform: Platform) -> BlobStore:
    return BlobStore(platform.settings.state_dir / "blobs")


def materials_of(platform: Platform, application: Application) -> dict[str, Material]:
    """Every material the application's matters ask for, by code (a scene may share some)."""
    out: dict[str, Material] = {}
    for code in application.matters:
        for material in platform.catalog.matters[code].materials:
            out.setdefault(material.code, material)
    return out


def _material(platform: Platform, application: Application, code: str) -> Material:
    known = materials_of(platform, application)
    if code not in known:
        raise BadRequest(f"{application.code} asks for no material {code!r}; it asks for: {', '.join(known) or 'none'}")
    return known[code]


def _info(application: Application, material: str) -> bytes:
    return f"govchain material {application.id}/{material}".encode()


def upload(platform: Platform, session: Session, application: Application, code: str, filename: str, data: bytes) -> MaterialFile:
    """Check, seal to the agency and store one material; 4xx for anything wrong, nothing kept."""
    states.require(application, *UPLOAD_STATES)
    material = _material(platform, application, code)
    if session.get(MaterialFile, (application.id, code)) or session.get(Commitment, (application.id, code)):
        raise Conflict(f"{code} is already provided for {application.id}; delete it first to replace it")
    found = sniff.inspect(data, material.types, material.max_bytes)  # 413/415/422 problems, nothing stored yet
    agency = platform.members.member(application.agency)
    if agency is None or not agency.active:
        raise Conflict(f"the handling agency {application.agency} is not an active member")
    ciphertext = hpke_seal(agency.info.hpke_public_key, data, _info(application, code))
    store = blobs(platform)
    digest = store.put(ciphertext)
    row = MaterialFile(
        application_id=application.id, material=code, filename=manifest.safe_filename(filename), mime=found.mime,
        size=found.size, sha256=found.sha256.hex(), blob=digest,
    )  # fmt: skip
    session.add(row)
    try:
        session.commit()
    except BaseException:
        session.rollback()
        store.delete(digest)
        if isinstance(session.get(MaterialFile, (application.id, code)), MaterialFile):
            raise Conflict(f"{code} was uploaded for {application.id} at the same time; nothing more was stored") from None
        raise
    return row


def delete(platform: Platform, session: Session, application: Application, code: str) -> None:
    states.require(application, *UPLOAD_STATES)
    row = session.get(MaterialFile, (application.id, code))
    if row is None:
        raise NotFound(f"no file for {code} in {application.id}")
    digest = row.blob
    session.delete(row)
    session.commit()
    blobs(platform).delete(digest)


def read_file(platform: Platform, session: Session, application: Application, code: str) -> tuple[MaterialFile, bytes, bytes | None]:
    """A material for the agency (the caller has checked it is the agency): ``(row, bytes, info)``.

    With ``agency_keys=dev-derived`` the bytes are opened with the HPKE key derived from the
    agency's dev key (``info`` None); with ``agency-held`` they are the HPKE box sealed to the
    agency's own key, and ``info`` is the HPKE info to open it with on the agency's side."""
    row = session.get(MaterialFile, (application.id, code))
    if row is None:
        raise NotFound(f"no file for {code} in {application.id}")
    box = blobs(platform).get(row.blob)
    if platform.settings.agency_keys != "dev-derived":
        return row, box, _info(application, code)
    dev_key = hpke_key_for(platform.keyring.member_key(application.agency))
    return row, hpke_open(dev_key, box, _info(application, code)), None


def listing(platform: Platform, session: Session, application: Application) -> list[dict]:
    files = {f.material: f for f in session.scalars(select(MaterialFile).where(MaterialFile.application_id == application.id))}
    signed = {c.material: c for c in session.scalars(select(Commitment).where(Commitment.application_id == application.id))}
    out = []
    for code, material in materials_of(platform, application).items():
        entry = {"material": code, "name_zh": material.name_zh, "name_en": material.name_en, "types": material.types,
                 "max_bytes": material.max_bytes, "commitment_allowed": material.commitment_allowed, "provided": None}  # fmt: skip
        if code in files:
            f = files[code]
            entry["provided"] = {"kind": "file", "filename": f.filename, "mime": f.mime, "size": f.size, "sha256": f.sha256, "uploaded_at": f.uploaded_at}
        elif code in signed:
            c = signed[code]
            entry["provided"] = {"kind": "commitment", "digest": c.digest, "tx_hash": c.tx_hash, "check_due": c.check_due, "check_outcome": c.check_outcome}
        out.append(entry)
    return out


# -- notification-commitment (告知承诺) ---------------------------------------------------


def commitment_text(material: Material) -> str:
    """The exact text the applicant signs (its keccak goes into the signed message)."""
    return (
        f"本人承诺已取得《{material.name_zh}》，所作承诺真实有效，同意主管部门事后核查；如承诺不实，愿承担相应法律责任。\n"
        f"I declare that I hold the {material.name_en}; this declaration is true, I accept that the agency checks it "
        "afterwards, and I bear the legal consequences if it is false."
    )


def commitment_domain(platform: Platform) -> commitments.Domain:
    deployment = platform.contracts.deployment()
    return commitments.Domain(chain_id=deployment.chain_id, verifying_contract=deployment.address("EvidenceLedger"))


def commitment_terms(platform: Platform, application: Application, code: str, now: datetime) -> tuple[commitments.Commitment, str]:
    material = _material(platform, application, code)
    if not material.commitment_allowed:
        raise BadRequest(f"{code} cannot be replaced by a commitment; the catalog asks for the file")
    text = commitment_text(material)
    terms = commitments.Commitment(
        applicant=application.applicant, application=commitments.application_ref(application.id), material=code,
        text_hash=commitments.text_hash(text), signed_at=int(now.timestamp()),
    )  # fmt: skip
    return terms, text


def sign_commitment(platform: Platform, session: Session, application: Application, code: str, signed_at: int, signature: str, now: datetime) -> Commitment:
    """Verify the applicant's signature, anchor the digest as evidence, keep the record."""
    states.require(application, *UPLOAD_STATES)
    terms, text = commitment_terms(platform, application, code, now)
    if session.get(MaterialFile, (application.id, code)) or session.get(Commitment, (application.id, code)):
        raise Conflict(f"{code} is already provided for {application.id}")
    if abs(signed_at - int(now.timestamp())) > 600:
        raise BadRequest("signed_at must be within 10 minutes of now")
    terms = commitments.Commitment(terms.applicant, terms.application, terms.material, terms.text_hash, signed_at)
    domain = commitment_domain(platform)
    try:
        signer = commitments.recover(terms, domain, unhex(signature))
    except ValueError as exc:
        raise BadRequest(f"the signature cannot be read: {exc}") from None
    if signer.lower() != application.applicant.lower():
        raise Forbidden(f"the commitment is signed by {signer}, not by the applicant {application.applicant}")
    digest = commitments.digest(terms, domain)
    row = Commitment(
        application_id=application.id, material=code, agency=application.agency, text=text, signed_at=signed_at,
        signature=signature, digest=hx(digest), tx_hash="", check_due=now + timedelta(days=COMMITMENT_CHECK_DAYS),
    )  # fmt: skip
    session.add(row)  # committed with the queued anchor; its tx hash once mined
    row.tx_hash = anchor(platform, session, "COMMITMENT", application.id, digest).tx_hash
    session.commit()
    return row


def check_commitment(platform: Platform, session: Session, row: Commitment, outcome: str, note: str, now: datetime) -> Commitment:
    if row.check_outcome is not None:
        raise Conflict(f"the commitment for {row.material} of {row.application_id} was checked already: {row.check_outcome}")
    root = keccak(evidence_json_v0({"commitment": row.digest, "outcome": outcome, "note": note}))
    receipt = anchor(platform, session, "COMMITMENT_CHECK", row.application_id, root, agency=row.agency)
    row.check_outcome, row.check_note, row.check_root, row.check_tx, row.checked_at = outcome, note, hx(root), receipt.tx_hash, now
    session.commit()
    return row


# -- evidence -------------------------------------------------------------------------------


def anchor(platform: Platform, session: Session, kind: str, application_id: str, root: bytes, *, agency: str | None = None):
    """Anchor ``root`` in EvidenceLedger once (a retry under the same intent finds the first write):
    sent by the relayer, queued in ``session``'s transaction with the caller's change and committed
    with it (:func:`api.writes.service.write`), or by ``agency`` itself (:func:`agency_write`: the
    step changes nothing until the agency's transaction is mined, and answers 202 until then)."""
    ledger = platform.contracts.evidence()
    call = ledger.anchor_call(kind, keccak(text=application_id), root)
    intent = intents.evidence(kind, application_id, root)
    if agency is not None:
        return agency_write(platform, intent, agency, call)
    return write(platform, session, intent, platform.keyring.signer("relayer").address, call)


# -- submission -----------------------------------------------------------------------------


def submit(platform: Platform, session: Session, application: Application, delivery: dict, now: datetime) -> dict:
    """Every material provided -> manifest -> root anchored -> SUBMITTED, with the applicant's receipt."""
    states.require(application, states.DATA_PULLED)
    files = {f.material: f for f in session.scalars(select(MaterialFile).where(MaterialFile.application_id == application.id))}
    signed = {c.material: c for c in session.scalars(select(Commitment).where(Commitment.application_id == application.id))}
    missing = [code for code in materials_of(platform, application) if code not in files and code not in signed]
    if missing:
        raise BadRequest(f"materials missing: {', '.join(missing)}; upload each (or sign a commitment where allowed)", missing=missing)
    leaves = []
    for code in materials_of(platform, application):
        if code in files:
            f = files[code]
            leaves.append(manifest.Leaf(code, f.filename, f.mime, bytes.fromhex(f.sha256), application.id))
        else:
            leaves.append(manifest.Leaf(code, "commitment.json", COMMITMENT_MIME, unhex(signed[code].digest), application.id))
    built = manifest.build(leaves)
    if delivery["method"] == DeliveryMethod.MAIL:
        address = json.dumps(delivery["address"], ensure_ascii=False, sort_keys=True).encode()
        application.delivery_address = sealed(platform, application.id, "delivery_address", address)
    application.delivery_method = delivery["method"]
    # submitted with the queued anchor in one transaction; the manifest gets its tx and block once mined
    application.manifest = built.to_json()
    application.manifest_root, application.submitted_at = hx(built.root), now
    states.advance(application, states.SUBMITTED)
    try:
        receipt = anchor(platform, session, "SUBMISSION_MANIFEST", application.id, built.root)
    except IntegrityError:
        session.rollback()
        raise Conflict(f"{application.id} was submitted at the same time") from None
    block = platform.contracts.chain().w3.eth.get_block(receipt.block_number)
    application.manifest = {**built.to_json(), "tx_hash": receipt.tx_hash, "block_number": receipt.block_number, "block_time": block["timestamp"]}
    application.manifest_tx = receipt.tx_hash
    session.commit()
    return receipt_of(application)


def receipt_of(application: Application) -> dict:
    if application.manifest is None:
        raise NotFound(f"{application.id} is not submitted yet")
    return {"application_id": application.id, **application.manifest}


def delivery_address(platform: Platform, application: Application) -> dict | None:
    if application.delivery_address is None:
        return None
    return json.loads(unsealed(platform, application.id, "delivery_address", application.delivery_address))


def record_delivery(platform: Platform, session: Session, application: Application, status: str, tracking: str | None, now: datetime) -> DeliveryEvent:
    """One delivery step (printed, mailed with tracking number, delivered), anchored as evidence."""
    states.require(application, states.ISSUED)
    if application.delivery_method not in DELIVERY_STEPS[status]:
        raise Conflict(f"{application.id} is delivered {application.delivery_method}; {status} does not apply")
    done = [e.status for e in session.scalars(select(DeliveryEvent).where(DeliveryEvent.application_id == application.id))]
    expected = [s for s in DELIVERY_ORDER if application.delivery_method in DELIVERY_STEPS[s]]
    position = len(done)
    if status in done or expected[position] != status:
        raise Conflict(f"delivery of {application.id} is at {done[-1] if done else 'not started'}; the next step is {expected[position] if position < len(expected) else 'none'}")
    if status == DeliveryStatus.MAILED and not tracking:
        raise BadRequest("a mailed step needs the tracking number")
    # no time in the root (the block stamps it): the same step asked again is the same write, so an
    # agency that signs it in its own client and repeats the request finds it done
    root = keccak(evidence_json_v0({"application": application.id, "status": status, "tracking": tracking}))
    receipt = anchor(platform, session, "DELIVERY", application.id, root, agency=application.agency)
    event = DeliveryEvent(application_id=application.id, status=status, tracking_number=tracking, root=hx(root), tx_hash=receipt.tx_hash, at=now)
    session.add(event)
    application.delivery_status = status
    if status == DeliveryStatus.DELIVERED:
        states.advance(application, states.DELIVERED)
    session.commit()
    return event
