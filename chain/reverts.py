"""Turn contract custom errors into named Python exceptions.

Each Solidity ``error Name(type arg, ...)`` in an ABI becomes a subclass of
:class:`chain.errors.ContractRevert` named ``Name`` (one class per name, shared by all
contracts), carrying its decoded arguments by name. Errors whose name says the caller may
not act also derive from :class:`PermissionError`; unknown things from :class:`LookupError`.
"""

from __future__ import annotations

from eth_abi import decode
from eth_utils import function_signature_to_4byte_selector
from eth_utils import to_checksum_address
from web3.exceptions import ContractLogicError, Web3RPCError

from chain.errors import ContractRevert
from chain.node_errors import NodeError, classify_message
from chain.hexcodec import hx

_classes: dict[str, type[ContractRevert]] = {}
_selectors: dict[str, tuple[type[ContractRevert], list[str], list[str]]] = {}


def _builtin_for(name: str) -> type[Exception]:
    if "Unauthorized" in name or "NotAllowed" in name:
        return PermissionError
    if "Unknown" in name or "NotFound" in name:
        return LookupError
    return ValueError


def revert_class(name: str) -> type[ContractRevert]:
    """The exception class for the Solidity error ``name`` (created on first use)."""
    if name not in _classes:
        _classes[name] = type(name, (ContractRevert, _builtin_for(name)), {"name": name, "__module__": __name__})
    return _classes[name]


def _canonical_type(item: dict) -> str:
    if item["type"].startswith("tuple"):
        return "(" + ",".join(_canonical_type(c) for c in item["components"]) + ")" + item["type"][5:]
    return item["type"]


def register_abi(abi: list[dict]) -> None:
    """Learn the custom errors declared in ``abi``."""
    for item in abi:
        if item.get("type") != "error":
            continue
        types = [_canonical_type(i) for i in item["inputs"]]
        selector = hx(function_signature_to_4byte_selector(f"{item['name']}({','.join(types)})"))
        names = [i["name"] or f"arg{n}" for n, i in enumerate(item["inputs"])]
        _selectors[selector] = (revert_class(item["name"]), types, names)


def decode_revert(data: str | bytes | None, message: str | None = None) -> ContractRevert:
    """Build the named exception for revert ``data`` (0x-hex or bytes)."""
    if isinstance(data, bytes):
        data = hx(data)
    if not data or len(data) < 10:
        return ContractRevert(message=message or "execution reverted without data")
    selector = data[:10].lower()
    if selector == "0x08c379a0":  # Error(string)
        (reason,) = decode(["string"], bytes.fromhex(data[10:]))
        return revert_class("Error")({"reason": reason})
    if selector == "0x4e487b71":  # Panic(uint256)
        (code,) = decode(["uint256"], bytes.fromhex(data[10:]))
        return revert_class("Panic")({"code": code})
    if selector not in _selectors:
        return ContractRevert(message=f"unknown custom error {selector} (data {data})")
    cls, types, names = _selectors[selector]
    decoded = decode(types, bytes.fromhex(data[10:]))
    values = [to_checksum_address(v) if t == "address" else v for t, v in zip(types, decoded)]
    return cls(dict(zip(names, values)))


def _revert_data(data: object) -> str | None:
    """anvil gives the revert data as a hex string; ganache as ``{"result": "0x...", ...}``."""
    if isinstance(data, dict):
        data = data.get("result") or data.get("data")
    return data if isinstance(data, str) else None


def from_web3(exc: Exception) -> ContractRevert | None:
    """The named exception for a web3 revert exception, or None if ``exc`` is not a revert."""
    if isinstance(exc, ContractLogicError):
        return decode_revert(_revert_data(exc.data), exc.message)
    if isinstance(exc, Web3RPCError):
        response = exc.rpc_response or {}
        error = response.get("error") if isinstance(response, dict) else None
        data = _revert_data(error.get("data") if isinstance(error, dict) else None)
        if classify_message(str(exc.message)) is not NodeError.REVERT:
            return None
        if isinstance(data, str) and data.startswith("0x"):
            return decode_revert(data, exc.message)
        return ContractRevert(message=str(exc.message))
    return None
