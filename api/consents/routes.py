from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.applications.service import get_for
from api.consents import schemas, service
from api.auth.deps import CurrentIdentity
from api.deps import PlatformDep, SessionDep
from httpkit import NowDep

router = APIRouter(prefix="/v1", tags=["consents"])
ConsentId = Annotated[str, Path(pattern=schemas.HEX32)]


@router.get("/applications/{application_id}/consent-terms", response_model=schemas.ConsentOffer)
def consent_terms(
    application_id: str, identity: CurrentIdentity, platform: PlatformDep, session: SessionDep, now: NowDep,
    pseudonym: Annotated[str | None, Query(pattern=schemas.ADDRESS)] = None,
):  # fmt: skip
    """EIP-712 consent terms for the consent's pseudonym to sign (after the face check). Without
    ``pseudonym``: how to derive it (the wallet signs ``pseudonym.message``), and no terms yet."""
    application = get_for(session, identity, application_id, as_applicant=True)
    return service.offer(platform, session, application, now, pseudonym)


@router.post("/applications/{application_id}/consent", response_model=schemas.ConsentGranted, status_code=201)
def grant_consent(application_id: str, body: schemas.SignedConsent, identity: CurrentIdentity, platform: PlatformDep, session: SessionDep):
    """Submit the signed terms; the platform's relayer records the consent on chain."""
    application = get_for(session, identity, application_id, as_applicant=True)
    return service.grant(platform, session, application, body.signature, body.link_signature)


@router.get("/me/consents", response_model=list[schemas.ConsentView])
def my_consents(identity: CurrentIdentity, platform: PlatformDep, session: SessionDep):
    """Every consent the signed-in applicant gave, with its state now (read from chain)."""
    return service.my_consents(platform, session, identity.address)


@router.get("/me/data-access", response_model=list[schemas.AccessView])
def my_data_access(identity: CurrentIdentity, platform: PlatformDep, session: SessionDep):
    """Every pull of the applicant's data, released or refused: who asked, who served, why, when."""
    return service.my_data_access(platform, session, identity.address)


@router.get("/me/consents/{consent_id}/revocation", response_model=schemas.RevocationOffer)
def revocation_terms(consent_id: ConsentId, identity: CurrentIdentity, platform: PlatformDep, session: SessionDep, now: NowDep):
    """EIP-712 revocation for the applicant to sign."""
    return service.revocation_offer(platform, session, identity.address, consent_id.lower(), now)


@router.post("/me/consents/{consent_id}/revocation")
def revoke(consent_id: ConsentId, body: schemas.SignedRevocation, identity: CurrentIdentity, platform: PlatformDep, session: SessionDep):
    """Submit the signed revocation; the relayer records it on chain. Pulls stop at once."""
    return service.revoke(platform, session, identity.address, consent_id.lower(), body.deadline, body.signature)
