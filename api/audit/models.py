"""The audit index's table: one row per event of a govchain contract, as the chain has it.

Only what the chain holds goes here: addresses, hashes, block facts and the decoded event
arguments. No personal data exists on chain, so none is in this table.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from chain.db import Base

BigId = BigInteger().with_variant(Integer, "sqlite")  # SQLite autoincrements INTEGER primary keys only


class ChainRecord(Base):
    """One indexed event: where it is on chain (tx, block, log index), who sent it, what it says."""

    __tablename__ = "chain_records"
    __table_args__ = (
        UniqueConstraint("tx_hash", "log_index", name="uq_chain_records_tx_log"),
        # every filter of GET /v1/records comes with the chain order: (filter, block, log index) indexes
        # answer a page by walking the index, never sorting the matches
        Index("ix_chain_records_position", "block_number", "log_index"),
        Index("ix_chain_records_kind_position", "kind", "block_number", "log_index"),
        Index("ix_chain_records_member_position", "member", "block_number", "log_index"),
        Index("ix_chain_records_applicant_position", "applicant", "block_number", "log_index"),
        Index("ix_chain_records_contract_position", "contract", "block_number", "log_index"),
        Index("ix_chain_records_case_ref_position", "case_ref", "block_number", "log_index"),
        Index("ix_chain_records_sender_position", "tx_sender", "block_number", "log_index"),
        Index("ix_chain_records_time_position", "block_time", "block_number"),  # a time range -> a block range
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chain_id: Mapped[int] = mapped_column(BigInteger)
    contract: Mapped[str] = mapped_column(String(42))  # checksum address
    contract_name: Mapped[str] = mapped_column(String(32))  # GovRegistry, ConsentRegistry, ..., DocumentStore
    event: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))  # consent, pull, submission, certificate, revocation, tender, member, ...
    tx_hash: Mapped[str] = mapped_column(String(66))
    block_number: Mapped[int] = mapped_column(BigInteger)
    block_hash: Mapped[str] = mapped_column(String(66))
    block_time: Mapped[int] = mapped_column(BigInteger)  # unix seconds
    log_index: Mapped[int] = mapped_column(Integer)
    tx_sender: Mapped[str] = mapped_column(String(42))  # the signer of the transaction
    member: Mapped[str | None] = mapped_column(String(42))  # the member acting or answerable
    applicant: Mapped[str | None] = mapped_column(String(42))  # pseudonymous address, where the event names one
    case_ref: Mapped[str | None] = mapped_column(String(66))  # consent id, keccak(application id), tender id, root
    args: Mapped[dict] = mapped_column(JSON)
