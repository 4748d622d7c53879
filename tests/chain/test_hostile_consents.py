"""Forged and misdirected chain writes are refused by the contracts themselves, and change
nothing: a consent signed for another chain or another ConsentRegistry, a consent signed by
someone other than its applicant, a pull logged by a holder for a category it does not hold
or by a key that holds nothing, a pull by an agency the consent does not name.

Each test runs on a chain snapshot (the ``chain`` fixture), reverted afterwards. Counted
among the hostile inputs of issue 8 with tests/security/."""

from __future__ import annotations

import os
import secrets

import pytest

from api.catalog import categories_mask
from chain.consents import ConsentRegistryClient, ConsentState, PullRecord, PullRefusal
from chain.errors import ContractRevert
from identity import binding, eip712
from identity.keys import dev_account

SCOPE = {"id_card": ["id_number", "name"]}
ID_CARD, RESIDENCE_PERMIT = 0, 1

@pytest.fixture
def consents(chain, deployment):
    entry = deployment.contracts["ConsentRegistry"]
    return ConsentRegistryClient(chain, entry["address"], entry["abi"])

def terms_for(client, applicant, agency) -> eip712.ConsentTerms:
    now = client.w3.eth.get_block("latest")["timestamp"]
    return eip712.ConsentTerms(
        applicant=applicant.address, agency=agency.address, categories=categories_mask(SCOPE), scope_hash=eip712.scope_hash(SCOPE),
        purpose_hash=eip712.purpose_hash("teacher-qualification-primary", "app_sec", os.urandom(32)),
        face_check_ref=binding.face_check_ref("req_sec", "110101199003070011", os.urandom(32)),
        not_before=now, expires_at=now + 3600, max_pulls=2, nonce=secrets.randbits(64), deadline=now + 900,
    )  # fmt: skip

def granted_count(consents, client) -> int:
    return len(consents.contract.events.ConsentGranted.get_logs(from_block=0, to_block=client.block_number()))

def refused_grant(consents, client, sender, terms, signature, error: str) -> None:
    before = (granted_count(consents, client), consents.nonce_used(terms.applicant, terms.nonce))
    with pytest.raises(ContractRevert) as refused:
        consents.grant(sender, terms, signature)
    assert refused.value.name == error, refused.value
    assert (granted_count(consents, client), consents.nonce_used(terms.applicant, terms.nonce)) == before == (before[0], False)

def test_consent_signed_for_another_chain_or_contract_is_refused(chain, deployment, consents, parties, node_config):
    applicant = dev_account(node_config, 14)
    terms = terms_for(chain, applicant, parties.agency)
    real = eip712.Domain.of(consents.domain())
    for domain in (
        eip712.Domain(1, real.verifying_contract),  # mainnet
        eip712.Domain(31337, real.verifying_contract),  # anvil's default chain
        eip712.Domain(real.chain_id, deployment.address("EvidenceLedger")),  # another contract on this chain
        eip712.Domain(real.chain_id, real.verifying_contract, version="0"),  # another version of the domain
    ):
        refused_grant(consents, chain, parties.relayer, terms, eip712.sign_consent(terms, domain, applicant.key), "ConsentRegistryInvalidSignature")

def test_consent_signed_by_someone_else_is_refused(chain, consents, parties, node_config):
    applicant, other = dev_account(node_config, 15), dev_account(node_config, 16)
    terms = terms_for(chain, applicant, parties.agency)
    domain = eip712.Domain.of(consents.domain())
    refused_grant(consents, chain, parties.relayer, terms, eip712.sign_consent(terms, domain, other.key), "ConsentRegistryInvalidSignature")
    # B sends A's terms signed by B itself: only A or a relayer may send A's consent
    refused_grant(consents, chain, other, terms, eip712.sign_consent(terms, domain, other.key), "ConsentRegistryUnauthorizedRelayer")
    refused_grant(consents, chain, parties.relayer, terms, b"\x00" * 65, "ConsentRegistryInvalidSignature")

@pytest.fixture
def live_consent(chain, consents, parties, node_config) -> bytes:
    applicant = dev_account(node_config, 17)
    terms = terms_for(chain, applicant, parties.agency)
    consent_id, _ = consents.grant(parties.relayer, terms, eip712.sign_consent(terms, eip712.Domain.of(consents.domain()), applicant.key))
    return consent_id

def record(consent_id: bytes, category: int, requester: str) -> PullRecord:
    return PullRecord(consent_id, category, requester, os.urandom(32), os.urandom(32))

def test_holder_logging_a_category_it_does_not_hold_is_refused(consents, parties, live_consent):
    before = consents.get(live_consent)
    result = consents.record_pulls(parties.holder_rp, [record(live_consent, ID_CARD, parties.agency.address)])  # holder_rp serves residence permits only
    assert result.refusals == [PullRefusal.CATEGORY_NOT_SERVED]
    assert consents.get(live_consent).pulls == before.pulls == 0

def test_agency_pulling_under_another_agencys_consent_is_refused(consents, parties, live_consent):
    result = consents.record_pulls(parties.holder_psb, [record(live_consent, ID_CARD, parties.agency_culture.address)])
    assert result.refusals == [PullRefusal.WRONG_REQUESTER]
    assert consents.get(live_consent).pulls == 0

def test_category_outside_the_consent_is_refused(consents, parties, live_consent):
    result = consents.record_pulls(parties.holder_rp, [record(live_consent, RESIDENCE_PERMIT, parties.agency.address)])
    assert result.refusals == [PullRefusal.CATEGORY_NOT_COVERED]
    assert consents.get(live_consent).pulls == 0

@pytest.mark.parametrize("who", ["outsider", "agency", "relayer", "governor"])
def test_only_data_holders_log_pulls(consents, parties, live_consent, who):
    with pytest.raises(ContractRevert) as refused:
        consents.record_pulls(getattr(parties, who), [record(live_consent, ID_CARD, parties.agency.address)])
    assert refused.value.name == "ConsentRegistryUnauthorizedHolder"
    assert consents.get(live_consent).pulls == 0 and consents.get(live_consent).state is ConsentState.ACTIVE
