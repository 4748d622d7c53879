"""The one EIP-712 module: the domain type, and digest, sign and recover for every typed message.

Every message the platform signs or checks (consents and revocations, pseudonym links, pull
requests, material commitments, tender sign-ins, objections and scores) is a full
``eth_signTypedData_v4`` dict built by :func:`typed_data` and hashed, signed and recovered here,
so a signature is checked the same way wherever it arrives. Encoding is eth-account's.
The modules that define the messages (:mod:`identity.eip712`, :mod:`identity.tender712`,
:mod:`identity.commitment`, :mod:`identity.pull_request`, :mod:`identity.pseudonym`) hold only
their types and fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from eth_account import Account
from eth_account.messages import SignableMessage, encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address

Signer = LocalAccount | bytes | str
Fields = list[dict[str, str]]

DOMAIN_FIELDS: Fields = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]


class DomainFields(Protocol):
    """What a contract's ERC-5267 ``eip712Domain()`` reports (``chain.consents.DomainFields``, read-only)."""

    @property
    def name(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def chain_id(self) -> int: ...
    @property
    def verifying_contract(self) -> str: ...


@dataclass(frozen=True)
class Domain:
    """An EIP-712 domain: name, version, chain id and (for a contract's messages) the contract.

    Without a ``verifying_contract`` (a message no contract checks, such as a pseudonym link) the
    domain has three fields. The defaults are ConsentRegistry's; each contract's message module
    says its own (``tender712.domain``, ``commitment.domain``)."""

    chain_id: int
    verifying_contract: str | None
    name: str = "govchain ConsentRegistry"
    version: str = "1"

    @classmethod
    def of(cls, fields: DomainFields) -> "Domain":
        """The domain a contract reports (ERC-5267 ``eip712Domain()``)."""
        return cls(fields.chain_id, fields.verifying_contract, fields.name, fields.version)

    def fields(self) -> Fields:
        return DOMAIN_FIELDS if self.verifying_contract is not None else DOMAIN_FIELDS[:3]

    def as_dict(self) -> dict:
        values: dict = {"name": self.name, "version": self.version, "chainId": self.chain_id}
        if self.verifying_contract is not None:
            values["verifyingContract"] = to_checksum_address(self.verifying_contract)
        return values


def fields_of(encoded: str) -> Fields:
    """The fields of the encoded type ``Name(type1 name1,...)``, as the contract's typehash spells it."""
    members = encoded[encoded.index("(") + 1 : -1]
    return [{"name": name, "type": kind} for kind, name in (member.split(" ") for member in members.split(","))]


class Message(Protocol):
    """A value of a message type: its EIP-712 message (JSON-friendly, bytes32 as 0x-hex)."""

    def as_message(self) -> dict: ...


@dataclass(frozen=True)
class MessageType:
    """One EIP-712 primary type with no nested struct, declared once as the contract's typehash
    spells it (``encoded``: ``Name(type1 name1,...)``); its full message, digest, signature and
    signer for a value (a message dict, or a :class:`Message`) under a domain."""

    encoded: str

    @property
    def primary(self) -> str:
        return self.encoded[: self.encoded.index("(")]

    @property
    def fields(self) -> Fields:
        return fields_of(self.encoded)

    def typed_data(self, value: Message | dict, domain: Domain) -> dict:
        """The full EIP-712 message (``eth_signTypedData_v4`` / ``encode_typed_data(full_message=...)``)."""
        message = value if isinstance(value, dict) else value.as_message()
        return typed_data(self.primary, {self.primary: self.fields}, message, domain)

    def digest(self, value: Message | dict, domain: Domain) -> bytes:
        """The EIP-712 digest keccak256(0x19 0x01 domainSeparator structHash) a contract checks against."""
        return digest(self.typed_data(value, domain))

    def sign(self, value: Message | dict, domain: Domain, signer: Signer) -> bytes:
        """The 65-byte signature (r, s, v) of ``signer`` over ``value``."""
        return sign(self.typed_data(value, domain), signer)

    def recover(self, value: Message | dict, domain: Domain, signature: bytes) -> str:
        """The checksum address that signed ``value`` under ``domain`` (see :func:`recover`)."""
        return recover(self.typed_data(value, domain), signature)


def typed_data(primary: str, types: dict[str, Fields], message: dict, domain: Domain) -> dict:
    """The full EIP-712 message (``eth_signTypedData_v4``): ``types`` holds ``primary`` and any struct it nests."""
    return {
        "types": {"EIP712Domain": domain.fields(), **types},
        "primaryType": primary,
        "domain": domain.as_dict(),
        "message": message,
    }


def signable(typed: dict) -> SignableMessage:
    return encode_typed_data(full_message=typed)


def digest(typed: dict) -> bytes:
    """keccak256(0x19 0x01 domainSeparator structHash): what a contract (or an ERC-1271 wallet) checks."""
    message = signable(typed)
    return keccak(b"\x19" + message.version + message.header + message.body)


def sign(typed: dict, signer: Signer) -> bytes:
    """The 65-byte signature (r, s, v) of ``signer`` (an account or its private key) over ``typed``."""
    key = signer.key if isinstance(signer, LocalAccount) else signer
    return bytes(Account.sign_message(signable(typed), key).signature)


def recover(typed: dict, signature: bytes) -> str:
    """The checksum address that signed ``typed``. A signature over any other message recovers to
    some unrelated address, so compare it with who should have signed; a malformed signature (not
    65 bytes, bad v, s or r) raises ``ValueError``."""
    signature = bytes(signature)
    if len(signature) != 65:
        raise ValueError(f"signature must be 65 bytes (r, s, v), got {len(signature)}")
    try:
        return to_checksum_address(Account.recover_message(signable(typed), signature=signature))
    except Exception as exc:  # eth-keys' BadSignature and eth-utils' ValidationError are not ValueErrors
        raise ValueError(f"signature cannot be recovered: {exc}") from None


def recover_or_none(typed: dict, signature: bytes) -> str | None:
    """:func:`recover`, None for a malformed signature."""
    try:
        return recover(typed, signature)
    except ValueError:
        return None
