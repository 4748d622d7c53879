"""Messages between an agency and a data holder's gateway.

The agency signs each pull request as EIP-712 typed data in ConsentRegistry's own domain
("govchain ConsentRegistry", version "1", the chain, the contract), so the contract checks
the signature itself when the holder logs the pull (``recordPulls``): a pull or a refusal
naming an agency is on chain only with that agency's signature. A request is number
``sequence`` of its consent (the consent's pull count plus one); its id is
``keccak256(abi.encode(consentId, sequence))``. The holder signs its answer (EIP-191 over
canonical JSON) and then seals it with HPKE to the agency's registered X25519 key:
signed-then-encrypted, as Singapore's Myinfo does.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_abi import encode
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils import keccak

from chain.consents import PullRecord
from chain.errors import GovchainError
from identity import typed_data
from identity.canonical import canonical_json
from identity.typed_data import Domain, fields_of
from chain.hexcodec import hx

DOMAIN_NAME, DOMAIN_VERSION = "govchain ConsentRegistry", "1"
PULL_REQUEST_TYPE = "PullRequest(bytes32 consentId,uint16 sequence,uint8 category,address requester,address holder,PullDetails details,uint64 issuedAt)"
PULL_DETAILS_TYPE = "PullDetails(bytes32 attributesHash,bytes32 subjectHash)"
PULL_REQUEST_TYPES = {"PullRequest": fields_of(PULL_REQUEST_TYPE), "PullDetails": fields_of(PULL_DETAILS_TYPE)}
PULL_DETAILS_TYPEHASH = keccak(text=PULL_DETAILS_TYPE)


class BadMessage(GovchainError, PermissionError):
    """A pull request or answer whose signature or binding does not hold."""


def attributes_hash(scope: dict[str, list[str]], attributes: list[str]) -> bytes:
    return keccak(canonical_json({"scope": scope, "attributes": sorted(attributes)}))


def pull_request_id(consent_id: bytes, sequence: int) -> bytes:
    """``ConsentRegistry.pullRequestId``: the id of pull number ``sequence`` of a consent."""
    return keccak(encode(["bytes32", "uint16"], [bytes(consent_id), sequence]))


@dataclass(frozen=True)
class PullRequest:
    consent_id: bytes
    sequence: int  # the pull number asked for: the consent's pull count plus one
    category: int  # bit index: 0 ID card, 1 residence permit, 2 household register
    attributes_hash: bytes
    subject_hash: bytes  # keccak of the sealed subject (the opening of the face-check reference)
    requester: str
    holder: str
    issued_at: int

    @property
    def request_id(self) -> bytes:
        return pull_request_id(self.consent_id, self.sequence)

    @property
    def details_hash(self) -> bytes:
        """The EIP-712 struct hash of ``PullDetails``: what ``PullRecord.detailsHash`` carries on chain."""
        return keccak(encode(["bytes32", "bytes32", "bytes32"], [PULL_DETAILS_TYPEHASH, self.attributes_hash, self.subject_hash]))

    def typed_data(self, chain_id: int, verifying_contract: str) -> dict:
        """The full EIP-712 message: what an agency's wallet or keystore signs (``eth_signTypedData_v4``)."""
        message = {
            "consentId": hx(self.consent_id), "sequence": self.sequence, "category": self.category,
            "requester": self.requester, "holder": self.holder,
            "details": {"attributesHash": hx(self.attributes_hash), "subjectHash": hx(self.subject_hash)},
            "issuedAt": self.issued_at,
        }  # fmt: skip
        return typed_data.typed_data("PullRequest", PULL_REQUEST_TYPES, message, Domain(chain_id, verifying_contract, DOMAIN_NAME, DOMAIN_VERSION))

    def digest(self, chain_id: int, verifying_contract: str) -> bytes:
        """The EIP-712 hash that is signed: what an ERC-1271 wallet's ``isValidSignature`` is asked about."""
        return typed_data.digest(self.typed_data(chain_id, verifying_contract))

    def sign(self, private_key, chain_id: int, verifying_contract: str) -> bytes:
        return typed_data.sign(self.typed_data(chain_id, verifying_contract), private_key)

    def record(self, signature: bytes, digest: bytes) -> PullRecord:
        """The ``recordPulls`` record a holder logs for this request, once it handed over ``digest``."""
        return PullRecord(self.consent_id, self.sequence, self.category, self.requester, self.issued_at, self.details_hash, digest, signature)

    def signer(self, signature: bytes, chain_id: int, verifying_contract: str) -> str:
        try:
            return typed_data.recover(self.typed_data(chain_id, verifying_contract), signature)
        except ValueError:
            raise BadMessage("the pull request's signature is malformed") from None


def signed_record(
    requester,
    holder: str,
    consent_id: bytes,
    sequence: int,
    category: int,
    *,
    chain_id: int,
    verifying_contract: str,
    issued_at: int,
    digest: bytes,
    attributes: bytes = bytes(32),
    subject: bytes = bytes(32),
) -> PullRecord:
    """A ``recordPulls`` record of pull number ``sequence``, signed by ``requester`` (a local key)
    for ``holder``: what a holder logs once it answered. ``attributes`` and ``subject`` are the
    request's attribute and subject hashes (their values only matter to the holder)."""
    request = PullRequest(bytes(consent_id), sequence, category, attributes, subject, requester.address, holder, issued_at)
    return request.record(request.sign(requester.key, chain_id, verifying_contract), digest)


def sign_answer(payload: dict, private_key) -> dict:
    """The holder's signed answer: ``{"payload": ..., "signature": 0x...}``."""
    signature = Account.sign_message(encode_defunct(canonical_json(payload)), private_key).signature
    return {"payload": payload, "signature": hx(signature)}


def verify_answer(answer: dict, holder: str) -> dict:
    """The payload of a holder's answer, if ``holder`` signed it."""
    try:
        signer = Account.recover_message(encode_defunct(canonical_json(answer["payload"])), signature=answer["signature"])
    except Exception:
        raise BadMessage("the holder's answer is not signed") from None
    if signer != holder:
        raise BadMessage(f"the answer was signed by {signer}, not by the holder {holder}")
    return answer["payload"]


__all__ = ["BadMessage", "PullRequest", "attributes_hash", "canonical_json", "pull_request_id", "sign_answer", "signed_record", "verify_answer"]
