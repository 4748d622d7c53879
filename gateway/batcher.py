"""Group commit of pull logs: one ``recordPulls`` transaction for many pulls, several in flight.

Callers hand in a :class:`PullRecord` and wait; the cutter thread sends the queue as one batch
at once when no batch is in flight, else when it holds ``max_batch`` records or ``interval``
seconds after the first arrived (group commit: a batch forms while another is mined), and goes on
cutting the next batch while up to ``max_in_flight`` batches await their receipts. The collector
thread awaits them in the order they were sent (their nonces' order) and gives each caller its
own record's outcome (logged with its pull number, or refused): a caller still learns its pull
is logged on chain before it answers.

A consent with a record in a batch in flight has its next records held back until that batch is
mined: the next batch's gas is estimated on the state the node has, and a pull number that
waits on an unmined one would be judged (and priced) as skipping ahead.

A record may carry a ``payload`` (the gateway's row for it). The batcher hands a batch's payloads
to ``store`` before it sends the batch and to ``settle`` after it is mined, so the rows of a batch
are written in one database transaction each way (one commit, one fsync, per batch rather than
two per pull). ``store`` answers, per payload, ``None`` (stored) or the error its caller gets (the
record leaves the batch unsent).
"""

from __future__ import annotations

import queue
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from eth_account.signers.local import LocalAccount

from chain.consents import ConsentRegistryClient, PullOutcome, PullRecord, SentPulls
from chain.errors import ContractRevert
from chain.faults import checkpoint
from chain.tx import Receipt

Store = Callable[[Sequence[Any]], Sequence[Exception | None]]
Settle = Callable[[Sequence[tuple[Any, PullOutcome]], Receipt], None]
_WAKE = object()  # put on the queue when held records are released: the cutter looks again


@dataclass(eq=False)
class Item:
    """One submitted record, its caller's future and the caller's payload."""

    record: PullRecord
    future: Future = field(default_factory=Future)
    payload: Any = None


