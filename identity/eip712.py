"""EIP-712 consents and revocations for ``ConsentRegistry``, and the hashes they carry.

The types here mirror ``contracts/interfaces/IConsentRegistry.sol`` exactly; a consent's id
is the EIP-712 digest of its terms, so ``consent_id`` equals what ``grantConsent`` returns.
Digest, signing and recovery are :mod:`identity.typed_data`'s (the one EIP-712 module).

Only hashes leave this module: ``scope_hash`` covers attribute *names*, ``purpose_hash``
a salted matter and application id. Face data, names and ID numbers never go in.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_abi import encode
from eth_utils import keccak, to_checksum_address

from chain.hexcodec import hx, to_bytes32
from identity import typed_data
from identity.canonical import canonical_json
from identity.typed_data import Domain, Signer, type_string

DOMAIN_NAME = "govchain ConsentRegistry"
DOMAIN_VERSION = "1"

CONSENT_FIELDS = [
    {"name": "applicant", "type": "address"},
    {"name": "agency", "type": "address"},
    {"name": "categories", "type": "uint8"},
    {"name": "scopeHash", "type": "bytes32"},
    {"name": "purposeHash", "type": "bytes32"},
    {"name": "faceCheckRef", "type": "bytes32"},
    {"name": "notBefore", "type": "uint40"},
    {"name": "expiresAt", "type": "uint40"},
    {"name": "maxPulls", "type": "uint16"},
    {"name": "nonce", "type": "uint256"},
    {"name": "deadline", "type": "uint256"},
]
REVOCATION_FIELDS = [
    {"name": "consentId", "type": "bytes32"},
    {"name": "deadline", "type": "uint256"},
]
CONSENT_TYPE = type_string("Consent", CONSENT_FIELDS)
REVOCATION_TYPE = type_string("Revocation", REVOCATION_FIELDS)


@dataclass(frozen=True)
class ConsentTerms:
    """``IConsentRegistry.ConsentTerms``, field for field (EIP-712 primary type ``Consent``).

    ``categories`` is a bit set (bit 0 ID card, 1 residence permit, 2 household register);
    the three hashes are 32 bytes; times are unix seconds; ``nonce`` is any value the
    applicant has not used (nonces that share ``nonce >> 8`` share a storage word: cheaper).
    """

    applicant: str
    agency: str
    categories: int
    scope_hash: bytes
    purpose_hash: bytes
    face_check_ref: bytes
    not_before: int
    expires_at: int
    max_pulls: int
    nonce: int
    deadline: int

    def as_tuple(self) -> tuple:
        """The struct as web3 takes it for ``grantConsent``."""
        return (
            to_checksum_address(self.applicant),
            to_checksum_address(self.agency),
            int(self.categories),  # plain ints: an IntFlag such as DataCategory trips the encoders
            bytes(self.scope_hash),
            bytes(self.purpose_hash),
            bytes(self.face_check_ref),
            int(self.not_before),
            int(self.expires_at),
            int(self.max_pulls),
            int(self.nonce),
            int(self.deadline),
        )

    def as_message(self) -> dict:
        """The EIP-712 message (JSON-friendly: bytes32 as 0x-hex)."""
        return {field["name"]: _json_value(value) for field, value in zip(CONSENT_FIELDS, self.as_tuple(), strict=True)}


def _json_value(value: object) -> object:
    return hx(value) if isinstance(value, bytes) else value


# -- consents -------------------------------------------------------------------------------


def consent_typed_data(terms: ConsentTerms, domain: Domain) -> dict:
    """The full EIP-712 message (``eth_signTypedData_v4`` / ``encode_typed_data(full_message=...)``)."""
    return typed_data.typed_data("Consent", {"Consent": CONSENT_FIELDS}, terms.as_message(), domain)


def consent_id(terms: ConsentTerms, domain: Domain) -> bytes:
    """The consent's id: the EIP-712 digest of ``terms``, as ``grantConsent`` computes it."""
    return typed_data.digest(consent_typed_data(terms, domain))


def sign_consent(terms: ConsentTerms, domain: Domain, private_key: Signer) -> bytes:
    """The applicant's 65-byte signature (r, s, v) over ``terms``."""
    return typed_data.sign(consent_typed_data(terms, domain), private_key)


# -- revocations ----------------------------------------------------------------------------


def revocation_typed_data(consent_id: bytes, deadline: int, domain: Domain) -> dict:
    """The full EIP-712 ``Revocation(bytes32 consentId,uint256 deadline)`` message."""
    message = {"consentId": hx(to_bytes32(consent_id, "consent_id")), "deadline": deadline}
    return typed_data.typed_data("Revocation", {"Revocation": REVOCATION_FIELDS}, message, domain)


def revocation_digest(consent_id: bytes, deadline: int, domain: Domain) -> bytes:
    """The EIP-712 digest ``revokeConsentBySig`` checks the signature against."""
    return typed_data.digest(revocation_typed_data(consent_id, deadline, domain))


def sign_revocation(consent_id: bytes, deadline: int, domain: Domain, private_key: Signer) -> bytes:
    """The applicant's 65-byte signature revoking ``consent_id`` (valid until ``deadline``)."""
    return typed_data.sign(revocation_typed_data(consent_id, deadline, domain), private_key)


# -- the hashes a consent carries -------------------------------------------------------------


def scope_digest(attributes: dict[str, list[str]]) -> bytes:
    """keccak256 of the canonical JSON of ``{category: [attribute name, ...]}`` (never on chain alone).

    Canonical: categories sorted, each category's attribute names sorted and without
    duplicates, in :func:`identity.canonical.canonical_json`'s form. Names only, no values.
    """
    canonical = {}
    for category, names in attributes.items():
        if not isinstance(category, str):
            raise TypeError(f"scope category must be a string, got {category!r}")
        if isinstance(names, str) or not all(isinstance(n, str) for n in names):
            raise TypeError(f"attributes of {category!r} must be a list of strings, got {names!r}")
        canonical[category] = sorted(set(names))
    return keccak(canonical_json(canonical))


def scope_hash(attributes: dict[str, list[str]], salt: bytes) -> bytes:
    """keccak256(abi.encode(bytes32 scopeDigest, bytes32 salt)): the consent's ``scopeHash``.

    Salted per consent (the salt goes to the agency and the data holders, never on chain), so
    the hash cannot be matched against the scopes of the public catalog to name the matter.
    """
    return keccak(encode(["bytes32", "bytes32"], [scope_digest(attributes), to_bytes32(salt, "salt")]))


def purpose_hash(matter_code: str, application_id: str, salt: bytes) -> bytes:
    """keccak256(abi.encode(string matterCode, string applicationId, bytes32 salt)).

    The salt (32 random bytes, kept off chain with the application) stops anyone from
    guessing the matter and application behind the hash.
    """
    return keccak(encode(["string", "string", "bytes32"], [matter_code, application_id, to_bytes32(salt, "salt")]))
