"""Verify an OpenAttestation v2 certificate straight against the chain: the three checks
OpenAttestation's verifier makes, answered from our contracts instead of DNS.

- integrity: the data hashes to ``targetHash`` and the proof leads to ``merkleRoot``;
- status: the store is a contract on this chain, the root is issued there, and neither the
  target hash, any intermediate node nor the root is revoked (as oa-verify checks);
- issuer identity: the store was created through GovRegistry for a member that is active,
  holds ISSUER and whose domain is the document's ``identityProof.location``.

The status check asks a :class:`StatusSource` and names the block its answer holds at. Here:
:class:`ChainStatus`, the chain read directly. The API gives the Verifier an index-backed source
(``api.certificates.status``) that answers from the audit index and falls back to this one.
Nothing here reads the platform's database: the API and ``govchain verify`` share it.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Protocol, TypeVar, cast

import httpx
from eth_typing import ChecksumAddress, HexStr
from eth_utils import function_signature_to_4byte_selector

from chain.addresses import checksum
from chain.documents import DocumentStoreClient
from chain.errors import ChainUnavailable
from chain.members import Members
from chain.node_errors import is_outage, is_revert
from chain.registry import GovRegistryClient, Role
from chain.tx import ChainClient
from identity import oa
from chain.hexcodec import to_bytes32, unhex


@dataclass(frozen=True)
class Check:
    name: str
    valid: bool
    reason: str


@dataclass(frozen=True)
class Verdict:
    integrity: Check
    status: Check
    identity: Check
    checked_at_block: int | None = None  # the block the status answer holds at (None: no status read)
    source: str | None = None  # where the status came from: "index" or "chain"

    @property
    def valid(self) -> bool:
        return self.integrity.valid and self.status.valid and self.identity.valid

    def to_json(self) -> dict:
        return {"valid": self.valid, "checks": [asdict(self.integrity), asdict(self.status), asdict(self.identity)],
                "checkedAtBlock": self.checked_at_block, "source": self.source}  # fmt: skip


@dataclass(frozen=True)
class StatusReading:
    """A status source's answer for one document, at ``block``.

    ``refusal``: the store cannot answer (no contract there, not a DocumentStore); else whether the
    root is issued, whether each node (target hash, intermediate nodes, root) is revoked, and who
    wrote the issuance and the first revocation found (``"issued in block B by key K"``).
    """

    block: int
    source: str
    issued: bool = False
    revoked: tuple[bool, ...] = ()
    issued_by: str = ""
    revoked_by: str = ""
    refusal: str | None = None


class StatusSource(Protocol):
    def read(self, store_address: str, root: bytes, nodes: list[bytes], *, fresh: bool = False) -> StatusReading:
        """Issuance of ``root`` and revocation of each of ``nodes`` in ``store_address``; ``fresh``:
        the caller asked for the chain's own answer now."""
        ...


T = TypeVar("T")


