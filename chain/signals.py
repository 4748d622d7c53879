"""Bells: "something changed, look again", across processes on PostgreSQL, within one on SQLite.

A chain writer sleeps until an intent is queued; a handler waiting for its intent sleeps until
one is written. Neither must poll the database in a tight loop, and on PostgreSQL the one who
rings may be another process: there a bell is a ``LISTEN``/``NOTIFY`` channel, heard by one
listening connection per process, which wakes the process's waiters. On SQLite (the embedded,
single-process form) a bell is a condition variable.

A bell carries no message: a waiter wakes and reads the database, which stays the one truth.
Waiters pass the generation they last saw, so a ring between their look and their wait is
not missed; and they wait with a timeout, so a ring lost with a dropped connection costs at
most that timeout.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

_bells: dict[tuple[str, str], "Bell"] = {}
_bells_guard = threading.Lock()


class Bell:
    def __init__(self, engine: Engine, channel: str):
        self.engine = engine
        self.channel = channel
        self.generation = 0
        self._condition = threading.Condition()
        self._closed = threading.Event()
        self._postgres = engine.dialect.name == "postgresql"
        if self._postgres:
            threading.Thread(target=self._listen, name=f"bell-{channel}", daemon=True).start()

    @classmethod
    def of(cls, bind, channel: str) -> "Bell":
        """The process's one bell for ``channel`` on ``bind``'s database (an engine or a connection)."""
        engine = getattr(bind, "engine", bind)
        key = (engine.url.render_as_string(hide_password=False), channel)
        with _bells_guard:
            if key not in _bells:
                _bells[key] = cls(engine, channel)
            return _bells[key]

    def ring(self, session: Session) -> None:
        """Ring when ``session``'s transaction commits (not at all if it rolls back)."""
        if self._postgres:
            session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": self.channel})  # sent at commit
        else:
            event.listen(session, "after_commit", lambda _session: self.wake_all(), once=True)

    def ring_now(self) -> None:
        if self._postgres:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT pg_notify(:channel, '')"), {"channel": self.channel})
                connection.commit()
        else:
            self.wake_all()

    def wake_all(self) -> None:
        """Wake this process's waiters (what a heard ring does)."""
        with self._condition:
            self.generation += 1
            self._condition.notify_all()

    def wait(self, seen: int, timeout: float) -> int:
        """Wait until the bell rang after generation ``seen`` (or ``timeout`` passed); the generation now."""
        with self._condition:
            self._condition.wait_for(lambda: self.generation != seen, timeout)
            return self.generation

    def close(self) -> None:
        """Stop listening (within a second); waiters still wake on their timeouts."""
        self._closed.set()

    def _listen(self) -> None:
        import psycopg  # the PostgreSQL driver; only here, so SQLite needs none

        url = self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        backoff = 0.5
        while not self._closed.is_set():
            try:
                with psycopg.connect(url, autocommit=True) as connection:
                    connection.execute(f'LISTEN "{self.channel}"')
                    backoff = 0.5
                    self.wake_all()  # rings missed while (re)connecting: everyone looks again
                    while not self._closed.is_set():
                        for _ in connection.notifies(timeout=1.0):
                            self.wake_all()
            except Exception as exc:
                if self._closed.is_set():
                    return
                log.warning("bell %s: listening connection lost (%s); reconnecting in %.1f s", self.channel, exc, backoff)
                self._closed.wait(backoff)
                backoff = min(backoff * 2, 30.0)


def close_bells(database: Engine | str) -> None:
    """Close every bell of a database (an engine, or its URL) in this process, before the database
    goes away (a test's throw-away database): its listeners would try to reconnect for ever."""
    url = database if isinstance(database, str) else database.url.render_as_string(hide_password=False)
    with _bells_guard:
        for key in [key for key in _bells if key[0] == url]:
            _bells.pop(key).close()


__all__ = ["Bell", "close_bells"]
