"""The agency's own client for its chain writes (``agency-held`` keys): what ``govchain agency sign`` runs.

It lists the signature requests the platform recorded for the agency, decodes each call itself
with the deployment's ABI (the platform's description is shown for comparison, never trusted),
checks what it can on its own side (a certificate batch: the Merkle root recomputed from the
batch's target hashes, and every certificate's document proving up to it), then signs the
transaction with the agency's own key, its own nonce from the node and its own gas, and posts
the raw bytes. The platform relays them; it never holds the key.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from eth_account.signers.local import LocalAccount
from web3 import Web3

from api.auth.client import sign_in
from chain.deploy import Deployment
from chain.errors import ContractRevert
from chain.registry import GovRegistryClient
from chain.signed import decode_call, describe_call
from chain.tx import ChainClient
from identity import oa
from chain.hexcodec import hx, unhex


@dataclass
class Reviewed:
    request: dict
    decoded: str  # the call as this client decodes it
    refusal: str | None  # why it must not be signed; None: sign it


@dataclass
class Outcome:
    request_id: str
    decoded: str
    state: str  # mined | failed | refused (not signed here) | rejected (the platform refused it)
    tx_hash: str | None = None
    detail: str | None = None


class AgencySigner:
    def __init__(self, http: httpx.Client, account: LocalAccount, chain: ChainClient, deployment: Deployment):
        self.http, self.account, self.chain, self.deployment = http, account, chain, deployment
        self.headers = sign_in(http, account)
        registry = deployment.contracts["GovRegistry"]
        self.own_store = GovRegistryClient(chain, registry["address"], registry["abi"]).document_store_of(account.address)

    def awaiting(self) -> list[dict]:
        listed = self.http.get("/v1/agency/signature-requests", params={"state": "awaiting", "limit": 500}, headers=self.headers)
        listed.raise_for_status()
        return listed.json()

    def review(self, request: dict) -> Reviewed:
        """Decode the call with the deployment's ABI and check it; a refusal says why not to sign."""
        if Web3.to_checksum_address(request["agency"]) != self.account.address or request["chain_id"] != self.chain.chain_id or request["value"] != 0:
            return Reviewed(request, "", f"not for {self.account.address} on chain {self.chain.chain_id} without value")
        contract = self._contract(request["to"])
        if contract is None:
            return Reviewed(request, "", f"{request['to']} is no contract of the deployment, nor this agency's DocumentStore")
        name, abi = contract
        try:
            decoded = describe_call(name, abi, request["data"])
            function, args = decode_call(abi, request["data"])
        except ValueError as exc:
            return Reviewed(request, "", str(exc))
        refusal = self._check_batch(args["document"]) if (name, function) == ("DocumentStore", "issue") else None
        return Reviewed(request, decoded, refusal)

    def _contract(self, to: str) -> tuple[str, list] | None:
        known = self.deployment.contract_at(to)
        if known is None and self.own_store is not None and Web3.to_checksum_address(to) == Web3.to_checksum_address(self.own_store):
            return "DocumentStore", self.deployment.document_store_abi()
        return known

    def _check_batch(self, root: bytes) -> str | None:
        """A certificate batch is signed only if its root is the Merkle root of its certificates'
        target hashes, and each certificate's document (data salted and hashed) proves up to it."""
        merkle_root = hx(root)
        read = self.http.get(f"/v1/certificate-batches/{merkle_root}", headers=self.headers)
        if read.status_code != 200:
            return f"the batch {merkle_root} cannot be read ({read.status_code}): nothing to check the root against"
        certificates = read.json()["certificates"]
        hashes = [unhex(c["target_hash"]) for c in certificates]
        if not hashes or oa.merkle_root(hashes) != bytes(root):
            return f"the root {merkle_root} is not the Merkle root of the batch's {len(hashes)} target hashes"
        for certificate in certificates:
            document = self.http.get(f"/v1/certificates/{certificate['id']}/document", headers=self.headers)
            if document.status_code != 200:
                return f"the document of {certificate['id']} cannot be read ({document.status_code})"
            ok, why = oa.check_integrity(document.json())
            signature = document.json().get("signature", {})
            if not ok or "0x" + signature.get("targetHash", "") != certificate["target_hash"] or signature.get("merkleRoot") != merkle_root[2:]:
                return f"the document of {certificate['id']} does not prove up to {merkle_root}: {why}"
        return None

    def sign(self, request: dict) -> bytes:
        """The transaction for the request, signed here: exactly its ``to`` and ``data``, the agency's
        own next nonce from the node, gas estimated and fees set for this network."""
        tx = self.chain.build(self.account, to=request["to"], data=request["data"])
        nonce = self.chain.w3.eth.get_transaction_count(self.account.address, "pending")
        raw, _ = self.chain.sign_with_nonce(self.account, tx, nonce)
        return raw

    def submit(self, request: dict, raw: bytes) -> httpx.Response:
        return self.http.post(f"/v1/agency/signature-requests/{request['id']}", json={"raw_transaction": hx(raw)}, headers=self.headers)

    def run(self) -> list[Outcome]:
        """Review, sign and submit every awaiting request, one after another (each is mined before
        the next nonce is read)."""
        outcomes = []
        for request in self.awaiting():
            reviewed = self.review(request)
            if reviewed.refusal is not None:
                outcomes.append(Outcome(request["id"], reviewed.decoded, "refused", detail=reviewed.refusal))
                continue
            try:
                raw = self.sign(request)
            except ContractRevert as exc:  # the chain would refuse it now (estimated as the agency): nothing signed
                outcomes.append(Outcome(request["id"], reviewed.decoded, "refused", detail=f"it would revert: {exc}"))
                continue
            answer = self.submit(request, raw)
            if answer.status_code != 200:
                outcomes.append(Outcome(request["id"], reviewed.decoded, "rejected", detail=answer.json().get("detail", answer.text)))
                continue
            body = answer.json()
            outcomes.append(Outcome(request["id"], reviewed.decoded, body["state"], body["tx_hash"], body.get("error")))
        return outcomes
