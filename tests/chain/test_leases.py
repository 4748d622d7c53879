"""Leases: one live leader per job across processes, handed over when the leader dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from textwrap import dedent

import pytest
from sqlalchemy import text

from chain.db import make_engine
from chain.leases import Lease, lock_key

pytestmark = pytest.mark.db

HOLDER = dedent(
    """
    import sys, time
    from chain.db import make_engine
    from chain.leases import Lease
    lease = Lease(make_engine(sys.argv[1]), sys.argv[2])
    print("held" if lease.acquire() else "refused", flush=True)
    time.sleep(600)
    """
)


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def test_one_holder_at_a_time_and_the_next_one_after_release(engine):
    first, second = Lease(engine, "issuer"), Lease(engine, "issuer")
    assert first.acquire() and first.held
    assert not second.acquire() and not second.held
    assert first.acquire()  # asking again while holding: still held, not a second lock
    first.release()
    assert not first.held
    assert second.acquire() and second.confirm()
    assert not first.acquire()
    second.release()


def test_jobs_of_other_names_lead_independently(engine):
    with Lease(engine, "writer:0x01") as one, Lease(engine, "writer:0x02") as two:
        assert one.acquire() and two.acquire()
        assert not Lease(engine, "writer:0x01").acquire()


def test_a_leader_killed_with_sigkill_hands_over_at_once(engine, database_url):
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, database_url, "indexer"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        standby = Lease(engine, "indexer")
        assert not standby.acquire()
        holder.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        while not standby.acquire():
            assert time.monotonic() - killed < 5, "the lease was not handed over within 5 s of the leader's death"
            time.sleep(0.05)
        assert standby.confirm()
        standby.release()
    finally:
        holder.kill()
        holder.wait()


# A session the server ends exists on PostgreSQL only (CI sets GOVCHAIN_TEST_DATABASE_URL).
@pytest.mark.parametrize("database_url", ["postgresql"] if os.environ.get("GOVCHAIN_TEST_DATABASE_URL") else [], indirect=True)
def test_a_leader_whose_session_the_server_ended_steps_down(engine):
    leader = Lease(engine, "writer:0x03")
    assert leader.acquire() and leader.confirm()
    with engine.connect() as admin:
        (pid,) = admin.execute(
            text("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = (:key & 4294967295)::oid"),
            {"key": lock_key("writer:0x03")},
        ).one()
        admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    assert not leader.confirm() and not leader.held
    follower = Lease(engine, "writer:0x03")
    assert follower.acquire()
    follower.release()


def test_the_lock_key_is_a_signed_64_bit_integer_per_name():
    keys = {lock_key(name) for name in ("issuer", "indexer", "writer:0x01", "writer:0x02")}
    assert len(keys) == 4 and all(-(2**63) <= key < 2**63 for key in keys)
