"""A chain writer per signing key: one leader across every process assigns nonces and sends.

Handlers do not send. A handler checks its call (gas estimated: a call that would revert is
refused with its named error before anything is stored), then :func:`enqueue` records the
intent in the same database transaction as the business change it belongs to, and the
handler may :func:`wait_for` the outcome for a bounded time. The key's :class:`ChainWriter`,
run by whichever process holds the key's :class:`~chain.leases.Lease`, does the rest:

1. **Take over** (on winning the lease): every signed or sent entry of the key is broadcast
   again (same bytes, same hash: at most one lands); one whose nonce another transaction took
   goes back to the queue, to be signed anew. The next nonce is the node's pending count, or
   past the highest stored one.
2. **Each round**, while the lease still confirms: record the receipts of what is in flight;
   re-broadcast what waited too long (a restarted node forgets its pool); then sign up to
   ``max_in_flight`` queued intents with contiguous nonces, storing each signed transaction
   before it is sent (the outbox's rule: a process killed anywhere resumes with the same
   bytes). A node refusing a send leaves the nonce unused: the entry is marked failed (never
   mined) and the next intent takes that nonce.

The outbox's guarantees stay: signed bytes stored before sending, one intent one transaction,
resume after a crash. What a leader signed is finished by the next one.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session, sessionmaker
from web3.exceptions import Web3RPCError

from chain.db import utcnow
from chain.errors import ChainUnavailable
from chain.faults import checkpoint
from chain.leases import Lease
from chain.node_errors import NodeError, classify
from chain.outbox import FAILED, MINED, QUEUED, SENT, SIGNED, OutboxEntry
from chain.signals import Bell
from chain.tx import ChainClient, Receipt

log = logging.getLogger(__name__)

DONE = (MINED, FAILED)
MAX_RECEIPT_POLL = 0.25  # seconds between receipt polls of a transaction long in flight
WRITER_CHANNEL = "govchain_writer"  # rung when an intent is queued: its writer wakes
DONE_CHANNEL = "govchain_written"  # rung when an intent is mined or failed: its waiters wake


@dataclass(frozen=True)
class Intent:
    """One chain write, as a handler asks for it: who sends what to whom, under which key."""

    key: str
    sender: str
    to: str
    data: bytes
    gas: int


@dataclass(frozen=True)
class InFlight:
    """A signed transaction of the writer's key: stored, maybe sent, not yet mined."""

    key: str
    nonce: int
    tx_hash: str
    raw: bytes
    updated_at: datetime


@dataclass(frozen=True)
class Outcome:
    """What became of an intent: mined (``ok``), failed on chain (status 0) or refused before it."""

    key: str
    status: str
    tx_hash: str | None
    block_number: int | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status == MINED


def intrinsic_gas(data: bytes) -> int:
    """The gas a call costs before it runs (21,000 and 16 a non-zero calldata byte, 4 a zero one)."""
    return 21_000 + sum(16 if byte else 4 for byte in data)


@dataclass(frozen=True)
class _Sender:
    """The sender of an estimate (``ChainClient.build`` reads only the address: nothing is signed)."""

    address: str


def intent_for(client: ChainClient, key: str, sender: str, call) -> Intent:
    """The intent of a typed client's contract ``call`` sent by ``sender``, its gas estimated now:
    a call that would revert raises its named error here, before anything is queued."""
    tx = client.build(_Sender(sender), call)
    return Intent(key, sender, tx["to"], bytes(HexBytes(tx["data"])), tx["gas"])


def enqueue(session: Session, intent: Intent) -> None:
    """Queue ``intent`` in the caller's transaction (committed with the business change, or not
    at all). An intent key already stored raises IntegrityError at flush/commit: one intent,
    one transaction. Rings the writer's bell when the transaction commits.

    A gas limit below the intrinsic gas is refused here (ValueError): some nodes (anvil) take such
    a transaction and silently drop it, which would stall every later nonce of the key."""
    if intent.gas < intrinsic_gas(intent.data):
        raise ValueError(f"intent {intent.key!r}: gas limit {intent.gas} is below the call's intrinsic gas {intrinsic_gas(intent.data)}")
    session.add(
        OutboxEntry(intent_key=intent.key, sender=intent.sender, to_address=intent.to, calldata=intent.data,
                    gas_limit=intent.gas, status=QUEUED)
    )  # fmt: skip
    Bell.of(session.get_bind(), WRITER_CHANNEL).ring(session)


