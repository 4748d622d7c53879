"""The platform's chain keys: its own signers (relayer; governor for set-up) and, dev only,
the keys of the agencies it acts for (``agency_keys=dev-derived``). Built once at start-up;
a key is loaded on first use and kept (opening a keystore runs scrypt, far too slow for every
request)."""

from __future__ import annotations

import threading
from pathlib import Path

from eth_account.signers.local import LocalAccount
from web3 import Web3

from api.settings import Settings
from chain.config import Environment, load_node_config
from chain.errors import ConfigError
from identity.keys import dev_account, dev_party, load_keystore


class Keyring:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._keys: dict[str, LocalAccount] = {}
        self._lock = threading.Lock()

    def signer(self, party: str) -> LocalAccount:
        """The key the platform itself signs with (``relayer``; ``governor`` for set-up)."""
        return self._kept(party, lambda: self.load_signer(self.settings, party))

    def member_key(self, address: str) -> LocalAccount:
        """The chain key of an agency the platform acts for: ``agency_keys=dev-derived`` only (a dev
        convenience). With ``agency-held`` keys the platform holds none and this refuses, so a write
        that should have gone through :func:`api.agency_signing.service.agency_write` fails loudly.

        Dev: the dev account with that address, or ``<keystore_dir>/<address>.json``.
        """
        if self.settings.agency_keys != "dev-derived":
            raise ConfigError(f"agency-held keys: the platform holds no key of {address}; the agency signs in its own client")
        address = Web3.to_checksum_address(address)
        return self._kept(address, lambda: self._load_member_key(address))

    def _kept(self, name: str, load) -> LocalAccount:
        key = self._keys.get(name)
        if key is None:
            key = load()
            with self._lock:
                key = self._keys.setdefault(name, key)
        return key

    def _load_member_key(self, address: str) -> LocalAccount:
        if self.settings.keystore_dir:
            return load_keystore(self.settings.keystore_dir / f"{address}.json", self.settings.keystore_password.get_secret_value())
        if self.settings.env is not Environment.DEV:
            raise ConfigError(f"no key for {address}: set GOVCHAIN_KEYSTORE_DIR")
        config = load_node_config(self.settings.node_config)
        for index in range(config.accounts):
            account = dev_account(config, index)
            if account.address == address:
                return account
        raise ConfigError(f"{address} is not a dev account")

    # -- without a running platform (the CLI) ------------------------------------------------

    @staticmethod
    def keystore_of(settings: Settings, party: str) -> Path | None:
        return {"governor": settings.governor_keystore, "relayer": settings.relayer_keystore}.get(party)

    @classmethod
    def load_signer(cls, settings: Settings, party: str, password: str | None = None) -> LocalAccount:
        """A party's key: its keystore when one is configured, else (dev only) its dev key."""
        keystore = cls.keystore_of(settings, party)
        if keystore:
            return load_keystore(keystore, password or settings.keystore_password.get_secret_value())
        return cls.dev_signer(settings, party)

    @staticmethod
    def dev_signer(settings: Settings, party: str) -> LocalAccount:
        if settings.env is not Environment.DEV:
            raise ConfigError(f"no keystore configured for {party}, and dev keys are refused outside dev")
        return dev_party(load_node_config(settings.node_config), party)
