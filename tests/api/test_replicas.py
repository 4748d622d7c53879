"""API replicas on one database (issue 18): what several API processes must share to act as one
platform. Sign-in challenges and their one-time nonces, the rate limits' counts (also
``test_rate_limits.py``), the member directory's view of a role change, and the schema they
migrate together at start-up."""

from __future__ import annotations

import multiprocessing
import os
import time

import httpx
import pytest
from eth_account import Account

from api import db
from api.settings import DEV_SECRETS, Quota, RateLimit
from chain.db import make_engine
from chain.deploy import write_record
from chain.node import free_port
from identity import siwe
from scripts.faults.harness import ApiProcess, api_settings, drill_limits

pytestmark = pytest.mark.db

# three sign-in challenges a minute per address, no per-client limit (both replicas see 127.0.0.1)
SIGN_IN_LIMIT = RateLimit(address=Quota(count=3, seconds=60), client=Quota(count=0, seconds=60))


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


# Replicas share PostgreSQL (CI's server); where none is configured, a SQLite file stands in.
REPLICA_DATABASE = ["postgresql" if os.environ.get("GOVCHAIN_TEST_DATABASE_URL") else "sqlite"]


@pytest.fixture
def replicas(chain, deployment, database_url, tmp_path):
    """Two API processes on one database and one state directory (so one token secret), behind
    one public address (the EIP-4361 domain and URI both sign against); each listens on a port
    of its own so that the test chooses which replica answers."""
    write_record(tmp_path, deployment)
    settings = api_settings(tmp_path, chain.w3.provider.endpoint_uri, database_url, limits=drill_limits().model_copy(update={"sign_in": SIGN_IN_LIMIT}))
    for name in DEV_SECRETS:  # made once, as `govchain serve --workers N` does before it forks
        settings.secret(name)
    apis = [ApiProcess(settings, tmp_path / f"replica{n}.log", command="uvicorn") for n in range(2)]
    apis[1].port = free_port()
    try:
        for api in apis:  # from this thread: a child dies with the thread that started it (PR_SET_PDEATHSIG)
            api.start(timeout=180)  # the loaded 2-core machine: a start took over 60 s
        for n, api in enumerate(apis):
            assert api.alive(), (tmp_path / f"replica{n}.log").read_text()[-2000:]
        with httpx.Client(base_url=apis[0].url, timeout=60) as first, httpx.Client(base_url=apis[1].url, timeout=60) as second:
            yield first, second
    finally:
        for api in apis:
            api.stop()


def signed_challenge(http: httpx.Client, account) -> dict:
    challenge = http.post("/v1/auth/challenge", json={"address": account.address})
    assert challenge.status_code == 201, challenge.text
    message = challenge.json()["message"]
    return {"message": message, "signature": siwe.sign(message, account.key)}


def roles_seen(http: httpx.Client, token: str) -> list[str]:
    me = http.get("/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200, me.text
    return me.json()["roles"]


@pytest.mark.proc
@pytest.mark.parametrize("database_url", REPLICA_DATABASE, indirect=True)
def test_replicas_share_sign_in_nonces_rate_limits_and_a_role_change(replicas, registry, parties):
    """A challenge issued by one replica is exchanged at the other, and its nonce, spent there, is
    refused at the first; a token from one is good at the other; the sign-in limit counts the
    requests both took; a member suspended on chain loses its role at both replicas by the
    first request that starts ``GOVCHAIN_ROLE_CACHE_SECONDS`` (1 s) after the block."""
    first, second = replicas
    applicant = Account.create()
    signed = signed_challenge(first, applicant)
    token = second.post("/v1/auth/token", json=signed)
    assert token.status_code == 200, token.text
    replay = first.post("/v1/auth/token", json=signed)
    assert replay.status_code == 401 and "already used" in replay.json()["detail"], replay.text
    assert roles_seen(first, token.json()["access_token"]) == []

    rushed = Account.create().address  # three challenges a minute per address, whichever replica counts them
    answers = [(first, second)[n % 2].post("/v1/auth/challenge", json={"address": rushed}) for n in range(4)]
    assert [a.status_code for a in answers] == [201, 201, 201, 429], [a.text[:200] for a in answers]

    agency = second.post("/v1/auth/token", json=signed_challenge(first, parties.agency)).json()["access_token"]
    assert "AGENCY" in roles_seen(first, agency) and "AGENCY" in roles_seen(second, agency)  # both directories hold the record
    registry.suspend_member(parties.governor, parties.agency.address)
    time.sleep(1.0 + 0.1)  # GOVCHAIN_ROLE_CACHE_SECONDS, the directory's documented bound, from the receipt
    assert roles_seen(second, agency) == [] and roles_seen(first, agency) == []
