"""Dev keys from the documented mnemonic; encrypted keystores for production keys."""

from __future__ import annotations

import stat

import pytest

from chain.config import load_node_config
from identity.keys import KeystoreError, dev_account, dev_party, load_keystore, new_keystore

PASSWORD = "correct horse battery staple"


def test_dev_keys_are_the_documented_mnemonic_accounts():
    config = load_node_config()
    # the well-known first account of "test test ... junk" (also ganache's and anvil's account 0)
    assert dev_party(config, "governor").address == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    assert dev_account(config, 1).address == dev_party(config, "relayer").address
    with pytest.raises(ValueError, match="outside"):
        dev_account(config, config.accounts)


def test_keystore_round_trip_is_private_and_refuses_overwrite(tmp_path):
    path = tmp_path / "relayer.keystore.json"
    account = new_keystore(path, PASSWORD)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert account.key.hex() not in path.read_text()
    assert load_keystore(path, PASSWORD).address == account.address
    with pytest.raises(KeystoreError, match="already exists"):
        new_keystore(path, PASSWORD)


def test_keystore_refusals(tmp_path):
    with pytest.raises(KeystoreError, match="at least 12"):
        new_keystore(tmp_path / "k.json", "short")
    assert not (tmp_path / "k.json").exists()
    new_keystore(tmp_path / "k.json", PASSWORD)
    with pytest.raises(KeystoreError, match="wrong password"):
        load_keystore(tmp_path / "k.json", PASSWORD + "!")
    with pytest.raises(KeystoreError, match="does not exist"):
        load_keystore(tmp_path / "missing.json", PASSWORD)
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(KeystoreError, match="not JSON"):
        load_keystore(tmp_path / "bad.json", PASSWORD)


def test_hpke_key_generations_are_distinct_and_the_history_opens_old_boxes():
    from eth_account import Account

    from identity.keys import hpke_key_for, hpke_key_history, x25519_public_bytes
    from identity.sealing import SealError, hpke_open, hpke_seal

    member = Account.create()
    publics = [x25519_public_bytes(hpke_key_for(member, g)) for g in range(3)]
    assert len(set(publics)) == 3 and publics[0] == x25519_public_bytes(hpke_key_for(member))
    history = hpke_key_history(member, 2)
    assert [x25519_public_bytes(k) for k in history] == publics[::-1]  # newest first
    old_box = hpke_seal(publics[0], b"sealed before the rotation", b"ctx")
    assert hpke_open(history, old_box, b"ctx") == b"sealed before the rotation"
    with pytest.raises(SealError):
        hpke_open(hpke_key_history(member, 2)[:2], old_box, b"ctx")  # without the old key it does not open
    with pytest.raises(ValueError):
        hpke_key_for(member, -1)