class TimedCache:
    """Values kept for ``seconds`` (registry answers, code checks): they change rarely."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._values: dict[tuple, tuple[float, object]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple, load: Callable[[], T]) -> T:
        now = time.monotonic()
        with self._lock:
            hit = self._values.get(key)
        if hit and now - hit[0] < self.seconds:
            return cast(T, hit[1])
        value = load()
        with self._lock:
            self._values[key] = (now, value)
        return value


def written_by(verb: str, block: int, sender: str, through_registry: bool) -> str:
    """Who wrote an issuance or a revocation, as both status sources say it."""
    through = " (a governor's revocation through GovRegistry)" if through_registry else ""
    return f"{verb} in block {block} by key {sender}{through}"


def _bool_word(raw) -> bool:
    """An ABI-encoded ``bool`` return value; anything else (no code, another function) is refused."""
    data = unhex(raw)
    if len(data) != 32 or int.from_bytes(data, "big") > 1:
        raise ValueError(f"not an ABI bool: 0x{data.hex()}")
    return data[-1] == 1


# The two status reads, encoded by hand: web3's encode_abi looks the function up in the ABI and
# re-hashes every selector on each call, which cost 18 ms of the 22 ms a document took.
IS_ISSUED = function_signature_to_4byte_selector("isIssued(bytes32)").hex()
IS_REVOKED = function_signature_to_4byte_selector("isRevoked(bytes32)").hex()


def _call_data(selector: str, word: bytes) -> str:
    return "0x" + selector + word.hex()


def _node_trouble(exc: Exception) -> bool:
    """The node could not be asked (down, restarting, refusing), as opposed to a contract that
    answered wrongly: a revert or an answer that does not decode."""
    return is_outage(exc)


def _hex(value) -> bytes:
    """A 32-byte hash written as hex (targetHash, merkleRoot, a proof node)."""
    if not isinstance(value, str) or not value:
        raise ValueError("missing")
    return to_bytes32(value, "a hash")


def _issuer(document: dict) -> dict:
    data = document.get("data")
    if not isinstance(data, dict):
        raise ValueError("the document has no data")
    try:
        issuers = oa.unsalt({"issuers": data.get("issuers")}).get("issuers")
    except (ValueError, TypeError, AttributeError) as exc:
        raise ValueError(f"the issuers cannot be read: {exc}") from None
    if not isinstance(issuers, list) or len(issuers) != 1 or not isinstance(issuers[0], dict):
        raise ValueError("a govchain certificate names exactly one issuer")
    return issuers[0]


class ChainStatus:
    """Issuance and revocation read from the chain, at the node's head block (read at most every
    ``head_seconds``; ``fresh`` reads it now), which the answer names. ``head_seconds`` is 0 unless
    given: a verifier of its own (the CLI, a library user) sees a revocation mined a moment ago; the
    API, answering many, reuses the head for ``GOVCHAIN_VERIFY_HEAD_SECONDS`` and names the block.

    A Merkle root found issued is remembered (a DocumentStore never un-issues a root; revoking is a
    separate record). Revocation status is always read, on every verification.

    ``batched`` (the default): the status reads of one document (``isIssued(root)`` unless
    remembered, and ``isRevoked`` of the target hash, every intermediate node and the root) go
    to the node as one JSON-RPC batch of ``eth_call``s, one round trip instead of one per
    read. ``batched=False`` sends them one by one (kept to measure the difference).
    """

    source = "chain"
    MAX_REMEMBERED_ROOTS = 100_000

    def __init__(self, client: ChainClient, registry_address: str, store_abi: list, *, cache_seconds: float = 5.0, batched: bool = True,
                 head_seconds: float = 0.0):  # fmt: skip
        self.client = client
        self.registry_address = checksum(registry_address)
        self.store_abi = store_abi
        self.batched = batched
        self.head_seconds = head_seconds
        self._cache = TimedCache(cache_seconds)
        self._stores: dict[str, DocumentStoreClient] = {}
        self._issued_roots: set[tuple[str, bytes]] = set()
        self._writers: dict[tuple[str, str, bytes], str] = {}
        self._head: tuple[float, int] | None = None
        self._lock = threading.Lock()
        self._http: httpx.Client | None = None
        self._ids = itertools.count(1)

    def head(self, *, fresh: bool = False) -> int:
        """The chain's head block (``eth_blockNumber``, kept ``head_seconds`` unless ``fresh``)."""
        now = time.monotonic()
        known = self._head
        if fresh or known is None or now - known[0] >= self.head_seconds:
            try:
                known = self._head = (now, self.client.block_number())
            except Exception as exc:
                if _node_trouble(exc) or isinstance(exc, ChainUnavailable):
                    raise ChainUnavailable(f"the chain node could not tell its head block: {type(exc).__name__}: {exc}") from None
                raise
        return known[1]

    def store(self, address: str) -> DocumentStoreClient:
        address = checksum(address)
        if address not in self._stores:
            self._stores[address] = DocumentStoreClient(self.client, address, self.store_abi)
        return self._stores[address]

    def read(self, store_address: str, root: bytes, nodes: list[bytes], *, fresh: bool = False) -> StatusReading:
        block = self.head(fresh=fresh)
        has_code = self._cache.get(("code", store_address), lambda: len(self.client.w3.eth.get_code(cast(ChecksumAddress, store_address))) > 0)
        if not has_code:
            return StatusReading(block, self.source, refusal=f"there is no contract at {store_address} on chain {self.client.chain_id}")
        store = self.store(store_address)
        try:
            issued, revoked = self._read_status(store, store_address, root, nodes, block)
        except Exception as exc:  # not a DocumentStore: any revert or decoding error, but not an unreachable node
            if _node_trouble(exc) or isinstance(exc, ChainUnavailable):  # never call a certificate invalid because the node did not answer: 503
                raise ChainUnavailable(f"the chain node could not answer the status reads: {type(exc).__name__}: {exc}") from None
            return StatusReading(block, self.source, refusal=f"{store_address} does not answer as a DocumentStore: {type(exc).__name__}")
        first_revoked = next((node for node, is_revoked in zip(nodes, revoked, strict=True) if is_revoked), None)
        return StatusReading(
            block, self.source, issued, tuple(revoked),
            issued_by=self._written_by(store, "DocumentIssued", root) if issued and first_revoked is None else "",
            revoked_by=self._written_by(store, "DocumentRevoked", first_revoked) if issued and first_revoked is not None else "",
        )  # fmt: skip

    def _written_by(self, store: DocumentStoreClient, event: str, document: bytes) -> str:
        """Which key wrote ``event`` for ``document`` (the issuing key that issued or revoked it, or the
        governor who revoked it through GovRegistry), read from the event's transaction; kept, as a
        hash is issued or revoked once for good."""
        key = (store.address, event, document)
        if key not in self._writers:
            try:
                block = store.issued_block(document) if event == "DocumentIssued" else store.revoked_block(document)
                logs = getattr(store.contract.events, event).get_logs(argument_filters={"document": document}, from_block=block, to_block=block)
                tx = self.client.w3.eth.get_transaction(logs[0]["transactionHash"])
            except Exception as exc:  # the verdict stands without it: say what could not be read
                return f"the sending key could not be read: {type(exc).__name__}"
            verb = "issued" if event == "DocumentIssued" else "revoked"
            if len(self._writers) >= self.MAX_REMEMBERED_ROOTS:
                self._writers.clear()
            self._writers[key] = written_by(verb, block, tx["from"], checksum(tx["to"]) == self.registry_address)
        return self._writers[key]

    def _read_status(self, store: DocumentStoreClient, store_address: str, root: bytes, nodes: list[bytes], block: int) -> tuple[bool, list[bool]]:
        """Whether ``root`` is issued, and whether each of ``nodes`` is revoked, at ``block``."""
        remembered = (store_address, root) in self._issued_roots
        if not self.batched:
            issued = remembered or store.contract.functions.isIssued(root).call(block_identifier=block)
            revoked = []
            for node in nodes:  # stop at the first revoked node, as before batching
                revoked.append(bool(issued) and store.contract.functions.isRevoked(node).call(block_identifier=block))
                if revoked[-1]:
                    break
            revoked += [False] * (len(nodes) - len(revoked))
        else:
            calls = [] if remembered else [_call_data(IS_ISSUED, root)]
            calls += [_call_data(IS_REVOKED, node) for node in nodes]
            answers = [_bool_word(raw) for raw in self._eth_call_batch(store_address, calls, block)]
            issued = remembered or answers[0]
            revoked = answers[0 if remembered else 1 :]
        if issued and not remembered:
            with self._lock:
                if len(self._issued_roots) >= self.MAX_REMEMBERED_ROOTS:
                    self._issued_roots.clear()
                self._issued_roots.add((store_address, root))
        return bool(issued), revoked

    def _eth_call_batch(self, to: str, datas: list[str], block: int) -> list[str]:
        """``eth_call`` each of ``datas`` on ``to`` at ``block``, in one JSON-RPC batch."""
        endpoint = getattr(self.client.w3.provider, "endpoint_uri", None)
        if not endpoint or not str(endpoint).startswith("http"):  # not HTTP: one call at a time
            return [self.client.w3.eth.call({"to": cast(ChecksumAddress, to), "data": HexStr(data)}, block).hex() for data in datas]
        if self._http is None:
            with self._lock:
                if self._http is None:
                    self._http = httpx.Client(timeout=10, limits=httpx.Limits(max_connections=64, max_keepalive_connections=64))
        first = next(self._ids) * 1000
        batch = [{"jsonrpc": "2.0", "id": first + i, "method": "eth_call", "params": [{"to": to, "data": data}, hex(block)]}
                 for i, data in enumerate(datas)]  # fmt: skip
        try:
            response = self._http.post(str(endpoint), json=batch)
            response.raise_for_status()
            replies = {reply.get("id"): reply for reply in response.json()}
        except (httpx.HTTPError, ValueError, TypeError, AttributeError) as exc:  # no answer, or not a JSON-RPC batch answer
            raise ChainUnavailable(f"no JSON-RPC batch answer from {endpoint}: {type(exc).__name__}: {exc}") from None
        out = []
        for request in batch:
            reply = replies.get(request["id"])
            if reply is None or "result" not in reply:
                error = (reply or {}).get("error") or "no answer"
                if not is_revert(error):  # the node failed, not the contract ("Database is not open" ...)
                    raise ChainUnavailable(f"eth_call not served: {error}")
                raise RuntimeError(f"eth_call reverted: {error}")
            out.append(reply["result"])
        return out


