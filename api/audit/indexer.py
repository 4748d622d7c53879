"""The audit index: every event of every govchain contract, followed into ``chain_records``.

Followed contracts: GovRegistry, ConsentRegistry, TenderLedger, EvidenceLedger, and every
DocumentStore created through GovRegistry (found from its ``DocumentStoreCreated`` events,
including stores created inside the page being read).

How it stays right:

- one ``eth_getLogs`` per page of at most ``page_blocks`` blocks (Besu caps a query at
  5,000) for all followed addresses at once; block time, block hash and every transaction's
  sender come from one ``eth_getBlockByNumber(full)`` per block that has events;
- a page is written in one database transaction together with the cursor (the shared
  ``chain_event_cursors`` table of :class:`chain.events.CursorStore`), after deleting what the
  index held for those blocks: replaying a page after a crash is harmless;
- ``confirmations`` blocks at the head are left for later (0 on a dev node);
- when the chain went back (a dev node's snapshot revert, a reorg on a chain without
  finality) the newest indexed block's hash no longer matches: the index drops the blocks
  that changed and reads them again;
- on PostgreSQL several API processes may run indexers: a transaction-level advisory lock
  lets one write each page, the others find the cursor moved and skip it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any, cast
from dataclasses import dataclass, field

from eth_abi import decode as abi_decode
from eth_utils import event_abi_to_log_topic, keccak
from hexbytes import HexBytes
from sqlalchemy import delete, func, insert, or_, select, text
from sqlalchemy.orm import sessionmaker
from web3 import Web3
from web3.types import RPCEndpoint

from api.audit.models import ChainRecord
from api.settings import IndexSettings
from api.workers import LoopWorker
from chain.consents import PullRefusal
from chain.deploy import Deployment
from chain.errors import ChainUnavailable
from chain.events import ChainEvent, CursorStore, EventCursor, EventReader
from chain.evidence import KIND_BY_ID
from chain.tx import ChainClient
from chain.hexcodec import hx, unhex

log = logging.getLogger("govchain.audit")
FOLLOWED = ("GovRegistry", "ConsentRegistry", "TenderLedger", "EvidenceLedger")
STORE = "DocumentStore"
EVIDENCE_KINDS = {"SUBMISSION_MANIFEST": "submission", "COMMITMENT": "commitment", "COMMITMENT_CHECK": "commitment", "DELIVERY": "delivery"}
KINDS = ("consent", "pull", "submission", "commitment", "delivery", "evidence", "certificate", "revocation", "tender", "member", "store")
REFUSALS = {r.value: r.name.lower() for r in PullRefusal}


def hexed(value) -> object:
    """Event arguments as JSON: bytes as 0x hex, tuples as lists, big numbers kept as ints."""
    if isinstance(value, (bytes, bytearray, HexBytes)):
        return hx(value)
    if isinstance(value, (list, tuple)):
        return [hexed(v) for v in value]
    if isinstance(value, dict):
        return {k: hexed(v) for k, v in value.items()}
    return value


def application_ref(application_id: str) -> str:
    """The reference evidence of an application is anchored under: keccak256(its id)."""
    return hx(keccak(text=application_id))


def cursor_name(chain_id: int, registry: str) -> str:
    """The name of the cursor that holds the last block indexed for the deployment of ``registry``."""
    return f"audit-index:{chain_id}:{registry.lower()}"


@dataclass
class Watched:
    """The contracts one deployment's index follows, and the first block to read."""

    chain_id: int
    registry: str
    start_block: int
    readers: dict[str, tuple[str, EventReader]]  # address -> (contract name, reader)
    store_abi: list
    client: ChainClient
    decoders: dict[str, tuple[str, "FastDecoder"]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        abis: dict[str, FastDecoder] = {}
        for address, (name, reader) in self.readers.items():
            self.decoders[address] = (name, abis.setdefault(name, FastDecoder(reader.contract.abi)))

    @classmethod
    def of(cls, client: ChainClient, deployment: Deployment) -> "Watched":
        readers: dict[str, tuple[str, EventReader]] = {}
        for name in FOLLOWED:
            entry = deployment.contracts[name]
            contract = client.w3.eth.contract(address=Web3.to_checksum_address(entry["address"]), abi=entry["abi"])
            readers[contract.address] = (name, EventReader(client, contract))
        start = min(deployment.contracts[name]["block"] for name in FOLLOWED)
        return cls(client.chain_id, Web3.to_checksum_address(deployment.contracts["GovRegistry"]["address"]), start, readers,
                   deployment.store_abi, client)  # fmt: skip

    @property
    def cursor_name(self) -> str:
        return cursor_name(self.chain_id, self.registry)

    def add_store(self, address: str) -> bool:
        address = Web3.to_checksum_address(address)
        if address in self.readers:
            return False
        contract = self.client.w3.eth.contract(address=address, abi=self.store_abi)
        self.readers[address] = (STORE, EventReader(self.client, contract))
        store = next((d for name, d in self.decoders.values() if name == STORE), None) or FastDecoder(self.store_abi)
        self.decoders[address] = (STORE, store)
        return True

    def addresses(self) -> list[str]:
        return list(self.readers)


@dataclass
class Facts:
    """What earlier events said that later ones do not repeat: a consent's applicant and
    agency, a tender's agency, a store's issuer. ``fallback`` looks into the index."""

    consents: dict[str, tuple[str, str]] = field(default_factory=dict)
    tenders: dict[str, str] = field(default_factory=dict)
    stores: dict[str, str] = field(default_factory=dict)
    fallback: Callable[[str, str], dict | None] | None = None

    def consent(self, consent_id: str) -> tuple[str | None, str | None]:
        return self._known(self.consents, consent_id, "ConsentGranted", lambda args: (args["applicant"], args["agency"])) or (None, None)

    def store(self, address: str) -> str | None:
        """The issuer of the DocumentStore at ``address`` (after a restart or a reorg, from the index)."""
        return self._known(self.stores, address, "DocumentStoreCreated", lambda args: args["issuer"])

    def tender(self, tender_id: str) -> str | None:
        return self._known(self.tenders, tender_id, "TenderCreated", lambda args: args["agency"])

    def _known(self, seen: dict, key: str, event: str, fact: Callable[[dict], Any]) -> Any:
        """What ``seen`` holds for ``key``; else what the indexed ``event`` about ``key`` says, remembered."""
        if key not in seen and self.fallback:
            args = self.fallback(event, key)
            if args:
                seen[key] = fact(args)
        return seen.get(key)


def classify(event: ChainEvent, contract_name: str, args: dict, facts: Facts) -> tuple[str, str | None, str | None, str | None]:
    """``(kind, member, applicant, case_ref)`` of one event."""
    name = event.name
    if contract_name == "ConsentRegistry":
        consent_id = cast(str, args.get("consentId"))  # every ConsentRegistry event names its consent
        if name == "ConsentGranted":
            facts.consents[consent_id] = (args["applicant"], args["agency"])
            return "consent", args["agency"], args["applicant"], consent_id
        applicant, agency = facts.consent(consent_id)
        if name == "DataPulled":  # the requester of a logged pull is always the consent's agency
            return "pull", agency, applicant, consent_id
        if name == "PullRefused":
            return "pull", args["requester"], applicant, consent_id
        if name == "ConsentRevoked":
            return "revocation", agency, args.get("applicant") or applicant, consent_id
        return "consent", agency, applicant, consent_id  # paused, resumed
    if contract_name == "EvidenceLedger":
        if name == "EvidenceAnchored":
            kind = EVIDENCE_KINDS.get(KIND_BY_ID.get(unhex(args["kind"]), ""), "evidence")
            return kind, args["by"], None, args["ref"]
        return "evidence", None, None, None
    if contract_name == STORE:
        issuer = facts.store(event.address)
        if name == "DocumentIssued":
            return "certificate", issuer, None, args["document"]
        if name == "DocumentRevoked":
            return "revocation", issuer, None, args["document"]
        return "store", issuer, None, None
    if contract_name == "TenderLedger":
        tender_id = args.get("tenderId")
        if name == "TenderCreated":
            facts.tenders[args["tenderId"]] = args["agency"]
            return "tender", args["agency"], None, tender_id
        return "tender", facts.tender(tender_id) if tender_id else None, None, tender_id
    # GovRegistry: members, roles, stores, admin
    if name == "DocumentStoreCreated":
        facts.stores[Web3.to_checksum_address(args["store"])] = args["issuer"]
        return "member", args["issuer"], None, args["store"]
    return "member", args.get("account") or args.get("issuer") or args.get("newAdmin"), None, None


@dataclass
class BlockFacts:
    time: int
    hash: str
    senders: dict[str, str]


_CHECKSUMS: dict[str, str] = {}


def checksum(address: str) -> str:
    """The checksum form of an address (cached: the index sees the same few addresses again and again)."""
    key = address.lower()
    found = _CHECKSUMS.get(key)
    if found is None:
        found = _CHECKSUMS[key] = Web3.to_checksum_address(key)
    return found


def _rpc(client: ChainClient, method: str, params: list):
    """A raw JSON-RPC call: web3's result formatters cost more than the node's answer on large pages."""
    reply = client._call(lambda: client.w3.provider.make_request(RPCEndpoint(method), params))
    if "error" in reply:
        raise RuntimeError(f"{method} failed: {reply['error']}")
    return reply["result"]


def _abi_type(item: dict) -> str:
    if item["type"].startswith("tuple"):
        return "(" + ",".join(_abi_type(c) for c in item["components"]) + ")" + item["type"][5:]
    return item["type"]


def _plain(abi_type: str, value):
    """A decoded ABI value as JSON: bytes as 0x hex, addresses checksummed, arrays as lists."""
    if abi_type.endswith("]"):
        inner = abi_type[: abi_type.rindex("[")]
        return [_plain(inner, v) for v in value]
    if abi_type == "address":
        return checksum("0x" + format(value, "040x")) if isinstance(value, int) else checksum(value)
    if isinstance(value, (bytes, bytearray)):
        return hx(value)
    if isinstance(value, tuple):
        return [_plain("", v) for v in value]
    return value


class FastDecoder:
    """Decodes a contract's logs to JSON arguments with eth_abi alone (web3's event decoding
    costs about ten times more); :class:`chain.events.EventReader` stays the reference the
    trail verification decodes receipts with, so the two are checked against each other."""

    def __init__(self, abi: list):
        self.events: dict[str, tuple[str, list[tuple[str, str]], list[tuple[str, str]], list[str]]] = {}
        for item in abi:
            if item.get("type") != "event" or item.get("anonymous"):
                continue
            topic = hx(event_abi_to_log_topic(item))
            indexed = [(i["name"], _abi_type(i)) for i in item["inputs"] if i.get("indexed")]
            data = [(i["name"], _abi_type(i)) for i in item["inputs"] if not i.get("indexed")]
            # addresses decode as integers: checksummed once per distinct address, not once per log
            decode_types = [t.replace("address", "uint160") for _, t in data]
            self.events[topic] = (item["name"], indexed, data, decode_types)

    def decode(self, topics: list[str], data: bytes) -> tuple[str, dict] | None:
        spec = self.events.get(topics[0]) if topics else None
        if spec is None:
            return None
        name, indexed, fields, decode_types = spec
        args: dict[str, Any] = {}
        for (field_name, abi_type), topic in zip(indexed, topics[1:], strict=False):
            raw = unhex(topic)
            if abi_type == "address":
                args[field_name] = checksum(hx(raw[12:]))
            elif abi_type == "bool":
                args[field_name] = raw != bytes(32)
            elif abi_type.startswith("uint"):
                args[field_name] = int.from_bytes(raw, "big")
            elif abi_type.startswith("int"):
                args[field_name] = int.from_bytes(raw, "big", signed=True)
            elif abi_type.startswith("bytes") and abi_type != "bytes":
                args[field_name] = hx(raw[: int(abi_type[5:])])
            else:  # dynamic types are hashed into the topic
                args[field_name] = hx(raw)
        if fields:
            values = abi_decode(decode_types, data)
            for (field_name, abi_type), value in zip(fields, values, strict=True):
                args[field_name] = _plain(abi_type, value)
        return name, args


def _normal(entry) -> tuple[str, list[str], bytes, int, str, int]:
    """``(address, topics, data, block, tx, log index)`` of a raw or a web3-formatted log."""

    def as_hex(value) -> str:
        return value if isinstance(value, str) else hx(value)

    def num(value) -> int:
        return int(value, 16) if isinstance(value, str) else int(value)

    data = entry["data"]
    data = unhex(data) if isinstance(data, str) else bytes(data)
    return (checksum(entry["address"]), [as_hex(t).lower() for t in entry["topics"]], data, num(entry["blockNumber"]),
            as_hex(entry["transactionHash"]).lower(), num(entry["logIndex"]))  # fmt: skip


def block_facts(client: ChainClient, numbers: Iterable[int]) -> dict[int, BlockFacts]:
    facts = {}
    for number in sorted(set(numbers)):
        block = _rpc(client, "eth_getBlockByNumber", [hex(number), True])
        senders = {tx["hash"].lower(): checksum(tx["from"]) for tx in block["transactions"]}
        facts[number] = BlockFacts(int(block["timestamp"], 16), block["hash"].lower(), senders)
    return facts


def get_logs(client: ChainClient, addresses: list[str], start: int, end: int) -> list[dict]:
    return _rpc(client, "eth_getLogs", [{"address": addresses, "fromBlock": hex(start), "toBlock": hex(end)}])


def read_range(watched: Watched, facts: Facts, start: int, end: int) -> list[dict]:
    """The rows of every followed event in blocks ``start..end``, in chain order."""
    client = watched.client
    decoded = decode_logs(watched, get_logs(client, watched.addresses(), start, end))
    # a store created in this range: read its own logs of the range too (it was not followed yet)
    new = [e for _, e in decoded if e.name == "DocumentStoreCreated" and watched.add_store(e.args["store"])]
    if new:
        extra = get_logs(client, [e.args["store"] for e in new], min(e.block_number for e in new), end)
        decoded += decode_logs(watched, extra)
    return build_rows(watched, facts, decoded)


def build_rows(watched: Watched, facts: Facts, decoded: list[tuple[str, ChainEvent]]) -> list[dict]:
    """Index rows of decoded events (``(contract name, event)`` with JSON arguments), in chain order."""
    client = watched.client
    decoded = sorted(decoded, key=lambda item: (item[1].block_number, item[1].log_index))
    blocks = block_facts(client, (e.block_number for _, e in decoded))
    rows = []
    for contract_name, event in decoded:
        args = event.args
        kind, member, applicant, case_ref = classify(event, contract_name, args, facts)
        block = blocks[event.block_number]
        rows.append({
            "chain_id": watched.chain_id, "contract": event.address, "contract_name": contract_name, "event": event.name,
            "kind": kind, "tx_hash": event.tx_hash, "block_number": event.block_number, "block_hash": block.hash,
            "block_time": block.time, "log_index": event.log_index, "tx_sender": block.senders.get(event.tx_hash) or _sender(client, event.tx_hash),
            "member": member, "applicant": applicant, "case_ref": case_ref, "args": args,
        })  # fmt: skip
    return rows


def _sender(client: ChainClient, tx_hash: str) -> str:
    return checksum(_rpc(client, "eth_getTransactionByHash", [tx_hash])["from"])


def decode_logs(watched: Watched, logs) -> list[tuple[str, ChainEvent]]:
    """``(contract name, ChainEvent with JSON arguments)`` of each log of a followed contract."""
    out = []
    for entry in logs:
        address, topics, data, block_number, tx_hash, log_index = _normal(entry)
        known = watched.decoders.get(address)
        if known is None:
            continue
        decoded = known[1].decode(topics, data)
        if decoded is not None:
            out.append((known[0], ChainEvent(decoded[0], decoded[1], address, block_number, tx_hash, log_index)))
    return out


class Indexer(LoopWorker):
    """Follows one deployment's contracts into ``chain_records``; one per API process (the
    ``indexer`` worker of :mod:`api.workers`: started, woken and stopped by the app's lifespan)."""

    name = "indexer"
    thread_name = "audit-indexer"

    def __init__(self, client_of: Callable[[], ChainClient], deployment_of: Callable[[], Deployment], sessions: sessionmaker,
                 settings: IndexSettings | None = None):  # fmt: skip
        self.client_of, self.deployment_of, self.sessions = client_of, deployment_of, sessions
        self.settings = settings or IndexSettings()
        self.cursors = CursorStore(sessions)
        self._watched: Watched | None = None
        self._page: int | None = None  # blocks per page now (halved while pages are too full for the node)
        self._facts = Facts(fallback=self._lookup)
        self._lock = threading.Lock()
        super().__init__()

    # -- the background thread (api.workers.LoopWorker) -----------------------------------

    def enabled(self) -> bool:
        return self.settings.enabled

    def interval(self) -> float:
        return self.settings.poll_seconds

    def run_round(self) -> None:
        self.catch_up()

    # -- catching up ---------------------------------------------------------------------

    def watched(self) -> Watched:
        if self._watched is None:
            watched = Watched.of(self.client_of(), self.deployment_of())
            with self.sessions() as session:  # stores found in earlier runs
                for store in session.scalars(select(ChainRecord.case_ref).where(
                        ChainRecord.event == "DocumentStoreCreated", ChainRecord.contract == watched.registry)):  # fmt: skip
                    watched.add_store(store)
            self._watched = watched
        return self._watched

    def indexed_block(self) -> int | None:
        """The last block the index holds (None before the first page)."""
        return self.cursors.get(self.watched().cursor_name)

    def catch_up(self, *, until: int | None = None) -> int:
        """Index every confirmed block not indexed yet; returns the number of events written."""
        with self._lock:
            watched = self.watched()
            client = watched.client
            head = client.block_number()
            self._rewind_if_changed(watched, head)
            target = head - self.settings.confirmations if until is None else min(until, head)
            last = self.cursors.get(watched.cursor_name)
            first = watched.start_block if last is None else last + 1
            written, page = 0, self._page or self.settings.page_blocks
            while first <= target:
                end = min(first + page - 1, target)
                try:
                    rows = read_range(watched, self._facts, first, end)
                except (ChainUnavailable, RuntimeError) as exc:
                    # a node that times out or refuses a page too full (result caps): halve the range and retry
                    if end == first:
                        raise
                    page = max(1, (end - first + 1) // 2)
                    log.info("audit index: blocks %d..%d too much at once (%s); trying %d blocks", first, end, exc, page)
                    continue
                if self._write(watched, first, end, rows):
                    written += len(rows)
                first = end + 1
                page = min(page * 2, self.settings.page_blocks)
            self._page = page
            return written

    def _write(self, watched: Watched, start: int, end: int, rows: list[dict]) -> bool:
        with self.sessions() as session:
            if session.bind.dialect.name == "postgresql":
                session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _lock_key(watched.cursor_name)})
            cursor = session.get(EventCursor, watched.cursor_name)
            if cursor is not None and cursor.block_number >= end:
                return False  # another process wrote this page meanwhile
            session.execute(delete(ChainRecord).where(
                ChainRecord.chain_id == watched.chain_id, ChainRecord.block_number.between(start, end),
                ChainRecord.contract.in_(watched.addresses())))  # fmt: skip
            if rows:
                session.execute(insert(ChainRecord), rows)
            if cursor is None:
                session.add(EventCursor(name=watched.cursor_name, block_number=end))
            else:
                cursor.block_number = end
            session.commit()
            return True

    def _rewind_if_changed(self, watched: Watched, head: int) -> None:
        """Drop indexed blocks the chain no longer has (its head went back, or their hash changed)."""
        last = self.cursors.get(watched.cursor_name)
        if last is None:
            return
        keep = min(last, head)
        with self.sessions() as session:
            blocks = session.execute(
                select(ChainRecord.block_number, ChainRecord.block_hash).where(ChainRecord.chain_id == watched.chain_id,
                    ChainRecord.contract.in_(watched.addresses()), ChainRecord.block_number <= keep)
                .distinct().order_by(ChainRecord.block_number.desc()).limit(64)
            ).all()  # fmt: skip
        for number, block_hash in blocks:
            chain_block = watched.client.w3.eth.get_block(number)
            if hx(chain_block["hash"]) == block_hash:
                break
            keep = number - 1
        if keep == last:
            return
        log.warning("the chain changed below the audit index (indexed to %d, head %d): re-reading from block %d", last, head, keep + 1)
        with self.sessions() as session:
            session.execute(delete(ChainRecord).where(ChainRecord.chain_id == watched.chain_id, ChainRecord.block_number > keep,
                                                      ChainRecord.contract.in_(watched.addresses())))  # fmt: skip
            cursor = session.get(EventCursor, watched.cursor_name)
            cursor.block_number = keep
            session.commit()
        self._facts = Facts(fallback=self._lookup)

    def _lookup(self, event: str, case_ref: str) -> dict | None:
        with self.sessions() as session:
            return session.scalar(select(ChainRecord.args).where(ChainRecord.event == event, ChainRecord.case_ref == case_ref).limit(1))

    def refresh(self) -> None:
        """Catch up now if the chain answers (a read right after a write sees it); else serve what is indexed."""
        try:
            self.catch_up()
        except Exception as exc:
            log.warning("audit index not refreshed: %s", exc)


