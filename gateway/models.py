"""The gateway's own table: one row per pull request id, so a retry gets the same answer.

The gateway keeps its own metadata and its own migrations (``gateway/migrations``): a data
holder's database holds none of the platform's tables."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import LargeBinary, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from chain.db import NAMING, UtcDateTime, utcnow


class PullStatus(StrEnum):
    """``gateway_pulls.status``: answered and waiting for the batch, then logged or refused on chain."""

    PENDING = "pending"
    LOGGED = "logged"
    REFUSED = "refused"


PENDING, LOGGED, REFUSED = PullStatus.PENDING, PullStatus.LOGGED, PullStatus.REFUSED


class Base(DeclarativeBase):
    """The gateway's own metadata (the platform's tables derive from ``chain.db.Base``)."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UtcDateTime()}


class GatewayPull(Base):
    __tablename__ = "gateway_pulls"

    request_id: Mapped[str] = mapped_column(String(66), primary_key=True)
    holder: Mapped[str] = mapped_column(String(42), index=True)
    consent_id: Mapped[str] = mapped_column(String(66), index=True)
    category: Mapped[int]
    requester: Mapped[str] = mapped_column(String(42))
    fingerprint: Mapped[str] = mapped_column(String(66))  # hash of the signed request: same id, same request
    ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)  # HPKE to the requester: safe to keep
    digest: Mapped[str] = mapped_column(String(66))
    status: Mapped[str] = mapped_column(String(16))  # PullStatus
    reason: Mapped[str | None] = mapped_column(String(40))
    tx_hash: Mapped[str | None] = mapped_column(String(66))
    block_number: Mapped[int | None]
    pull_number: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