class Verifier:
    """Verifies documents against one chain and one trusted GovRegistry.

    Registry answers (which store belongs to whom) are cached for ``cache_seconds``; member
    records come from a :class:`chain.members.Members` directory (the platform's own, or one
    refreshed from GovRegistry's events every ``cache_seconds``): they change rarely and every
    verification needs them. The status check asks ``status`` (by default a :class:`ChainStatus`
    over ``client``, ``batched`` or not); the verdict names the block and the source of its answer.
    """

    def __init__(self, client: ChainClient, registry: GovRegistryClient, store_abi: list, cache_seconds: float = 5.0, batched: bool = True,
                 members: Members | None = None, status: StatusSource | None = None):  # fmt: skip
        self.client = client
        self.registry = registry
        self.members = members or Members.of(registry, cache_seconds)
        self.status = status or ChainStatus(client, registry.address, store_abi, cache_seconds=cache_seconds, batched=batched)
        self._cache = TimedCache(cache_seconds)

    def verify(self, document: dict, *, fresh: bool = False) -> Verdict:
        """The verdict on ``document``; ``fresh``: the status read from the chain now, whatever the source."""
        if not isinstance(document, dict):
            bad = Check("integrity", False, "the file is not an OpenAttestation document (a JSON object)")
            return Verdict(bad, Check("status", False, "not checked"), Check("identity", False, "not checked"))
        ok, reason = oa.check_integrity(document)
        integrity = Check("integrity", ok, reason)
        try:
            issuer = _issuer(document)
            store_address = checksum(issuer.get("documentStore", ""))
        except (ValueError, TypeError) as exc:  # TypeError: a documentStore that is no string
            why = f"the issuer's document store cannot be read: {exc}"
            return Verdict(integrity, Check("status", False, why), Check("identity", False, why))
        status, reading = self._status(document, store_address, fresh)
        return Verdict(integrity, status, self._identity(issuer, store_address), reading.block if reading else None, reading.source if reading else None)

    def _status(self, document: dict, store_address: str, fresh: bool) -> tuple[Check, StatusReading | None]:
        try:
            signature = document["signature"]
            target, root = _hex(signature["targetHash"]), _hex(signature["merkleRoot"])
            proof = [_hex(p) for p in signature.get("proof", [])]
        except (KeyError, TypeError, ValueError):
            return Check("status", False, "the document has no readable signature block"), None
        nodes = oa.intermediate_hashes(target, proof)
        reading = self.status.read(store_address, root, nodes, fresh=fresh)
        if reading.refusal is not None:
            return Check("status", False, reading.refusal), reading
        if not reading.issued:
            return Check("status", False, f"merkle root 0x{root.hex()} is not issued in store {store_address}"), reading
        for node, is_revoked in zip(nodes, reading.revoked, strict=True):
            if is_revoked:
                what = "the certificate" if node == target else ("its whole batch" if node == root else "a part of its batch")
                return Check("status", False, f"{what} was revoked (0x{node.hex()} is revoked in {store_address}, {reading.revoked_by})"), reading
        return Check("status", True, f"issued in {store_address} on chain {self.client.chain_id} ({reading.issued_by}) and not revoked"), reading

    def _identity(self, issuer: dict, store_address: str) -> Check:
        proof = issuer.get("identityProof") or {}
        location = proof.get("location") if isinstance(proof, dict) else None
        if not isinstance(proof, dict) or proof.get("type") != "DNS-TXT" or not isinstance(location, str):
            return Check("identity", False, "the issuer has no DNS-TXT identity proof naming a domain")
        owner = self._cache.get(("owner", store_address), lambda: self.registry.issuer_of_store(store_address))
        if owner is None:
            return Check("identity", False, f"{store_address} was not created through GovRegistry {self.registry.address}")
        member = self.members.record(owner)
        if not member.active:
            return Check("identity", False, f"the store's issuer {owner} is {member.status.name.lower()} in GovRegistry")
        if Role.ISSUER not in member.roles:
            return Check("identity", False, f"the store's issuer {owner} does not hold the ISSUER role")
        if member.info.domain != location:
            return Check("identity", False, f"the store belongs to {member.info.domain}, not to {location}")
        return Check("identity", True, f"store of {member.info.name} ({location}), an active ISSUER member of GovRegistry")
