"""Per-consent applicant pseudonyms: a fresh address on chain for every consent.

Nothing on chain may link two consents of one applicant, so a consent's ``applicant`` is not
the applicant's wallet but a pseudonym whose key only the applicant can derive:

    root   = the wallet's EIP-191 signature (``personal_sign``) of ``root_message(chain, registry)``
    key    = keccak256("govchain consent pseudonym v1" || root || salt)   (as a secp256k1 scalar;
             the negligible case of 0 or >= n hashes again with a counter byte appended)
    pseudonym = the address of ``key``

``salt`` is per consent (``salt_for``: derived from the application id, so it is not a secret and
needs no storage of its own). Deterministic: wallets sign with RFC 6979 nonces (eth-account,
MetaMask and every wallet built on libsecp256k1 or @noble/secp256k1), so the same wallet signs the
same root message to the same bytes, and the applicant re-derives a consent's key whenever it
needs it (to revoke) from its wallet and the consent's salt. Unlinkable: the root signature never
leaves the applicant's side (the browser page derives the key in the page, the CLI in process);
without it the pseudonyms of one wallet are addresses of unrelated keccak outputs. Bound to this
chain and registry: the root message names both, so a root signature asked for elsewhere is not it.

The platform learns the link (it needs it to show the applicant its consents) from the wallet's
EIP-712 ``PseudonymLink`` signature, checked before relaying and kept in its database, never on chain.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from identity import typed_data
from identity.typed_data import Domain
from chain.hexcodec import hx, unhex

SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
KEY_TAG = b"govchain consent pseudonym v1"
LINK_DOMAIN_NAME, LINK_DOMAIN_VERSION = "govchain consent pseudonym", "1"  # no contract checks a link
LINK_TYPES = {
    "PseudonymLink": [
        {"name": "applicant", "type": "address"},
        {"name": "pseudonym", "type": "address"},
        {"name": "consentId", "type": "bytes32"},
    ],
}


def root_message(chain_id: int, registry: str) -> str:
    """The fixed text a wallet signs once to hold the root of all its consent pseudonyms."""
    return (
        "govchain: derive my consent pseudonyms.\n"
        "Sign this only on the govchain /me page or in the govchain client: whoever holds this\n"
        "signature can act for every consent you granted.\n"
        f"Chain: {chain_id}\nConsentRegistry: {registry.lower()}"
    )


def salt_for(application_id: str) -> bytes:
    """The salt of the consent granted for an application (one consent per application)."""
    return keccak(b"govchain consent pseudonym salt v1" + application_id.encode())


def root_signature(private_key, chain_id: int, registry: str) -> bytes:
    """The wallet's signature of the root message (what a browser wallet's ``personal_sign`` returns)."""
    return bytes(Account.sign_message(encode_defunct(text=root_message(chain_id, registry)), private_key).signature)


def derive_key(root: bytes, salt: bytes) -> bytes:
    """The pseudonym's secp256k1 key for ``salt``, from the root signature."""
    if len(salt) != 32:
        raise ValueError(f"salt must be 32 bytes, got {len(salt)}")
    material = KEY_TAG + bytes(root) + bytes(salt)
    scalar = int.from_bytes(keccak(material))
    while not 0 < scalar < SECP256K1_ORDER:  # about 2**-128: hash again until it is a valid scalar
        material += b"\x00"
        scalar = int.from_bytes(keccak(material))
    return scalar.to_bytes(32)


def pseudonym_account(root: bytes, salt: bytes) -> LocalAccount:
    return Account.from_key(derive_key(root, salt))


def link_typed_data(applicant: str, pseudonym: str, consent_id: bytes, chain_id: int) -> dict:
    """What the applicant's wallet signs to say ``pseudonym`` is its, for consent ``consent_id``
    (kept off chain by the platform; the pseudonym's own signature of the terms proves the other way)."""
    message = {"applicant": applicant, "pseudonym": pseudonym, "consentId": hx(consent_id)}
    return typed_data.typed_data("PseudonymLink", LINK_TYPES, message, Domain(chain_id, None, LINK_DOMAIN_NAME, LINK_DOMAIN_VERSION))


def link_signer(link: dict, signature: bytes) -> str | None:
    """Who signed a ``PseudonymLink`` (None for a malformed signature)."""
    return typed_data.recover_or_none(link, signature)


@dataclass(frozen=True)
class Pseudonym:
    """A consent's pseudonym as the applicant holds it: its account and the link it signs."""

    account: LocalAccount
    salt: bytes

    @classmethod
    def of(cls, wallet_key, chain_id: int, registry: str, salt: bytes) -> Pseudonym:
        return cls(pseudonym_account(root_signature(wallet_key, chain_id, registry), salt), salt)

    @property
    def address(self) -> str:
        return self.account.address


# -- the applicant's side of the API (dicts as the platform API sends them) -----------------------


def from_derivation(wallet_key, derivation: dict) -> LocalAccount:
    """The pseudonym account the API's ``{"message", "salt"}`` derivation names, for this wallet."""
    root = bytes(Account.sign_message(encode_defunct(text=derivation["message"]), wallet_key).signature)
    return pseudonym_account(root, unhex(derivation["salt"]))


def _hex_signature(private_key, typed: dict) -> str:
    return hx(typed_data.sign(typed, private_key))


def sign_consent_offer(wallet_key, offer: dict) -> dict:
    """The body of ``POST .../consent`` for an offer made to the wallet's pseudonym: the
    pseudonym signs the terms, the wallet signs the link."""
    account = from_derivation(wallet_key, offer["pseudonym"])
    if offer["typed_data"]["message"]["applicant"].lower() != account.address.lower():
        raise ValueError("the offered terms name another applicant than this wallet's pseudonym")
    return {"signature": _hex_signature(account.key, offer["typed_data"]), "link_signature": _hex_signature(wallet_key, offer["link_typed_data"])}


def sign_revocation_offer(wallet_key, offer: dict) -> str:
    """The pseudonym's signature of a ``GET /v1/me/consents/{id}/revocation`` offer."""
    account = from_derivation(wallet_key, offer["derivation"])
    if account.address.lower() != offer["pseudonym"].lower() or offer["typed_data"]["primaryType"] != "Revocation":
        raise ValueError("the revocation offered is not for this wallet's pseudonym")
    return _hex_signature(account.key, offer["typed_data"])


__all__ = [
    "from_derivation",
    "sign_consent_offer",
    "sign_revocation_offer",
    "Pseudonym",
    "derive_key",
    "link_signer",
    "link_typed_data",
    "pseudonym_account",
    "root_message",
    "root_signature",
    "salt_for",
]
