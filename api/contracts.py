"""The platform's contracts: typed clients of the deployment record, built once at start-up.

The API starts even when the chain node is down or nothing is deployed yet: the clients connect
on first use (and are kept), and until then every route that needs the chain gets
``ChainUnavailable`` or ``NotDeployed`` (503 problem details).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar, cast

from sqlalchemy.orm import sessionmaker

from api.settings import Settings
from chain import reverts
from chain.addresses import checksum
from chain.consents import ConsentRegistryClient
from chain.contract import ContractClient
from chain.deploy import Deployment, load_record
from chain.documents import DocumentStoreClient
from chain.errors import NotDeployed
from chain.members import Members
from chain.evidence import EvidenceLedgerClient
from chain.outbox import Outbox
from chain.registry import GovRegistryClient
from chain.tenders import TenderLedgerClient
from chain.tx import ChainClient
from identity.verify import ChainStatus, StatusSource, Verifier

C = TypeVar("C", bound=ContractClient)


class Contracts:
    def __init__(self, settings: Settings, sessions: sessionmaker):
        self.settings = settings
        self.sessions = sessions  # the outbox's table
        self._chain: ChainClient | None = None
        self._deployment: Deployment | None = None
        self._clients: dict[str, ContractClient] = {}  # contract name -> its typed client, made on first use
        self._stores: dict[str, DocumentStoreClient] = {}
        self._store_of: dict[str, str] = {}
        self._verifier: Verifier | None = None
        self._lock = threading.Lock()

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

    def _client(self, name: str, kind: type[C]) -> C:
        """The typed client of the deployed contract ``name``, made once."""
        if name not in self._clients:
            entry = self.deployment().contracts[name]
            self._clients[name] = kind(self.chain(), entry["address"], entry["abi"])
        return cast(C, self._clients[name])

    def registry(self) -> GovRegistryClient:
        return self._client("GovRegistry", GovRegistryClient)

    def consents(self) -> ConsentRegistryClient:
        return self._client("ConsentRegistry", ConsentRegistryClient)

    def tenders(self) -> TenderLedgerClient:
        return self._client("TenderLedger", TenderLedgerClient)

    def evidence(self) -> EvidenceLedgerClient:
        return self._client("EvidenceLedger", EvidenceLedgerClient)

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

    def outbox(self) -> Outbox:
        """The exactly-once write path: every chain write of the platform goes through it."""
        return Outbox(self.chain(), self.sessions)

    def verifier(self, members: Members, status: Callable[[ChainStatus], StatusSource] | None = None) -> Verifier:
        """The certificate verifier over this chain, reading member records from ``members`` and the
        certificates' status from ``status(the chain's own status reads)`` (default: the chain's)."""
        if self._verifier is None:
            chain = ChainStatus(self.chain(), self.registry().address, self.deployment().document_store_abi(), head_seconds=self.settings.verify.head_seconds)
            self._verifier = Verifier(self.chain(), self.registry(), self.deployment().document_store_abi(), members=members,
                                      status=status(chain) if status else chain)  # fmt: skip
        return self._verifier
