"""The canonical JSON rules of ``docs/audit.md`` ("Canonical JSON"), written out by hand as an
auditor would, without the ``json`` module: the tests check govchain's hashes against these."""

from __future__ import annotations

SHORT = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _string(text: str, ascii_only: bool) -> str:
    out = []
    for char in text:
        if char in SHORT:
            out.append(SHORT[char])
        elif ord(char) < 0x20:
            out.append(f"\\u{ord(char):04x}")
        elif ascii_only and ord(char) > 0x7E:
            if ord(char) > 0xFFFF:  # a UTF-16 surrogate pair
                code = ord(char) - 0x10000
                out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
            else:
                out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def write(value, *, comma: str = ",", colon: str = ":", ascii_only: bool = False) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):  # only a bidder's own bid file carries one
        return {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}.get(repr(value), repr(value))
    if isinstance(value, str):
        return _string(value, ascii_only)
    if isinstance(value, list | tuple):
        return "[" + comma.join(write(v, comma=comma, colon=colon, ascii_only=ascii_only) for v in value) + "]"
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: [ord(c) for c in k])  # by Unicode code point
        parts = (_string(k, ascii_only) + colon + write(value[k], comma=comma, colon=colon, ascii_only=ascii_only) for k in keys)
        return "{" + comma.join(parts) + "}"
    raise TypeError(f"no anchored kind carries {type(value).__name__}")


def canonical(value) -> bytes:
    """The one form: sorted keys, ``,`` and ``:``, no ASCII escaping, UTF-8."""
    return write(value).encode("utf-8")


def evidence_v0(value) -> bytes:
    """The COMMITMENT_CHECK and DELIVERY roots' form: sorted keys, ``, `` and ``: ``, ASCII escaping."""
    return write(value, comma=", ", colon=": ", ascii_only=True).encode("ascii")
