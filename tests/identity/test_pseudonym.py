"""identity.pseudonym: a consent's pseudonym key is the same every time for one wallet and salt,
and another for any other salt, chain, registry or wallet."""

from __future__ import annotations

from eth_account import Account
from eth_utils import keccak

from identity import pseudonym as pseudonyms

REGISTRY = "0x" + "ab" * 20


def test_the_pseudonym_is_derived_the_same_way_every_time():
    wallet, salt = Account.create(), bytes(range(32))
    first = pseudonyms.Pseudonym.of(wallet.key, 1337, REGISTRY, salt)
    assert pseudonyms.Pseudonym.of(wallet.key, 1337, REGISTRY, salt).address == first.address  # RFC 6979: the same root signature
    others = {
        pseudonyms.Pseudonym.of(wallet.key, 1337, REGISTRY, bytes(32)).address,  # another salt
        pseudonyms.Pseudonym.of(wallet.key, 1, REGISTRY, salt).address,  # another chain: another root message
        pseudonyms.Pseudonym.of(wallet.key, 1337, "0x" + "cd" * 20, salt).address,  # another registry
        pseudonyms.Pseudonym.of(Account.create().key, 1337, REGISTRY, salt).address,  # another wallet
    }
    assert first.address not in others and len(others) == 4 and wallet.address not in others


def test_the_key_is_the_documented_hash():
    root, salt = b"\x11" * 65, b"\x22" * 32
    assert pseudonyms.derive_key(root, salt) == keccak(b"govchain consent pseudonym v1" + root + salt)
    derivation = {"message": pseudonyms.root_message(1337, REGISTRY), "salt": "0x" + salt.hex()}
    wallet = Account.create()
    assert pseudonyms.from_derivation(wallet.key, derivation).address == pseudonyms.Pseudonym.of(wallet.key, 1337, REGISTRY, salt).address


def test_the_link_is_signed_by_the_wallet_only():
    wallet, pseudonym = Account.create(), Account.create()
    typed = pseudonyms.link_typed_data(wallet.address, pseudonym.address, b"\x01" * 32, 1337)
    signed = Account.sign_typed_data(wallet.key, full_message=typed).signature
    assert pseudonyms.link_signer(typed, signed) == wallet.address
    assert pseudonyms.link_signer(pseudonyms.link_typed_data(wallet.address, Account.create().address, b"\x01" * 32, 1337), signed) != wallet.address
    assert pseudonyms.link_signer(typed, b"\x00" * 3) is None
