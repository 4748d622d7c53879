"""Sealing data: AES-256-GCM at rest, HPKE (RFC 9180) in transit to a member's X25519 key.

A small safe API over ``cryptography``: callers never handle nonces or modes. Every
failure to open raises the one opaque :class:`SealError`.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from chain.errors import GovchainError

NONCE_BYTES = 12
KEY_BYTES = 32
_SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_128_GCM)


class SealError(GovchainError, ValueError):
    """The sealed data cannot be opened (wrong key, wrong context, or tampered)."""


def seal_at_rest(key: bytes, plaintext: bytes, context: bytes) -> bytes:
    """AES-256-GCM with a random nonce; ``context`` (e.g. table + row id) is bound as AAD."""
    if len(key) != KEY_BYTES:
        raise SealError(f"data key has {len(key)} bytes, expected {KEY_BYTES}")
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, context)


def open_at_rest(key: bytes, sealed: bytes, context: bytes) -> bytes:
    try:
        return AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], context)
    except (InvalidTag, ValueError):
        raise SealError("sealed data cannot be opened") from None


def hpke_seal(recipient_public_key: bytes, plaintext: bytes, info: bytes) -> bytes:
    """Single-shot HPKE (X25519, HKDF-SHA256, AES-128-GCM) to a raw 32-byte X25519 key."""
    if len(recipient_public_key) != 32 or recipient_public_key == bytes(32):
        raise SealError("the recipient has no X25519 public key registered")
    return _SUITE.encrypt(plaintext, X25519PublicKey.from_public_bytes(recipient_public_key), info=info)


def hpke_open(private_key: X25519PrivateKey | list[X25519PrivateKey], ciphertext: bytes, info: bytes) -> bytes:
    """Open with a key, or with the first of a member's keys (current and earlier ones) that opens it."""
    for key in private_key if isinstance(private_key, list) else [private_key]:
        try:
            return _SUITE.decrypt(ciphertext, key, info=info)
        except Exception:  # InvalidTag, ValueError on short input, ...: one opaque failure
            continue
    raise SealError("HPKE ciphertext cannot be opened")
