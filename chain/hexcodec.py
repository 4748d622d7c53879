"""The one hex codec: ``0x`` hex strings to bytes and back, and 32-byte words.

Every layer (chain, identity, api, gateway) converts with these, so hex is read one way: an
optional ``0x``/``0X`` prefix, then an even number of hex digits.
"""

from __future__ import annotations


def hx(value: bytes | bytearray) -> str:
    """``0x``-prefixed lower-case hex of ``value``."""
    return "0x" + bytes(value).hex()


def unhex(value: str | bytes | bytearray) -> bytes:
    """Bytes from a (``0x``-prefixed or bare) hex string; bytes pass through unchanged."""
    if isinstance(value, str):
        return bytes.fromhex(value[2:] if value.startswith(("0x", "0X")) else value)
    return bytes(value)


def to_bytes32(value: str | bytes | bytearray, what: str = "a 32-byte value") -> bytes:
    """32 bytes from hex or bytes; ``ValueError`` naming ``what`` for any other length."""
    raw = unhex(value)
    if len(raw) != 32:
        raise ValueError(f"{what} must be 32 bytes, got {len(raw)}: 0x{raw.hex()}")
    return raw
