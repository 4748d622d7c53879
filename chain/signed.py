"""Transactions another party signed, as the platform receives them, and calls made readable.

An agency that holds its own key signs its chain writes in its own client and hands the
platform the raw signed bytes; the platform reads them back here (who signed, for which chain,
to which contract, with which calldata) to check them against what it asked for before it
relays them. :func:`describe_call` turns calldata into "function(name=value, ...)" with a
contract's ABI: the platform shows it with each request, and the agency's client decodes the
calldata again itself, with the deployment's ABI, rather than trusting the platform's words.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_account import Account
from eth_account._utils.legacy_transactions import Transaction
from eth_account.typed_transactions import TypedTransaction
from eth_utils import keccak
from hexbytes import HexBytes
from web3 import Web3

from chain.hexcodec import hx


class UnreadableTransaction(ValueError):
    """The bytes are not a signed transaction this chain could take."""


@dataclass(frozen=True)
class SignedTx:
    sender: str
    chain_id: int | None
    nonce: int
    to: str | None
    data: str  # 0x-hex, lower case
    value: int
    tx_hash: str
    raw: bytes


def read_signed(raw: bytes) -> SignedTx:
    """The fields of a raw signed transaction (legacy, EIP-2930 or EIP-1559) and its signer."""
    try:
        if raw[:1] and raw[0] < 0x80:  # typed (EIP-2718): a type byte, then RLP
            fields = TypedTransaction.from_bytes(HexBytes(raw)).as_dict()
            chain_id = fields["chainId"]
        else:
            fields = Transaction.from_bytes(raw).as_dict()
            v = fields["v"]
            chain_id = (v - 35) // 2 if v >= 35 else None  # EIP-155; None: no replay protection
        sender = Account.recover_transaction(raw)
    except Exception as exc:  # rlp, eth_account and eth_keys each raise their own kinds
        raise UnreadableTransaction(f"not a signed transaction: {exc}") from None
    to = fields.get("to")
    return SignedTx(
        sender=sender, chain_id=chain_id, nonce=fields["nonce"], to=Web3.to_checksum_address(to) if to else None,
        data=hx(fields.get("data", b"")), value=fields.get("value", 0), tx_hash=hx(keccak(raw)), raw=raw,
    )  # fmt: skip


def decode_call(abi: list, data: str) -> tuple[str, dict]:
    """``(function name, {argument: value})`` of calldata under ``abi``; ValueError if no function matches."""
    contract = Web3().eth.contract(abi=abi)
    try:
        function, args = contract.decode_function_input(data)
    except Exception as exc:  # web3 raises ValueError for an unknown selector, eth_abi its own decoding errors
        raise ValueError(f"the calldata matches no function of the contract: {exc}") from None
    return function.fn_name, args


def describe_call(contract_name: str, abi: list, data: str) -> str:
    """ "Name.function(arg=value, ...)" for calldata: bytes shown as 0x-hex, the rest as they are."""
    name, args = decode_call(abi, data)
    shown = ", ".join(f"{key}={_shown(value)}" for key, value in args.items())
    return f"{contract_name}.{name}({shown})"


def _shown(value) -> str:
    if isinstance(value, bytes):
        return hx(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    if isinstance(value, dict):  # a struct
        return "{" + ", ".join(f"{k}={_shown(v)}" for k, v in value.items()) + "}"
    return str(value)
