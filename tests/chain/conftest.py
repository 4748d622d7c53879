"""Fixtures for the chain tests: the deployed ConsentRegistry and its EIP-712 domain."""

from __future__ import annotations

import pytest

from chain.consents import ConsentRegistryClient
from identity.eip712 import Domain


@pytest.fixture
def consents(chain, deployment, build) -> ConsentRegistryClient:
    return ConsentRegistryClient(chain, deployment.address("ConsentRegistry"), build["ConsentRegistry"].abi)


@pytest.fixture
def consent_domain(consents) -> Domain:
    return Domain(consents.client.chain_id, consents.address)
