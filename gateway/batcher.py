"""Group commit of pull logs: one ``recordPulls`` transaction for many pulls.

Callers hand in a :class:`PullRecord` and wait; a worker thread flushes the queue as one
batch when it holds ``max_batch`` records or ``interval`` seconds after the first arrived.
Each caller gets its own record's outcome (logged with its pull number, or refused).
"""

from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import Future

from eth_account.signers.local import LocalAccount

from chain.consents import ConsentRegistryClient, PullOutcome, PullRecord
from chain.errors import ContractRevert


class PullBatcher:
    def __init__(self, consents: ConsentRegistryClient, holder: LocalAccount, *, max_batch: int = 32, interval: float = 0.2):
        self.consents = consents
        self.holder = holder
        self.max_batch = max_batch
        self.interval = interval
        self.batches = 0
        self._queue: queue.Queue[tuple[PullRecord, Future] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="pull-batcher", daemon=True)
        self._thread.start()

    def submit(self, record: PullRecord) -> Future:
        future: Future = Future()
        self._queue.put((record, future))
        return future

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(10)

    def _run(self) -> None:
        closing = False
        while not closing:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            deadline = time.monotonic() + self.interval
            while len(batch) < self.max_batch:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    item = self._queue.get(timeout=remaining)
                except queue.Empty:
                    break
                if item is None:
                    closing = True
                    break
                batch.append(item)
            self._flush(batch)

    def _flush(self, batch: list[tuple[PullRecord, Future]]) -> None:
        # pulls of one consent in the order of their numbers (the contract refuses a number that skips
        # ahead); the same number twice in one batch: the contract logs the first, refuses the rest
        batch = sorted(batch, key=lambda item: (item[0].consent_id, item[0].sequence))
        try:
            result = self.consents.record_pulls(self.holder, [record for record, _ in batch])
        except ContractRevert as exc:
            if len(batch) == 1:
                batch[0][1].set_exception(exc)
                return
            # one record the contract refuses whole (a signature it does not accept, an expired
            # request) reverts the batch: log the others one by one, so only that one fails
            for item in batch:
                self._flush([item])
            return
        except Exception as exc:  # the chain is down, a nonce failed...: every waiter learns it
            for _, future in batch:
                future.set_exception(exc)
            return
        self.batches += 1
        for (_, future), outcome in zip(batch, result.outcomes, strict=True):
            future.set_result((outcome, result.receipt))


__all__ = ["PullBatcher", "PullOutcome"]
