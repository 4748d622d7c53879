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
from identity.canonical import canonical_json
from identity.typed_data import Domain, MessageType, Signer

DOMAIN_NAME = "govchain ConsentRegistry"
DOMAIN_VERSION = "1"

CONSENT = MessageType(
    "Consent(address applicant,address agency,uint8 categories,bytes32 scopeHash,bytes32 purposeHash,bytes32 faceCheckRef,"
    "uint40 notBefore,uint40 expiresAt,uint16 maxPulls,uint256 nonce,uint256 deadline)"
)
REVOCATION = MessageType("Revocation(bytes32 consentId,uint256 deadline)")
CONSENT_TYPE, CONSENT_FIELDS = CONSENT.encoded, CONSENT.fields
REVOCATION_TYPE = REVOCATION.encoded


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


# the full message of ``terms``; the consent's id: the EIP-712 digest of ``terms``, as ``grantConsent``
# computes it; the applicant's 65-byte signature (r, s, v) over ``terms``
consent_typed_data, consent_id, sign_consent = CONSENT.typed_data, CONSENT.digest, CONSENT.sign


# -- revocations ----------------------------------------------------------------------------


def _revocation(consent_id: bytes, deadline: int) -> dict:
    return {"consentId": hx(to_bytes32(consent_id, "consent_id")), "deadline": deadline}


def revocation_typed_data(consent_id: bytes, deadline: int, domain: Domain) -> dict:
    """The full EIP-712 ``Revocation(bytes32 consentId,uint256 deadline)`` message."""
    return REVOCATION.typed_data(_revocation(consent_id, deadline), domain)


def revocation_digest(consent_id: bytes, deadline: int, domain: Domain) -> bytes:
    """The EIP-712 digest ``revokeConsentBySig`` checks the signature against."""
    return REVOCATION.digest(_revocation(consent_id, deadline), domain)


def sign_revocation(consent_id: bytes, deadline: int, domain: Domain, private_key: Signer) -> bytes:
    """The applicant's 65-byte signature revoking ``consent_id`` (valid until ``deadline``)."""
    return REVOCATION.sign(_revocation(consent_id, deadline), domain, private_key)


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