def outcome(sessions: sessionmaker, key: str) -> Outcome | None:
    """The intent's outcome once it is mined or failed; ``None`` while it is queued or in flight."""
    with sessions() as session:
        entry = session.scalar(select(OutboxEntry).where(OutboxEntry.intent_key == key))
    if entry is None:
        raise KeyError(f"no intent {key!r} is queued")
    if entry.status not in DONE:
        return None
    return Outcome(entry.intent_key, entry.status, entry.tx_hash, entry.block_number, entry.error)


def wait_for(sessions: sessionmaker, key: str, timeout: float) -> Outcome | None:
    """The intent's outcome, waiting at most ``timeout`` seconds (woken when any intent is done);
    ``None`` when it is still on its way (a handler answers 202 with a status URL then)."""
    bell = Bell.of(sessions.kw["bind"], DONE_CHANNEL)
    deadline = time.monotonic() + timeout
    seen = bell.generation
    while True:
        done = outcome(sessions, key)
        remaining = deadline - time.monotonic()
        if done is not None or remaining <= 0:
            return done
        seen = bell.wait(seen, min(remaining, 1.0))  # the bell, or a look every second if a ring is missed


class ChainWriter:
    """Sends the queued intents of one key, while this process holds the key's lease."""

    def __init__(self, client: ChainClient, engine: Engine, account: LocalAccount, *, max_in_flight: int = 16,
                 rebroadcast_after: float = 10.0, idle_wait: float = 1.0):  # fmt: skip
        self.client = client
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        self.account = account
        self.max_in_flight = max_in_flight
        self.rebroadcast_after = rebroadcast_after
        self.idle_wait = idle_wait
        self.lease = Lease(engine, f"writer:{account.address}")
        self._queued = Bell.of(engine, WRITER_CHANNEL)
        self._done = Bell.of(engine, DONE_CHANNEL)
        self._next_nonce: int | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self.run, name=f"writer-{self.account.address[:10]}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._queued.wake_all()
        if self._thread is not None:
            self._thread.join(timeout)
        self.lease.release()

    def run(self) -> None:
        """Stand by for the lease; lead while it confirms; step down (and stand by) when not."""
        seen = self._queued.generation
        pause = self.client.poll_latency  # between rounds while a transaction is in flight and nothing moved
        while not self._stop.is_set():
            if self._next_nonce is None:  # not leading: try to
                if not self.lease.acquire():
                    self._stop.wait(self.idle_wait)
                    continue
                try:
                    self.take_over()
                except ChainUnavailable as exc:
                    log.warning("writer %s: chain unavailable at take-over: %s", self.account.address, exc)
                    self._step_down()
                    self._stop.wait(self.idle_wait)
                    continue
            if not self.lease.confirm():
                log.warning("writer %s: lease lost; standing by", self.account.address)
                self._step_down()
                continue
            try:
                busy = self.round()
            except ChainUnavailable as exc:
                log.warning("writer %s: %s", self.account.address, exc)
                busy = False
            except Exception:  # a bug must not silently end the key's writes: log it and go on
                log.exception("writer %s: round failed", self.account.address)
                self._next_nonce = None  # re-read everything at the next take-over
                self.lease.release()
                busy = False
            if busy:
                pause = self.client.poll_latency
            else:
                # a transaction still in flight is polled for its receipt, at once at first, then less
                # often while nothing moves (one the node lost, e.g. to a restart, waits for its
                # re-broadcast); a queued intent's bell wakes the writer whatever the pause
                in_flight = self._in_flight()
                seen = self._queued.wait(seen, pause if in_flight else self.idle_wait)
                pause = min(pause * 2, MAX_RECEIPT_POLL) if in_flight else self.client.poll_latency

    def _step_down(self) -> None:
        self._next_nonce = None
        self.lease.release()

    # -- leading --------------------------------------------------------------------------------

    def take_over(self) -> None:
        """Finish what an earlier leader left signed or sent, then set the next nonce."""
        for entry in self._entries(SIGNED, SENT):
            self._broadcast(entry)
        pending = self.client.w3.eth.get_transaction_count(self.account.address, "pending")
        with self.sessions() as session:
            highest = session.scalar(select(func.max(OutboxEntry.nonce)).where(OutboxEntry.sender == self.account.address, OutboxEntry.status.in_((SIGNED, SENT))))
        self._next_nonce = max(pending, (highest + 1) if highest is not None else 0)

    def round(self) -> bool:
        """One round: receipts, re-broadcasts, then new sends. Whether anything moved."""
        moved = self._collect_receipts()
        in_flight = self._entries(SIGNED, SENT)
        stale = utcnow() - timedelta(seconds=self.rebroadcast_after)
        for entry in in_flight:
            if entry.updated_at < stale:
                self._broadcast(entry)
        room = self.max_in_flight - len(in_flight)
        if room > 0:
            moved |= self._send_queued(room, idle=not in_flight)
        return moved

    def _collect_receipts(self) -> bool:
        """Record the receipts of what was sent, in nonce order up to the first not yet mined
        (a later nonce cannot be mined before it), in one database transaction."""
        finished = []
        for entry in self._entries(SENT):
            receipt = self.client.receipt_or_none(entry.tx_hash)
            if receipt is None:
                break
            finished.append((entry, receipt))
        if finished:
            self._record(finished)
        return bool(finished)

    def _send_queued(self, room: int, *, idle: bool = False) -> bool:
        """Sign up to ``room`` queued intents with contiguous nonces, store them signed in one
        transaction, then send them in nonce order and mark them sent in one transaction.

        ``idle`` (nothing of the key in flight): the next nonce is the node's pending count, read
        again, so a transaction someone else sent with the key meanwhile, or a dev chain rewound
        to a snapshot, costs no refused send and leaves no gap the node would wait on forever."""
        with self.sessions() as session:
            queued = list(session.scalars(
                select(OutboxEntry).where(OutboxEntry.sender == self.account.address, OutboxEntry.status == QUEUED)
                .order_by(OutboxEntry.id).limit(room)
            ))  # fmt: skip
        if not queued:
            return False
        if idle:
            self._next_nonce = self.client.w3.eth.get_transaction_count(self.account.address, "pending")
        signed = self._sign(queued, self.client.fee_fields(self.client.w3.eth.get_block("latest")))
        checkpoint("writer.after_sign")
        for position, entry in enumerate(signed):
            try:
                self.client.send_raw(entry.raw)
            except Web3RPCError as exc:
                self._mark_sent(signed[:position])
                unsent = signed[position + 1 :]  # signed with the nonces after this one, never sent: sign again later
                if classify(exc) is NodeError.NONCE_TAKEN:  # our count is behind the node's: re-read it
                    self._requeue([entry, *unsent])
                    self._next_nonce = None
                    self.take_over()
                    return True
                # refused for itself (gas, funds, size): never mined, and its nonce goes to the next intent
                self._requeue(unsent)
                self._set(entry.key, FAILED, only_hash=entry.tx_hash, error=f"refused by the node before mining: {exc.message}")
                self._next_nonce = entry.nonce
                self._done.ring_now()
                return True
        self._mark_sent(signed)
        checkpoint("writer.after_send")
        return True

    def _sign(self, queued: list[OutboxEntry], fees: dict[str, int]) -> list[InFlight]:
        """Sign each queued intent with the next nonce and store it signed (one transaction, only
        rows still queued: one signer per intent, even with a leader that lost its lease a moment ago)."""
        nonce = self._next_nonce
        if nonce is None:
            raise RuntimeError("only a leader that took over signs")
        signed = []
        with self.sessions() as session:
            for entry in queued:
                tx = {"to": entry.to_address, "data": entry.calldata, "gas": entry.gas_limit, "value": 0, "chainId": self.client.chain_id, **fees}
                raw, tx_hash = self.client.sign_with_nonce(self.account, tx, nonce)
                at = utcnow()
                taken = session.execute(
                    update(OutboxEntry).where(OutboxEntry.id == entry.id, OutboxEntry.status == QUEUED)
                    .values(status=SIGNED, nonce=nonce, tx_hash=tx_hash, raw_tx=raw, updated_at=at).returning(OutboxEntry.id)
                ).first() is not None  # fmt: skip
                if taken:
                    signed.append(InFlight(entry.intent_key, nonce, tx_hash, raw, at))
                    nonce += 1
            session.commit()
        self._next_nonce = nonce
        return signed

    # -- entries --------------------------------------------------------------------------------

    def _entries(self, *statuses: str) -> list[InFlight]:
        """The key's signed transactions in ``statuses`` (signed or sent), by nonce."""
        with self.sessions() as session:
            rows = session.execute(
                select(OutboxEntry.intent_key, OutboxEntry.nonce, OutboxEntry.tx_hash, OutboxEntry.raw_tx, OutboxEntry.updated_at)
                .where(OutboxEntry.sender == self.account.address, OutboxEntry.status.in_(statuses)).order_by(OutboxEntry.nonce)
            ).all()  # fmt: skip
        # a signed row always has its nonce, hash and bytes (only a queued one has none)
        return [InFlight(key, nonce, tx_hash, raw, at) for key, nonce, tx_hash, raw, at in rows if nonce is not None and tx_hash and raw]

    def _in_flight(self) -> bool:
        return bool(self._entries(SIGNED, SENT))

    def _broadcast(self, entry: InFlight) -> None:
        """Send the stored bytes again; record the receipt if it is mined; re-queue it if its
        nonce went to another transaction."""
        try:
            self.client.send_raw(entry.raw)
        except Web3RPCError as exc:
            kind = classify(exc)
            if kind is NodeError.NONCE_TAKEN:
                receipt = self.client.receipt_or_none(entry.tx_hash)
                if receipt is not None:
                    self._finish(entry, receipt)
                else:
                    self._requeue([entry])
                return
            if kind is not NodeError.ALREADY_KNOWN:
                log.warning("writer %s: re-broadcast of %s refused: %s", self.account.address, entry.tx_hash, exc.message)
                return
        self._set(entry.key, SENT, only_hash=entry.tx_hash)

    def _finish(self, entry: InFlight, receipt: Receipt) -> None:
        self._record([(entry, receipt)])

    def _record(self, finished: list[tuple[InFlight, Receipt]]) -> None:
        """Mined or failed (status 0), with the block, in one transaction; then wake the waiters."""
        with self.sessions() as session:
            for entry, receipt in finished:
                error = None if receipt.ok else f"{receipt.tx_hash} failed (status 0) in block {receipt.block_number}"
                session.execute(self._update(entry.key, entry.tx_hash, MINED if receipt.ok else FAILED, block_number=receipt.block_number, error=error))
            session.commit()
        self._done.ring_now()

    def _mark_sent(self, sent: list[InFlight]) -> None:
        if sent:
            with self.sessions() as session:
                for entry in sent:
                    session.execute(self._update(entry.key, entry.tx_hash, SENT))
                session.commit()

    def _requeue(self, entries: list[InFlight]) -> None:
        """Back to the queue, unsigned: never mined (a nonce another transaction took, or signed
        after one the node refused)."""
        if not entries:
            return
        with self.sessions() as session:
            for entry in entries:
                session.execute(
                    update(OutboxEntry).where(OutboxEntry.intent_key == entry.key, OutboxEntry.tx_hash == entry.tx_hash, OutboxEntry.block_number.is_(None))
                    .values(status=QUEUED, nonce=None, tx_hash=None, raw_tx=None, updated_at=utcnow())
                )  # fmt: skip
            session.commit()

    @staticmethod
    def _update(key: str, tx_hash: str, status: str, **fields):
        """Set ``status`` for the intent's transaction ``tx_hash`` (never a re-signed one's), never over "mined" or "failed"."""
        return (
            update(OutboxEntry).where(OutboxEntry.intent_key == key, OutboxEntry.tx_hash == tx_hash, OutboxEntry.status.not_in(DONE))
            .values(status=status, updated_at=utcnow(), **fields)
        )  # fmt: skip

    def _set(self, key: str, status: str, *, only_hash: str, **fields) -> None:
        with self.sessions() as session:
            session.execute(self._update(key, only_hash, status, **fields))
            session.commit()


__all__ = ["ChainWriter", "Intent", "Outcome", "enqueue", "intent_for", "outcome", "wait_for"]
