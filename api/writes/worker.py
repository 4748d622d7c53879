"""The writer worker: one :class:`~chain.writer.ChainWriter` per signing key the platform holds.

Every process that runs it (each API process, ``govchain worker writer|all``) runs a writer for
each key with intents in the outbox that its keyring can sign with: the relayer always, and in
dev (``agency_keys=dev-derived``) each agency key a handler queued a write for. A writer sends
only while its process holds the key's lease (``writer:<address>``): one leader per key across
all processes, the others standing by to take over when it dies. On SQLite in one process it
simply leads every key.
"""

from __future__ import annotations

import logging
import threading

from eth_account.signers.local import LocalAccount
from sqlalchemy import select

from api.context import Platform
from chain.errors import ConfigError
from chain.outbox import OPEN, QUEUED, OutboxEntry
from chain.signals import Bell
from chain.writer import WRITER_CHANNEL, ChainWriter

log = logging.getLogger("govchain.api")


class WriterWorker:
    name = "writer"

    def __init__(self, platform: Platform, *, look_every: float = 1.0):
        self.platform = platform
        self.look_every = look_every
        self.writers: dict[str, ChainWriter] = {}  # address -> its writer
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._bell = Bell.of(platform.engine, WRITER_CHANNEL)

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="writer-keys", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        self._bell.wake_all()

    def stop(self) -> None:
        self._stop.set()
        self._bell.wake_all()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        for writer in self.writers.values():
            writer.stop()
        self.writers.clear()

    def _run(self) -> None:
        """Start a writer for every key with work (at start, when an intent is queued, every
        ``look_every`` seconds); a database or chain that is down is tried again next time."""
        seen = self._bell.generation
        while not self._stop.is_set():
            try:
                for address in self._senders():
                    if address not in self.writers:
                        self._start_writer(address)
            except Exception as exc:
                log.warning("writer: keys not looked up: %s", exc)
            seen = self._bell.wait(seen, self.look_every)

    def _senders(self) -> set[str]:
        """The relayer, and every sender with an intent queued or in flight."""
        relayer = self.platform.keyring.signer("relayer").address
        with self.platform.sessions() as session:
            rows = session.scalars(select(OutboxEntry.sender).where(OutboxEntry.status.in_((QUEUED, *OPEN))).distinct())
            return {relayer, *rows}

    def _key_of(self, address: str) -> LocalAccount | None:
        """The key this platform signs ``address``'s writes with; ``None`` for a key it does not
        hold (an agency-held key: its transactions are relayed, never signed here)."""
        relayer = self.platform.keyring.signer("relayer")
        if address == relayer.address:
            return relayer
        try:
            return self.platform.keyring.member_key(address)
        except ConfigError:
            return None

    def _start_writer(self, address: str) -> None:
        key = self._key_of(address)
        if key is None:  # asked again at the next look: the platform may hold it then (a dev switch of agency_keys)
            return
        writer = ChainWriter(self.platform.contracts.chain(), self.platform.engine, key, max_in_flight=self.platform.settings.write.max_in_flight)
        self.writers[address] = writer
        writer.start()
        log.info("writer: running for %s (sends while it holds lease writer:%s)", address, address)
