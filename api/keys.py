"""The platform's own secret keys, one per purpose, derived from one root.

The root is ``GOVCHAIN_DATA_KEY`` (32 bytes, base64url). Each purpose gets its own key, derived
with HKDF-SHA256 (RFC 5869, no salt: the root is already uniformly random) and an ``info`` string
naming the purpose, so a key that leaks for one purpose opens nothing of another and anyone
holding the root can re-derive them:

====================  ===============================  =============================================
purpose               HKDF ``info``                    used for
====================  ===============================  =============================================
data at rest          ``govchain data-at-rest v1``     AES-256-GCM of personal data in the database
bid pseudonyms        ``govchain bid-pseudonym v1``    HMAC-SHA256 of (tender, bidder): the bidder's
                                                       pseudonym, which only the platform can link back
====================  ===============================  =============================================

Before the split the root itself was both the AES key and the HMAC key. What was written then
stays readable without a re-key: :meth:`PlatformKeys.open` tries the data-at-rest key and then the
root (AES-GCM's tag tells a wrong key for certain), and a bidder who bid under its old pseudonym
keeps it for that tender (:func:`api.tenders.service.pseudonym_for`). Nothing new is written with
the root.
"""

from __future__ import annotations

import hashlib
import hmac

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from identity.sealing import SealError, open_at_rest, seal_at_rest

PURPOSES = {"data-at-rest": b"govchain data-at-rest v1", "bid-pseudonym": b"govchain bid-pseudonym v1"}


def derive(root: bytes, purpose: str) -> bytes:
    """The 32-byte key of ``purpose`` (a key of :data:`PURPOSES`)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=PURPOSES[purpose]).derive(root)


def keyed_pseudonym(key: bytes, tender_id: str, bidder: str) -> str:
    return "0x" + hmac.new(key, f"pseudonym:{tender_id}:{bidder}".encode(), hashlib.sha256).hexdigest()


class PlatformKeys:
    def __init__(self, root: bytes):
        self.at_rest = derive(root, "data-at-rest")
        self._pseudonyms = derive(root, "bid-pseudonym")
        self._root = root  # read-only: opens what was sealed before the split, names old pseudonyms

    def seal(self, plaintext: bytes, context: bytes) -> bytes:
        """AES-256-GCM with the data-at-rest key; ``context`` (table and row) bound as AAD."""
        return seal_at_rest(self.at_rest, plaintext, context)

    def open(self, sealed: bytes, context: bytes) -> bytes:
        """Open what :meth:`seal` sealed, or what was sealed with the root before the split."""
        try:
            return open_at_rest(self.at_rest, sealed, context)
        except SealError:
            return open_at_rest(self._root, sealed, context)

    def pseudonym(self, tender_id: str, bidder: str) -> str:
        return keyed_pseudonym(self._pseudonyms, tender_id, bidder)

    def pseudonym_before_split(self, tender_id: str, bidder: str) -> str:
        """The pseudonym the platform gave before the split (the root as HMAC key)."""
        return keyed_pseudonym(self._root, tender_id, bidder)
