"""OpenAttestation v2 documents in pure Python, byte for byte like @govtechsg/open-attestation 6.9.7.

A wrapped OA v2 document is ``{"version", "data", "signature"}`` (plus ``privacy`` once fields
were obfuscated). Every leaf of ``data`` is salted as ``"<uuid v4>:<type>:<value>"``; the
document's *target hash* is keccak256 over the sorted hashes of its flattened leaves; a batch of
documents is bound by a Merkle tree whose root goes on chain (a DocumentStore's ``issue``).
The functions here mirror OA's ``saltData``, ``getData``, ``digestDocument``, ``wrapDocuments``
(``MerkleTree``, ``combineHashBuffers``), ``obfuscateDocument`` and ``verifySignature``, and
oa-verify's ``getIntermediateHashes`` (what it asks ``isRevoked`` about).

Values: JSON values only (``dict`` with ``str`` keys, ``list``, ``str``, ``int``, ``float``,
``bool``, ``None``). Numbers are written as JavaScript's ``String(n)`` / ``JSON.stringify``
writes them (``5.0`` -> ``"5"``, ``1e21`` -> ``"1e+21"``, ``1e-7`` -> ``"1e-7"``, ``-0.0`` ->
``"0"``). What JavaScript cannot hold the same way is refused with ``ValueError``: NaN and
infinities, and integers outside the safe range +-(2**53 - 1) (JavaScript would round them).
Keys may not contain ``"."`` (OA refuses them too). Strings are UTF-8; lone surrogates are
escaped exactly as ``JSON.stringify`` escapes them.

Known OA quirks, reproduced rather than fixed: ``getData`` trims JavaScript whitespace around a
salted value (``" a "`` comes back as ``" a"``); obfuscating the only field of an object leaves
an empty ``{}`` leaf, which changes the target hash (OA's verifySignature then fails as well).
Obfuscating a single array element is refused: OA leaves a hole there that JSON turns into
``null``, so the document no longer verifies once serialised.
"""

from __future__ import annotations

import copy
import os
import re
import threading
from collections.abc import Iterable, Sequence
from decimal import Decimal
from json.encoder import encode_basestring
from typing import Any

from eth_hash.auto import keccak as _eth_keccak

from chain.hexcodec import to_bytes32

__all__ = [
    "SCHEMA_V2",
    "salt",
    "unsalt",
    "target_hash",
    "wrap",
    "obfuscate",
    "check_integrity",
    "intermediate_hashes",
]

SCHEMA_V2 = "https://schema.openattestation.com/2.0/schema.json"
PROOF_TYPE = "SHA3MerkleProof"

_MAX_SAFE_INT = 2**53 - 1
_UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", re.IGNORECASE)
_UUID_LENGTH = 37  # 36 characters and the colon (OA's UUIDV4_LENGTH)
# String.prototype.trim: WhiteSpace and LineTerminator (differs from str.strip's set)
_JS_WHITESPACE = "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_JS_DECIMAL = re.compile(r"^[+-]?(?:Infinity|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)$")
_JS_RADIX = re.compile(r"^0(?:[xX][0-9a-fA-F]+|[oO][0-7]+|[bB][01]+)$")
_ADDRESS = re.compile(r"^0x[a-fA-F0-9]{40}$")
_SURROGATE = re.compile("[\ud800-\udfff]")
_ARRAY_INDEX = re.compile(r"^(?:0|[1-9][0-9]*)$")


# -- keccak256 ---------------------------------------------------------------------------------


def _fast_keccak():
    """keccak256 straight on pycryptodome's C state (the backend eth_hash uses here) through
    cffi, one state per thread: 3 to 5 times faster than ``eth_hash`` for the short strings OA
    hashes. Checked against ``eth_hash`` at import; ``None`` (use ``eth_hash``) when unavailable."""
    try:
        from Crypto.Hash.keccak import _raw_keccak_lib as lib
        from Crypto.Util._raw_api import SmartPointer, VoidPointer, backend, ffi
    except ImportError:
        return None
    if backend != "cffi":
        return None
    local = threading.local()
    buffer = ffi.buffer

    def new_state():
        pointer = VoidPointer()
        if lib.keccak_init(pointer.address_of(), 64, 24):
            raise RuntimeError("keccak_init failed")
        local.state = state = (SmartPointer(pointer.get(), lib.keccak_destroy), ffi.new("uint8_t[]", 32))
        return state

    def hasher(data: bytes) -> bytes:
        try:
            owner, out = local.state
        except AttributeError:
            owner, out = new_state()
        handle = owner.get()
        lib.keccak_reset(handle)
        lib.keccak_absorb(handle, data, len(data))
        lib.keccak_digest(handle, out, 32, 1)
        return buffer(out)[:]

    try:
        for sample in (b"", b"abc", "测试".encode() * 100, bytes(range(256)) * 3):
            if hasher(sample) != _eth_keccak(sample) or hasher(sample) != _eth_keccak(sample):
                return None
    except Exception:  # noqa: BLE001 - any trouble with the private API: use eth_hash
        return None
    return hasher


