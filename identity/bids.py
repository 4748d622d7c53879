"""Bid files for electronic bid opening: sealed on the bidder's side, opened at the opening.

The bidder encrypts its bid file with a fresh random 256-bit key (AES-256-GCM via
``cryptography``), uploads only the ciphertext, and commits on chain to the ciphertext's
SHA-256 and to a salted hash of the key bound to bidder, tender, contract and chain. At the
opening it releases the key; anyone holding the ciphertext can then check both
commitments and read the bid. The ``context`` (tender id and pseudonym) is bound as AAD,
so a ciphertext cannot be replayed into another tender.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from chain.errors import GovchainError
from identity.canonical import canonical_json

KEY_BYTES = 32
NONCE_BYTES = 12


class BidUnreadable(GovchainError, ValueError):
    """The key does not open the bid file (wrong key, wrong tender, or a tampered file)."""


@dataclass(frozen=True)
class SealedBid:
    ciphertext: bytes
    key: bytes  # stays with the bidder until the opening
    salt: bytes  # for the key commitment; stays with the bidder too

    @property
    def ciphertext_hash(self) -> bytes:
        return ciphertext_hash(self.ciphertext)


def ciphertext_hash(ciphertext: bytes) -> bytes:
    return hashlib.sha256(ciphertext).digest()


def bid_context(tender_id: bytes, pseudonym: bytes) -> bytes:
    return b"govchain bid\0" + tender_id + pseudonym


def seal_bid(bid: dict, tender_id: bytes, pseudonym: bytes) -> SealedBid:
    """Encrypt a bid (a JSON object: bidder name, price in fen, items) with a fresh key."""
    key, nonce = os.urandom(KEY_BYTES), os.urandom(NONCE_BYTES)
    plaintext = canonical_json(bid)
    ciphertext = nonce + AESGCM(key).encrypt(nonce, plaintext, bid_context(tender_id, pseudonym))
    return SealedBid(ciphertext=ciphertext, key=key, salt=os.urandom(32))


def open_bid(ciphertext: bytes, key: bytes, tender_id: bytes, pseudonym: bytes) -> dict:
    """Decrypt and parse a bid file; :class:`BidUnreadable` on any failure."""
    if len(key) != KEY_BYTES or len(ciphertext) <= NONCE_BYTES:
        raise BidUnreadable("the key or the bid file has the wrong length")
    try:
        plaintext = AESGCM(key).decrypt(ciphertext[:NONCE_BYTES], ciphertext[NONCE_BYTES:], bid_context(tender_id, pseudonym))
        bid = json.loads(plaintext)
    except (InvalidTag, ValueError):
        raise BidUnreadable("the key does not open this bid file") from None
    if not isinstance(bid, dict):
        raise BidUnreadable("the bid file does not hold a JSON object")
    return bid
