"""One live leader per job across every process that shares a database.

A chain writer per signing key, the certificate issuer and the audit indexer must each run in
exactly one process at a time, however many API replicas and worker processes are up. A
:class:`Lease` names the job (``writer:0xabc...``, ``issuer``, ``indexer``); whoever holds it
is the leader, everyone else stands by and asks again.

- **PostgreSQL:** a session-level advisory lock (``pg_try_advisory_lock``) taken on a
  connection of its own, kept open while leading. The server releases it the moment that
  connection ends, so a leader killed with ``kill -9`` (its socket closed by the kernel) hands
  over at once, and one cut off from the database loses it when the server notices.
- **SQLite** (the embedded form, one host): an exclusive ``flock`` on a file beside the
  database, which the kernel releases when the holding process dies; an in-memory database
  takes a lock of this process.

A leader cannot learn from the lock itself that it lost it (a connection the server dropped),
so :meth:`Lease.confirm` asks: leaders confirm before each round of work and step down when
the answer is no (a statement on the lock's connection times out after ``timeout`` seconds). What a stale leader could still
do in the gap is fenced by the data itself: a nonce the chain took, an intent key already
stored (unique constraints), a batch already cut.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import threading
from pathlib import Path

from sqlalchemy import Connection, Engine, text

log = logging.getLogger(__name__)

_local_locks: dict[str, threading.Lock] = {}
_local_guard = threading.Lock()


def lease_file(database: str, name: str) -> Path:
    """Where a SQLite database's lease ``name`` is held (it names the holding process's pid)."""
    return Path(f"{database}.{hashlib.sha256(name.encode()).hexdigest()[:16]}.lease")


def lock_key(name: str) -> int:
    """The 64-bit advisory-lock key of a job name (PostgreSQL's ``bigint``: signed)."""
    return int.from_bytes(hashlib.sha256(b"govchain lease " + name.encode()).digest()[:8], "big", signed=True)


class Lease:
    """The right to run job ``name`` alone, among every process on ``engine``'s database."""

    def __init__(self, engine: Engine, name: str, *, timeout: float = 5.0):
        self.engine = engine
        self.name = name
        self.timeout = timeout
        self._connection: Connection | None = None
        self._file: int | None = None
        self._local: threading.Lock | None = None
        self._guard = threading.Lock()

    @property
    def held(self) -> bool:
        """Whether this lease was acquired and not released (see :meth:`confirm` for "still")."""
        return self._connection is not None or self._file is not None or self._local is not None

    def acquire(self) -> bool:
        """Take the lease if nobody holds it; ``True`` if this lease holds it now."""
        with self._guard:
            if self.held:
                return True
            dialect = self.engine.dialect.name
            if dialect == "postgresql":
                return self._acquire_advisory()
            if dialect == "sqlite":
                return self._acquire_file()
            raise NotImplementedError(f"leases on {dialect}: PostgreSQL and SQLite only")

    def confirm(self) -> bool:
        """Whether this process still leads: the advisory lock's connection still answers (within
        ``timeout``). Steps down (drops the connection) if not."""
        with self._guard:
            if self._connection is None:
                return self.held
            try:  # a session lock lasts as long as its session: the session answering is the lock held
                held = self._connection.execute(text("SELECT 1")).scalar_one() == 1
            except Exception as exc:  # the connection is gone: so is the lock
                log.warning("lease %s lost: %s", self.name, exc)
                held = False
            if not held:
                self._drop_connection()
            return held

    def release(self) -> None:
        with self._guard:
            if self._connection is not None:
                try:
                    self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": lock_key(self.name)})
                except Exception:  # closing the connection releases it as well
                    pass
                self._drop_connection()
            if self._file is not None:
                os.close(self._file)  # closing the descriptor drops its flock
                self._file = None
            if self._local is not None:
                self._local.release()
                self._local = None

    def __enter__(self) -> "Lease":
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    # -- PostgreSQL ---------------------------------------------------------------------------

    def _acquire_advisory(self) -> bool:
        connection = self.engine.connect()
        try:
            connection.execution_options(isolation_level="AUTOCOMMIT")
            connection.execute(text(f"SET statement_timeout = {int(self.timeout * 1000)}"))  # a confirm that hangs is a no
            taken = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": lock_key(self.name)}).scalar_one()
        except Exception:
            connection.close()
            raise
        if not taken:
            connection.close()
            return False
        self._connection = connection
        return True

    def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.invalidate()  # never back into the pool: its session held the lock
                connection.close()
            except Exception:
                pass

    # -- SQLite -------------------------------------------------------------------------------

    def _acquire_file(self) -> bool:
        database = self.engine.url.database
        if not database or database == ":memory:":
            return self._acquire_local(f"{id(self.engine)}:{self.name}")
        descriptor = os.open(lease_file(database, self.name), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            return False
        os.ftruncate(descriptor, 0)
        os.write(descriptor, f"{os.getpid()} {self.name}\n".encode())  # who leads, for a person looking
        self._file = descriptor
        return True

    def _acquire_local(self, key: str) -> bool:
        with _local_guard:
            lock = _local_locks.setdefault(key, threading.Lock())
        if not lock.acquire(blocking=False):
            return False
        self._local = lock
        return True


__all__ = ["Lease", "lease_file", "lock_key"]
