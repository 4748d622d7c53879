"""What the running API holds: settings, database, and a lazily (re)connected chain.

The API starts even when the chain node is down; every route that needs the chain asks
:meth:`Platform.chain`, which connects on demand and raises ``ChainUnavailable`` (503).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from eth_account.signers.local import LocalAccount
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker
from web3 import Web3

from api.catalog import load_catalog
from api.keys import PlatformKeys
from api.limits import RateLimiter
from api.certificates.verify import Verifier
from api.settings import Settings
from chain import reverts
from chain.addresses import checksum
from chain.config import Environment, load_node_config
from chain.consents import ConsentRegistryClient
from chain.db import make_engine, session_factory
from chain.deploy import Deployment, load_record
from chain.documents import DocumentStoreClient
from chain.errors import ConfigError, NotDeployed
from chain.evidence import EvidenceLedgerClient
from chain.events import EventReader
from chain.outbox import Outbox
from chain.registry import GovRegistryClient, Member, MemberStatus
from chain.tenders import TenderLedgerClient
from chain.tx import ChainClient
from identity.keys import dev_account, dev_party, load_keystore


@dataclass
class RoleCache:
    """Member records read from GovRegistry, kept until a registry event names the account.

    At most every ``refresh_seconds`` the cache reads the registry's new events and forgets
    every account they mention (RoleGranted/Revoked, MemberSuspended/Retired, ...).
    """

    registry: GovRegistryClient
    refresh_seconds: float = 1.0
    _members: dict[str, Member] = field(default_factory=dict)
    _next_block: int | None = None
    _checked_at: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def member(self, address: str) -> Member | None:
        self.refresh()
        address = checksum(address)
        with self._lock:
            cached = self._members.get(address)
        if cached is None:
            cached = self.registry.member(address)
            with self._lock:
                self._members[address] = cached
        return cached if cached.status is not MemberStatus.NONE else None

    def refresh(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._checked_at < self.refresh_seconds:
            return
        client = self.registry.client
        head = client.block_number()
        with self._lock:
            start = self._next_block
            self._checked_at = now
            if start is None:  # first look: nothing cached yet, just start following here
                self._next_block = head + 1
                return
        if start > head:
            return
        events = EventReader(client, self.registry.contract).read(start, head)
        with self._lock:
            for event in events:
                account = event.args.get("account")
                if account:
                    self._members.pop(Web3.to_checksum_address(account), None)
            self._next_block = head + 1


class Platform:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.engine: Engine = make_engine(settings.sqlalchemy_url)
        self.sessions: sessionmaker = session_factory(self.engine)
        self.token_secret = settings.resolved_token_secret()
        self.keys = PlatformKeys(settings.resolved_data_key())  # one root, a key per purpose (HKDF)
        self.limits = RateLimiter(self.sessions, settings)
        self.catalog = load_catalog(settings.catalog_path)
        self._chain: ChainClient | None = None
        self._registry: GovRegistryClient | None = None
        self._consents: ConsentRegistryClient | None = None
        self._tenders: TenderLedgerClient | None = None
        self._evidence: EvidenceLedgerClient | None = None
        self._stores: dict[str, DocumentStoreClient] = {}
        self._store_of: dict[str, str] = {}
        self._issuer = None
        self._verifier: Verifier | None = None
        self._roles: RoleCache | None = None
        self._deployment: Deployment | None = None
        self._lock = threading.Lock()
        self._members: list[Member] = []
        self._keys: dict[str, LocalAccount] = {}
        self._members_at = float("-inf")

    # -- chain ---------------------------------------------------------------------------

    def chain(self) -> ChainClient:
        with self._lock:
            if self._chain is None:
                self._chain = ChainClient.from_url(
                    self.settings.rpc_url,
                    expected_chain_id=self.settings.chain_id,
                    receipt_timeout=self.settings.receipt_timeout_seconds,
                )
            return self._chain

    def deployment(self) -> Deployment:
        if self._deployment is None:
            record = load_record(self.settings.state_dir)
            if record is None:
                raise NotDeployed(f"no deployment record in {self.settings.state_dir}; run `govchain deploy` first")
            for entry in record.contracts.values():
                reverts.register_abi(entry["abi"])
            self._deployment = record
        return self._deployment

    def registry(self) -> GovRegistryClient:
        if self._registry is None:
            entry = self.deployment().contracts["GovRegistry"]
            self._registry = GovRegistryClient(self.chain(), entry["address"], entry["abi"])
        return self._registry

    def consents(self) -> ConsentRegistryClient:
        if self._consents is None:
            entry = self.deployment().contracts["ConsentRegistry"]
            self._consents = ConsentRegistryClient(self.chain(), entry["address"], entry["abi"])
        return self._consents

    def tenders(self) -> TenderLedgerClient:
        if self._tenders is None:
            entry = self.deployment().contracts["TenderLedger"]
            self._tenders = TenderLedgerClient(self.chain(), entry["address"], entry["abi"])
        return self._tenders

    def evidence(self) -> EvidenceLedgerClient:
        if self._evidence is None:
            entry = self.deployment().contracts["EvidenceLedger"]
            self._evidence = EvidenceLedgerClient(self.chain(), entry["address"], entry["abi"])
        return self._evidence

    def document_store(self, agency: str) -> str | None:
        """The address of ``agency``'s DocumentStore, as GovRegistry records it (kept once found)."""
        agency = checksum(agency)
        if agency not in self._store_of:
            address = self.registry().document_store_of(agency)
            if address is None:
                return None
            self._store_of[agency] = address
        return self._store_of[agency]

    def store_client(self, address: str) -> DocumentStoreClient:
        address = checksum(address)
        if address not in self._stores:
            self._stores[address] = DocumentStoreClient(self.chain(), address, self.deployment().document_store_abi())
        return self._stores[address]

    def verifier(self) -> Verifier:
        if self._verifier is None:
            self._verifier = Verifier(self.chain(), self.registry(), self.deployment().document_store_abi())
        return self._verifier

    def issuer(self):
        """The certificate batcher (:class:`api.certificates.service.Issuer`) of this process."""
        if self._issuer is None:
            from api.certificates.service import Issuer  # the service imports this module

            self._issuer = Issuer(self)
        return self._issuer

    def roles(self) -> RoleCache:
        if self._roles is None:
            self._roles = RoleCache(self.registry(), self.settings.role_cache_seconds)
        return self._roles

    def outbox(self) -> Outbox:
        return Outbox(self.chain(), self.sessions)

    def signer(self, party: str) -> LocalAccount:
        """The key the platform itself signs with (``relayer``; ``governor`` for set-up).

        Loaded once: opening a keystore runs scrypt, far too slow for every request."""
        if party not in self._keys:
            self._keys[party] = self._load_signer(party)
        return self._keys[party]

    def _load_signer(self, party: str) -> LocalAccount:
        return self.load_signer(self.settings, party)

    @staticmethod
    def keystore_of(settings: Settings, party: str):
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

    def member_key(self, address: str) -> LocalAccount:
        """The chain key of an agency the platform acts for: ``agency_keys=dev-derived`` only (a dev
        convenience). With ``agency-held`` keys the platform holds none and this refuses, so a write
        that should have gone through :func:`api.agency_signing.service.agency_write` fails loudly.

        Dev: the dev account with that address, or ``<keystore_dir>/<address>.json``. Loaded once per
        address, like :meth:`signer`.
        """
        if self.settings.agency_keys != "dev-derived":
            raise ConfigError(f"agency-held keys: the platform holds no key of {address}; the agency signs in its own client")
        address = Web3.to_checksum_address(address)
        if address not in self._keys:
            self._keys[address] = self._load_member_key(address)
        return self._keys[address]

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

    def active_members(self) -> list[Member]:
        """Every active member with its roles, read from GovRegistry at most every 30 s
        (a full read is eight calls per member: too many for each request)."""
        now = time.monotonic()
        if now - self._members_at > 30:
            self._members = [m for m in self.registry().members() if m.active]
            self._members_at = now
        return self._members

    def member_by_domain(self, domain: str, role: str) -> Member | None:
        """The active member with ``domain`` holding ``role``."""
        return next((m for m in self.active_members() if m.info.domain == domain and role in m.roles), None)

    def close(self) -> None:
        if self._issuer is not None:
            self._issuer.stop()
        self.engine.dispose()
