"""The platform's background workers, with one lifecycle the app's lifespan owns.

A worker is started once at start-up, woken when there is work for it now (it also works on
its own schedule), and stopped at shut-down, in the reverse order of starting. Three of them:

- ``outbox`` (:class:`OutboxResume`): finishes the chain writes a previous process left open;
- ``issuer`` (:class:`api.certificates.service.Issuer`): the certificate batcher;
- ``indexer`` (:class:`api.audit.indexer.Indexer`): follows the contracts' events into the audit index.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol, TypeVar, runtime_checkable

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
