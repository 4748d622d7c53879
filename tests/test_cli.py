"""The `govchain` command line, run as a user would: `up` (what `make run` calls), deploy, keys."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from chain.config import DEFAULT_CONFIG
from chain.node import free_port

GOVCHAIN = [sys.executable, "-m", "api.cli"]


@pytest.fixture
def cli_env(tmp_path, node_config):
    config = tmp_path / "localnode.toml"
    text = DEFAULT_CONFIG.read_text().replace("port = 8545", "port = 0").replace('kind = "ganache"', f'kind = "{node_config.kind}"')
    config.write_text(text)
    return {**os.environ, "GOVCHAIN_NODE_CONFIG": str(config), "GOVCHAIN_STATE_DIR": str(tmp_path / "state"), "GOVCHAIN_NODE": node_config.kind}


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


@pytest.mark.slow
def test_up_serves_the_stack_runs_the_demo_then_stops_everything_on_ctrl_c(cli_env, tmp_path):
    port = free_port()
    up = subprocess.Popen([*GOVCHAIN, "up", "--port", str(port)], env=cli_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 240  # a cold start compiles, deploys and starts four processes; CI machines are shared
        health = None
        while time.monotonic() < deadline:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=2)
                break
            except httpx.TransportError:
                assert up.poll() is None, up.stdout.read()
                time.sleep(0.2)
        assert health is not None and health.status_code == 200, health and health.text
        assert health.json()["contracts"]["GovRegistry"].startswith("0x")
        assert httpx.get(f"http://127.0.0.1:{port}/docs").status_code == 200
        assert len(httpx.get(f"http://127.0.0.1:{port}/v1/members").json()) == 8
        # One demo against what `up` started (its stack.json): the bid opening, which no other test
        # runs. The no-visit demo and `govchain verify` of the certificate it writes are
        # tests/e2e/test_no_visit.py::test_demo_runs_the_whole_path, on the suite's stack.
        stack_file = json.loads((tmp_path / "state" / cli_env["GOVCHAIN_NODE"] / "stack.json").read_text())
        assert stack_file["api"] == f"http://127.0.0.1:{port}" and stack_file["rpc"].startswith("http://127.0.0.1:")
        tender = subprocess.run([*GOVCHAIN, "demo", "bid-opening", "--bidding-seconds", "20"], env=cli_env, capture_output=True, text=True, timeout=300)
        assert tender.returncode == 0, tender.stdout + tender.stderr
        assert "NOT decrypted" in tender.stdout and "8. result" in tender.stdout
        tender_id = re.search(r"verify\s+(0x[0-9a-f]{64})", tender.stdout).group(1)
        verified = subprocess.run([*GOVCHAIN, "tender", "verify", tender_id, "--rpc", health.json()["chain"]["url"], "--api", f"http://127.0.0.1:{port}",
                                   "--record", str(tmp_path / "state" / cli_env["GOVCHAIN_NODE"] / "deployment.json")],
                                  env=cli_env, capture_output=True, text=True, timeout=120)  # fmt: skip
        assert verified.returncode == 0 and "consistent" in verified.stdout, verified.stdout + verified.stderr
        node_pids = children(up.pid)
        assert len(node_pids) == 4, "node, vendor and two gateways are children of `govchain up`"
        up.send_signal(signal.SIGINT)
        output, _ = up.communicate(timeout=30)
    finally:
        if up.poll() is None:
            up.kill()
    assert up.returncode == 0, output
    assert "docs http://127.0.0.1" in output and "stopped: API, services and node are down." in output
    for pid in node_pids:
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
    assert (tmp_path / "state" / cli_env["GOVCHAIN_NODE"] / "deployment.json").exists()


@pytest.mark.slow
def test_deploy_twice_reuses_the_record(cli_env, node, snapshot, tmp_path):
    env = {**cli_env, "GOVCHAIN_RPC_URL": node.url, "GOVCHAIN_STATE_DIR": str(tmp_path / "deploy")}
    first = subprocess.run([*GOVCHAIN, "deploy", "--fresh"], env=env, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "new deployment" in first.stdout
    second = subprocess.run([*GOVCHAIN, "deploy"], env=env, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0 and "reused deployment" in second.stdout


def test_usage_errors_and_keystore_commands(cli_env, tmp_path):
    bad = subprocess.run([*GOVCHAIN, "deploy", "--bogus"], env=cli_env, capture_output=True, text=True)
    assert bad.returncode == 2 and "No such option" in bad.stderr
    env = {**cli_env, "GOVCHAIN_KEYSTORE_PASSWORD": "short"}
    refused = subprocess.run([*GOVCHAIN, "keys", "new", str(tmp_path / "k.json")], env=env, capture_output=True, text=True)
    assert refused.returncode == 1 and "at least 12" in refused.stdout
    assert not (tmp_path / "k.json").exists()
    env["GOVCHAIN_KEYSTORE_PASSWORD"] = "a long enough passphrase"
    sqlite = {**cli_env, "GOVCHAIN_DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}"}
    replicas = subprocess.run([*GOVCHAIN, "up", "--replicas", "2"], env=sqlite, capture_output=True, text=True)  # refused before anything starts
    assert replicas.returncode == 2 and "PostgreSQL" in replicas.stderr and "--replicas" in replicas.stderr, replicas.stderr
    made = subprocess.run([*GOVCHAIN, "keys", "new", str(tmp_path / "k.json")], env=env, capture_output=True, text=True)
    assert made.returncode == 0 and "written to" in made.stdout
