from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field, model_validator
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import ClientDisconnect

from api.applications.service import get_for
from api.auth.deps import CurrentIdentity
from api.deps import PlatformDep, SessionDep, read_body
from httpkit import NowDep
from api.materials import service
from api.models import Commitment, DeliveryEvent, DeliveryMethod
from httpkit.problems import BadRequest, Forbidden, NotFound, PayloadTooLarge
from api.pulls.service import require_agency
from identity import commitment as commitments
from chain.registry import Role

router = APIRouter(prefix="/v1", tags=["paperless submission"])
MULTIPART_OVERHEAD = 64 * 1024


class CommitmentSigned(BaseModel):
    material: str = Field(min_length=2, max_length=64)
    signed_at: int = Field(ge=0, lt=2**40, description="the signedAt value of the typed data that was signed")
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]{130}$")


class CommitmentCheck(BaseModel):
    outcome: Literal["confirmed", "false"] = Field(description="the after-the-fact check found the commitment true, or false")
    note: str = Field("", max_length=2000)


class PostalAddress(BaseModel):
    recipient: str = Field(min_length=1, max_length=64)
    phone: str = Field(pattern=r"^\+?[0-9 -]{5,20}$")
    province: str = Field(min_length=1, max_length=32)
    city: str = Field(min_length=1, max_length=32)
    district: str = Field("", max_length=32)
    line: str = Field(min_length=1, max_length=200)
    postcode: str = Field(pattern=r"^[0-9]{6}$")


class Delivery(BaseModel):
    method: Literal["mail", "electronic"]
    address: PostalAddress | None = Field(None, description="needed for mail; stored sealed, never on chain")

    @model_validator(mode="after")
    def _address_for_mail(self) -> "Delivery":
        if self.method == DeliveryMethod.MAIL and self.address is None:
            raise ValueError("mail delivery needs an address")
        if self.method == DeliveryMethod.ELECTRONIC and self.address is not None:
            raise ValueError("electronic delivery takes no address")
        return self


class Submission(BaseModel):
    delivery: Delivery


class DeliveryStep(BaseModel):
    status: Literal["printed", "mailed", "delivered"]
    tracking_number: str | None = Field(None, pattern=r"^[A-Za-z0-9-]{6,40}$")


def _upload_limit(platform) -> int:
    largest = max((m.max_bytes for matter in platform.catalog.matter for m in matter.materials), default=0)
    return largest + MULTIPART_OVERHEAD


async def _one_file(request: Request, limit: int) -> tuple[str, str, bytes]:
    """The ``material`` field and the ``file`` part of a multipart body read up to ``limit`` bytes."""
    if "multipart/form-data" not in request.headers.get("content-type", ""):
        raise BadRequest("send the material as multipart/form-data with the fields material and file")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"uploads are limited to {limit - MULTIPART_OVERHEAD} bytes per file; nothing was stored")
    try:
        body = await read_body(request, limit, "uploads")
    except ClientDisconnect:
        raise BadRequest("the upload was interrupted; nothing was stored") from None

    async def stream():
        yield body

    try:
        form = await MultiPartParser(request.headers, stream(), max_files=1, max_fields=2, max_part_size=1024).parse()
    except MultiPartException as exc:
        raise BadRequest(f"the multipart body cannot be read: {exc.message}; nothing was stored") from None
    material, upload = form.get("material"), form.get("file")
    try:
        if not isinstance(material, str) or not isinstance(upload, UploadFile):
            raise BadRequest("the form needs a text field 'material' and a file part 'file'")
        return material, upload.filename or "file", await upload.read()
    finally:
        await form.close()


@router.get("/applications/{application_id}/materials")
def list_materials(application_id: str, identity: CurrentIdentity, platform: PlatformDep, session: SessionDep):
    """Which materials the matter asks for and how each is provided (file or commitment)."""
    return service.listing(platform, session, get_for(session, identity, application_id))


@router.post(
    "/applications/{application_id}/materials", status_code=201,
    openapi_extra={"requestBody": {"content": {"multipart/form-data": {"schema": {"type": "object", "required": ["material", "file"],
        "properties": {"material": {"type": "string"}, "file": {"type": "string", "format": "binary"}}}}}, "required": True}},
    responses={400: {"description": "wrong type, truncated, empty, unknown material"}, 409: {"description": "already provided"},
               413: {"description": "too large"}},
)  # fmt: skip
async def upload_material(application_id: str, request: Request, identity: CurrentIdentity, platform: PlatformDep):
    """The applicant uploads one material (checked by content, sealed to the agency, stored content-addressed)."""
    material, filename, data = await _one_file(request, _upload_limit(platform))

    def store():
        with platform.sessions() as session:
            application = get_for(session, identity, application_id, as_applicant=True)
            row = service.upload(platform, session, application, material, filename, data)
            return {"material": row.material, "filename": row.filename, "mime": row.mime, "size": row.size, "sha256": row.sha256}

    return await run_in_threadpool(store)


@router.delete("/applications/{application_id}/materials/{material}", status_code=204)
def delete_material(application_id: str, material: str, identity: CurrentIdentity, platform: PlatformDep, session: SessionDep):
    """The applicant removes an uploaded file before submitting (its ciphertext is deleted too)."""
    service.delete(platform, session, get_for(session, identity, application_id, as_applicant=True), material)


