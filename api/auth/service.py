"""Sign-in: EIP-4361 challenges, one-time nonces, and short-lived bearer tokens."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

import jwt
from sqlalchemy import CursorResult, delete, update
from sqlalchemy.orm import Session

from api.context import Platform
from api.models import AuthChallenge
from httpkit.problems import Unauthorized
from identity import siwe

ALGORITHM = "HS256"
AUDIENCE = "govchain-api"


@dataclass(frozen=True)
class Identity:
    """Who is calling: the address from the token, roles from GovRegistry (never from the token)."""

    address: str
    roles: frozenset[str]
    name: str | None = None

    @property
    def kind(self) -> str:
        return "member" if self.name is not None else "applicant"


def issue_challenge(platform: Platform, session: Session, address: str, now: datetime) -> AuthChallenge:
    settings = platform.settings
    message = siwe.SiweMessage(
        domain=settings.public_domain,
        address=address,
        uri=settings.public_url,
        chain_id=settings.chain_id,
        nonce=secrets.token_hex(16),
        issued_at=now,
        expiration_time=now + timedelta(seconds=settings.challenge_ttl_seconds),
    )
    challenge = AuthChallenge(nonce=message.nonce, address=address, message=message.text(), issued_at=now, expires_at=message.expiration_time)
    # an expired challenge can never be exchanged (nor replayed: its message is refused as expired
    # by its own expiration time first), so it goes as new ones are issued
    session.execute(delete(AuthChallenge).where(AuthChallenge.expires_at <= now))
    session.add(challenge)
    session.commit()
    return challenge


def exchange(platform: Platform, session: Session, text: str, signature: str, now: datetime) -> tuple[str, datetime, Identity]:
    """Check a signed challenge and spend its nonce; return a token, its expiry and who it is for."""
    settings = platform.settings
    try:
        message = siwe.verify(text, signature, domain=settings.public_domain, uri=settings.public_url, chain_id=settings.chain_id, now=now)
    except siwe.SiweError as exc:
        raise Unauthorized(f"sign-in refused: {exc}") from None
    challenge = session.get(AuthChallenge, message.nonce)
    if challenge is None or challenge.message != text or challenge.address != message.address:
        raise Unauthorized("sign-in refused: this challenge was not issued by the server")
    if challenge.expires_at <= now:
        raise Unauthorized("sign-in refused: the challenge has expired; ask for a new one")
    spent = cast(
        CursorResult, session.execute(update(AuthChallenge).where(AuthChallenge.nonce == message.nonce, AuthChallenge.used_at.is_(None)).values(used_at=now))
    )  # an UPDATE's result: a cursor with its row count
    session.commit()
    if spent.rowcount != 1:
        raise Unauthorized("sign-in refused: this challenge was already used")
    identity = identify(platform, message.address)
    expires = now + timedelta(seconds=settings.token_ttl_seconds)
    claims = {"sub": message.address, "iat": now, "exp": expires, "jti": uuid.uuid4().hex, "aud": AUDIENCE, "iss": settings.public_url}
    return jwt.encode(claims, platform.token_secret, algorithm=ALGORITHM), expires, identity


def identify(platform: Platform, address: str) -> Identity:
    member = platform.members.member(address)
    if member is None or not member.active:
        return Identity(address=address, roles=frozenset(), name=member.info.name if member else None)
    return Identity(address=address, roles=member.roles, name=member.info.name)


def authenticate(platform: Platform, token: str, now: datetime) -> Identity:
    """The identity behind a bearer token; expiry is checked against ``now``."""
    try:
        claims = jwt.decode(
            token, platform.token_secret, algorithms=[ALGORITHM], audience=AUDIENCE, issuer=platform.settings.public_url,
            options={"require": ["sub", "exp", "iat", "aud", "iss"], "verify_exp": False, "verify_iat": False},
        )  # fmt: skip
    except jwt.InvalidTokenError:
        raise Unauthorized("the token is not valid") from None
    if now.timestamp() >= claims["exp"]:
        raise Unauthorized("the token has expired; sign in again")
    return identify(platform, claims["sub"])
