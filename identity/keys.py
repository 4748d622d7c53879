"""Keys of the parties: dev keys from the documented mnemonic, production keys from keystores.

Dev keys are derived at run time from ``localnode.toml``'s public test mnemonic
(``m/44'/60'/0'/0/i``); nothing secret is ever committed. Production keys live in
encrypted Web3 Secret Storage keystores (scrypt), made by ``govchain keys new``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from eth_account import Account
from eth_account.signers.local import LocalAccount

from chain.config import NodeConfig
from chain.errors import ConfigError, GovchainError

Account.enable_unaudited_hdwallet_features()

MIN_PASSWORD_LENGTH = 12


class KeystoreError(GovchainError, ValueError):
    """A keystore is missing, malformed, or its password is wrong."""


def dev_account(config: NodeConfig, index: int) -> LocalAccount:
    """The dev account at ``index`` of the mnemonic (DEV ONLY: the mnemonic is public)."""
    if not 0 <= index < config.accounts:
        raise ConfigError(f"dev account index {index} is outside 0..{config.accounts - 1}")
    return Account.from_mnemonic(config.mnemonic, account_path=f"m/44'/60'/0'/0/{index}")


def dev_party(config: NodeConfig, party: str) -> LocalAccount:
    return dev_account(config, config.party_index(party))


def hpke_key_for(account: LocalAccount, generation: int = 0) -> X25519PrivateKey:
    """A member's HPKE (X25519) key, derived from its chain key with HKDF-SHA256.

    One secret per member (its keystore) then gives both keys; the public half is what
    GovRegistry holds as the member's ``hpkePublicKey``. ``generation`` numbers the keys a
    member rotated to (``rotateHpkeKey``); generation 0 is the key it registered with.
    """
    if generation < 0:
        raise ValueError(f"key generation {generation} is negative")
    info = b"hpke x25519 v1" if generation == 0 else b"hpke x25519 v1 generation %d" % generation
    seed = HKDF(algorithm=SHA256(), length=32, salt=b"govchain", info=info).derive(bytes(account.key))
    return X25519PrivateKey.from_private_bytes(seed)


def hpke_key_history(account: LocalAccount, generation: int) -> list[X25519PrivateKey]:
    """Every HPKE key of a member up to ``generation``, newest first: the current one, then the
    earlier ones it keeps to open what was sealed to them before a rotation."""
    return [hpke_key_for(account, g) for g in range(generation, -1, -1)]


def x25519_public_bytes(key: X25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def new_keystore(path: Path, password: str) -> LocalAccount:
    """Create a fresh key and write it encrypted to ``path`` (refuses to overwrite)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise KeystoreError(f"keystore password has {len(password)} characters; at least {MIN_PASSWORD_LENGTH} are needed")
    if path.exists():
        raise KeystoreError(f"{path} already exists; refusing to overwrite a key")
    account = Account.create()
    keystore = Account.encrypt(account.key, password, kdf="scrypt")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(keystore, handle)
    return account


def load_keystore(path: Path, password: str) -> LocalAccount:
    try:
        keystore = json.loads(path.read_text())
    except FileNotFoundError:
        raise KeystoreError(f"keystore {path} does not exist") from None
    except json.JSONDecodeError as exc:
        raise KeystoreError(f"keystore {path} is not JSON: {exc}") from None
    try:
        return Account.from_key(Account.decrypt(keystore, password))
    except ValueError:
        raise KeystoreError(f"keystore {path}: wrong password or corrupted file") from None
