"""Consents and pull records on the real ConsentRegistry, for the chain tests (fixtures ``grant`` and
``pull`` in tests/chain/conftest.py are built on these)."""

from __future__ import annotations

import dataclasses
import itertools

from eth_utils import keccak

from chain.node import rpc_call
from chain.registry import DataCategory
from identity.eip712 import ConsentTerms, purpose_hash, scope_hash

SCOPE = {"id_card": ["name", "id_number", "photo"], "household_register": ["address", "household_head"]}
HOUR = 3600
_nonces = itertools.count(1)


def now(chain) -> int:
    """The chain's time now: a block is mined first, since after a snapshot revert the latest
    block can be far older than the time the next transaction will see."""
    rpc_call(chain.w3.provider.endpoint_uri, "evm_mine")
    return chain.w3.eth.get_block("latest")["timestamp"]


def advance(chain, seconds: int) -> None:
    endpoint = chain.w3.provider.endpoint_uri
    rpc_call(endpoint, "evm_increaseTime", [seconds])
    rpc_call(endpoint, "evm_mine")


def make_terms(chain, parties, **changes) -> ConsentTerms:
    t = now(chain)
    terms = ConsentTerms(
        applicant=parties.outsider.address,
        agency=parties.agency.address,
        categories=DataCategory.ID_CARD | DataCategory.HOUSEHOLD_REGISTER,
        scope_hash=scope_hash(SCOPE, b"\x33" * 32),
        purpose_hash=purpose_hash("MATTER-EDU-0001", "APP-2024-000123", b"\x5a" * 32),
        face_check_ref=keccak(text="face-check:session-1"),
        not_before=t - 60,
        expires_at=t + HOUR,
        max_pulls=3,
        nonce=next(_nonces),
        deadline=t + 600,
    )
    return dataclasses.replace(terms, **changes)
