"""Issue 16 item 6: a suspended or compromised issuer could not revoke, and its store was bound to its
key: recovery meant reinstating the bad key or losing every certificate it issued. Now a governor, with
its own key through `govchain registry`, suspends the issuer, rotates its issuing key, revokes what the
bad key issued and reinstates it: the platform issues with the new key, the old key is refused, the
certificates issued before still verify, and the verifier and the trail say which key wrote what."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_utils import keccak
from typer.testing import CliRunner

from api.cli import app as cli
from chain.documents import DocumentStoreClient
from chain.registry import GovRegistryClient, MemberStatus
from chain.reverts import revert_class
from identity.keys import dev_account
from tests.e2e.test_audit import cli_env
from tests.support.flows import issued_application

pytestmark = pytest.mark.slow
runner = CliRunner()


def status_reason(stack, certificate) -> dict:
    verdict = stack.http.get(f"/v1/verify/{certificate['target_hash']}")
    assert verdict.status_code == 200, verdict.text
    return verdict.json()


def test_a_governor_rotates_a_suspended_issuers_key_and_revokes_what_the_bad_key_issued(stack, client, deployment, build, parties, node_config,
                                                                                          applicant):  # fmt: skip
    agency, new_key = parties.agency, dev_account(node_config, 18)
    me, _, _, before = issued_application(stack, parties, applicant, citizen=8)
    store = DocumentStoreClient(client, stack.api.platform.contracts.document_store(agency.address), build["DocumentStore"].abi)
    registry = GovRegistryClient(client, deployment.address("GovRegistry"), build["GovRegistry"].abi)
    client.nonces.reset()  # the stack sent with the agency's key
    bogus = keccak(text="a batch root the thief issued with the agency's key")
    store.issue(agency, bogus)

    def governor(*args: str):
        done = runner.invoke(cli, ["registry", *args], env=cli_env(stack))
        client.nonces.reset()  # the CLI sent with the governor's key
        return done

    try:
        early = governor("rotate-issuing-key", agency.address, new_key.address)
        assert early.exit_code == 1 and "GovRegistryIssuerActive" in early.output  # not while the issuer is active
        assert governor("suspend", agency.address, "--reason", "key compromised").exit_code == 0
        rotated = governor("rotate-issuing-key", agency.address, new_key.address)
        assert rotated.exit_code == 0, rotated.output
        revoked = governor("revoke", agency.address, "0x" + bogus.hex(), "--reason", "issued by the thief")
        assert revoked.exit_code == 0, revoked.output
        assert governor("reinstate", agency.address).exit_code == 0
        assert store.writer() == new_key.address and store.is_revoked(bogus)

        with pytest.raises(revert_class("DocumentStoreUnauthorizedAccount")):  # the old key, its agency active again
            store.issue(agency, keccak(text="issued after the rotation"))
        old = status_reason(stack, before)  # issued before the suspension: valid, and it says by which key
        assert old["valid"] is True, old
        assert f"by key {agency.address}" in old["checks"][1]["reason"]

        stack.api.platform.contracts.chain().nonces.reset()
        _, application, _, after = issued_application(stack, parties, Account.create(), citizen=9)
        new = status_reason(stack, after)  # issued by the platform with the rotated key
        assert new["valid"] is True and f"by key {new_key.address}" in new["checks"][1]["reason"], new
        auditor = stack.sign_in(parties.auditor)
        trail = stack.http.get(f"/v1/audit/applications/{application['id']}/trail", params={"verify": "true"}, headers=auditor).json()
        issued = next(s for s in trail["steps"] if s["event"] == "DocumentIssued")
        assert issued["signer"] == new_key.address and "in the store of" in issued["summary"] and trail["verified"] is True
    finally:  # the shared stack's agency as it was: its own key, active
        client.nonces.reset()
        if registry.member(agency.address).status is MemberStatus.ACTIVE and store.writer() != agency.address:
            registry.suspend_member(parties.governor, agency.address)
        if store.writer() != agency.address:
            registry.rotate_issuing_key(parties.governor, agency.address, agency.address)
        if registry.member(agency.address).status is MemberStatus.SUSPENDED:
            registry.reinstate_member(parties.governor, agency.address)
        stack.api.platform.contracts.chain().nonces.reset()
