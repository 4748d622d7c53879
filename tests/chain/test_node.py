"""The local node: start on a free port, persistence across restarts and SIGKILL, no orphans."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from chain.deploy import deploy
from chain.errors import ChainMismatch
from chain.node import LocalNode
from chain.registry import GovRegistryClient, MemberInfo
from chain.tx import ChainClient
from identity.parties import governor_info

pytestmark = [pytest.mark.slow, pytest.mark.node]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead for our purpose
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def _deploy_and_write(node, build, parties, node_config, state_dir):
    client = ChainClient.from_url(node.url)
    deployment = deploy(client, parties.governor, build, state_dir, governor_info=governor_info(node_config))
    registry = GovRegistryClient(client, deployment.address("GovRegistry"), build["GovRegistry"].abi)
    registry.register_member(parties.governor, parties.auditor.address, MemberInfo("Audit bureau"), ["AUDITOR"])
    return deployment


@pytest.mark.parametrize("stop", ["stop", "kill"])
def test_state_survives_restart(stop, node_config, build, parties, tmp_path):
    config = node_config.with_(state_dir=tmp_path / "chain", log_file=tmp_path / "node.log")
    with LocalNode(config) as first:
        deployment = _deploy_and_write(first, build, parties, node_config, tmp_path)
        if stop == "kill":
            if config.kind == "anvil":
                time.sleep(1.5)  # anvil dumps its state every --state-interval (1 s)
            first.kill()
    with LocalNode(config) as second:
        client = ChainClient.from_url(second.url)
        registry = GovRegistryClient(client, deployment.address("GovRegistry"), build["GovRegistry"].abi)
        assert client.w3.eth.get_code(deployment.address("GovRegistry")) != b""
        assert registry.member(parties.auditor.address).roles == {"AUDITOR"}
        assert registry.contract.functions.memberCount().call() == 2


def test_node_picks_a_free_port_and_checks_the_chain_id(node_config):
    with LocalNode(node_config) as a, LocalNode(node_config) as b:
        assert a.port != b.port
        with pytest.raises(ChainMismatch, match="expects 31337"):
            ChainClient.from_url(a.url, expected_chain_id=31337)


def test_node_dies_with_its_parent(node_config, tmp_path):
    script = (
        "import sys\n"
        "from chain.config import load_node_config\n"
        "from chain.node import LocalNode\n"
        f"node = LocalNode(load_node_config().with_(kind={node_config.kind!r}, port=0, state_dir=None, log_file=None)).start()\n"
        "print(node.process.pid, flush=True)\n"
        "sys.stdin.read()\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    node_pid = int(parent.stdout.readline())
    assert _alive(node_pid)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while _alive(node_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(node_pid), f"node {node_pid} outlived its killed parent"
