"""The platform's background workers, with one lifecycle the app's lifespan owns.

A worker is started once at start-up, woken when there is work for it now (it also works on
its own schedule), and stopped at shut-down, in the reverse order of starting. Four of them:

- ``outbox`` (:class:`OutboxResume`): finishes the chain writes a previous process left open;
- ``writer`` (:class:`api.writes.worker.WriterWorker`): a chain writer per key the platform holds;
- ``issuer`` (:class:`api.certificates.service.Issuer`): the certificate batcher;
- ``indexer`` (:class:`api.audit.indexer.Indexer`): follows the contracts' events into the audit index.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Protocol, TypeVar, runtime_checkable

from chain.leases import Lease
from chain.outbox import Outbox

log = logging.getLogger("govchain.api")


@runtime_checkable
class Worker(Protocol):
    name: str

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def wake(self) -> None: ...


W = TypeVar("W")


class Workers:
    """The workers of one running platform, by name."""

    def __init__(self) -> None:
        self._workers: dict[str, Worker] = {}

    def add(self, worker: Worker) -> None:
        if worker.name in self._workers:
            raise ValueError(f"a worker named {worker.name!r} is already there")
        self._workers[worker.name] = worker

    def of(self, kind: type[W]) -> W:
        """The worker of class ``kind`` (LookupError if this platform runs none)."""
        for worker in self._workers.values():
            if isinstance(worker, kind):
                return worker
        raise LookupError(f"this platform runs no {kind.__name__}")

    def wake(self, name: str) -> None:
        """Wake the worker ``name`` if this platform runs one (a script's platform runs none)."""
        worker = self._workers.get(name)
        if worker is not None:
            worker.wake()

    def start(self) -> None:
        for worker in self._workers.values():
            worker.start()

    def stop(self) -> None:
        for worker in reversed(list(self._workers.values())):
            worker.stop()


class LoopWorker:
    """A worker whose work is one round, run in a thread of its own: at start, whenever woken,
    and at the latest ``interval()`` seconds after the round before. A round that raises is
    logged (once per distinct error) and tried again at the next one.

    With a :class:`~chain.leases.Lease` (:meth:`lead_with`) a round runs only in the process that
    holds it: every API replica and ``govchain worker`` process runs the loop, one of them works,
    and when it dies another takes the lease at its next round."""

    name: str
    thread_name: str

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error: str | None = None
        self.lease: Lease | None = None

    def lead_with(self, lease: Lease) -> None:
        self.lease = lease

    @property
    def leading(self) -> bool:
        """Whether this process does this worker's rounds (always, without a lease)."""
        return self.lease is None or self.lease.held

    def run_round(self) -> None:
        raise NotImplementedError

    def interval(self) -> float:
        return 1.0

    def enabled(self) -> bool:
        return True

    def start(self) -> None:
        if self._thread is None and self.enabled():
            self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        if self.lease is not None:
            self.lease.release()

    def wake(self) -> None:
        """Run a round now rather than at the next interval."""
        self._wake.set()

    def _lead(self) -> bool:
        """Take or keep the lease (if any); whether this round is ours."""
        if self.lease is None:
            return True
        try:
            return self.lease.acquire() and self.lease.confirm()
        except Exception as exc:  # the database is down: nobody leads from here this round
            log.warning("%s: lease %s not taken: %s", self.name, self.lease.name, exc)
            return False

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self._lead():
                self._wake.wait(self.interval())
                self._wake.clear()
                continue
            try:
                self.run_round()
                self.last_error = None
            except Exception as exc:  # the chain or the database may be down: the next round tries again
                if self.last_error != str(exc):
                    log.warning("%s deferred: %s", self.name, exc)
                self.last_error = str(exc)
            self._wake.wait(self.interval())
            self._wake.clear()


class OutboxResume:
    """Finishes the chain writes a previous process left signed or sent. Runs once at start
    (before the other workers send anything) and again when woken; the chain may be down at
    start, and then the routes answer 503 until it is back."""

    name = "outbox"

    def __init__(self, outbox_of: Callable[[], Outbox]):
        self.outbox_of = outbox_of

    def start(self) -> None:
        self.wake()

    def wake(self) -> None:
        try:
            self.outbox_of().resume()
        except Exception as exc:  # the chain may be down: routes answer 503, a later submit finishes the intent
            log.warning("outbox not resumed: %s", exc)

    def stop(self) -> None:
        pass
