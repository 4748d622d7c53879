"""Shared FastAPI dependencies, as ``Annotated`` aliases (the signed-in identity: :mod:`api.auth.deps`;
the request clock ``NowDep``/``get_now``: :mod:`httpkit`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from api.context import Platform
from api.contracts import Contracts
from api.settings import Settings
from httpkit.problems import PayloadTooLarge


def get_platform(request: Request) -> Platform:
    return request.app.state.platform


PlatformDep = Annotated[Platform, Depends(get_platform)]


# The platform's parts, for a route that needs one of them (a service that needs several takes the Platform).


def get_settings(platform: PlatformDep) -> Settings:
    return platform.settings


def get_contracts(platform: PlatformDep) -> Contracts:
    return platform.contracts


SettingsDep = Annotated[Settings, Depends(get_settings)]
ContractsDep = Annotated[Contracts, Depends(get_contracts)]


def get_session(platform: PlatformDep) -> Iterator[Session]:
    with platform.sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def get_client(request: Request) -> str:
    """The client's address as uvicorn gives it: the peer, or (from a proxy uvicorn trusts,
    ``--forwarded-allow-ips``/``FORWARDED_ALLOW_IPS``) the first X-Forwarded-For hop."""
    return request.client.host if request.client else "unknown"


ClientDep = Annotated[str, Depends(get_client)]


async def read_body(request: Request, limit: int, what: str) -> bytes:
    """The raw request body, refused with 413 as soon as it passes ``limit`` bytes (never buffered past it)."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"{what} are limited to {limit} bytes; nothing was stored")
    return bytes(body)