keccak = _fast_keccak() or _eth_keccak


# -- JavaScript value formatting --------------------------------------------------------------


def _js_number(value: int | float) -> str:
    """``String(value)`` in JavaScript, for the numbers that survive the trip unchanged."""
    if isinstance(value, int):
        if -_MAX_SAFE_INT <= value <= _MAX_SAFE_INT:
            return str(value)
        raise ValueError(f"integer {value} is outside JavaScript's safe range (+-2**53 - 1); write it as a string")
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"{value!r} has no JSON form; OpenAttestation cannot salt it reproducibly")
    if value == 0:
        return "0"  # -0 too
    sign = "-" if value < 0 else ""
    # repr gives the shortest round-tripping digits, as ECMAScript's Number::toString does
    _, digit_tuple, finite_exponent = Decimal(repr(abs(value))).as_tuple()
    exponent = int(finite_exponent)  # an int: NaN and the infinities were refused above
    digits = "".join(map(str, digit_tuple)).rstrip("0")
    exponent += len("".join(map(str, digit_tuple))) - len(digits)
    k = len(digits)
    n = exponent + k  # value = 0.digits * 10**n
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = f"{digits[:n]}.{digits[n:]}"
    elif -6 < n <= 0:
        text = "0." + "0" * -n + digits
    else:
        e = n - 1
        mantissa = digits if k == 1 else f"{digits[0]}.{digits[1:]}"
        text = f"{mantissa}e{'+' if e >= 0 else '-'}{abs(e)}"
    return sign + text


def _js_string(text: str) -> str:
    """``JSON.stringify(text)`` (lone surrogates are fixed up later, in :func:`_utf8`)."""
    return encode_basestring(text)


def _js_json(value: Any) -> str:
    """``JSON.stringify(value)`` without spaces, for JSON values."""
    if isinstance(value, str):
        return encode_basestring(value)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return _js_number(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{_js_string(_key(k))}:{_js_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_js_json(v) for v in value) + "]"
    raise ValueError(f"{type(value).__name__} is not a JSON value")


def _utf8(text: str) -> bytes:
    """UTF-8 of a JSON text as JavaScript hashes it (js-sha3 encodes the UTF-16 string)."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        # surrogate code points: pairs become one character, lone ones are escaped like JSON.stringify does
        joined = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
        return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", joined).encode("utf-8")


def _key(key: Any) -> str:
    if not isinstance(key, str):
        raise ValueError(f"object keys must be strings, not {type(key).__name__} ({key!r})")
    return key


def _js_keys(obj: dict) -> list[str]:
    """``Object.keys`` order: array-index keys ascending first, then the others as inserted."""
    keys = list(obj)
    indices = [k for k in keys if _ARRAY_INDEX.match(k) and int(k) < 2**32 - 1]
    if not indices:
        return keys
    rest = [k for k in keys if not (_ARRAY_INDEX.match(k) and int(k) < 2**32 - 1)]
    return sorted(indices, key=int) + rest


def _to_js_number(text: str) -> int | float:
    """JavaScript's ``Number(text)``; integral results in the safe range come back as ``int``."""
    text = text.strip(_JS_WHITESPACE)
    if not text:
        return 0
    if _JS_RADIX.match(text):
        return int(text, 0)
    if not _JS_DECIMAL.match(text):
        return float("nan")
    if text.lstrip("+-") == "Infinity":
        return float("-inf") if text.startswith("-") else float("inf")
    number = float(text)
    if "." not in text and "e" not in text.lower() and number.is_integer() and abs(number) <= _MAX_SAFE_INT:
        return int(number)
    return number


# -- salting ------------------------------------------------------------------------------------

_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}


