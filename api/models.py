"""The platform's tables. Chain-level tables (outbox, event cursors) live in ``chain``, the
audit index and the agency signature requests in their own packages; all share one metadata
and one Alembic history, and :mod:`api.schema` registers every one of them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from chain.db import Base, utcnow

# The values the state columns hold. StrEnum members are the strings themselves: the columns,
# the HTTP API and the pages carry the same text as before there were enums.


class ApplicationState(StrEnum):
    """``applications.state``; :mod:`api.applications.states` holds the transitions."""

    DRAFT = "draft"
    FACE_VERIFIED = "face_verified"
    CONSENTED = "consented"
    DATA_PULLED = "data_pulled"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    ISSUED = "issued"
    DELIVERED = "delivered"


class DeliveryMethod(StrEnum):
    """``applications.delivery_method``."""

    MAIL = "mail"
    ELECTRONIC = "electronic"


class DeliveryStatus(StrEnum):
    """``delivery_events.status`` and ``applications.delivery_status``, in their order."""

    PRINTED = "printed"
    MAILED = "mailed"
    DELIVERED = "delivered"


class PullOutcome(StrEnum):
    """What one pull from a data holder came to (API answers and consent receipts)."""

    RELEASED = "released"
    REFUSED = "refused"


class CertificateState(StrEnum):
    """``certificates.state``."""

    QUEUED = "queued"
    BATCHED = "batched"
    ISSUED = "issued"
    REVOKED = "revoked"


class BatchState(StrEnum):
    """``certificate_batches.state``: ``AWAITING`` the agency's own signature (agency-held keys)."""

    PENDING = "pending"
    AWAITING = "awaiting"
    ISSUED = "issued"
    REVOKED = "revoked"


class AuthChallenge(Base):
    """An EIP-4361 challenge the server issued; its nonce can be used once."""

    __tablename__ = "auth_challenges"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    address: Mapped[str] = mapped_column(String(42), index=True)
    message: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class RateCount(Base):
    """The recent requests of one rate-limit key (``<action>:address:<0x..>`` or
    ``<action>:client:<host>``), shared by every API process on this database
    (:class:`api.limits.RateLimiter`). ``times`` holds the POSIX times of the requests still in
    the window; the row is purged once ``expires_at`` (the last one plus the window) is past."""

    __tablename__ = "rate_counts"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    times: Mapped[list] = mapped_column(JSON)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class Application(Base):
    """One citizen's application for a matter or a scene (several matters), and its state.

    Personal data (claimed name and ID number, the face-check salt, the vendor's session
    token) is sealed at rest with the platform's data key; nothing here is a face image.
    """

    __tablename__ = "applications"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    applicant: Mapped[str] = mapped_column(String(42), index=True)
    code: Mapped[str] = mapped_column(String(64))  # the matter or scene applied for
    matters: Mapped[list] = mapped_column(JSON)
    agency: Mapped[str] = mapped_column(String(42), index=True)
    state: Mapped[str] = mapped_column(String(20), index=True)  # ApplicationState
    claimed_identity: Mapped[bytes | None] = mapped_column(LargeBinary)  # sealed {"name", "id_number"}
    face_session_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    face_session_token: Mapped[bytes | None] = mapped_column(LargeBinary)  # sealed
    face_decision: Mapped[str | None] = mapped_column(String(32))
    face_score: Mapped[float | None]
    face_error_code: Mapped[str | None] = mapped_column(String(64))
    face_request_id: Mapped[str | None] = mapped_column(String(100))
    face_response_sha256: Mapped[str | None] = mapped_column(String(64))
    face_check_salt: Mapped[bytes | None] = mapped_column(LargeBinary)  # sealed 32 bytes
    face_check_ref: Mapped[str | None] = mapped_column(String(66))
    face_verified_at: Mapped[datetime | None]
    purpose_salt: Mapped[str] = mapped_column(String(66))
    consent_terms: Mapped[dict | None] = mapped_column(JSON)  # terms offered for signing
    consent_id: Mapped[str | None] = mapped_column(String(66), unique=True)
    consent_tx: Mapped[str | None] = mapped_column(String(66))
    # the consent's applicant on chain: a per-consent pseudonym (identity.pseudonym), linked to the
    # applicant's wallet by the wallet's PseudonymLink signature, kept here and never on chain
    consent_pseudonym: Mapped[str | None] = mapped_column(String(42), unique=True)
    consent_link_signature: Mapped[str | None] = mapped_column(String(132))
    manifest: Mapped[dict | None] = mapped_column(JSON)  # leaves, root and proofs of the paperless submission
    manifest_root: Mapped[str | None] = mapped_column(String(66), unique=True)
    manifest_tx: Mapped[str | None] = mapped_column(String(66))
    submitted_at: Mapped[datetime | None]
    delivery_method: Mapped[str | None] = mapped_column(String(16))  # DeliveryMethod
    delivery_address: Mapped[bytes | None] = mapped_column(LargeBinary)  # sealed postal address
    delivery_status: Mapped[str | None] = mapped_column(String(16))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PulledRecord(Base):
    """Data pulled for an application from a data holder, re-sealed at rest."""

    __tablename__ = "pulled_records"

    request_id: Mapped[str] = mapped_column(String(66), primary_key=True)
    application_id: Mapped[str] = mapped_column(String(40), ForeignKey("applications.id"), index=True)
    category: Mapped[str] = mapped_column(String(32))
    holder: Mapped[str] = mapped_column(String(42))
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    digest: Mapped[str | None] = mapped_column(String(66))
    tx_hash: Mapped[str | None] = mapped_column(String(66))
    pull_number: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookReceipt(Base):
    """Webhook ids already accepted: a replayed callback is refused."""

    __tablename__ = "webhook_receipts"

    webhook_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    source: Mapped[str] = mapped_column(String(40))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class Tender(Base):
    """A tender's off-chain side: its reference and title (the terms live on chain)."""

    __tablename__ = "tenders"

    tender_id: Mapped[str] = mapped_column(String(66), primary_key=True)
    reference: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    agency: Mapped[str] = mapped_column(String(42), index=True)
    created_tx: Mapped[str] = mapped_column(String(66))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TenderBid(Base):
    """The latest version of one bidder's bid under its pseudonym. Who the bidder is stays
    sealed at rest until the opening; the bid itself is ciphertext until the key is released."""

    __tablename__ = "tender_bids"

    tender_id: Mapped[str] = mapped_column(String(66), ForeignKey("tenders.tender_id"), primary_key=True)
    pseudonym: Mapped[str] = mapped_column(String(66), primary_key=True)
    bidder_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    version: Mapped[int]
    blob: Mapped[str | None] = mapped_column(String(64))  # SHA-256 of the ciphertext in the blob store
    key_commitment: Mapped[str | None] = mapped_column(String(66))
    tx_hash: Mapped[str] = mapped_column(String(66))
    withdrawn: Mapped[bool] = mapped_column(default=False)
    opened: Mapped[dict | None] = mapped_column(JSON)  # the decrypted bid, public once read
    decryption: Mapped[str | None] = mapped_column(String(40))  # decrypted, or why not
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class TenderObjection(Base):
    __tablename__ = "tender_objections"

    tender_id: Mapped[str] = mapped_column(String(66), ForeignKey("tenders.tender_id"), primary_key=True)
    index: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    pseudonym: Mapped[str] = mapped_column(String(66))
    text: Mapped[str] = mapped_column(Text)
    answer: Mapped[str | None] = mapped_column(Text)


