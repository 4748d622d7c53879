"""Messages between an agency and a data holder's gateway.

The agency signs each pull request as EIP-712 typed data (domain "govchain DataGateway",
bound to the chain and to the ConsentRegistry contract). The holder signs its answer
(EIP-191 over canonical JSON) and then seals it with HPKE to the agency's registered
X25519 key: signed-then-encrypted, as Singapore's Myinfo does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from eth_account import Account
from eth_account.messages import encode_defunct, encode_typed_data
from eth_utils import keccak

from chain.errors import GovchainError

PULL_REQUEST_TYPES = {
    "PullRequest": [
        {"name": "requestId", "type": "bytes32"},
        {"name": "consentId", "type": "bytes32"},
        {"name": "category", "type": "uint8"},
        {"name": "attributesHash", "type": "bytes32"},
        {"name": "subjectHash", "type": "bytes32"},
        {"name": "requester", "type": "address"},
        {"name": "holder", "type": "address"},
        {"name": "issuedAt", "type": "uint64"},
    ]
}


class BadMessage(GovchainError, PermissionError):
    """A pull request or answer whose signature or binding does not hold."""


def canonical_json(value) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def attributes_hash(scope: dict[str, list[str]], attributes: list[str]) -> bytes:
    return keccak(canonical_json({"scope": scope, "attributes": sorted(attributes)}))


@dataclass(frozen=True)
class PullRequest:
    request_id: bytes
    consent_id: bytes
    category: int  # bit index: 0 ID card, 1 residence permit, 2 household register
    attributes_hash: bytes
    subject_hash: bytes  # keccak of the sealed subject (the opening of the face-check reference)
    requester: str
    holder: str
    issued_at: int

    def typed_data(self, chain_id: int, verifying_contract: str) -> dict:
        return {
            "types": {
                "EIP712Domain": [
                    {"name": "name", "type": "string"},
                    {"name": "version", "type": "string"},
                    {"name": "chainId", "type": "uint256"},
                    {"name": "verifyingContract", "type": "address"},
                ],
                **PULL_REQUEST_TYPES,
            },
            "primaryType": "PullRequest",
            "domain": {"name": "govchain DataGateway", "version": "1", "chainId": chain_id, "verifyingContract": verifying_contract},
            "message": {
                "requestId": self.request_id, "consentId": self.consent_id, "category": self.category,
                "attributesHash": self.attributes_hash, "subjectHash": self.subject_hash, "requester": self.requester,
                "holder": self.holder, "issuedAt": self.issued_at,
            },  # fmt: skip
        }

    def sign(self, private_key, chain_id: int, verifying_contract: str) -> bytes:
        message = encode_typed_data(full_message=self.typed_data(chain_id, verifying_contract))
        return bytes(Account.sign_message(message, private_key).signature)

    def signer(self, signature: bytes, chain_id: int, verifying_contract: str) -> str:
        try:
            return Account.recover_message(encode_typed_data(full_message=self.typed_data(chain_id, verifying_contract)), signature=signature)
        except Exception:  # malformed signatures raise many types in eth-keys
            raise BadMessage("the pull request's signature is malformed") from None


def sign_answer(payload: dict, private_key) -> dict:
    """The holder's signed answer: ``{"payload": ..., "signature": 0x...}``."""
    signature = Account.sign_message(encode_defunct(canonical_json(payload)), private_key).signature
    return {"payload": payload, "signature": "0x" + bytes(signature).hex()}


def verify_answer(answer: dict, holder: str) -> dict:
    """The payload of a holder's answer, if ``holder`` signed it."""
    try:
        signer = Account.recover_message(encode_defunct(canonical_json(answer["payload"])), signature=answer["signature"])
    except Exception:
        raise BadMessage("the holder's answer is not signed") from None
    if signer != holder:
        raise BadMessage(f"the answer was signed by {signer}, not by the holder {holder}")
    return answer["payload"]


__all__ = ["BadMessage", "PullRequest", "attributes_hash", "canonical_json", "sign_answer", "verify_answer"]
