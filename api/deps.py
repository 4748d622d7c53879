"""Shared FastAPI dependencies, as ``Annotated`` aliases."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from api.auth.service import Identity, authenticate
from api.context import Platform
from api.problems import Forbidden, PayloadTooLarge, Unauthorized
from httpkit import NowDep as NowDep, get_now as get_now  # the request clock (tests override get_now), shared with the gateway


def get_platform(request: Request) -> Platform:
    return request.app.state.platform


PlatformDep = Annotated[Platform, Depends(get_platform)]


def get_session(platform: PlatformDep) -> Iterator[Session]:
    with platform.sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def get_client(request: Request) -> str:
    """The client's address as uvicorn gives it: the peer, or (from a proxy uvicorn trusts,
    ``--forwarded-allow-ips``/``FORWARDED_ALLOW_IPS``) the first X-Forwarded-For hop."""
    return request.client.host if request.client else "unknown"


ClientDep = Annotated[str, Depends(get_client)]

_bearer = HTTPBearer(auto_error=False, description="token from POST /v1/auth/token")


def current_identity(
    platform: PlatformDep, now: NowDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Identity:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("this route needs a bearer token; sign in at POST /v1/auth/challenge")
    return authenticate(platform, credentials.credentials, now)


CurrentIdentity = Annotated[Identity, Depends(current_identity)]


def require_role(*roles: str):
    """A dependency that admits an active member holding any of ``roles`` (403 otherwise)."""

    def check(identity: CurrentIdentity) -> Identity:
        if not identity.roles.intersection(roles):
            raise Forbidden(f"{identity.address} needs one of the roles {', '.join(roles)} on GovRegistry")
        return identity

    check.roles = roles  # read by the authorization tests
    return check


async def read_body(request: Request, limit: int, what: str) -> bytes:
    """The raw request body, refused with 413 as soon as it passes ``limit`` bytes (never buffered past it)."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"{what} are limited to {limit} bytes; nothing was stored")
    return bytes(body)
