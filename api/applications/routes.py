from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from api.applications import schemas, service
from api.catalog import Catalog
from api.auth.deps import CurrentIdentity
from api.deps import ClientDep, PlatformDep, SessionDep, read_body
from httpkit import NowDep

router = APIRouter(prefix="/v1", tags=["applications"])
catalog_router = APIRouter(prefix="/v1", tags=["catalog"])  # here, not in api.catalog: the catalogue is read by the platform's parts
MAX_CALLBACK_BYTES = 64 * 1024


@catalog_router.get("/catalog", response_model=Catalog)
def catalog(platform: PlatformDep):
    """The matters and scenes one can apply for: the data each may pull and the materials it needs."""
    return platform.catalog


@router.post("/applications", response_model=schemas.ApplicationOut, status_code=201)
def create_application(body: schemas.ApplicationCreate, identity: CurrentIdentity, platform: PlatformDep, session: SessionDep, now: NowDep,
                       client: ClientDep):  # fmt: skip
    """A signed-in applicant applies for a matter, or a scene of several matters (``limits.applications``
    per applicant and per client: beyond, 429 with Retry-After)."""
    platform.limits.take("applications", identity.address, client, now)
    return schemas.application_out(service.create(platform, session, identity, body.code), platform.catalog)


@router.get("/me/applications", response_model=list[schemas.ApplicationOut])
def my_applications(identity: CurrentIdentity, platform: PlatformDep, session: SessionDep):
    """The signed-in applicant's own applications, newest first (the /apply page lists them)."""
    return [schemas.application_out(a, platform.catalog) for a in service.mine(session, identity.address)]


@router.get("/applications/{application_id}", response_model=schemas.ApplicationOut)
def get_application(application_id: str, identity: CurrentIdentity, platform: PlatformDep, session: SessionDep):
    """The application and its state (applicant, handling agency or auditor)."""
    return schemas.application_out(service.get_for(session, identity, application_id), platform.catalog)


@router.post("/applications/{application_id}/face-verification", response_model=schemas.FaceVerificationStarted, status_code=201)
def start_face_verification(
    application_id: str,
    body: schemas.FaceVerificationStart,
    identity: CurrentIdentity,
    platform: PlatformDep,
    session: SessionDep,
    now: NowDep,
    client: ClientDep,
):
    """Start a face check at the vendor; the claimed name and ID number are stored sealed. Each opens
    a paid vendor session: ``limits.face_sessions`` per applicant and per client, beyond 429 with Retry-After."""
    application = service.get_for(session, identity, application_id, as_applicant=True)
    platform.limits.take("face_sessions", identity.address, client, now)
    started = service.start_face_verification(platform, session, application, body.name, body.id_number, body.outcome)
    return schemas.FaceVerificationStarted(session_id=started.session_id, liveness_url=started.liveness_url)


@router.post(
    service.CALLBACK_PATH.removeprefix("/v1"),
    status_code=204,
    responses={400: {"description": "bad signature, headers or body"}, 404: {"description": "unknown session"},
               409: {"description": "replayed or settled"}, 413: {"description": "body too large"}},
)  # fmt: skip
async def face_callback(request: Request, platform: PlatformDep, now: NowDep):
    """Standard Webhooks callback from the face-verification vendor (a trigger only)."""
    body = await read_body(request, MAX_CALLBACK_BYTES, "callback bodies")

    def handle():
        with platform.sessions() as session:
            service.handle_callback(platform, session, body, request.headers, now)

    await run_in_threadpool(handle)
