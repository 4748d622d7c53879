"""Rate limits: :class:`RateLimiter` caps what one address or one client may ask for in a window
(sign-in challenges, applications, face sessions, bid uploads): 429 problem details with Retry-After.

The cap on requests in flight (503 + Retry-After) is :class:`httpkit.inflight.InflightLimit`,
shared with the gateways.
"""

from __future__ import annotations

import math
from typing import cast
from datetime import UTC, datetime

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from api.models import RateCount
from httpkit.problems import ServiceUnavailable, TooManyRequests
from api.settings import Quota, RateLimit, Settings

ACTIONS = {  # action -> what the 429 calls its requests
    "sign_in": "sign-in challenges",
    "applications": "applications",
    "face_sessions": "face sessions",
    "bid_uploads": "bid uploads",
}
PURGE_EVERY_SECONDS = 60


class RateLimiter:
    """At most so many requests of an action per address and per client in a sliding window,
    counted in the platform's database (table ``rate_counts``), so that every API process on
    that database shares one count.

    The quotas are the settings ``limits.<action>`` (:class:`api.settings.RateLimit`). A refused
    request counts for nothing and is answered 429 with the seconds until one more fits
    (``Retry-After``). Rows whose window has passed are purged at most once a minute.
    """

    def __init__(self, sessions: sessionmaker, settings: Settings):
        self.sessions, self.settings = sessions, settings
        self._next_purge = float("-inf")

    def take(self, action: str, address: str, client: str, now: datetime) -> None:
        """Count one request of ``action`` by ``address`` from ``client``, or raise :class:`TooManyRequests`."""
        limit: RateLimit = getattr(self.settings.limits, action)
        quotas = sorted((key, quota) for key, quota in (
            (f"{action}:address:{address.lower()}", limit.address), (f"{action}:client:{client}", limit.client)) if quota.count)  # fmt: skip
        at = now.timestamp()
        self._purge(now, at)
        for _ in range(3):
            with self.sessions() as session, session.begin():
                rows = [self._locked(session, key) for key, _ in quotas]  # sorted keys: no two requests lock crosswise
                locked = [row for row in rows if row is not None]
                if len(locked) == len(quotas):
                    self._count(session, action, locked, quotas, at)
                    return
            # a key seen for the first time: its row is created apart, then counted under the lock
            # (inserting it in the locking transaction deadlocked two requests on PostgreSQL)
            for row, (key, quota) in zip(rows, quotas, strict=True):
                if row is None:
                    self._create(key, datetime.fromtimestamp(at + quota.seconds, UTC))
        raise ServiceUnavailable(f"the {ACTIONS[action]} counts are being purged; nothing was done, retry")

    def _create(self, key: str, expires_at: datetime) -> None:
        """An empty row for ``key`` (another request may have created it first: fine)."""
        try:
            with self.sessions() as session, session.begin():
                session.add(RateCount(key=key, times=[], expires_at=expires_at))
        except IntegrityError:
            pass

    def _count(self, session: Session, action: str, rows: list[RateCount], quotas: list[tuple[str, Quota]], at: float) -> None:
        for row, (key, quota) in zip(rows, quotas, strict=True):
            wait = self._wait(row.times, quota, at)
            if wait:
                who = "address" if ":address:" in key else "client"
                raise TooManyRequests(f"at most {quota.count} {ACTIONS[action]} per {who} in {quota.seconds} s; "
                                      f"nothing was done, retry in {wait} s", retry_after=wait)  # fmt: skip
        for row, (_, quota) in zip(rows, quotas, strict=True):
            row.times = [t for t in row.times if t > at - quota.seconds] + [at]
            row.expires_at = datetime.fromtimestamp(max(row.times) + quota.seconds, UTC)

    @staticmethod
    def _locked(session: Session, key: str) -> RateCount | None:
        """The key's row, locked until commit. An UPDATE takes PostgreSQL's row lock and SQLite's
        write lock alike (``SELECT ... FOR UPDATE`` does nothing on SQLite)."""
        touch = update(RateCount).where(RateCount.key == key).values(expires_at=RateCount.expires_at).execution_options(synchronize_session=False)
        touched = cast(CursorResult, session.execute(touch))
        return session.get(RateCount, key, populate_existing=True) if touched.rowcount else None

    @staticmethod
    def _wait(times: list[float], quota: Quota, at: float) -> int:
        """Whole seconds until one more request fits in the window; 0 if it fits now. Times a little
        after ``at`` count too (a request that began later, another process's clock); times more than
        a window ahead, left by a clock set back, do not."""
        recent = sorted(t for t in times if at - quota.seconds < t <= at + quota.seconds)
        if len(recent) < quota.count:
            return 0
        return max(1, math.ceil(recent[len(recent) - quota.count] + quota.seconds - at))

    def _purge(self, now: datetime, at: float) -> None:
        """Delete the rows whose window has passed (skipping rows a request holds locked)."""
        if at < self._next_purge:
            return
        self._next_purge = at + PURGE_EVERY_SECONDS
        expired = select(RateCount.key).where(RateCount.expires_at <= now).with_for_update(skip_locked=True)
        with self.sessions() as session, session.begin():
            session.execute(delete(RateCount).where(RateCount.key.in_(expired)).execution_options(synchronize_session=False))
