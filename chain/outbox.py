"""Exactly-once chain writes: the transactional outbox.

Every write that must happen once (anchor this root, log this pull) is submitted under an
``intent_key``. The signed transaction is committed to the database *before* it is sent,
so a process killed anywhere after that resumes by re-broadcasting the very same signed
bytes (same nonce, same hash): the chain can hold it at most once. Submitting an intent
that is already known returns its receipt instead of sending again.
"""

from __future__ import annotations

import logging
from datetime import datetime
from enum import StrEnum
from typing import cast

from eth_account.signers.local import LocalAccount
from sqlalchemy import BigInteger, LargeBinary, String, Text, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column, sessionmaker
from web3.exceptions import Web3RPCError

from chain.db import Base, utcnow
from chain.errors import GovchainError, NonceTaken, TransactionFailed
from chain.faults import checkpoint
from chain.node_errors import NodeError, classify
from chain.tx import ChainClient, Receipt

log = logging.getLogger(__name__)


class OutboxState(StrEnum):
    """``chain_outbox.state``: ``QUEUED`` for its key's writer to sign; ``SIGNED`` and ``SENT`` are
    open (resumed after a restart)."""

    QUEUED = "queued"
    SIGNED = "signed"
    SENT = "sent"
    MINED = "mined"
    FAILED = "failed"


QUEUED, SIGNED, SENT, MINED, FAILED = OutboxState.QUEUED, OutboxState.SIGNED, OutboxState.SENT, OutboxState.MINED, OutboxState.FAILED
OPEN = (SIGNED, SENT)  # signed, maybe on its way: a queued intent is its writer's to sign


class OutboxEntry(Base):
    __tablename__ = "chain_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    intent_key: Mapped[str] = mapped_column(String(200), unique=True)
    sender: Mapped[str] = mapped_column(String(42), index=True)
    # none of the three while the intent is queued for its key's writer (chain/writer.py)
    nonce: Mapped[int | None] = mapped_column(BigInteger)
    tx_hash: Mapped[str | None] = mapped_column(String(66), unique=True)
    raw_tx: Mapped[bytes | None] = mapped_column(LargeBinary)
    # what the writer signs: the call's target, calldata and gas limit, fixed when it is queued
    to_address: Mapped[str | None] = mapped_column(String(42))
    calldata: Mapped[bytes | None] = mapped_column(LargeBinary)
    gas_limit: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), index=True)
    block_number: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class IntentInFlight(GovchainError, RuntimeError):
    """Another worker signed the same intent first; its result is the one that counts."""


