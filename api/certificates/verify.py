"""Verify an OpenAttestation v2 certificate straight against the chain: the three checks
OpenAttestation's verifier makes, answered from our contracts instead of DNS.

- integrity: the data hashes to ``targetHash`` and the proof leads to ``merkleRoot``;
- status: the store is a contract on this chain, the root is issued there, and neither the
  target hash, any intermediate node nor the root is revoked (as oa-verify checks);
- issuer identity: the store was created through GovRegistry for a member that is active,
  holds ISSUER and whose domain is the document's ``identityProof.location``.

Nothing here reads the platform's database: the API and ``govchain verify`` share it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass

from web3 import Web3

from chain.documents import DocumentStoreClient
from chain.registry import GovRegistryClient
from chain.tx import ChainClient
from identity import oa


@dataclass(frozen=True)
class Check:
    name: str
    valid: bool
    reason: str


@dataclass(frozen=True)
class Verdict:
    integrity: Check
    status: Check
    identity: Check

    @property
    def valid(self) -> bool:
        return self.integrity.valid and self.status.valid and self.identity.valid

    def to_json(self) -> dict:
        return {"valid": self.valid, "checks": [asdict(self.integrity), asdict(self.status), asdict(self.identity)]}


def _hex(value) -> bytes:
    if not isinstance(value, str) or not value:
        raise ValueError("missing")
    return bytes.fromhex(value.removeprefix("0x"))


def _issuer(document: dict) -> dict:
    data = document.get("data")
    if not isinstance(data, dict):
        raise ValueError("the document has no data")
    try:
        issuers = oa.unsalt({"issuers": data.get("issuers")}).get("issuers")
    except (ValueError, TypeError, AttributeError) as exc:
        raise ValueError(f"the issuers cannot be read: {exc}") from None
    if not isinstance(issuers, list) or len(issuers) != 1 or not isinstance(issuers[0], dict):
        raise ValueError("a govchain certificate names exactly one issuer")
    return issuers[0]


class Verifier:
    """Verifies documents against one chain and one trusted GovRegistry.

    Registry answers (which store belongs to whom, is that member active) are cached for
    ``cache_seconds``: they change rarely and every verification needs them. Issuance and
    revocation status is always read fresh.
    """

    def __init__(self, client: ChainClient, registry: GovRegistryClient, store_abi: list, cache_seconds: float = 5.0):
        self.client = client
        self.registry = registry
        self.store_abi = store_abi
        self.cache_seconds = cache_seconds
        self._stores: dict[str, DocumentStoreClient] = {}
        self._cache: dict[tuple, tuple[float, object]] = {}
        self._lock = threading.Lock()

    def _cached(self, key: tuple, load):
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
        if hit and now - hit[0] < self.cache_seconds:
            return hit[1]
        value = load()
        with self._lock:
            self._cache[key] = (now, value)
        return value

    def store(self, address: str) -> DocumentStoreClient:
        address = Web3.to_checksum_address(address)
        if address not in self._stores:
            self._stores[address] = DocumentStoreClient(self.client, address, self.store_abi)
        return self._stores[address]

    def verify(self, document: dict) -> Verdict:
        if not isinstance(document, dict):
            bad = Check("integrity", False, "the file is not an OpenAttestation document (a JSON object)")
            return Verdict(bad, Check("status", False, "not checked"), Check("identity", False, "not checked"))
        ok, reason = oa.check_integrity(document)
        integrity = Check("integrity", ok, reason)
        try:
            issuer = _issuer(document)
            store_address = Web3.to_checksum_address(issuer.get("documentStore", ""))
        except ValueError as exc:
            why = f"the issuer's document store cannot be read: {exc}"
            return Verdict(integrity, Check("status", False, why), Check("identity", False, why))
        return Verdict(integrity, self._status(document, store_address), self._identity(issuer, store_address))

    def _status(self, document: dict, store_address: str) -> Check:
        try:
            signature = document["signature"]
            target, root = _hex(signature["targetHash"]), _hex(signature["merkleRoot"])
            proof = [_hex(p) for p in signature.get("proof", [])]
        except (KeyError, TypeError, ValueError):
            return Check("status", False, "the document has no readable signature block")
        has_code = self._cached(("code", store_address), lambda: len(self.client.w3.eth.get_code(store_address)) > 0)
        if not has_code:
            return Check("status", False, f"there is no contract at {store_address} on chain {self.client.chain_id}")
        store = self.store(store_address)
        try:
            if not store.is_issued(root):
                return Check("status", False, f"merkle root 0x{root.hex()} is not issued in store {store_address}")
            for node in oa.intermediate_hashes(target, proof):
                if store.is_revoked(node):
                    what = "the certificate" if node == target else ("its whole batch" if node == root else "a part of its batch")
                    return Check("status", False, f"{what} was revoked (0x{node.hex()} is revoked in {store_address})")
        except Exception as exc:  # not a DocumentStore: any revert or decoding error
            return Check("status", False, f"{store_address} does not answer as a DocumentStore: {type(exc).__name__}")
        return Check("status", True, f"issued in {store_address} on chain {self.client.chain_id} and not revoked")

    def _identity(self, issuer: dict, store_address: str) -> Check:
        proof = issuer.get("identityProof") or {}
        location = proof.get("location") if isinstance(proof, dict) else None
        if not isinstance(proof, dict) or proof.get("type") != "DNS-TXT" or not isinstance(location, str):
            return Check("identity", False, "the issuer has no DNS-TXT identity proof naming a domain")
        owner = self._cached(("owner", store_address), lambda: self.registry.issuer_of_store(store_address))
        if owner is None:
            return Check("identity", False, f"{store_address} was not created through GovRegistry {self.registry.address}")
        member = self._cached(("member", owner), lambda: self.registry.member(owner))
        if not member.active:
            return Check("identity", False, f"the store's issuer {owner} is {member.status.name.lower()} in GovRegistry")
        if "ISSUER" not in member.roles:
            return Check("identity", False, f"the store's issuer {owner} does not hold the ISSUER role")
        if member.info.domain != location:
            return Check("identity", False, f"the store belongs to {member.info.domain}, not to {location}")
        return Check("identity", True, f"store of {member.info.name} ({location}), an active ISSUER member of GovRegistry")
