"""Applications: creation, access, face verification and its callback."""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import cast

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.applications import states
from api.auth.service import Identity
from api.context import Platform
from api.models import Application, WebhookReceipt
from httpkit.problems import BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge, ServiceUnavailable
from identity import binding
from identity.face import CallbackRejected, FaceVendorClient, VendorError, VendorUnavailable, decide, verify_callback
from chain.registry import Role
from chain.hexcodec import hx

log = logging.getLogger("govchain.applications")
CALLBACK_PATH = "/v1/callbacks/face-verification"


def sealed(platform: Platform, application_id: str, field: str, value: bytes) -> bytes:
    return platform.keys.seal(value, f"applications/{application_id}/{field}".encode())


def unsealed(platform: Platform, application_id: str, field: str, value: bytes) -> bytes:
    return platform.keys.open(value, f"applications/{application_id}/{field}".encode())


def create(platform: Platform, session: Session, identity: Identity, code: str) -> Application:
    try:
        matters = platform.catalog.resolve(code)
    except KeyError:
        known = sorted([*platform.catalog.matters, *platform.catalog.scenes])
        raise NotFound(f"no matter or scene {code!r}; known: {', '.join(known)}") from None
    domain = matters[0].agency
    agency = platform.members.by_domain(domain, Role.AGENCY)
    if agency is None:
        raise ServiceUnavailable(f"the handling agency {domain} of {code} is not an active AGENCY member of GovRegistry")
    application = Application(
        id="app_" + uuid.uuid4().hex,
        applicant=identity.address,
        code=code,
        matters=[m.code for m in matters],
        agency=agency.address,
        state=states.DRAFT,
        purpose_salt=hx(binding.new_salt()),
    )
    session.add(application)
    session.commit()
    return application


def mine(session: Session, applicant: str, limit: int = 200) -> list[Application]:
    """The applicant's own applications, newest first."""
    query = select(Application).where(Application.applicant == applicant).order_by(Application.created_at.desc()).limit(limit)
    return list(session.scalars(query))


def get_for(session: Session, identity: Identity, application_id: str, *, as_applicant: bool = False) -> Application:
    """The application, if ``identity`` may see it: its applicant, its agency, or an auditor."""
    application = session.get(Application, application_id)
    if application is None:
        raise NotFound(f"no application {application_id}")
    if identity.address == application.applicant:
        return application
    if as_applicant:
        raise Forbidden(f"only the applicant of {application_id} may do this")
    if (identity.address == application.agency and Role.AGENCY in identity.roles) or Role.AUDITOR in identity.roles:
        return application
    raise Forbidden(f"{identity.address} is neither the applicant, the handling agency nor an auditor of {application_id}")


def vendor(platform: Platform) -> FaceVendorClient:
    return FaceVendorClient(platform.settings.face.vendor_url, platform.settings.secret("face_vendor_api_key"), timeout=10)


def start_face_verification(platform: Platform, session: Session, application: Application, name: str, id_number: str, outcome: str | None):
    states.require(application, states.DRAFT)
    try:
        id_number = binding.check_id_number(id_number)
    except binding.InvalidIdNumber as exc:
        raise BadRequest(str(exc)) from None
    if outcome is not None and platform.settings.env.value != "dev":
        raise BadRequest("choosing the vendor outcome is only allowed in dev")
    try:
        with vendor(platform) as client:
            started = client.create_session(
                platform.settings.public_url + CALLBACK_PATH, application.id, name, id_number, outcome, return_url=f"{platform.settings.public_url}/apply?application={application.id}"
            )
    except VendorUnavailable as exc:
        raise ServiceUnavailable(f"the face-verification vendor cannot be reached: {exc}") from None
    except VendorError as exc:
        raise ServiceUnavailable(f"the face-verification vendor refused the session: {exc}") from None
    identity_json = json.dumps({"name": name, "id_number": id_number}, ensure_ascii=False).encode()
    application.claimed_identity = sealed(platform, application.id, "claimed_identity", identity_json)
    application.face_session_id = started.session_id
    application.face_session_token = sealed(platform, application.id, "face_session_token", started.session_token.encode())
    application.face_decision = None
    session.commit()
    return started


def claimed_identity(platform: Platform, application: Application) -> dict:
    return json.loads(unsealed(platform, application.id, "claimed_identity", cast(bytes, application.claimed_identity)))  # stored when the face check starts


def handle_callback(platform: Platform, session: Session, body: bytes, headers: Mapping[str, str], now: datetime) -> Application:
    """Verify a vendor callback, pull the result back from the vendor, decide, record.

    The callback is only a trigger: the decision rests on the result fetched with the
    session token the platform stored. Any refusal leaves every record as it was.
    """
    try:
        callback = verify_callback(platform.settings.secret("face_webhook_secret"), body, headers)
    except CallbackRejected as exc:
        if exc.code == "too_large":
            raise PayloadTooLarge(f"callback refused: {exc}") from None
        raise BadRequest(f"callback refused: {exc}") from None
    if session.get(WebhookReceipt, callback.webhook_id) is not None:
        raise Conflict(f"callback {callback.webhook_id} was already received")
    application = session.scalar(select(Application).where(Application.face_session_id == callback.session_id))
    if application is None:
        raise NotFound(f"no application has face session {callback.session_id}")
    if application.state != states.DRAFT:
        raise Conflict(f"application {application.id} is {application.state}; its face check is settled")
    token = unsealed(platform, application.id, "face_session_token", cast(bytes, application.face_session_token)).decode()  # stored with the session
    try:
        with vendor(platform) as client:
            result = client.fetch_result(callback.session_id, token)
    except VendorUnavailable as exc:
        raise ServiceUnavailable(f"the vendor's result cannot be fetched now: {exc}") from None
    except VendorError as exc:
        raise Conflict(f"the vendor has no result for {callback.session_id}: {exc}") from None
    decision = decide(result, threshold=platform.settings.face.score_threshold)
    session.add(WebhookReceipt(webhook_id=callback.webhook_id, source="face-vendor", received_at=now))
    application.face_decision = decision.reason
    application.face_score = result.score
    application.face_error_code = result.error_code
    application.face_request_id = result.request_id
    application.face_response_sha256 = hashlib.sha256(result.raw).hexdigest()
    if decision.passed:
        id_number = claimed_identity(platform, application)["id_number"]
        salt = binding.new_salt()
        application.face_check_salt = sealed(platform, application.id, "face_check_salt", salt)
        application.face_check_ref = hx(binding.face_check_ref(result.request_id, id_number, salt))
        application.face_verified_at = now
        states.advance(application, states.FACE_VERIFIED)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict(f"callback {callback.webhook_id} was already received") from None
    log.info("face check of %s: %s", application.id, decision.reason)  # no personal data in logs
    return application
