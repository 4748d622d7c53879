from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.applications.service import get_for
from api.auth.deps import CurrentIdentity
from api.deps import PlatformDep, SessionDep
from httpkit import NowDep
from identity.pull_body import PullIn
from api.pulls import service

router = APIRouter(prefix="/v1", tags=["pulls"])


class SignedPulls(BaseModel):
    requests: list[PullIn] = Field(min_length=1, max_length=3, description="the bodies of GET .../pull-requests, each with the agency's signature")


@router.get("/applications/{application_id}/pull-requests")
def pull_requests(application_id: str, identity: CurrentIdentity, platform: PlatformDep, session: SessionDep, now: NowDep):
    """The handling agency's pull requests to sign in its own client: per category the body and
    its EIP-712 typed data (sign with eth_signTypedData_v4, then POST the signed bodies to .../pulls)."""
    application = get_for(session, identity, application_id)
    service.require_agency(identity, application)
    return {"application_id": application.id, "requests": service.pull_requests(platform, session, application, now)}


@router.post("/applications/{application_id}/pulls")
def pull(application_id: str, identity: CurrentIdentity, platform: PlatformDep, session: SessionDep, now: NowDep, body: SignedPulls | None = None):
    """The handling agency pulls the consented data from every holder (each pull logged on chain first),
    on the requests it signed; without them (dev only) the platform signs with the agency's dev key."""
    application = get_for(session, identity, application_id)
    service.require_agency(identity, application)
    signed = [r.model_dump() for r in body.requests] if body is not None else None
    return {"application_id": application.id, "pulls": service.pull_all(platform, session, application, now, signed), "state": application.state}


@router.get("/applications/{application_id}/data")
def pulled_data(application_id: str, identity: CurrentIdentity, platform: PlatformDep, session: SessionDep):
    """The pulled data for the handling agency only: opened (dev-derived keys), or each answer
    still sealed to the agency's own HPKE key (``sealed_to_agency``, opened on the agency's side)."""
    application = get_for(session, identity, application_id)
    service.require_agency(identity, application)
    return service.pulled_data(platform, session, application)
