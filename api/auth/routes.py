from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.auth import schemas, service
from api.auth.deps import CurrentIdentity
from api.deps import ClientDep, PlatformDep, SessionDep
from httpkit import NowDep

router = APIRouter(prefix="/v1/auth", tags=["sign-in"])
UNAUTHORIZED: dict[int | str, dict[str, Any]] = {401: {"description": "bad, expired or replayed sign-in"}}


@router.post("/challenge", response_model=schemas.Challenge, status_code=201)
def create_challenge(body: schemas.ChallengeRequest, platform: PlatformDep, session: SessionDep, now: NowDep, client: ClientDep):
    """Issue an EIP-4361 message for ``address`` to sign; its nonce is good once, for a few minutes.
    Rate-limited per address and per client (``limits.sign_in``): beyond, 429 with Retry-After."""
    platform.limits.take("sign_in", body.address, client, now)
    challenge = service.issue_challenge(platform, session, body.address, now)
    return schemas.Challenge(message=challenge.message, nonce=challenge.nonce, expires_at=challenge.expires_at)


@router.post("/token", response_model=schemas.Token, responses=UNAUTHORIZED)
def create_token(body: schemas.TokenRequest, platform: PlatformDep, session: SessionDep, now: NowDep):
    """Exchange a signed challenge for a short-lived bearer token."""
    token, expires, identity = service.exchange(platform, session, body.message, body.signature, now)
    return schemas.Token(access_token=token, expires_at=expires, address=identity.address, roles=sorted(identity.roles))


@router.get("/me", response_model=schemas.Principal, responses=UNAUTHORIZED)
def me(identity: CurrentIdentity):
    """Who the token belongs to, with the roles GovRegistry gives it now."""
    return schemas.Principal(address=identity.address, kind=identity.kind, name=identity.name, roles=sorted(identity.roles))