def _uuid4() -> str:
    """A random (RFC 4122 version 4) UUID from os.urandom, as uuid.uuid4() but about twice as fast."""
    h = os.urandom(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"


def _salt_value(value: Any) -> Any:
    if isinstance(value, str):
        return f"{_uuid4()}:string:{value}"
    if isinstance(value, bool):
        return f"{_uuid4()}:boolean:{'true' if value else 'false'}"
    if isinstance(value, (int, float)):
        return f"{_uuid4()}:number:{_js_number(value)}"
    if value is None:
        return f"{_uuid4()}:null:null"
    if isinstance(value, dict):
        return {_key(k): _salt_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_salt_value(v) for v in value]
    raise ValueError(f"cannot salt a {type(value).__name__}: only JSON values are supported")


def salt(data: dict) -> dict:
    """Salt every leaf of ``data`` as OA's ``saltData`` does: ``"<uuid v4>:<type>:<value>"``.

    Types are ``string``, ``number``, ``boolean`` and ``null``; objects and arrays are walked.
    Raises ``ValueError`` for anything JavaScript would not reproduce exactly (see the module doc).
    """
    if not isinstance(data, dict):
        raise ValueError("OpenAttestation data must be an object")
    return _salt_value(data)


def _unsalt_value(value: Any) -> Any:
    if isinstance(value, str):
        head = value.split(":", 1)[0]
        if not _UUID4.match(head):
            return value
        typed = value[_UUID_LENGTH:].strip(_JS_WHITESPACE)
        kind, _, text = typed.partition(":")
        if kind == "string":
            return text
        if kind == "number":
            return _to_js_number(text)
        if kind == "boolean":
            return text == "true"
        if kind == "null":
            return None
        if kind == "undefined":
            return _UNDEFINED
        raise ValueError(f"Parsing error, type annotation not found in string: {typed}")
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            v = _unsalt_value(v)
            if v is not _UNDEFINED:
                out[k] = v
        return out
    if isinstance(value, list):
        return [None if v is _UNDEFINED else v for v in map(_unsalt_value, value)]
    return value


_UNDEFINED = object()


def unsalt(data: dict) -> dict:
    """The plain data of salted ``data`` (OA's ``getData`` / ``unsaltData``).

    Strings that do not start with a UUID v4 are returned as they are. An ``undefined`` value
    drops its key (in arrays it becomes ``None``), as JSON would write it. A salted string with an
    unknown type raises ``ValueError``, like OA.
    """
    result = _unsalt_value(data)
    if result is _UNDEFINED:
        raise ValueError("data is undefined")
    return result


# -- digest ---------------------------------------------------------------------------------------


def _leaf_hashes(value: Any, prefix: str, out: dict[str, str]) -> None:
    """flatley's flatten (OA's filter: no '.' in keys), then keccak256(JSON.stringify({k: v}))."""
    if isinstance(value, dict):
        items: Iterable = value.items()
    elif isinstance(value, list):
        items = ((str(i), v) for i, v in enumerate(value))
    else:
        raise ValueError("data must be an object")
    for key, child in items:
        if not isinstance(key, str):
            raise ValueError(f"object keys must be strings, not {type(key).__name__} ({key!r})")
        if "." in key:
            raise ValueError(f"Key names must not have . in them: {key!r}")
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(child, (dict, list)) and child:
            _leaf_hashes(child, path, out)
            continue
        if path in out:  # only reachable through a top-level "" key (flatley drops the empty prefix)
            raise ValueError(f"flattened key {path!r} appears twice; OpenAttestation's result would depend on key order")
        if isinstance(child, str):
            text = f"{{{encode_basestring(path)}:{encode_basestring(child)}}}"
        else:
            text = f"{{{encode_basestring(path)}:{_js_json(child)}}}"
        out[path] = keccak(_utf8(text)).hex()


def _digest_hex(salted_data: dict, obfuscated: Iterable[str]) -> str:
    hashes: dict[str, str] = {}
    _leaf_hashes(salted_data, "", hashes)
    combined = list(obfuscated)
    for item in combined:
        if not isinstance(item, str):
            raise ValueError(f"obfuscated hashes must be hex strings, not {item!r}")
    combined.extend(hashes.values())
    combined.sort()
    return keccak(_utf8("[" + ",".join(map(encode_basestring, combined)) + "]")).hex()


def target_hash(salted_data: dict, obfuscated: Sequence[str] = ()) -> bytes:
    """The document's target hash (OA's ``digestDocument``), 32 bytes.

    Each leaf of the flattened data (``"recipient.name"``, ``"items.0.price"``; empty objects and
    arrays are leaves too) is hashed as ``keccak256(JSON.stringify({path: value}))``; these hex
    hashes and the ``obfuscated`` ones (``privacy.obfuscatedData``) are sorted, and the result is
    ``keccak256(JSON.stringify(sorted_hex_hashes))``.
    """
    return bytes.fromhex(_digest_hex(salted_data, obfuscated))


# -- Merkle tree ------------------------------------------------------------------------------


def _combine(first: bytes, second: bytes) -> bytes:
    return keccak(first + second if first <= second else second + first)


def _merkle(leaves: list[bytes]) -> tuple[bytes, list[list[bytes]]]:
    """OA's MerkleTree: sorted leaves, pairs hashed sorted, an odd last node moves up unchanged."""
    layer = sorted(leaves)
    layers = [layer]
    while len(layer) > 1:
        nxt = [_combine(layer[i], layer[i + 1]) for i in range(0, len(layer) - 1, 2)]
        if len(layer) % 2:
            nxt.append(layer[-1])
        layers.append(nxt)
        layer = nxt
    return layer[0], layers


def merkle_root(target_hashes: list[bytes]) -> bytes:
    """The Merkle root a batch with these target hashes is issued under (an agency's client
    recomputes it before it signs ``issue(root)``)."""
    return _merkle(list(target_hashes))[0]


def _proof(index: int, layers: list[list[bytes]]) -> list[bytes]:
    proof = []
    for layer in layers:
        pair = index - 1 if index % 2 else index + 1
        if pair < len(layer):
            proof.append(layer[pair])
        index //= 2
    return proof


# -- schema (the part issuers need) ---------------------------------------------------------------


def _check_issuers(data: Any, where: str) -> None:
    """The OA v2 schema's rules for issuers, with clear messages. Raises ``ValueError``."""
    if not isinstance(data, dict):
        raise ValueError(f"{where}: OpenAttestation data must be an object")
    issuers = data.get("issuers")
    if not isinstance(issuers, list) or not issuers:
        raise ValueError(f"{where}: 'issuers' must be a non-empty list")
    for i, issuer in enumerate(issuers):
        at = f"{where}: issuers[{i}]"
        if not isinstance(issuer, dict):
            raise ValueError(f"{at} must be an object")
        if not isinstance(issuer.get("name"), str):
            raise ValueError(f"{at} needs a 'name' (string)")
        stores = [k for k in ("documentStore", "certificateStore", "tokenRegistry") if k in issuer]
        proof = issuer.get("identityProof")
        if len(stores) > 1:
            raise ValueError(f"{at} has {' and '.join(stores)}: give exactly one of documentStore, certificateStore, tokenRegistry")
        if stores:
            address = issuer[stores[0]]
            if not isinstance(address, str) or not _ADDRESS.match(address):
                raise ValueError(f"{at}.{stores[0]} must be a 0x-prefixed 20-byte hex address, not {address!r}")
            if not isinstance(proof, dict) or proof.get("type") != "DNS-TXT" or not isinstance(proof.get("location"), str):
                raise ValueError(f'{at} needs identityProof {{"type": "DNS-TXT", "location": "<domain>"}}')
            continue
        if not isinstance(issuer.get("id"), str):
            raise ValueError(f"{at} needs one of documentStore, certificateStore, tokenRegistry (an address) or id (a DID)")
        if not isinstance(proof, dict) or proof.get("type") not in ("DNS-DID", "DID") or not isinstance(proof.get("key"), str):
            raise ValueError(f"{at} with an id needs identityProof of type DNS-DID or DID with a 'key'")
        if proof["type"] == "DNS-DID" and not isinstance(proof.get("location"), str):
            raise ValueError(f"{at}: a DNS-DID identityProof needs a 'location'")
    recipient = data.get("recipient")
    if recipient is not None and (not isinstance(recipient, dict) or not isinstance(recipient.get("name", ""), str)):
        raise ValueError(f"{where}: recipient must be an object whose name is a string")


# -- wrap -----------------------------------------------------------------------------------------


def wrap(datas: list[dict], *, salted: bool = False) -> list[dict]:
    """Wrap a batch into one Merkle tree, exactly like OA's ``wrapDocuments``.

    Returns one document per input, in order: ``{"version": SCHEMA_V2, "data": <salted>,
    "signature": {"type": "SHA3MerkleProof", "targetHash", "proof", "merkleRoot"}}`` with hex
    strings without ``0x``. With ``salted=True`` the data are taken as already salted (and are
    shared with the returned documents, not copied). Each document's issuers are checked against
    the OA v2 schema rules (name; exactly one of documentStore/certificateStore/tokenRegistry with
    a DNS-TXT identityProof location, or a DID id); violations raise ``ValueError``.
    """
    if not datas:
        raise ValueError("nothing to wrap: the batch is empty")
    salted_datas = []
    for i, data in enumerate(datas):
        if salted:
            if not isinstance(data, dict):
                raise ValueError(f"document {i}: OpenAttestation data must be an object")
            # only the parts the checks read are unsalted
            _check_issuers({k: _unsalt_value(data[k]) for k in ("issuers", "recipient") if k in data}, f"document {i}")
            salted_datas.append(data)
        else:
            _check_issuers(data, f"document {i}")
            salted_datas.append(salt(data))
    leaves = [bytes.fromhex(_digest_hex(d, ())) for d in salted_datas]
    root, layers = _merkle(leaves)
    root_hex = root.hex()
    first_index: dict[bytes, int] = {}
    for index, leaf in enumerate(layers[0]):
        first_index.setdefault(leaf, index)
    return [
        {
            "version": SCHEMA_V2,
            "data": data,
            "signature": {
                "type": PROOF_TYPE,
                "targetHash": leaf.hex(),
                "proof": [p.hex() for p in _proof(first_index[leaf], layers)],
                "merkleRoot": root_hex,
            },
        }
        for data, leaf in zip(salted_datas, leaves)
    ]


# -- obfuscation --------------------------------------------------------------------------------

_PATH_TOKEN = re.compile(r"""[^.[\]]+|\[(?:(-?\d+(?:\.\d+)?)|(["'])((?:(?!\2)[^\\]|\\.)*?)\2)\]|(?=(?:\.|\[\])(?:\.|\[\]|$))""")


def _parse_path(path: str) -> list[str]:
    """lodash's path syntax: ``a.b``, ``a[0].b``, ``a["x"]``."""
    if not isinstance(path, str) or not path:
        raise ValueError(f"obfuscation paths must be non-empty strings, not {path!r}")
    keys: list[str] = []
    if path.startswith("."):
        keys.append("")
    for match in _PATH_TOKEN.finditer(path):
        number, quote, quoted = match.group(1), match.group(2), match.group(3)
        if quote:
            keys.append(re.sub(r"\\(\\)?", r"\1", quoted))
        elif number is not None:
            keys.append(number)
        else:
            keys.append(match.group(0))
    return keys


def _child(container: Any, key: str) -> tuple[bool, Any]:
    """(exists, value) of one path step, through objects and arrays only."""
    if isinstance(container, dict):
        return (key in container, container.get(key))
    if isinstance(container, list) and _ARRAY_INDEX.match(key) and int(key) < len(container):
        return True, container[int(key)]
    return False, None


class _Picked(dict):
    """A container lodash's ``pick`` created (as opposed to a value taken from the data)."""


def _flatten_picked(value: Any, prefix: str, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        items = [(k, value[k]) for k in _js_keys(value)]
    else:
        items = [(str(i), v) for i, v in enumerate(value)]
    for key, child in items:
        if "." in key:
            raise ValueError(f"Key names must not have . in them: {key!r}")
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(child, (dict, list)) and child:
            _flatten_picked(child, path, out)
        else:
            out[path] = child


def obfuscate(document: dict, paths: list[str]) -> dict:
    """Hide fields of a wrapped document, as OA's ``obfuscateDocument`` does; returns a new document.

    ``paths`` use lodash syntax (``"recipient.name"``, ``"items[0].price"``). The removed leaves'
    hashes are appended to ``privacy.obfuscatedData`` so the target hash stays the same. Paths
    that do not exist are ignored. A path ending at an array element raises ``ValueError``
    (OA leaves a hole that JSON turns into ``null``, which breaks the document).
    """
    if isinstance(paths, str):
        paths = [paths]
    data = copy.deepcopy(document["data"])
    parsed = [_parse_path(p) for p in paths]
    for path, keys in zip(paths, parsed):
        parent: Any = data
        for key in keys[:-1]:
            exists, parent = _child(parent, key)
            if not exists:
                break
        else:
            if isinstance(parent, list) and _child(parent, keys[-1])[0]:
                raise ValueError(f"cannot obfuscate the array element {path!r}: obfuscate the whole array or a field inside the element")
    # lodash pick: the picked paths, nested as in the data
    picked: dict = _Picked()
    for keys in parsed:
        node: Any = data
        for key in keys:
            exists, node = _child(node, key)
            if not exists:
                break
        else:
            target = picked
            for i, key in enumerate(keys[:-1]):
                current = target.get(key)
                if not isinstance(current, _Picked):
                    if current is not None:  # a whole value is already picked above this path
                        break
                    current = target[key] = _Picked()
                target = current
            else:
                target[keys[-1]] = node
    flat: dict[str, Any] = {}
    _flatten_picked(picked, "", flat)
    hidden = [keccak(_utf8(f"{{{encode_basestring(k)}:{_js_json(v)}}}")).hex() for k, v in flat.items()]
    # lodash unset
    for keys in parsed:
        parent = data
        for key in keys[:-1]:
            exists, parent = _child(parent, key)
            if not exists:
                break
        else:
            if isinstance(parent, dict):
                parent.pop(keys[-1], None)
    out = dict(document)
    out["data"] = data
    privacy = dict(document.get("privacy") or {})
    privacy["obfuscatedData"] = list(privacy.get("obfuscatedData") or []) + hidden
    out["privacy"] = privacy
    return out


# -- verification ---------------------------------------------------------------------------------


def _hex32(value: Any) -> bytes:
    """A hash as OpenAttestation writes it: bare hex (no ``0x``), 32 bytes."""
    if not isinstance(value, str) or value.startswith(("0x", "0X")):
        raise ValueError(f"{value!r} is not a bare hex string")
    return to_bytes32(value, repr(value))


def check_integrity(document: dict) -> tuple[bool, str]:
    """OA's ``verifySignature`` for v2, with a reason: ``(True, "ok")`` or ``(False, why)``.

    Recomputes the target hash from ``data`` and ``privacy.obfuscatedData``, compares it with
    ``signature.targetHash``, and checks that ``signature.proof`` leads to ``signature.merkleRoot``.
    """
    if not isinstance(document, dict):
        return False, "document is not an object"
    signature = document.get("signature")
    if not isinstance(signature, dict) or not signature:
        return False, "document has no signature"
    data = document.get("data")
    if not isinstance(data, dict):
        return False, "document has no data"
    privacy = document.get("privacy")
    obfuscated = privacy.get("obfuscatedData", []) if isinstance(privacy, dict) else []
    if not isinstance(obfuscated, list):
        return False, "privacy.obfuscatedData is not a list"
    try:
        digest = _digest_hex(data, obfuscated)
    except ValueError as exc:
        return False, f"data cannot be digested: {exc}"
    if digest != signature.get("targetHash"):
        return False, "target hash does not match the data"
    proof = signature.get("proof")
    if proof is None:
        proof = []
    try:
        node = _hex32(digest)
        if not isinstance(proof, list):
            raise ValueError("proof is not a list")
        for step in proof:
            node = _combine(node, _hex32(step))
        root = _hex32(signature.get("merkleRoot"))
    except ValueError as exc:
        return False, f"malformed signature: {exc}"
    if node != root:
        return False, "merkle proof does not lead to the merkle root"
    return True, "ok"


def intermediate_hashes(target_hash: bytes, proof: list[bytes]) -> list[bytes]:
    """The hashes oa-verify asks a DocumentStore's ``isRevoked`` about (``getIntermediateHashes``):
    the target hash, then each node up the proof; the last one is the Merkle root.
    Revoking any of them revokes the document."""
    hashes = [bytes(target_hash)]
    node = bytes(target_hash)
    for step in proof:
        node = _combine(node, bytes(step))
        hashes.append(node)
    return hashes
