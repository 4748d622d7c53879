"""Typed client for ``DocumentStore``: one issuing agency's OpenAttestation-compatible certificate store.

Certificates are issued in batches: the issuer wraps a batch of OpenAttestation documents off
chain and issues the batch's Merkle root; revoking a root revokes the whole batch, revoking one
document's target hash (or an intermediate node) revokes just what lies below it. Hashes are
32 bytes, given as ``bytes`` or as a ``0x`` hex string. A store is created through
``GovRegistryClient.create_document_store`` (an EIP-1167 clone of the registry's one
implementation, at an address fixed by its issuer, named after the issuer's member name); only
its issuer writes, and only while the registry keeps it ``writable`` (the issuer is an active
member holding ISSUER_ROLE).

The client works on OpenAttestation's own DocumentStore too (same functions): see
:func:`deploy_openattestation_store`, used to compare the two (gas, verifier behaviour).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from eth_account.signers.local import LocalAccount
from web3 import Web3

from chain import reverts
from chain.contract import ContractClient
from chain.hexcodec import to_bytes32, unhex
from chain.errors import TransactionFailed
from chain.node import NODE_MODULES
from chain.tx import ChainClient, Receipt

OA_FACTORY = "@govtechsg/document-store/dist/contracts/factories/contracts/DocumentStore__factory.js"

ERC165_INTERFACE_ID = bytes.fromhex("01ffc9a7")
# document-store v4's batchable interface: a store answering true would be asked for
# ``isIssued(bytes32,bytes32,bytes32[])`` by OpenAttestation's verifier. Ours answers false.
OA_BATCHABLE_INTERFACE_ID = bytes.fromhex("dcfd0745")


def hash32(value: bytes | str) -> bytes:
    """A 32-byte hash from ``bytes`` or a (``0x``-prefixed or bare) hex string."""
    return to_bytes32(value, "a document hash")


def interface_id(signatures: Sequence[str]) -> bytes:
    """The ERC-165 id of an interface: the XOR of its functions' selectors."""
    value = 0
    for signature in signatures:
        value ^= int.from_bytes(Web3.keccak(text=signature)[:4], "big")
    return value.to_bytes(4, "big")


OA_FUNCTIONS = (
    "issue(bytes32)", "bulkIssue(bytes32[])", "revoke(bytes32)", "bulkRevoke(bytes32[])",
    "isIssued(bytes32)", "isRevoked(bytes32)", "isIssuedBefore(bytes32,uint256)", "isRevokedBefore(bytes32,uint256)",
    "documentIssued(bytes32)", "documentRevoked(bytes32)", "getIssuedBlock(bytes32)", "name()", "version()",
)  # fmt: skip
OA_INTERFACE_ID = interface_id(OA_FUNCTIONS)  # IOpenAttestationDocumentStore
STORE_INTERFACE_ID = interface_id(("issuer()", "registry()", "writable()", "setWritable(bool)", "writer()", "setWriter(address)",
                                   "revokeByRegistry(bytes32)"))  # fmt: skip  # IDocumentStore's own


