"""Deploy govchain's contracts (GovRegistry, then ConsentRegistry, TenderLedger and EvidenceLedger), wire the roles, and keep a deployment record.

The record (``deployment.json`` in the state directory) names the chain (id and genesis
hash), each contract's address, block and code hash, and the build it came from.
Deploying again against the same chain reuses the record when the code on chain still
matches it, and refuses with a clear message when it does not.

Document stores: each issuing agency has its own ``DocumentStore``, created by the agency's
key through ``GovRegistry.createDocumentStore``. ``deploy(..., issuers=[...])`` creates the
store of each given issuer account (named after its registered member name) and records it
in the record's ``stores`` map, keyed by the issuer's checksum address, each entry like a
contract entry (without the ABI) plus the store's ``name`` and ``issuer``; the one ABI all
stores share is the record's ``store_abi``::

    "stores": {"0xIssuer...": {"address": ..., "issuer": ..., "name": ..., "block": ..., "tx": ...,
                               "code_hash": ..., "artifact_hash": ...}},
    "store_abi": [...]

``Deployment.document_store(issuer)`` gives a store's address and ``document_store_abi()``
the ABI (also for stores created later, e.g. by the API: GovRegistry says which store is
whose). A reused record gains the stores of the given issuers it lacks (created, or adopted
when the issuer already has one on chain); stores are checked against the chain and the
build like the contracts (a changed DocumentStore also changes GovRegistry, which embeds it).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3 import Web3

from chain.compile import Artifact, Build
from chain.errors import DeploymentMismatch, NotDeployed
from chain.registry import GovRegistryClient, MemberInfo
from chain.tx import ChainClient, Receipt
from chain.hexcodec import hx

RECORD_NAME = "deployment.json"
DEPLOYED = ("GovRegistry", "ConsentRegistry", "TenderLedger", "EvidenceLedger")  # what deploy() deploys, in order
STORE_ARTIFACT = "DocumentStore"  # what each issuer's store runs (created by GovRegistry, not by deploy())
DEFAULT_ADMIN_DELAY = 2 * 24 * 3600  # two days between starting and accepting an admin transfer


@dataclass(frozen=True)
class MemberSpec:
    address: str
    info: MemberInfo
    roles: list[str] = field(default_factory=list)


@dataclass
class Deployment:
    chain_id: int
    genesis_hash: str
    source_hash: str
    compiler: str
    deployed_at: str
    contracts: dict[str, dict]
    stores: dict[str, dict] = field(default_factory=dict)  # issuer checksum address -> store entry
    store_abi: list = field(default_factory=list)  # the ABI of every DocumentStore
    reused: bool = False

    def address(self, name: str) -> str:
        return self.contracts[name]["address"]

    def document_store(self, issuer: str) -> str:
        """The address of the document store of ``issuer``; :class:`NotDeployed` if none is recorded."""
        entry = self.stores.get(Web3.to_checksum_address(issuer))
        if entry is None:
            raise NotDeployed(f"no document store is recorded for issuer {issuer}")
        return entry["address"]

    def document_store_abi(self) -> list:
        """The ABI shared by every issuer's DocumentStore."""
        if not self.store_abi:
            raise NotDeployed("the deployment record has no DocumentStore ABI (it predates document stores)")
        return self.store_abi

    def contract_at(self, address: str) -> tuple[str, list] | None:
        """``(name, abi)`` of the recorded contract at ``address`` (a DocumentStore counts as one), or None."""
        address = Web3.to_checksum_address(address)
        for name, entry in self.contracts.items():
            if Web3.to_checksum_address(entry["address"]) == address:
                return name, entry["abi"]
        if any(Web3.to_checksum_address(entry["address"]) == address for entry in self.stores.values()):
            return "DocumentStore", self.document_store_abi()
        return None

    def to_json(self) -> dict:
        data = dict(self.__dict__)
        data.pop("reused")
        return data


def code_hash(code: bytes) -> str:
    return hx(keccak(code))


def artifact_hash(deployed_bytecode_hex: str) -> str:
    return code_hash(bytes.fromhex(deployed_bytecode_hex))


def load_record(state_dir: Path) -> Deployment | None:
    path = state_dir / RECORD_NAME
    if not path.exists():
        return None
    return Deployment(**json.loads(path.read_text()))


def write_record(state_dir: Path, deployment: Deployment) -> Path:
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / RECORD_NAME
    with tempfile.NamedTemporaryFile("w", dir=state_dir, suffix=".tmp", delete=False) as tmp:
        json.dump(deployment.to_json(), tmp, indent=2)
    os.replace(tmp.name, path)
    return path