@router.get("/applications/{application_id}/materials/{material}/file")
def read_material(application_id: str, material: str, identity: CurrentIdentity, platform: PlatformDep, session: SessionDep):
    """The handling agency reads a material: opened (dev-derived keys), or the HPKE box sealed to the
    agency's own key (agency-held keys; ``X-Govchain-HPKE-Info`` and ``X-Govchain-Mime`` to open it)."""
    application = get_for(session, identity, application_id)
    require_agency(identity, application)
    row, data, info = service.read_file(platform, session, application, material)
    if info is not None:
        disposition = "attachment; filename*=UTF-8''" + quote(row.filename + ".hpke", safe="")
        headers = {"Content-Disposition": disposition, "X-Govchain-HPKE-Info": info.decode(), "X-Govchain-Mime": row.mime}
        return Response(data, media_type="application/octet-stream", headers=headers)
    disposition = "attachment; filename*=UTF-8''" + quote(row.filename, safe="")
    return Response(data, media_type=row.mime, headers={"Content-Disposition": disposition})


@router.get("/applications/{application_id}/commitments/{material}/typed-data")
def commitment_typed_data(application_id: str, material: str, identity: CurrentIdentity, platform: PlatformDep, session: SessionDep, now: NowDep):
    """The EIP-712 message the applicant signs instead of uploading ``material``, and its text."""
    application = get_for(session, identity, application_id, as_applicant=True)
    terms, text = service.commitment_terms(platform, application, material, now)
    return {"text": text, "typed_data": commitments.typed_data(terms, service.commitment_domain(platform))}


@router.post("/applications/{application_id}/commitments", status_code=201)
def sign_commitment(application_id: str, body: CommitmentSigned, identity: CurrentIdentity, platform: PlatformDep, session: SessionDep, now: NowDep):
    """The applicant's signed commitment; its digest is anchored as evidence in EvidenceLedger."""
    application = get_for(session, identity, application_id, as_applicant=True)
    row = service.sign_commitment(platform, session, application, body.material, body.signed_at, body.signature, now)
    return _commitment_out(row)


def _commitment_out(row: Commitment) -> dict:
    return {"application_id": row.application_id, "material": row.material, "digest": row.digest, "tx_hash": row.tx_hash,
            "signed_at": row.signed_at, "check_due": row.check_due, "check_outcome": row.check_outcome,
            "check_note": row.check_note, "check_tx": row.check_tx}  # fmt: skip


@router.get("/agency/commitments")
def commitments_due(
    identity: CurrentIdentity, session: SessionDep, now: NowDep,
    due_within_days: Annotated[int, Query(ge=0, le=366, description="only those due within this many days")] = 366,
    checked: Annotated[bool, Query(description="list checked ones instead")] = False,
):  # fmt: skip
    """The agency's commitments awaiting (or having had) their after-the-fact check, soonest due first."""
    if Role.AGENCY not in identity.roles:
        raise Forbidden(f"{identity.address} needs the AGENCY role")
    query = select(Commitment).where(Commitment.agency == identity.address, Commitment.check_due <= now + timedelta(days=due_within_days))
    query = query.where(Commitment.check_outcome.is_not(None) if checked else Commitment.check_outcome.is_(None))
    return [_commitment_out(c) for c in session.scalars(query.order_by(Commitment.check_due).limit(500))]


@router.post("/applications/{application_id}/commitments/{material}/check")
def check_commitment(application_id: str, material: str, body: CommitmentCheck, identity: CurrentIdentity, platform: PlatformDep, session: SessionDep, now: NowDep):
    """The agency records the outcome of its after-the-fact check; the outcome is anchored."""
    application = get_for(session, identity, application_id)
    require_agency(identity, application)
    row = session.get(Commitment, (application.id, material))
    if row is None:
        raise NotFound(f"no commitment for {material} in {application_id}")
    return _commitment_out(service.check_commitment(platform, session, row, body.outcome, body.note, now))


@router.post("/applications/{application_id}/submit")
def submit(application_id: str, body: Submission, identity: CurrentIdentity, platform: PlatformDep, session: SessionDep, now: NowDep):
    """Submit: every material provided, manifest root anchored; returns the receipt (root, proof per file, transaction, block time)."""
    application = get_for(session, identity, application_id, as_applicant=True)
    return service.submit(platform, session, application, body.delivery.model_dump(), now)


@router.get("/applications/{application_id}/receipt")
def submission_receipt(application_id: str, identity: CurrentIdentity, session: SessionDep):
    """The submission receipt: manifest root, each file's leaf and proof, transaction and block time."""
    return service.receipt_of(get_for(session, identity, application_id))


@router.post("/applications/{application_id}/delivery", status_code=201)
def delivery_step(application_id: str, body: DeliveryStep, identity: CurrentIdentity, platform: PlatformDep, session: SessionDep, now: NowDep):
    """The agency records a delivery step (printed, mailed with tracking number, delivered); each is anchored."""
    application = get_for(session, identity, application_id)
    require_agency(identity, application)
    event = service.record_delivery(platform, session, application, body.status, body.tracking_number, now)
    return _event_out(event)


def _event_out(event: DeliveryEvent) -> dict:
    return {"status": event.status, "tracking_number": event.tracking_number, "root": event.root, "tx_hash": event.tx_hash, "at": event.at}


@router.get("/applications/{application_id}/delivery")
def delivery(application_id: str, identity: CurrentIdentity, platform: PlatformDep, session: SessionDep):
    """How the certificate is delivered and each step so far (the address only to the applicant and agency)."""
    application = get_for(session, identity, application_id)
    events = session.scalars(select(DeliveryEvent).where(DeliveryEvent.application_id == application.id).order_by(DeliveryEvent.id))
    out: dict = {"method": application.delivery_method, "status": application.delivery_status, "events": [_event_out(e) for e in events]}
    if identity.address in (application.applicant, application.agency):
        out["address"] = service.delivery_address(platform, application)
    return out
