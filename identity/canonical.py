"""The one canonical JSON form of everything govchain hashes for the chain or signs.

Every JSON value whose keccak256 goes on chain (a consent's scope digest, a pull's attributes
hash, a bid's plaintext hash, a bid's items, the tender result report), and every JSON
message a party signs (a holder's pull answer, a bid receipt, the result report), is written
by :func:`canonical_json`, so an auditor re-derives each hash from the rule in
``docs/audit.md`` ("Canonical JSON") alone:

* objects: keys sorted by Unicode code point, each key once;
* separators ``,`` and ``:``, no whitespace anywhere;
* strings: ``"`` and ``\\`` escaped with a backslash; ``\\b \\f \\n \\r \\t`` as those
  two-character escapes; any other character below U+0020 as ``\\u00xx`` (lower-case hex);
  every other character as itself (no ASCII escaping, ``/`` not escaped);
* numbers: integers in decimal, no exponent, no leading zeros, ``-`` for negatives; a fraction
  (only a bidder's own bid file may carry one) as Python's ``repr`` of the double;
  ``true``, ``false``, ``null``;
* the text encoded as UTF-8, no byte-order mark.

Two evidence roots anchored by the platform since before this module, ``COMMITMENT_CHECK`` and
``DELIVERY``, were hashed in a different form, kept byte for byte by :func:`evidence_json_v0`:
changing it would change the roots of steps already on chain (an auditor could no longer
re-derive them) and the outbox keys of writes still waiting for an agency's signature.
OpenAttestation certificates are not JSON written here: OA's own rules hash them
(:mod:`identity.oa`).
"""

from __future__ import annotations

import json
from typing import Any

from eth_utils import keccak


def canonical_json(value: Any) -> bytes:
    """``value`` in the canonical form, as UTF-8 bytes (see the module's rule)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def canonical_hash(value: Any) -> bytes:
    """keccak256 of :func:`canonical_json` of ``value``."""
    return keccak(canonical_json(value))


def evidence_json_v0(value: Any) -> bytes:
    """The frozen form of the ``COMMITMENT_CHECK`` and ``DELIVERY`` evidence roots: keys sorted by
    code point, separators ``", "`` and ``": "``, every character above U+007E escaped as ``\\uxxxx``
    (lower-case hex; beyond U+FFFF as a UTF-16 surrogate pair), otherwise as :func:`canonical_json`."""
    return json.dumps(value, sort_keys=True).encode("ascii")


__all__ = ["canonical_hash", "canonical_json", "evidence_json_v0"]
