"""Issue 16 item 7, issue 14: rate limits whose counts live in the platform's database, per
address and per client, answered with 429 and a correct Retry-After. Before, nothing limited
sign-in challenges, applications or face sessions (each opens a paid vendor session), and the
bid-upload window was counted in each API process apart."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest
from eth_account import Account
from sqlalchemy import select

from api.models import Application, RateCount
from chain.db import make_engine, session_factory
from scripts.faults.harness import ApiProcess, api_settings as process_settings
from tests.support.api import ApiServer, api_settings, bearer, sign_in
from chain.deploy import write_record

pytestmark = pytest.mark.db

TIGHT = {"limits": {"sign_in": {"address": {"count": 3, "seconds": 60}, "client": {"count": 5, "seconds": 60}},
                    "applications": {"address": {"count": 2, "seconds": 600}, "client": {"count": 50, "seconds": 60}}}}  # fmt: skip


@pytest.fixture
def limited(chain, deployment, database_url, tmp_path, clock):
    """An API whose limits are small enough to reach in a test."""
    write_record(tmp_path, deployment)
    with ApiServer(api_settings(tmp_path, database_url, chain.w3.provider.endpoint_uri, **TIGHT), clock) as server:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            yield server, http


def challenge(http: httpx.Client, address: str, client: str | None = None) -> httpx.Response:
    """A sign-in challenge; ``client`` stands for another client host (uvicorn trusts
    X-Forwarded-For from loopback, as from a proxy on the same machine)."""
    return http.post("/v1/auth/challenge", json={"address": address}, headers={"X-Forwarded-For": client} if client else {})


def assert_limited(response: httpx.Response, seconds: tuple[int, int]) -> None:
    assert response.status_code == 429, response.text
    problem = response.json()
    assert problem["status"] == 429 and problem["type"].endswith("too-many-requests") and "nothing was done" in problem["detail"]
    assert seconds[0] <= int(response.headers["Retry-After"]) <= seconds[1], response.headers["Retry-After"]


def test_sign_in_challenges_are_limited_per_address(limited, clock):
    _, http = limited
    victim, other = Account.create().address, Account.create().address
    for n in range(3):
        assert challenge(http, victim, f"198.51.100.{n}").status_code == 201
    clock.offset += timedelta(seconds=20)
    assert_limited(challenge(http, victim, "198.51.100.9"), (35, 41))  # per address, whatever the client
    assert challenge(http, other, "198.51.100.9").status_code == 201  # another address is not held back
    clock.offset += timedelta(seconds=41)  # the window moved past the first three
    assert challenge(http, victim, "198.51.100.9").status_code == 201


def test_sign_in_challenges_are_limited_per_client(limited, clock):
    _, http = limited
    for _ in range(5):
        assert challenge(http, Account.create().address, "203.0.113.7").status_code == 201
    assert_limited(challenge(http, Account.create().address, "203.0.113.7"), (55, 60))
    assert challenge(http, Account.create().address, "203.0.113.8").status_code == 201  # another client is not


def test_application_creation_is_limited_per_applicant(limited, parties, database_url):
    _, http = limited
    applicant = Account.create()
    me = bearer(sign_in(http, applicant))
    for _ in range(2):
        assert http.post("/v1/applications", json={"code": "teacher-qualification-primary"}, headers=me).status_code == 201
    refused = http.post("/v1/applications", json={"code": "teacher-qualification-primary"}, headers=me)
    assert_limited(refused, (590, 600))  # the first of the two, seconds ago, leaves the window first
    engine = make_engine(database_url)
    with session_factory(engine)() as session:  # nothing was created by the refused request
        assert len(session.scalars(select(Application).where(Application.applicant == applicant.address)).all()) == 2
    engine.dispose()


def test_expired_counts_are_purged(limited, clock, database_url):
    _, http = limited
    for _ in range(2):
        assert challenge(http, Account.create().address, "192.0.2.1").status_code == 201
    engine = make_engine(database_url)
    try:
        with session_factory(engine)() as session:
            assert len(session.scalars(select(RateCount)).all()) == 3  # two addresses, one client
        clock.offset += timedelta(hours=1)
        late = Account.create().address
        assert challenge(http, late, "192.0.2.2").status_code == 201
        with session_factory(engine)() as session:  # only the new request's counts are left
            assert set(session.scalars(select(RateCount.key))) == {f"sign_in:address:{late.lower()}", "sign_in:client:192.0.2.2"}
    finally:
        engine.dispose()


def test_two_api_processes_share_one_count(database_url, tmp_path):
    """Several API replicas on one database: the limit holds across them (counted in the database)."""
    apis = []
    for n in range(2):
        settings = process_settings(tmp_path / f"api{n}", "http://127.0.0.1:9", database_url, **TIGHT)
        apis.append(ApiProcess(settings, tmp_path / f"api{n}.log", command="uvicorn"))
    try:
        for api in apis:
            api.start()
        address = Account.create().address
        answers = [httpx.post(f"{apis[n % 2].url}/v1/auth/challenge", json={"address": address}, timeout=30) for n in range(5)]
        assert [a.status_code for a in answers] == [201, 201, 201, 429, 429], [a.text[:300] for a in answers]
        assert 1 <= int(answers[3].headers["Retry-After"]) <= 60
        rushed = Account.create().address  # at once on both: the count is taken under a lock, never over the limit
        with ThreadPoolExecutor(12) as pool:
            statuses = list(pool.map(lambda n: httpx.post(f"{apis[n % 2].url}/v1/auth/challenge", json={"address": rushed}, timeout=60,
                                                          headers={"X-Forwarded-For": f"192.0.2.{n}"}).status_code, range(12)))  # fmt: skip
        assert sorted(statuses) == [201] * 3 + [429] * 9, statuses
    finally:
        for api in apis:
            api.stop()
