"""The traffic drills in their bounded forms (``make drills`` runs the full forms): the node
restarted during traffic, and load with declared back-pressure. Their own node, API, vendor
and gateways each; every check reads the chain."""

from __future__ import annotations

import pytest

from scripts.faults import chain_faults

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def test_node_restart_during_traffic_loses_nothing(tmp_path):
    result = chain_faults.node_restart(tmp_path, clients=8, seconds=20, down_seconds=3, approvals=16)
    assert result.passed, result.summary()


def test_load_only_declared_back_pressure_and_every_write_on_chain(tmp_path):
    result = chain_faults.load(tmp_path, clients=50, seconds=8, max_inflight=16)
    assert result.passed, result.summary()
