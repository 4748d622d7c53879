"""Notification commitments (告知承诺): the applicant signs the exact promise instead of uploading a proof.

Under the notification-commitment system the agency waives a certificate and the applicant
promises in writing that the fact holds. Here the promise is an EIP-712 message, so the
wallet shows the applicant what is signed and anyone can later check who promised what:

    Commitment(address applicant,bytes32 application,string material,bytes32 textHash,uint64 signedAt)

under the domain "govchain EvidenceLedger", version "1", the chain id and the EvidenceLedger
(:class:`Domain`: the :class:`identity.typed_data.Domain` dataclass with this name by default). ``application`` is
keccak256 of the application id and ``textHash`` keccak256 of the exact UTF-8 text shown to
the applicant, so neither the id nor the text goes on chain, and a single changed character
gives another signer on recovery. ``material`` is the catalog code of the waived material.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_utils import keccak, to_checksum_address

from chain.hexcodec import hx, to_bytes32
from identity import typed_data as eip712_typed
from identity.typed_data import MessageType

DOMAIN_NAME = "govchain EvidenceLedger"
DOMAIN_VERSION = "1"

COMMITMENT = MessageType("Commitment(address applicant,bytes32 application,string material,bytes32 textHash,uint64 signedAt)")
COMMITMENT_TYPE, COMMITMENT_FIELDS = COMMITMENT.encoded, COMMITMENT.fields


@dataclass(frozen=True)
class Domain(eip712_typed.Domain):
    """The EIP-712 domain of one deployed EvidenceLedger (:class:`identity.typed_data.Domain`, this name by default)."""

    name: str = DOMAIN_NAME
    version: str = DOMAIN_VERSION


def domain(chain_id: int, ledger: str) -> Domain:
    """The EIP-712 domain of the EvidenceLedger deployed at ``ledger`` on chain ``chain_id``."""
    return Domain(chain_id, to_checksum_address(ledger), DOMAIN_NAME, DOMAIN_VERSION)


def text_hash(text: str) -> bytes:
    """keccak256 of the exact UTF-8 text the applicant was shown (no normalisation: what was shown is what counts)."""
    if not isinstance(text, str) or not text:
        raise ValueError(f"the commitment text must be a non-empty string, got {text!r}")
    return keccak(text.encode("utf-8"))


def application_ref(application_id: str) -> bytes:
    """keccak256 of the UTF-8 application id: ties the commitment to one application, off chain."""
    if not isinstance(application_id, str) or not application_id:
        raise ValueError(f"application id must be a non-empty string, got {application_id!r}")
    return keccak(application_id.encode("utf-8"))


def _bytes32(value: bytes, what: str) -> bytes:
    if not isinstance(value, bytes | bytearray):  # raw bytes only: the message's fields are hashes, not hex
        raise ValueError(f"{what} must be 32 bytes, got {value!r}")
    return to_bytes32(value, what)


@dataclass(frozen=True)
class Commitment:
    """The EIP-712 ``Commitment``, field for field; ``signed_at`` in unix seconds (uint64)."""

    applicant: str
    application: bytes
    material: str
    text_hash: bytes
    signed_at: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "applicant", to_checksum_address(self.applicant))
        object.__setattr__(self, "application", _bytes32(self.application, "application"))
        object.__setattr__(self, "text_hash", _bytes32(self.text_hash, "text_hash"))
        if not isinstance(self.material, str) or not self.material:
            raise ValueError(f"material must be a non-empty string, got {self.material!r}")
        if isinstance(self.signed_at, bool) or not isinstance(self.signed_at, int) or not 0 <= self.signed_at < 2**64:
            raise ValueError(f"signed_at must be a uint64 (unix seconds), got {self.signed_at!r}")

    @classmethod
    def of(cls, applicant: str, application_id: str, material: str, text: str, signed_at: int) -> "Commitment":
        """The commitment of ``applicant`` to ``text`` for ``material`` in application ``application_id``."""
        return cls(applicant, application_ref(application_id), material, text_hash(text), signed_at)

    def as_message(self) -> dict:
        """The EIP-712 message (JSON-friendly: bytes32 as 0x-hex)."""
        return {
            "applicant": self.applicant,
            "application": hx(self.application),
            "material": self.material,
            "textHash": hx(self.text_hash),
            "signedAt": self.signed_at,
        }


# A commitment's full message, digest, the applicant's signature over it, and who signed it: compare
# ``recover``'s address with ``commitment.applicant`` (a signature over any other text, material,
# chain or contract recovers to some unrelated address rather than failing; a malformed signature
# raises ``ValueError``).
typed_data, digest, sign, recover = COMMITMENT.typed_data, COMMITMENT.digest, COMMITMENT.sign, COMMITMENT.recover
