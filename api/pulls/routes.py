from __future__ import annotations

from fastapi import APIRouter

from api.applications.service import get_for
from api.deps import CurrentIdentity, NowDep, PlatformDep, SessionDep
from api.pulls import service

router = APIRouter(prefix="/v1", tags=["pulls"])


@router.post("/applications/{application_id}/pulls")
def pull(application_id: str, identity: CurrentIdentity, platform: PlatformDep, session: SessionDep, now: NowDep):
    """The handling agency pulls the consented data from every holder (each pull logged on chain first)."""
    application = get_for(session, identity, application_id)
    service.require_agency(identity, application)
    return {"application_id": application.id, "pulls": service.pull_all(platform, session, application, now), "state": application.state}


@router.get("/applications/{application_id}/data")
def pulled_data(application_id: str, identity: CurrentIdentity, platform: PlatformDep, session: SessionDep):
    """The pulled data, opened for the handling agency only."""
    application = get_for(session, identity, application_id)
    service.require_agency(identity, application)
    return service.pulled_data(platform, session, application)
