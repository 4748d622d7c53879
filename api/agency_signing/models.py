"""The agency signature requests table (see :mod:`api.agency_signing.service`)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from chain.db import Base, utcnow


class SignatureRequestState(StrEnum):
    """``agency_signature_requests.state``."""

    AWAITING = "awaiting"
    SUBMITTED = "submitted"
    MINED = "mined"
    FAILED = "failed"


class AgencySignatureRequest(Base):
    """A chain write the platform asks an agency to sign in its own client (``agency-held`` keys):
    exactly this ``to`` and ``data``, for one intent. The signed transaction is relayed through
    the outbox under the same intent key, so the step that asked finds its receipt there."""

    __tablename__ = "agency_signature_requests"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    intent_key: Mapped[str] = mapped_column(String(200), unique=True)
    agency: Mapped[str] = mapped_column(String(42), index=True)
    to: Mapped[str] = mapped_column(String(42))
    data: Mapped[str] = mapped_column(Text)  # 0x-hex calldata, lower case
    description: Mapped[str] = mapped_column(Text)  # the call decoded with the contract's ABI
    state: Mapped[str] = mapped_column(String(16), index=True)  # SignatureRequestState
    tx_hash: Mapped[str | None] = mapped_column(String(66))
    block_number: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