class MaterialFile(Base):
    """One uploaded material: HPKE-sealed to the handling agency, stored content-addressed
    (``blob`` names the ciphertext); ``sha256`` is the plaintext's, the manifest leaf's."""

    __tablename__ = "material_files"

    application_id: Mapped[str] = mapped_column(String(40), ForeignKey("applications.id"), primary_key=True)
    material: Mapped[str] = mapped_column(String(64), primary_key=True)
    filename: Mapped[str] = mapped_column(String(200))
    mime: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    blob: Mapped[str] = mapped_column(String(64), unique=True)
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class Commitment(Base):
    """A notification-commitment (告知承诺) signed instead of uploading a proof, anchored as
    evidence; the agency checks it after the fact and that outcome is anchored too."""

    __tablename__ = "commitments"

    application_id: Mapped[str] = mapped_column(String(40), ForeignKey("applications.id"), primary_key=True)
    material: Mapped[str] = mapped_column(String(64), primary_key=True)
    agency: Mapped[str] = mapped_column(String(42), index=True)
    text: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[int]
    signature: Mapped[str] = mapped_column(String(132))
    digest: Mapped[str] = mapped_column(String(66), unique=True)  # the EIP-712 digest, anchored as the evidence root
    tx_hash: Mapped[str] = mapped_column(String(66))
    check_due: Mapped[datetime] = mapped_column(index=True)
    check_outcome: Mapped[str | None] = mapped_column(String(16))
    check_note: Mapped[str | None] = mapped_column(Text)
    check_root: Mapped[str | None] = mapped_column(String(66))
    check_tx: Mapped[str | None] = mapped_column(String(66))
    checked_at: Mapped[datetime | None]


class DeliveryEvent(Base):
    """One change of a certificate's delivery (printed, mailed, delivered), anchored as evidence."""

    __tablename__ = "delivery_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[str] = mapped_column(String(40), ForeignKey("applications.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    tracking_number: Mapped[str | None] = mapped_column(String(64))
    root: Mapped[str] = mapped_column(String(66), unique=True)
    tx_hash: Mapped[str] = mapped_column(String(66))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class CertificateBatch(Base):
    """Certificates wrapped into one Merkle tree and issued with one ``issue(root)``."""

    __tablename__ = "certificate_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency: Mapped[str] = mapped_column(String(42), index=True)
    store: Mapped[str] = mapped_column(String(42))
    merkle_root: Mapped[str] = mapped_column(String(66), unique=True)
    size: Mapped[int]
    state: Mapped[str] = mapped_column(String(16), index=True)  # BatchState
    tx_hash: Mapped[str | None] = mapped_column(String(66))
    block_number: Mapped[int | None]
    revoke_tx: Mapped[str | None] = mapped_column(String(66))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    issued_at: Mapped[datetime | None]


class Certificate(Base):
    """One certificate. ``document`` is sealed at rest: the raw data while queued, the
    wrapped OpenAttestation document once its batch is built."""

    __tablename__ = "certificates"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    application_id: Mapped[str] = mapped_column(String(40), ForeignKey("applications.id"), unique=True)
    agency: Mapped[str] = mapped_column(String(42), index=True)
    state: Mapped[str] = mapped_column(String(16), index=True)  # CertificateState
    document: Mapped[bytes] = mapped_column(LargeBinary)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("certificate_batches.id"), index=True)
    target_hash: Mapped[str | None] = mapped_column(String(66), unique=True)
    revoke_reason: Mapped[str | None] = mapped_column(Text)
    revoke_tx: Mapped[str | None] = mapped_column(String(66))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    issued_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
