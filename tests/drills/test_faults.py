"""The fault drills in their bounded forms (``make drills`` runs the full forms through
scripts/drills.py): kill -9 the API mid-batch, and the chain unreachable. The traffic drills
are in test_traffic.py: two modules, so two test workers can run them side by side.

They share a node (with a state directory), deployment, vendor and both gateways with the
other drills (conftest.py); each runs the API as a real child process with its own database and checks
the chain since its start, not the API's word. The
gateway kill (drill 2) is tests/e2e/test_gateway.py::
test_gateway_killed_between_log_and_answer_delivers_on_retry_with_one_log_entry."""

from __future__ import annotations

import os

import pytest

from scripts.faults import api_kill, chain_faults

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

# The API kill's subject is the database (the issuer's and the outbox's transactions across a
# kill -9): it runs on PostgreSQL where one is configured (CI), else on SQLite.
SERVER_DATABASE = "postgresql" if os.environ.get("GOVCHAIN_TEST_DATABASE_URL") else "sqlite"


@pytest.mark.db
@pytest.mark.parametrize("database_url", [SERVER_DATABASE], indirect=True)
def test_api_killed_mid_batch_issues_every_certificate_exactly_once(tmp_path, database_url, drill_services):
    # every checkpoint fires on the batch left pending by the kill before, whatever the count
    result = api_kill.run(tmp_path, count=40, batch_size=10, random_kills=1, seed=8, database_url="" if database_url.startswith("sqlite") else database_url,
                          shared=drill_services)  # fmt: skip
    assert result.passed, result.summary()


def test_chain_unreachable_is_503_with_nothing_left_behind(tmp_path, drill_services):
    result = chain_faults.chain_down(tmp_path, shared=drill_services)
    assert result.passed, result.summary()