class Superseded(GovchainError, RuntimeError):
    """A stored transaction can never be mined: another transaction took its nonce."""


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
        if existing is not None and existing.status == FAILED and existing.block_number is None:
            self._discard(existing)  # refused before mining (a row of an earlier version): nothing on chain, sign again
            existing = None
        if existing is not None:
            try:
                return self._finish(existing)
            except Superseded:
                pass  # never mined and never will be: sign it again below, with a nonce of its own
        for attempt in (1, 2):
            try:
                return self._sign_and_send(intent_key, account, call, to=to, data=data, gas=gas)
            except NonceTaken:
                if attempt == 2:
                    raise
                log.warning("outbox: the nonce of intent %r was taken by another sender of %s; signing again", intent_key, account.address)
        raise AssertionError("unreachable")

    def relay(self, intent_key: str, sender: str, nonce: int, raw: bytes, tx_hash: str) -> Receipt:
        """Send for ``intent_key`` a transaction another party signed (an agency, in its own client),
        as :meth:`submit` sends the platform's own: stored before it is sent, resumed like any other
        entry, finished rather than sent again when the intent is known. A node's refusal before
        mining leaves nothing stored and raises :class:`NonceTaken` or :class:`TransactionFailed`."""
        existing = self.entry(intent_key)
        if existing is not None:
            return self._finish(existing)
        try:
            self._store(intent_key, sender, nonce, raw, tx_hash)
        except IntentInFlight:
            return self._finish(self._stored(intent_key))
        try:
            self.client.send_raw(raw)
        except Web3RPCError as exc:
            stored = self.entry(intent_key)
            if stored is not None and stored.tx_hash == tx_hash:
                self._discard(stored)
            refused = NonceTaken if classify(exc) is NodeError.NONCE_TAKEN else TransactionFailed
            raise refused(f"node refused relayed transaction {tx_hash} (nonce {nonce}): {exc.message}", tx_hash) from None
        self._set(intent_key, SENT, only_from=(SIGNED,))
        return self._finish(self._stored(intent_key))

    def finish(self, intent_key: str) -> Receipt | None:
        """The receipt of a stored intent (re-broadcast and awaited if need be); None if none is stored."""
        existing = self.entry(intent_key)
        return None if existing is None else self._finish(existing)

    def _store(self, intent_key: str, sender: str, nonce: int, raw: bytes, tx_hash: str) -> None:
        """Commit the signed transaction of ``intent_key`` before it is sent (IntentInFlight if another worker did)."""
        with self.sessions() as session:
            session.add(OutboxEntry(intent_key=intent_key, sender=sender, nonce=nonce, tx_hash=tx_hash, raw_tx=raw, status=SIGNED))
            try:
                session.commit()
            except IntegrityError:
                raise IntentInFlight(f"intent {intent_key!r} was signed by another worker") from None
        checkpoint("outbox.after_sign")

    def _sign_and_send(self, intent_key: str, account: LocalAccount, call, *, to: str | None, data: str, gas: int | None) -> Receipt:
        tx = self.client.build(account, call, to=to, data=data, gas=gas)

        def store(nonce: int, raw: bytes, tx_hash: str) -> None:
            self._store(intent_key, account.address, nonce, raw, tx_hash)

        try:
            self.client.send(account, tx, before_send=store, before_sign=lambda: self._rebroadcast_unsent(account.address),
                             after_send=lambda: self._set(intent_key, SENT, only_from=(SIGNED,)))  # fmt: skip
        except IntentInFlight:
            return self._finish(self._stored(intent_key))
        except TransactionFailed as exc:
            # refused before mining (the node said no: a nonce taken, a transient refusal): nothing is
            # on chain, so the stored row goes and the intent stays open to be signed again with a
            # fresh nonce; "failed" is kept for transactions mined with status 0 (see _finish)
            stored = self.entry(intent_key)
            if stored is not None and stored.tx_hash == exc.tx_hash:
                self._discard(stored)
            raise
        checkpoint("outbox.after_send")
        return self._finish(self._stored(intent_key))

    def _stored(self, intent_key: str) -> OutboxEntry:
        """The entry of an intent this call has just stored or found in flight (only a refusal
        before mining discards one, and that call raises instead of reading it)."""
        return cast(OutboxEntry, self.entry(intent_key))

    def entry(self, intent_key: str) -> OutboxEntry | None:
        with self.sessions() as session:
            return session.scalar(select(OutboxEntry).where(OutboxEntry.intent_key == intent_key))

    def pending(self) -> list[OutboxEntry]:
        """The signed or sent entries this outbox signed or relayed (not the writer's: those carry
        their calldata, and their key's :class:`~chain.writer.ChainWriter` finishes them, re-queueing
        one whose nonce was taken rather than dropping it)."""
        with self.sessions() as session:
            query = select(OutboxEntry).where(OutboxEntry.status.in_(OPEN), OutboxEntry.calldata.is_(None))
            return list(session.scalars(query.order_by(OutboxEntry.sender, OutboxEntry.nonce)))

    def resume(self) -> list[Receipt]:
        """Finish every signed or sent entry of this outbox (run at start-up, before new sends)."""
        receipts = []
        for entry in self.pending():
            try:
                receipts.append(self._finish(entry))
            except Superseded:
                continue  # its nonce went to another transaction: the intent is signed again when next submitted
            except TransactionFailed as exc:  # mined with status 0 (now recorded as failed): the others still get finished
                log.warning("outbox: %s", exc)
        self.client.nonces.reset()  # re-read counters now that the node has them all
        return receipts

    def _rebroadcast_unsent(self, sender: str) -> bool:
        """Before a new nonce is taken for ``sender`` (its nonce lock held): send again what an
        earlier send left stored but unsent (the node was down), so the new transaction cannot
        take its nonce. Returns whether there was any."""
        with self.sessions() as session:
            unsent = list(session.scalars(select(OutboxEntry).where(OutboxEntry.sender == sender, OutboxEntry.status == SIGNED).order_by(OutboxEntry.nonce)))
        for entry in unsent:
            try:
                self._broadcast(entry)
            except Superseded:
                continue  # signed again by its next submit
            self._set(entry.intent_key, SENT, only_from=(SIGNED,))
        return bool(unsent)

    def _broadcast(self, entry: OutboxEntry) -> Receipt | None:
        """Send the stored bytes again (same hash: at most one lands); a receipt if it is already mined.

        When the node says the nonce is taken and no receipt exists, another transaction used
        the nonce: the entry is removed and :class:`Superseded` raised, so the intent is signed
        again rather than waited for forever.
        """
        raw, tx_hash = cast(bytes, entry.raw_tx), cast(str, entry.tx_hash)  # a signed entry (only a queued one has neither)
        try:
            self.client.send_raw(raw)
        except Web3RPCError as exc:
            message, kind = str(exc.message), classify(exc)
            if kind is NodeError.NONCE_TAKEN:
                receipt = self.client.receipt_or_none(tx_hash)
                if receipt is not None:
                    return receipt
                with self.sessions() as session:
                    stale = session.scalar(select(OutboxEntry).where(OutboxEntry.intent_key == entry.intent_key))
                    if stale is not None and stale.tx_hash == entry.tx_hash:
                        session.delete(stale)
                        session.commit()
                raise Superseded(f"{entry.tx_hash} of intent {entry.intent_key!r} lost its nonce {entry.nonce} to another transaction") from None
            if kind is not NodeError.ALREADY_KNOWN:
                raise TransactionFailed(f"re-broadcast of {entry.tx_hash} refused: {message}", entry.tx_hash) from None
        return None

    def _discard(self, entry: OutboxEntry) -> None:
        """Remove ``entry`` (never mined) so its intent is signed again; only the very row read."""
        with self.sessions() as session:
            stale = session.scalar(select(OutboxEntry).where(OutboxEntry.intent_key == entry.intent_key))
            if stale is not None and stale.tx_hash == entry.tx_hash and stale.block_number is None:
                session.delete(stale)
                session.commit()

    def _finish(self, entry: OutboxEntry) -> Receipt:
        if entry.status == QUEUED or entry.tx_hash is None:  # its key's writer (chain/writer.py) signs and sends it
            raise IntentInFlight(f"intent {entry.intent_key!r} is queued for the writer of {entry.sender}; wait for it (chain.writer.wait_for)")
        receipt = self.client.receipt_or_none(entry.tx_hash)
        if receipt is None:
            receipt = self._broadcast(entry) or self.client.wait(entry.tx_hash)
        if entry.status != (MINED if receipt.ok else FAILED) or entry.block_number != receipt.block_number:
            self._set(entry.intent_key, MINED if receipt.ok else FAILED, block_number=receipt.block_number)
        if not receipt.ok:
            raise TransactionFailed(f"intent {entry.intent_key!r}: {entry.tx_hash} failed (status 0) in block {receipt.block_number}", entry.tx_hash)
        return receipt

    def _set(self, intent_key: str, status: str, *, only_from: tuple[str, ...] | None = None, **fields) -> None:
        """Record ``status`` for the intent (only if it is now one of ``only_from``, when given:
        a late "sent" must never overwrite "mined")."""
        with self.sessions() as session:
            entry = session.scalar(select(OutboxEntry).where(OutboxEntry.intent_key == intent_key))
            if entry is None or (only_from is not None and entry.status not in only_from):
                return
            entry.status = status
            for name, value in fields.items():
                setattr(entry, name, value)
            session.commit()