class PullBatcher:
    def __init__(self, consents: ConsentRegistryClient, holder: LocalAccount, *, max_batch: int = 32, interval: float = 0.02, max_in_flight: int = 4,
                 store: Store | None = None, settle: Settle | None = None):  # fmt: skip
        self.consents = consents
        self.holder = holder
        self.store = store
        self.settle = settle
        self.max_batch = max_batch
        self.interval = interval
        self.batches = 0
        self._queue: queue.Queue = queue.Queue()
        self._sent: queue.Queue[tuple[SentPulls, list[Item]] | None] = queue.Queue()
        self._slots = threading.Semaphore(max_in_flight)
        self._guard = threading.Lock()
        self._busy: dict[bytes, int] = defaultdict(int)  # consent id -> batches in flight holding one of its records
        self._held: list[Item] = []  # records whose consent is in flight, released when it is mined
        self._ready: list[Item] = []  # released records, taken before the queue
        self._cutter = threading.Thread(target=self._cut, name="pull-batcher", daemon=True)
        self._collector = threading.Thread(target=self._collect, name="pull-collector", daemon=True)
        self._cutter.start()
        self._collector.start()

    def submit(self, record: PullRecord, payload: Any = None) -> Future:
        """Queue ``record``; the future gives ``(PullOutcome, Receipt)`` once its batch is mined."""
        item = Item(record, payload=payload)
        self._queue.put(item)
        return item.future

    def close(self) -> None:
        self._queue.put(None)
        self._cutter.join(10)
        self._sent.put(None)
        self._collector.join(10)

    # -- cutting and sending ----------------------------------------------------------------------

    def _cut(self) -> None:
        closing = False
        while not closing:
            batch, closing = self._gather()
            if batch:
                self._slots.acquire()  # at most max_in_flight batches sent and not yet awaited
                self._send(batch)

    def _gather(self) -> tuple[list[Item], bool]:
        """The next batch: released records first, then the queue until ``max_batch`` or ``interval``;
        no wait at all while nothing is in flight (group commit: a batch forms while one is mined)."""
        with self._guard:
            batch, self._ready = self._ready[: self.max_batch], self._ready[self.max_batch :]
        deadline = self._deadline() if batch else None
        while len(batch) < self.max_batch:
            try:
                item = self._queue.get(timeout=None if deadline is None else max(deadline - time.monotonic(), 0))
            except queue.Empty:
                break
            if item is None:
                return batch, True
            if item is _WAKE:
                with self._guard:
                    room = self.max_batch - len(batch)
                    released, self._ready = self._ready[:room], self._ready[room:]
                batch += released
            elif not self._hold_if_busy(item):
                batch.append(item)
            if batch and deadline is None:
                deadline = self._deadline()
        return batch, False

    def _deadline(self) -> float:
        with self._guard:
            idle = not self._busy
        return time.monotonic() + (0.0 if idle else self.interval)

    def _hold_if_busy(self, item: Item) -> bool:
        with self._guard:
            if self._busy.get(item.record.consent_id):
                self._held.append(item)
                return True
        return False

    def _stored(self, batch: list[Item]) -> list[Item]:
        """The batch less what ``store`` could not store (its callers get the error)."""
        if self.store is None:
            return batch
        try:
            errors = self.store([item.payload for item in batch])
        except Exception as exc:  # the database is away: nothing is sent, every waiter learns it
            errors = [exc] * len(batch)
        kept = []
        for item, error in zip(batch, errors, strict=True):
            if error is None:
                kept.append(item)
            else:
                item.future.set_exception(error)
        return kept

    def _send(self, batch: list[Item]) -> None:
        # pulls of one consent in the order of their numbers (the contract refuses a number that skips
        # ahead); the same number twice in one batch: the contract logs the first, refuses the rest
        batch = sorted(self._stored(batch), key=lambda item: (item.record.consent_id, item.record.sequence))
        if not batch:
            self._slots.release()
            return
        try:
            sent = self.consents.send_pulls(self.holder, [item.record for item in batch])
        except ContractRevert as exc:
            self._slots.release()
            if len(batch) == 1:
                batch[0].future.set_exception(exc)
                return
            # one record the contract refuses whole (a signature it does not accept, an expired
            # request) reverts the batch: send the others one by one, so only that one fails
            for item in batch:
                self._slots.acquire()
                self._send([item])
            return
        except Exception as exc:  # the chain is down, a nonce failed...: every waiter learns it
            self._slots.release()
            for item in batch:
                item.future.set_exception(exc)
            return
        with self._guard:
            for item in batch:
                self._busy[item.record.consent_id] += 1
        self._sent.put((sent, batch))

    # -- awaiting, in the order sent ----------------------------------------------------------------

    def _collect(self) -> None:
        while (next_sent := self._sent.get()) is not None:
            sent, batch = next_sent
            try:
                result = self.consents.pulls_result(self.holder, sent)
                self.batches += 1
                checkpoint("gateway.after_log")  # fault drills: killed after the log, before the rows say so
                if self.settle is not None:
                    self.settle([(item.payload, outcome) for item, outcome in zip(batch, result.outcomes, strict=True)], result.receipt)
            except Exception as exc:  # mined and failed, the node or the database went away: every waiter learns it
                for item in batch:
                    item.future.set_exception(exc)
            else:
                for item, outcome in zip(batch, result.outcomes, strict=True):
                    item.future.set_result((outcome, result.receipt))
            finally:
                self._release(batch)
                self._slots.release()

    def _release(self, batch: list[Item]) -> None:
        """The batch is mined (or failed): its consents are free; their held records go next."""
        with self._guard:
            for item in batch:
                self._busy[item.record.consent_id] -= 1
                if not self._busy[item.record.consent_id]:
                    del self._busy[item.record.consent_id]
            released = [item for item in self._held if item.record.consent_id not in self._busy]
            if not released:
                return
            self._held = [item for item in self._held if item.record.consent_id in self._busy]
            self._ready += released
        self._queue.put(_WAKE)


__all__ = ["PullBatcher", "PullOutcome"]
