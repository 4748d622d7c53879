"""Transport and transactions: connect to a node, sign locally, keep nonces, await receipts.

Nothing here uses ``eth_sendTransaction`` (Besu refuses it): every transaction is signed
with eth-account (``coincurve`` makes that fast) and sent raw. One lock and local counter
per sending key keep nonces right under many concurrent senders.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol, cast

import requests
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import TimeExhausted, Web3Exception, Web3RPCError
from web3.middleware import ExtraDataToPOAMiddleware
from web3.types import RPCEndpoint, TxParams

from chain import reverts
from chain.errors import ChainMismatch, ChainUnavailable, ContractRevert, NonceTaken, ReceiptTimeout, TransactionFailed
from chain.node_errors import NodeError, classify
from chain.hexcodec import hx

DEFAULT_PRIORITY_FEE = Web3.to_wei(1, "gwei")


class FeeMode(str, Enum):
    EIP1559 = "eip1559"
    LEGACY = "legacy"
    ZERO = "zero"  # free gas (anvil --base-fee 0, Besu min-gas-price 0)


def connect(url: str, *, timeout: float = 10.0) -> Web3:
    """A Web3 over HTTP that fails fast (no silent retries) so callers can say 503."""
    # web3's validation middleware asks for eth_chainId twice on every call and transaction:
    # cache that one answer (only that: blocks must not be cached on chains that reorg or revert)
    provider = Web3.HTTPProvider(
        url, request_kwargs={"timeout": timeout}, exception_retry_configuration=None,
        cache_allowed_requests=True, cacheable_requests={RPCEndpoint("eth_chainId")},
    )  # fmt: skip
    w3 = Web3(provider)
    try:
        genesis = w3.eth.get_block(0)
    except (requests.RequestException, OSError, Web3Exception) as exc:
        raise ChainUnavailable(f"no JSON-RPC node answers at {url}: {exc}") from None
    if len(genesis.get("extraData", b"")) > 32:  # QBFT/clique: long extraData
        w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
    return w3


class NonceManager:
    """One lock and one local counter per sending address.

    The counter starts at the node's pending count and moves only after the node accepted
    a transaction. A failed send resynchronises from the node.
    """

    def __init__(self, w3: Web3):
        self.w3 = w3
        self._locks: dict[str, threading.Lock] = {}
        self._next: dict[str, int] = {}
        self._guard = threading.Lock()

    def lock(self, address: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(address, threading.Lock())

    def peek(self, address: str) -> int:
        """The next nonce; call with ``lock(address)`` held."""
        if address not in self._next:
            self._next[address] = self.w3.eth.get_transaction_count(cast(ChecksumAddress, address), "pending")
        return self._next[address]

    def advance(self, address: str) -> None:
        self._next[address] += 1

    def forget(self, address: str) -> None:
        self._next.pop(address, None)

    def reset(self) -> None:
        """Forget every counter (after an outbox resume, or a node restart); safe while other
        threads send: each counter is forgotten under its own lock."""
        with self._guard:
            locks = list(self._locks.items())
        for address, lock in locks:
            with lock:
                self._next.pop(address, None)


class Sender(Protocol):
    """Whoever a transaction is built for: only its address is read (a LocalAccount is one; an
    agency that signs in its own client is one too, its key never here)."""

    @property
    def address(self) -> str: ...


@dataclass
class Receipt:
    tx_hash: str
    block_number: int
    gas_used: int
    status: int
    logs: list
    raw: Any

    @property
    def ok(self) -> bool:
        return self.status == 1

    @classmethod
    def of(cls, tx_hash: str, raw) -> "Receipt":
        return cls(tx_hash, raw["blockNumber"], raw["gasUsed"], raw["status"], list(raw["logs"]), raw)


class ChainClient:
    """The chain client: fees, signing, sending and receipts for any number of keys.

    ``expected_chain_id`` is checked against the node's; ``fee_mode`` is detected from the
    node unless given; receipts are polled every ``poll_latency`` seconds for at most
    ``receipt_timeout`` seconds (works with instant and interval mining alike).
    """

    def __init__(
        self,
        w3: Web3,
        *,
        expected_chain_id: int | None = None,
        fee_mode: FeeMode | None = None,
        priority_fee: int = DEFAULT_PRIORITY_FEE,
        receipt_timeout: float = 60.0,
        poll_latency: float = 0.005,
    ):
        self.w3 = w3
        self.chain_id = self._call(lambda: w3.eth.chain_id)
        if expected_chain_id is not None and self.chain_id != expected_chain_id:
            raise ChainMismatch(f"node reports chain id {self.chain_id}, configuration expects {expected_chain_id}")
        self.fee_mode = fee_mode or self._detect_fee_mode()
        self.priority_fee = 0 if self.fee_mode is FeeMode.ZERO else priority_fee
        self.receipt_timeout = receipt_timeout
        self.poll_latency = poll_latency
        self.nonces = NonceManager(w3)
        # ganache 7 stops answering when an estimate overlaps a transaction being mined, so
        # on ganache estimates and sends take turns; real nodes (anvil, Besu) run them freely.
        self._is_ganache = "ganache" in self._call(lambda: w3.client_version).lower()
        self._serialize = threading.Lock() if self._is_ganache else contextlib.nullcontext()

    @classmethod
    def from_url(cls, url: str, **kwargs) -> "ChainClient":
        return cls(connect(url), **kwargs)

    def _call(self, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except (requests.ConnectionError, requests.Timeout, ConnectionError) as exc:
            raise ChainUnavailable(f"chain node unreachable: {exc}") from None

    def _detect_fee_mode(self) -> FeeMode:
        latest = self._call(lambda: self.w3.eth.get_block("latest"))
        base_fee = latest.get("baseFeePerGas")
        if base_fee is None:
            return FeeMode.ZERO if self._call(lambda: self.w3.eth.gas_price) == 0 else FeeMode.LEGACY
        return FeeMode.ZERO if base_fee == 0 else FeeMode.EIP1559

    def fee_fields(self, latest=None) -> dict[str, int]:
        """Fee fields for the next transaction; ``latest`` saves a fetch if the caller has the block."""
        if self.fee_mode is FeeMode.ZERO:
            return {"gasPrice": 0}
        if self.fee_mode is FeeMode.LEGACY:
            return {"gasPrice": self._call(lambda: self.w3.eth.gas_price)}
        base_fee = (latest or self._call(lambda: self.w3.eth.get_block("latest")))["baseFeePerGas"]
        return {"maxFeePerGas": 2 * base_fee + self.priority_fee, "maxPriorityFeePerGas": self.priority_fee}

    # -- building -------------------------------------------------------------------------

    def build(self, account: Sender, call=None, *, to: str | None = None, data: str = "0x", value: int = 0, gas: int | None = None) -> dict:
        """An unsigned transaction for a contract call (``call``) or raw ``to``/``data``.

        Gas is estimated unless given; a call that would revert raises its named error now,
        before anything is signed or sent.
        """
        estimate = gas is None
        # one look at the latest block serves both the fee and ganache's clock check
        latest = self._call(lambda: self.w3.eth.get_block("latest")) if self.fee_mode is FeeMode.EIP1559 or self._is_ganache else None
        tx: dict[str, Any] = {"from": account.address, "chainId": self.chain_id, "value": value, **self.fee_fields(latest)}
        try:
            with self._serialize:
                if call is not None:
                    tx = call.build_transaction({**tx, "gas": gas or 0})
                    tx.pop("gas")
                else:
                    tx.update({"data": data, **({"to": to} if to else {})})
                if estimate:
                    self._catch_up_dev_clock(latest)
                    # "pending": the next block's context, so time windows are judged at the time the
                    # transaction will really be mined, not at the latest block's (possibly old) time
                    tx["gas"] = self.w3.eth.estimate_gas(cast(TxParams, tx), "pending")
                else:
                    tx["gas"] = gas
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise ChainUnavailable(f"chain node unreachable: {exc}") from None
        except Web3Exception as exc:
            raise (reverts.from_web3(exc) or exc) from None
        if estimate:
            tx["gas"] = int(tx["gas"] * 1.2) + 10_000  # headroom: state may move between estimate and mining
        tx.pop("from", None)
        return tx

    def _catch_up_dev_clock(self, latest) -> None:
        """ganache runs even "pending" estimates at the latest block's time; on an idle dev
        chain that time can lag the clock by minutes, so a call gated on time would be judged
        too early. There (only there: ganache is a dev node) an empty block brings it up to date."""
        if self._is_ganache and latest["timestamp"] < time.time() - 1:
            self.w3.provider.make_request(RPCEndpoint("evm_mine"), [])

    # -- signing and sending ------------------------------------------------------------

    def sign_with_nonce(self, account: LocalAccount, tx: dict, nonce: int) -> tuple[bytes, str]:
        signed = account.sign_transaction({**tx, "nonce": nonce})
        return bytes(signed.raw_transaction), hx(signed.hash)

    def send_raw(self, raw: bytes) -> str:
        try:
            with self._serialize:
                return hx(self.w3.eth.send_raw_transaction(raw))
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise ChainUnavailable(f"chain node unreachable: {exc}") from None

    def send(
        self, account: LocalAccount, tx: dict, *, before_send: Callable[[int, bytes, str], None] | None = None,
        before_sign: Callable[[], bool] | None = None, after_send: Callable[[], None] | None = None,
    ) -> str:  # fmt: skip
        """Sign ``tx`` with the next nonce of ``account`` and send it; returns the hash.

        ``before_sign()`` runs first with the nonce lock held (the outbox re-broadcasts what an
        earlier failed send left stored); when it returns True the counter is re-read from the
        node. ``before_send(nonce, raw, tx_hash)`` runs with the lock held, after signing and
        before sending (the outbox stores the signed transaction there). ``after_send()`` runs
        with the lock still held once the node has taken the transaction (the outbox marks it
        sent there, so the next ``before_sign`` never mistakes it for one left unsent).
        """
        address = account.address
        with self.nonces.lock(address):
            if before_sign is not None and before_sign():
                self.nonces.forget(address)
            nonce = self.nonces.peek(address)
            raw, tx_hash = self.sign_with_nonce(account, tx, nonce)
            if before_send:
                before_send(nonce, raw, tx_hash)
            try:
                self.send_raw(raw)
            except Web3RPCError as exc:
                self.nonces.forget(address)
                refused = NonceTaken if classify(exc) is NodeError.NONCE_TAKEN else TransactionFailed
                raise refused(f"node refused transaction {tx_hash} (nonce {nonce}): {exc.message}", tx_hash) from None
            except ChainUnavailable:
                self.nonces.forget(address)
                raise
            self.nonces.advance(address)
            if after_send:
                after_send()
            return tx_hash

    def wait(self, tx_hash: str, timeout: float | None = None) -> Receipt:
        timeout = self.receipt_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while True:
            try:
                raw = self.w3.eth.wait_for_transaction_receipt(HexBytes(tx_hash), timeout=max(deadline - time.monotonic(), 0.0), poll_latency=self.poll_latency)
            except TimeExhausted:
                raise ReceiptTimeout(tx_hash, timeout) from None
            except (requests.ConnectionError, requests.Timeout) as exc:
                raise ChainUnavailable(f"chain node unreachable while awaiting {tx_hash}: {exc}") from None
            except Web3RPCError as exc:
                # ganache 7 with interval mining sometimes fails a receipt query for a transaction
                # being mined ("Cannot read properties of undefined (reading 'toJSON')"): not yet
                if not self._is_ganache or "toJSON" not in str(exc.message) or time.monotonic() > deadline:
                    raise
                time.sleep(self.poll_latency)
                continue
            return Receipt.of(tx_hash, raw)

    def receipt_or_none(self, tx_hash: str) -> Receipt | None:
        try:
            raw = self.w3.eth.get_transaction_receipt(HexBytes(tx_hash))
        except Web3Exception:
            return None
        if raw is None:
            return None
        return Receipt.of(tx_hash, raw)

    def explain_failure(self, tx: dict, account: LocalAccount, receipt: Receipt) -> ContractRevert | TransactionFailed:
        """Replay a mined-but-failed transaction as a call to learn its custom error."""
        call = {k: v for k, v in tx.items() if k in ("to", "data", "value", "gas")}
        call["from"] = account.address
        try:
            self.w3.eth.call(cast(TxParams, call), block_identifier=receipt.block_number - 1)
        except Web3Exception as exc:
            named = reverts.from_web3(exc)
            if named is not None:
                return named
        out_of_gas = " (out of gas)" if receipt.gas_used >= tx.get("gas", 0) else ""
        return TransactionFailed(
            f"transaction {receipt.tx_hash} failed (status 0) in block {receipt.block_number}: gas used {receipt.gas_used} of {tx.get('gas')}{out_of_gas}",
            receipt.tx_hash,
        )

    def transact(self, account: LocalAccount, call=None, *, to: str | None = None, data: str = "0x", gas: int | None = None) -> Receipt:
        """Build, sign, send and await one transaction; raise its named error if it fails.

        A nonce someone else took with the same key (see :class:`NonceTaken`) is signed again
        once, with the node's count: the refused transaction never existed for the chain."""
        tx = self.build(account, call, to=to, data=data, gas=gas)
        try:
            tx_hash = self.send(account, tx)
        except NonceTaken:
            tx_hash = self.send(account, tx)
        receipt = self.wait(tx_hash)
        if not receipt.ok:
            raise self.explain_failure(tx, account, receipt)
        return receipt

    def block_number(self) -> int:
        return self._call(lambda: self.w3.eth.block_number)

    def wait_until_reachable(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.block_number()
                return
            except ChainUnavailable:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