class DocumentStoreClient(ContractClient):
    """Reads and writes of one DocumentStore. Writes are sent by the given account (the store's issuer)."""

    def __init__(self, client: ChainClient, address: str, abi: list):
        super().__init__(client, address, abi)
        reverts.register_abi(abi)  # the store's custom errors become named exceptions wherever it is used

    # -- writes --------------------------------------------------------------------------

    def issue_call(self, root: bytes | str):
        """``issue(root)`` built unsent (the outbox or the agency's own client sends it)."""
        return self.contract.functions.issue(hash32(root))

    def revoke_call(self, document: bytes | str):
        """``revoke(document)`` built unsent."""
        return self.contract.functions.revoke(hash32(document))

    def issue(self, issuer: LocalAccount, root: bytes | str) -> Receipt:
        """Issue ``root`` (a batch's Merkle root). Refused if it was issued before."""
        return self.client.transact(issuer, self.issue_call(root))

    def bulk_issue(self, issuer: LocalAccount, roots: Sequence[bytes | str]) -> Receipt:
        """Issue every root in one transaction, all or none."""
        return self.client.transact(issuer, self.contract.functions.bulkIssue([hash32(r) for r in roots]))

    def revoke(self, issuer: LocalAccount, document: bytes | str) -> Receipt:
        """Revoke a root (the whole batch) or a hash below one (one document). Refused if revoked before."""
        return self.client.transact(issuer, self.revoke_call(document))

    def bulk_revoke(self, issuer: LocalAccount, documents: Sequence[bytes | str]) -> Receipt:
        """Revoke every hash in one transaction, all or none."""
        return self.client.transact(issuer, self.contract.functions.bulkRevoke([hash32(d) for d in documents]))

    # -- reads ---------------------------------------------------------------------------

    def is_issued(self, document: bytes | str) -> bool:
        return self.contract.functions.isIssued(hash32(document)).call()

    def is_revoked(self, document: bytes | str) -> bool:
        return self.contract.functions.isRevoked(hash32(document)).call()

    def is_issued_before(self, document: bytes | str, block_number: int) -> bool:
        return self.contract.functions.isIssuedBefore(hash32(document), int(block_number)).call()

    def is_revoked_before(self, document: bytes | str, block_number: int) -> bool:
        return self.contract.functions.isRevokedBefore(hash32(document), int(block_number)).call()

    def issued_block(self, document: bytes | str) -> int:
        """The block ``document`` was issued in; 0 if it never was."""
        return self.contract.functions.documentIssued(hash32(document)).call()

    def revoked_block(self, document: bytes | str) -> int:
        """The block ``document`` was revoked in; 0 if it never was."""
        return self.contract.functions.documentRevoked(hash32(document)).call()

    def name(self) -> str:
        return self.contract.functions.name().call()

    def version(self) -> str:
        return self.contract.functions.version().call()

    def issuer(self) -> str:
        return Web3.to_checksum_address(self.contract.functions.issuer().call())

    def registry(self) -> str:
        return Web3.to_checksum_address(self.contract.functions.registry().call())

    def writer(self) -> str:
        """The issuing key: the issuer's account, until a governor rotates it (GovRegistry.rotateIssuingKey)."""
        return Web3.to_checksum_address(self.contract.functions.writer().call())

    def writable(self) -> bool:
        """True while the issuer may write (an active member holding ISSUER_ROLE)."""
        return self.contract.functions.writable().call()

    def supports_interface(self, interface: bytes | str) -> bool:
        raw = unhex(interface)
        return self.contract.functions.supportsInterface(raw).call()


@lru_cache(maxsize=4)
def _openattestation_artifact(node_modules: Path) -> str:
    factory = node_modules / OA_FACTORY
    if not factory.exists():
        raise FileNotFoundError(f"{factory} is missing: run `npm ci` (package.json pins @govtechsg/document-store)")
    script = "const f = require(process.argv[1]).DocumentStore__factory; console.log(JSON.stringify({abi: f.abi, bytecode: f.bytecode}))"
    done = subprocess.run(["node", "-e", script, str(factory)], capture_output=True, text=True, timeout=60, check=False, env=dict(os.environ))
    if done.returncode != 0:
        raise RuntimeError(f"could not read OpenAttestation's DocumentStore artifact: {done.stderr.strip()}")
    return done.stdout


def openattestation_artifact(node_modules: Path = NODE_MODULES) -> dict:
    """OpenAttestation's own DocumentStore (npm @govtechsg/document-store 3.0.0): ``{"abi", "bytecode"}``,
    read from the package's typechain factory with Node.js."""
    return json.loads(_openattestation_artifact(Path(node_modules)))


def deploy_openattestation_store(client: ChainClient, owner: LocalAccount, name: str) -> DocumentStoreClient:
    """Deploy OpenAttestation's own DocumentStore, owned by ``owner`` (who holds its issuer and revoker
    roles), and return a client for it. For comparisons only: govchain's stores come from GovRegistry."""
    artifact = openattestation_artifact()
    factory = client.w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    receipt = client.transact(owner, factory.constructor(name, owner.address))
    address = receipt.raw.get("contractAddress")
    if not address:
        raise TransactionFailed(f"{receipt.tx_hash} created no contract", receipt.tx_hash)
    return DocumentStoreClient(client, address, artifact["abi"])
