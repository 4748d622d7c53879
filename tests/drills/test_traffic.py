"""The traffic drills in their bounded forms (``make drills`` runs the full forms): the node
restarted during traffic, and load with declared back-pressure. A node, vendor and pair of
gateways shared with the other drills (conftest.py), an API and database each; every check reads the chain."""

from __future__ import annotations

import pytest

from scripts.faults import chain_faults

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def test_node_restart_during_traffic_loses_nothing(tmp_path, drill_services):
    result = chain_faults.node_restart(tmp_path, clients=6, seconds=14, down_seconds=2, approvals=8, shared=drill_services)
    assert result.passed, result.summary()


def test_load_only_declared_back_pressure_and_every_write_on_chain(tmp_path, drill_services):
    result = chain_faults.load(tmp_path, clients=30, seconds=5, max_inflight=8, shared=drill_services)
    assert result.passed, result.summary()
