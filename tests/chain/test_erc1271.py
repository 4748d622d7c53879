"""chain.erc1271: the one typed ERC-1271 question (the gateway asks it of contract-wallet agencies)."""

from __future__ import annotations

import os

from eth_account import Account
from eth_utils import keccak

from chain.erc1271 import ContractWallet, wallet_accepts
from tests.support.wallets import deploy_wallet


def test_a_wallet_accepts_its_owners_signature_only(chain, build, parties, registry):
    wallet = deploy_wallet(chain, build, parties.outsider2)
    digest = keccak(b"govchain erc1271 test")
    owner = Account.unsafe_sign_hash(digest, parties.outsider2.key).signature
    stranger = Account.unsafe_sign_hash(digest, parties.outsider.key).signature
    assert wallet_accepts(chain, wallet.address, digest, owner)
    assert wallet_accepts(chain, wallet.address.lower(), "0x" + digest.hex(), owner)  # address and digest in any spelling
    assert not wallet_accepts(chain, wallet.address, digest, stranger)  # answered 0xffffffff
    assert not wallet_accepts(chain, wallet.address, keccak(b"another digest"), owner)
    assert not wallet_accepts(chain, wallet.address, digest, os.urandom(65))
    assert not wallet_accepts(chain, parties.outsider2.address, digest, owner)  # an account without code
    assert not ContractWallet(chain, registry.address).accepts(digest, owner)  # code without isValidSignature: it reverts
