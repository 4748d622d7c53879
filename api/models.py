"""The platform's tables. Chain-level tables (outbox, event cursors) live in ``chain``
and share the same metadata, so one Alembic history covers them all."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from chain.db import Base, utcnow
from chain.events import EventCursor  # noqa: F401  (registers the table)
from chain.outbox import OutboxEntry  # noqa: F401  (registers the table)


class AuthChallenge(Base):
    """An EIP-4361 challenge the server issued; its nonce can be used once."""

    __tablename__ = "auth_challenges"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    address: Mapped[str] = mapped_column(String(42), index=True)
    message: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
