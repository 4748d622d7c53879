"""Fixtures for the chain tests: the deployed ConsentRegistry, its EIP-712 domain, consents granted and pull records signed."""

from __future__ import annotations

import pytest

from eth_utils import keccak

from chain.consents import ConsentRegistryClient, PullRecord
from identity.eip712 import ConsentTerms, Domain, sign_consent
from identity.pull_request import PullRequest
from tests.support.consents import make_terms


@pytest.fixture
def consents(chain, deployment, build) -> ConsentRegistryClient:
    return ConsentRegistryClient(chain, deployment.address("ConsentRegistry"), build["ConsentRegistry"].abi)


@pytest.fixture
def consent_domain(consents) -> Domain:
    return Domain(consents.client.chain_id, consents.address)


@pytest.fixture
def grant(consents, consent_domain, parties, chain):
    """Sign terms as the applicant (outsider by default) and submit them through the relayer."""

    def run(signer=None, sender=None, **changes) -> tuple[ConsentTerms, bytes]:
        terms = make_terms(chain, parties, **changes)
        signature = sign_consent(terms, consent_domain, signer or parties.outsider)
        cid, _ = consents.grant(sender or parties.relayer, terms, signature)
        return terms, cid

    return run


@pytest.fixture
def pull(consents, chain, parties):
    """A record of pull number ``sequence`` of a consent, signed by ``requester`` (EIP-712) for ``holder``."""

    def make(cid: bytes, category: int, requester, label: str, sequence: int, holder=None) -> PullRecord:
        request = PullRequest(
            cid, sequence, category, keccak(text=f"attributes:{label}"), keccak(text=f"subject:{label}"), requester.address,
            (holder or parties.holder_psb).address, chain.w3.eth.get_block("latest")["timestamp"],
        )  # fmt: skip
        return request.record(request.sign(requester.key, chain.chain_id, consents.address), keccak(text=f"handed-over:{label}"))

    return make
