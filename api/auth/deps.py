"""The signed-in identity as FastAPI dependencies: ``CurrentIdentity`` and ``require_role``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.auth.service import Identity, authenticate
from api.deps import PlatformDep
from httpkit import NowDep
from httpkit.problems import Forbidden, Unauthorized

_bearer = HTTPBearer(auto_error=False, description="token from POST /v1/auth/token")


def current_identity(platform: PlatformDep, now: NowDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Identity:
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

    check.roles = roles  # type: ignore[attr-defined]  # read by the authorization tests
    return check
