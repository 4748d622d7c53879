"""The face-check reference: a salted commitment that binds a consent to a verified person.

``faceCheckRef = keccak256(abi.encode(string vendorRequestId, string idNumber, bytes32 salt))``

It goes on chain inside the consent. The 32-byte random salt keeps the ID number out of
reach of brute force (an unsalted hash of an 18-digit ID falls in minutes). A data holder
that is given the opening (request id, ID number, salt), sealed to its own key, recomputes
the reference and so knows the consent covers exactly this citizen.
"""

from __future__ import annotations

import hmac
import os
import re

from eth_abi import encode
from eth_utils import keccak

from chain.errors import GovchainError

SALT_BYTES = 32
_ID_PATTERN = re.compile(r"^[0-9]{17}[0-9X]$")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


class InvalidIdNumber(GovchainError, ValueError):
    """Not a well-formed 18-character resident ID number (GB 11643-1999)."""


def check_id_number(id_number: str) -> str:
    """Return the ID number (upper-case X) if its form and check digit are right."""
    value = id_number.strip().upper()
    if not _ID_PATTERN.match(value):
        raise InvalidIdNumber("an ID number has 17 digits and a check character (digit or X)")
    expected = _CHECK[sum(int(d) * w for d, w in zip(value[:17], _WEIGHTS, strict=True)) % 11]
    if value[17] != expected:
        raise InvalidIdNumber("the ID number's check character is wrong")
    return value


def new_salt() -> bytes:
    return os.urandom(SALT_BYTES)


def face_check_ref(vendor_request_id: str, id_number: str, salt: bytes) -> bytes:
    if len(salt) != SALT_BYTES:
        raise ValueError(f"salt has {len(salt)} bytes, expected {SALT_BYTES}")
    return keccak(encode(["string", "string", "bytes32"], [vendor_request_id, id_number, salt]))


def matches(reference: bytes, vendor_request_id: str, id_number: str, salt: bytes) -> bool:
    try:
        return hmac.compare_digest(face_check_ref(vendor_request_id, id_number, salt), reference)
    except ValueError:
        return False
