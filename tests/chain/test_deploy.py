"""Deployment records: reuse when the chain matches, refusal when it does not."""

from __future__ import annotations

import dataclasses

import pytest

from chain.deploy import deploy, load_record, write_record
from chain.errors import DeploymentMismatch, NotDeployed
from chain.node import rpc_call
from chain.registry import GovRegistryClient
from identity.parties import dev_member_specs, governor_info

pytestmark = pytest.mark.node


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


def test_deploy_records_the_evidence_ledger_and_the_issuers_stores(fresh_deploy, chain, build, parties, node_config, tmp_path):
    issuers = [parties.agency, parties.agency_culture]
    first = fresh_deploy(members=dev_member_specs(node_config), issuers=issuers)
    record = load_record(tmp_path)
    assert record.contracts["EvidenceLedger"]["address"] == first.address("EvidenceLedger")
    assert set(record.stores) == {p.address for p in issuers}
    assert record.document_store_abi() == build["DocumentStore"].abi
    registry = GovRegistryClient(chain, first.address("GovRegistry"), build["GovRegistry"].abi)
    for issuer in issuers:
        entry = record.stores[issuer.address]
        assert record.document_store(issuer.address) == entry["address"] == registry.document_store_of(issuer.address)
        assert record.document_store(issuer.address.lower()) == entry["address"]
        assert entry["issuer"] == issuer.address and entry["name"] == registry.member(issuer.address).info.name
        assert entry["block"] > record.contracts["EvidenceLedger"]["block"] and entry["tx"].startswith("0x")
    with pytest.raises(NotDeployed, match="no document store is recorded"):
        record.document_store(parties.relayer.address)
    block = chain.block_number()
    again = fresh_deploy(issuers=issuers)
    assert again.reused and again.stores == record.stores and chain.block_number() == block  # nothing sent


def test_a_reused_record_gains_the_stores_it_lacks(fresh_deploy, chain, build, parties, node_config, tmp_path):
    first = fresh_deploy(members=dev_member_specs(node_config))
    assert first.stores == {}
    registry = GovRegistryClient(chain, first.address("GovRegistry"), build["GovRegistry"].abi)
    made_elsewhere, _ = registry.create_document_store(parties.agency_culture)  # e.g. by the API
    again = fresh_deploy(issuers=[parties.agency, parties.agency_culture])
    assert again.reused
    assert again.document_store(parties.agency_culture.address) == made_elsewhere  # adopted, not created twice
    assert again.stores[parties.agency_culture.address]["name"] == registry.member(parties.agency_culture.address).info.name
    assert again.document_store(parties.agency.address) == registry.document_store_of(parties.agency.address)
    assert load_record(tmp_path).stores == again.stores


def test_store_code_must_match_the_record(fresh_deploy, parties, node_config, tmp_path):
    fresh_deploy(members=dev_member_specs(node_config), issuers=[parties.agency])
    record = load_record(tmp_path)
    record.stores[parties.agency.address]["artifact_hash"] = "0x" + "00" * 32
    write_record(tmp_path, record)
    with pytest.raises(DeploymentMismatch, match="DocumentStore changed since the store of"):
        fresh_deploy()
    record.stores[parties.agency.address]["code_hash"] = "0x" + "00" * 32
    write_record(tmp_path, record)
    with pytest.raises(DeploymentMismatch, match=f"the document store of {parties.agency.address}"):
        fresh_deploy()


def test_a_record_without_the_evidence_ledger_is_refused(fresh_deploy, tmp_path):
    fresh_deploy()
    old = load_record(tmp_path)
    del old.contracts["EvidenceLedger"]
    write_record(tmp_path, old)
    with pytest.raises(DeploymentMismatch, match="the deployment record has no EvidenceLedger"):
        fresh_deploy()
