"""Deployment records: reuse when the chain matches, refusal when it does not."""

from __future__ import annotations

import dataclasses

import pytest

from chain.deploy import deploy, load_record
from chain.errors import DeploymentMismatch
from chain.node import rpc_call
from identity.parties import governor_info


@pytest.fixture
def fresh_deploy(chain, build, parties, node_config, tmp_path):
    def run(**kwargs):
        return deploy(chain, parties.governor, build, tmp_path, governor_info=governor_info(node_config), **kwargs)

    return run


def test_deploy_writes_a_record_and_reuses_it(fresh_deploy, chain, tmp_path):
    first = fresh_deploy()
    record = load_record(tmp_path)
    assert record.contracts["GovRegistry"]["address"] == first.address("GovRegistry")
    assert record.chain_id == chain.chain_id and record.genesis_hash.startswith("0x")
    assert record.contracts["GovRegistry"]["abi"]
    block = chain.block_number()
    again = fresh_deploy()
    assert again.reused is True and again.address("GovRegistry") == first.address("GovRegistry")
    assert chain.block_number() == block  # nothing sent


def test_changed_contracts_are_refused(fresh_deploy, build, chain, parties, node_config, tmp_path):
    fresh_deploy()
    artifact = build["GovRegistry"]
    changed = dataclasses.replace(build, artifacts={"GovRegistry": dataclasses.replace(artifact, deployed_bytecode=artifact.deployed_bytecode + "00")})
    with pytest.raises(DeploymentMismatch, match="GovRegistry changed since it was deployed"):
        deploy(chain, parties.governor, changed, tmp_path, governor_info=governor_info(node_config))


def test_code_missing_on_chain_is_refused(fresh_deploy, chain, tmp_path):
    endpoint = chain.w3.provider.endpoint_uri
    before = rpc_call(endpoint, "evm_snapshot")
    first = fresh_deploy()
    rpc_call(endpoint, "evm_revert", [before])  # the chain forgets the deployment
    chain.nonces.reset()
    with pytest.raises(DeploymentMismatch, match=f"{first.address('GovRegistry')}: code on chain has hash"):
        fresh_deploy()
    redeployed = fresh_deploy(fresh=True)
    assert redeployed.reused is False
    assert len(list(tmp_path.glob("deployment.*.json"))) == 1  # the old record is kept aside



def test_another_chain_is_refused(fresh_deploy, tmp_path):
    fresh_deploy()
    path = tmp_path / "deployment.json"
    path.write_text(path.read_text().replace('"chain_id": 1337', '"chain_id": 7'))
    with pytest.raises(DeploymentMismatch, match="record is for chain 7"):
        fresh_deploy()
