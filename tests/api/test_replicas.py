"""API replicas on one database (issue 18): what several API processes must share to act as one
platform. Sign-in challenges and their one-time nonces, the rate limits' counts (also
``test_rate_limits.py``), the member directory's view of a role change, and the schema they
migrate together at start-up."""

from __future__ import annotations

import multiprocessing

import pytest

from api import db
from chain.db import make_engine

pytestmark = pytest.mark.db


def _upgrade_when_told(database_url: str, go, failures) -> None:
    go.wait(30)
    engine = make_engine(database_url)
    try:
        db.upgrade(engine)
    except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on it
        failures.put(f"{type(exc).__name__}: {exc}"[:300])
    finally:
        engine.dispose()


def test_replicas_starting_together_migrate_a_fresh_database_once(database_url):
    """Three processes run the start-up upgrade on one fresh database at the same moment (what
    ``govchain serve --workers 3`` does): none fails, and the schema is at head. Before the
    migration lock, two of them both created ``alembic_version`` on PostgreSQL and one API
    replica failed its start."""
    forked = multiprocessing.get_context("fork")
    go, failures = forked.Event(), forked.Queue()
    processes = [forked.Process(target=_upgrade_when_told, args=(database_url, go, failures)) for _ in range(3)]
    for process in processes:
        process.start()
    go.set()
    for process in processes:
        process.join(60)
    errors = [failures.get() for _ in range(failures.qsize())] if not failures.empty() else []
    assert errors == [] and [p.exitcode for p in processes] == [0, 0, 0], errors
    engine = make_engine(database_url)
    try:
        assert db.current_revision(engine) == db.head_revision()
    finally:
        engine.dispose()