def check_record(client: ChainClient, build: Build, record: Deployment) -> None:
    """Raise :class:`DeploymentMismatch` unless the chain and the build still match ``record``."""
    genesis = hx(client.w3.eth.get_block(0)["hash"])
    if record.chain_id != client.chain_id or record.genesis_hash != genesis:
        raise DeploymentMismatch(
            f"the deployment record is for chain {record.chain_id} with genesis {record.genesis_hash}, "
            f"but the node is chain {client.chain_id} with genesis {genesis}: the chain was reset or is another one. "
            "Deploy with --fresh to start a new record."
        )
    for name, entry in record.contracts.items():
        on_chain = code_hash(bytes(client.w3.eth.get_code(entry["address"])))
        if on_chain != entry["code_hash"]:
            raise DeploymentMismatch(f"{name} at {entry['address']}: code on chain has hash {on_chain}, the record says {entry['code_hash']}. Deploy with --fresh to start a new record.")
        if name in build.artifacts and artifact_hash(build[name].deployed_bytecode) != entry["artifact_hash"]:
            raise DeploymentMismatch(
                f"{name} changed since it was deployed at {entry['address']} (build {record.source_hash[:12]}, now {build.source_hash[:12]}). Deploy with --fresh to deploy the new code."
            )
    for issuer, entry in record.stores.items():
        on_chain = code_hash(bytes(client.w3.eth.get_code(entry["address"])))
        if on_chain != entry["code_hash"]:
            raise DeploymentMismatch(
                f"the document store of {issuer} at {entry['address']}: code on chain has hash {on_chain}, the record says {entry['code_hash']}. Deploy with --fresh to start a new record."
            )
        if STORE_ARTIFACT in build.artifacts and artifact_hash(build[STORE_ARTIFACT].deployed_bytecode) != entry["artifact_hash"]:
            raise DeploymentMismatch(f"DocumentStore changed since the store of {issuer} was created at {entry['address']}. Deploy with --fresh to deploy the new code.")
    for name in DEPLOYED:
        if name in build.artifacts and name not in record.contracts:
            raise DeploymentMismatch(f"the deployment record has no {name} (it predates that contract). Deploy with --fresh to deploy it.")


def _deploy_contract(client: ChainClient, deployer: LocalAccount, artifact: Artifact, *args) -> dict:
    """Deploy ``artifact`` with constructor ``args``, await it, and return its record entry."""
    factory = client.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    tx = client.build(deployer, factory.constructor(*args))
    receipt = client.wait(client.send(deployer, tx))
    if not receipt.ok:
        raise client.explain_failure(tx, deployer, receipt)
    address = Web3.to_checksum_address(receipt.raw["contractAddress"])
    return {
        "address": address,
        "block": receipt.block_number,
        "tx": receipt.tx_hash,
        "code_hash": code_hash(bytes(client.w3.eth.get_code(address))),
        "artifact_hash": artifact_hash(artifact.deployed_bytecode),
        "abi": artifact.abi,
    }


def _store_entry(client: ChainClient, build: Build, issuer: str, store: str, name: str, receipt: Receipt | None) -> dict:
    artifact = build[STORE_ARTIFACT]
    return {
        "address": store,
        "issuer": issuer,
        "name": name,
        "block": receipt.block_number if receipt else None,
        "tx": receipt.tx_hash if receipt else None,
        "code_hash": code_hash(bytes(client.w3.eth.get_code(Web3.to_checksum_address(store)))),
        "artifact_hash": artifact_hash(artifact.deployed_bytecode),
    }


def _ensure_stores(client: ChainClient, build: Build, record: Deployment, issuers: Sequence[LocalAccount]) -> bool:
    """Give each of ``issuers`` its document store in ``record``: created through the registry
    by the issuer's key (an EIP-1167 clone, named after its member name), or adopted if it has one on chain.
    Returns whether the record changed."""
    registry = GovRegistryClient(client, record.address("GovRegistry"), build["GovRegistry"].abi)
    changed = not record.store_abi
    record.store_abi = build[STORE_ARTIFACT].abi
    for issuer in issuers:
        if issuer.address in record.stores:
            continue
        store, receipt = registry.document_store_of(issuer.address), None
        if store is None:  # an EIP-1167 clone named after the issuer's member name
            store, receipt = registry.create_document_store(issuer)
        name = client.w3.eth.contract(address=Web3.to_checksum_address(store), abi=build[STORE_ARTIFACT].abi).functions.name().call()
        record.stores[issuer.address] = _store_entry(client, build, issuer.address, store, name, receipt)
        changed = True
    return changed


def deploy(
    client: ChainClient,
    governor: LocalAccount,
    build: Build,
    state_dir: Path,
    *,
    governor_info: MemberInfo,
    members: Sequence[MemberSpec] = (),
    issuers: Sequence[LocalAccount] = (),
    admin_delay: int = DEFAULT_ADMIN_DELAY,
    fresh: bool = False,
) -> Deployment:
    """Deploy everything (or reuse a matching record), register ``members``, and create the
    document store of each of ``issuers`` (active ISSUER members, with their keys)."""
    record = load_record(state_dir)
    if record and not fresh:
        check_record(client, build, record)
        record.reused = True
        if _ensure_stores(client, build, record, issuers):
            write_record(state_dir, record)
        return record
    if record and fresh:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        (state_dir / RECORD_NAME).rename(state_dir / f"deployment.{stamp}.json")

    contracts: dict[str, dict] = {}
    contracts["GovRegistry"] = _deploy_contract(client, governor, build["GovRegistry"], admin_delay, governor.address, governor_info.as_tuple())
    registry_address = contracts["GovRegistry"]["address"]
    contracts["ConsentRegistry"] = _deploy_contract(client, governor, build["ConsentRegistry"], registry_address)
    contracts["TenderLedger"] = _deploy_contract(client, governor, build["TenderLedger"], registry_address)
    contracts["EvidenceLedger"] = _deploy_contract(client, governor, build["EvidenceLedger"], registry_address)
    registry = GovRegistryClient(client, registry_address, build["GovRegistry"].abi)
    for spec in members:
        registry.register_member(governor, spec.address, spec.info, spec.roles)

    deployment = Deployment(
        chain_id=client.chain_id,
        genesis_hash=hx(client.w3.eth.get_block(0)["hash"]),
        source_hash=build.source_hash,
        compiler=build.compiler,
        deployed_at=datetime.now(UTC).isoformat(timespec="seconds"),
        contracts=contracts,
    )
    _ensure_stores(client, build, deployment, issuers)
    write_record(state_dir, deployment)
    return deployment
