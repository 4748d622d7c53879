"""Exactly-once chain writes: the transactional outbox.

Every write that must happen once (anchor this root, log this pull) is submitted under an
``intent_key``. The signed transaction is committed to the database *before* it is sent,
so a process killed anywhere after that resumes by re-broadcasting the very same signed
bytes (same nonce, same hash): the chain can hold it at most once. Submitting an intent
that is already known returns its receipt instead of sending again.
"""

from __future__ import annotations

from datetime import datetime

from eth_account.signers.local import LocalAccount
from sqlalchemy import BigInteger, LargeBinary, String, Text, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column, sessionmaker
from web3.exceptions import Web3RPCError

from chain.db import Base, utcnow
from chain.errors import GovchainError, TransactionFailed
from chain.faults import checkpoint
from chain.tx import ChainClient, Receipt

SIGNED, SENT, MINED, FAILED = "signed", "sent", "mined", "failed"
OPEN = (SIGNED, SENT)


class OutboxEntry(Base):
    __tablename__ = "chain_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    intent_key: Mapped[str] = mapped_column(String(200), unique=True)
    sender: Mapped[str] = mapped_column(String(42), index=True)
    nonce: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(String(66), unique=True)
    raw_tx: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16), index=True)
    block_number: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class IntentInFlight(GovchainError, RuntimeError):
    """Another worker signed the same intent first; its result is the one that counts."""


class Outbox:
    def __init__(self, client: ChainClient, sessions: sessionmaker):
        self.client = client
        self.sessions = sessions

    def submit(self, intent_key: str, account: LocalAccount, call=None, *, to: str | None = None, data: str = "0x", gas: int | None = None) -> Receipt:
        """Send the transaction for ``intent_key`` once; return its receipt.

        A known intent is finished (resumed if needed) rather than sent again. A call that
        would revert raises its named error before anything is stored; one mined with
        status 0 is recorded as failed and raises :class:`TransactionFailed`.
        """
        existing = self.entry(intent_key)
        if existing is not None:
            return self._finish(existing)
        tx = self.client.build(account, call, to=to, data=data, gas=gas)

        def store(nonce: int, raw: bytes, tx_hash: str) -> None:
            with self.sessions() as session:
                session.add(OutboxEntry(intent_key=intent_key, sender=account.address, nonce=nonce, tx_hash=tx_hash, raw_tx=raw, status=SIGNED))
                try:
                    session.commit()
                except IntegrityError:
                    raise IntentInFlight(f"intent {intent_key!r} was signed by another worker") from None
            checkpoint("outbox.after_sign")

        try:
            self.client.send(account, tx, before_send=store)
        except IntentInFlight:
            return self._finish(self.entry(intent_key))
        except TransactionFailed as exc:
            self._set(intent_key, FAILED, error=str(exc))
            raise
        checkpoint("outbox.after_send")
        self._set(intent_key, SENT)
        return self._finish(self.entry(intent_key))

    def entry(self, intent_key: str) -> OutboxEntry | None:
        with self.sessions() as session:
            return session.scalar(select(OutboxEntry).where(OutboxEntry.intent_key == intent_key))

    def pending(self) -> list[OutboxEntry]:
        with self.sessions() as session:
            return list(session.scalars(select(OutboxEntry).where(OutboxEntry.status.in_(OPEN)).order_by(OutboxEntry.sender, OutboxEntry.nonce)))

    def resume(self) -> list[Receipt]:
        """Finish every signed or sent entry (run at start-up, before new sends)."""
        receipts = [self._finish(entry) for entry in self.pending()]
        self.client.nonces.reset()  # re-read counters now that the node has them all
        return receipts

    def _finish(self, entry: OutboxEntry) -> Receipt:
        if entry.status == FAILED and entry.block_number is None:
            raise TransactionFailed(f"intent {entry.intent_key!r} failed before mining: {entry.error}", entry.tx_hash)
        receipt = self.client.receipt_or_none(entry.tx_hash)
        if receipt is None:
            try:
                self.client.send_raw(entry.raw_tx)  # same bytes, same hash: at most one lands
            except Web3RPCError as exc:
                message = str(exc.message).lower()
                if "known" not in message and "nonce too low" not in message and "already" not in message:
                    raise TransactionFailed(f"re-broadcast of {entry.tx_hash} refused: {exc.message}", entry.tx_hash) from None
            receipt = self.client.wait(entry.tx_hash)
        if entry.status != (MINED if receipt.ok else FAILED) or entry.block_number != receipt.block_number:
            self._set(entry.intent_key, MINED if receipt.ok else FAILED, block_number=receipt.block_number)
        if not receipt.ok:
            raise TransactionFailed(f"intent {entry.intent_key!r}: {entry.tx_hash} failed (status 0) in block {receipt.block_number}", entry.tx_hash)
        return receipt

    def _set(self, intent_key: str, status: str, **fields) -> None:
        with self.sessions() as session:
            entry = session.scalar(select(OutboxEntry).where(OutboxEntry.intent_key == intent_key))
            if entry is None:
                return
            entry.status = status
            for name, value in fields.items():
                setattr(entry, name, value)
            session.commit()