def _lock_key(name: str) -> int:
    return int.from_bytes(keccak(text=name)[:8], "big", signed=True)


# -- reconciliation ---------------------------------------------------------------------------

COMPARED = ("contract", "contract_name", "event", "kind", "block_number", "block_hash", "block_time", "tx_sender", "member",
            "applicant", "case_ref", "args")  # fmt: skip


@dataclass
class Reconciliation:
    from_block: int
    to_block: int
    chain_events: int
    indexed_rows: int
    missing: list[dict] = field(default_factory=list)  # on chain, not in the index
    extra: list[dict] = field(default_factory=list)  # in the index, not on chain
    different: list[dict] = field(default_factory=list)  # {"tx_hash", "log_index", "fields": {name: [indexed, chain]}}
    refusals: list[str] = field(default_factory=list)  # why nothing (or not this deployment) was compared

    @property
    def consistent(self) -> bool:
        return not (self.refusals or self.missing or self.extra or self.different)


def reconcile(client: ChainClient, deployment: Deployment, sessions: sessionmaker, *, page_blocks: int = 2_000) -> Reconciliation:
    """Re-read the chain over the indexed range and compare it row by row with the index."""
    watched = Watched.of(client, deployment)
    last = CursorStore(sessions).get(watched.cursor_name)
    to_block = watched.start_block - 1 if last is None else last
    facts, expected = Facts(), {}
    start = watched.start_block
    while start <= to_block:
        end = min(start + page_blocks - 1, to_block)
        for row in read_range(watched, facts, start, end):
            expected[(row["tx_hash"], row["log_index"])] = row
        start = end + 1
    with sessions() as session:
        indexed = {(r.tx_hash, r.log_index): r for r in session.scalars(select(ChainRecord).where(ChainRecord.chain_id == watched.chain_id,
                   ChainRecord.contract.in_(watched.addresses()), ChainRecord.block_number.between(watched.start_block, to_block)))}  # fmt: skip
    result = Reconciliation(watched.start_block, to_block, len(expected), len(indexed))
    for name, entry in deployment.contracts.items():  # the record must be of a deployment on this chain
        if not bytes(client.w3.eth.get_code(entry["address"])):
            result.refusals.append(f"{name} {entry['address']} has no code on chain {watched.chain_id}: the record is of another deployment or chain")
    if last is None:
        result.refusals.append(f"the index holds nothing for this deployment (GovRegistry {watched.registry} on chain {watched.chain_id}, "
                               f"from block {watched.start_block}): nothing was compared")  # fmt: skip
    with sessions() as session:
        foreign = session.scalar(select(func.count()).select_from(ChainRecord).where(
            or_(ChainRecord.chain_id != watched.chain_id, ChainRecord.contract.not_in(watched.addresses()))))  # fmt: skip
    if foreign:
        result.refusals.append(f"{foreign} indexed rows are of another deployment or chain than GovRegistry {watched.registry} on chain {watched.chain_id}")
    for key, row in expected.items():
        found = indexed.get(key)
        if found is None:
            result.missing.append(_brief(row))
            continue
        fields = {name: [getattr(found, name), row[name]] for name in COMPARED if getattr(found, name) != row[name]}
        if fields:
            result.different.append({"tx_hash": key[0], "log_index": key[1], "block_number": row["block_number"], "event": row["event"], "fields": fields})
    for key, row in indexed.items():
        if key not in expected:
            result.extra.append(_brief({name: getattr(row, name) for name in ("tx_hash", "log_index", "block_number", "event", "contract")}))
    return result


def _brief(row: dict) -> dict:
    return {k: row[k] for k in ("tx_hash", "log_index", "block_number", "event", "contract")}
