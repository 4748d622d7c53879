"""Trails: the ordered story of a case, each step checked against the chain's receipts on demand.

The same code serves the API (steps from the index) and the CLI (steps read straight from
the chain, no platform database). A step is verified by fetching its transaction's receipt,
finding the log at the step's index and comparing contract, event, arguments, block and
sender with what the step says.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Set as AbstractSet
from datetime import UTC, datetime
from typing import Any, cast

from eth_typing import HexStr
from web3 import Web3

from api.audit.indexer import REFUSALS, Watched, hexed
from api.catalog import CATEGORIES
from chain.tx import ChainClient
from chain.hexcodec import hx, unhex

Names = Callable[[str], str | None]
STEP_FIELDS = ("contract", "contract_name", "event", "kind", "tx_hash", "block_number", "block_hash", "block_time", "log_index", "tx_sender", "args")


def _short(value: str | None) -> str:
    return value[:10] + "…" if value and len(value) > 12 else str(value)


def _who(names: Names, address: str | None) -> str:
    if not address:
        return "?"
    name = names(address)
    return f"{name} ({_short(address)})" if name else _short(address)


def _day(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _categories(mask: int) -> str:
    return ", ".join(c for i, c in enumerate(CATEGORIES) if mask >> i & 1) or "none"


def _for_issuer(row: dict, names: Names) -> str:
    """When a store was written by another key than its issuer's account (a rotated issuing key, or
    a governor revoking in a suspended issuer's store), whose store it was."""
    issuer, sender = row.get("member"), row.get("tx_sender")
    return f" in the store of {_who(names, issuer)}" if issuer and sender and issuer != sender else ""


def summary(row: dict, names: Names, notes: dict[str, str] | None = None) -> str:
    """One line saying what the step is, for people; a row whose arguments do not fit its event
    name (an index edited by hand, an event of a newer contract) is said to be so, never a 500."""
    try:
        return _summary(row, names, notes)
    except (KeyError, TypeError, IndexError, ValueError, AttributeError):
        return f"{row.get('event')} on {row.get('contract_name')}: the arguments do not match a known {row.get('event')} (check it with ?verify=true)"


def _summary(row: dict, names: Names, notes: dict[str, str] | None = None) -> str:
    event, a, notes = row["event"], row["args"], notes or {}
    match event:
        case "ConsentGranted":
            return (f"consent {_short(a['consentId'])} granted by applicant {_short(a['applicant'])} to {_who(names, a['agency'])}: "
                    f"{_categories(a['categories'])}, at most {a['maxPulls']} pulls, until {_day(a['expiresAt'])}")  # fmt: skip
        case "DataPulled":
            return (f"pull #{a['pullNumber']} of {CATEGORIES[a['category']] if a['category'] < len(CATEGORIES) else a['category']} "
                    f"released by {_who(names, row.get('tx_sender'))} to {_who(names, row.get('member'))}")  # fmt: skip
        case "PullRefused":
            category = CATEGORIES[a["category"]] if a["category"] < len(CATEGORIES) else a["category"]
            return (f"pull #{a['sequence']} of {category}, signed by {_who(names, a['requester'])}, refused by {_who(names, a['holder'])}: "
                    f"{REFUSALS.get(a['reason'], a['reason'])}")  # fmt: skip
        case "ConsentRevoked":
            return f"consent revoked by the applicant (sent by {_who(names, a['by'])}): later pulls are refused"
        case "ConsentPaused" | "ConsentResumed":
            return f"consent {event.removeprefix('Consent').lower()} by the applicant"
        case "EvidenceAnchored":
            what = {"submission": "paperless submission manifest", "commitment": "notification-commitment (or its check)",
                    "delivery": "delivery step"}.get(row["kind"], "evidence")  # fmt: skip
            return f"{what} anchored by {_who(names, a['by'])}: root {_short(a['root'])}"
        case "DocumentIssued":
            extra = f" containing the certificate's target hash {_short(notes['target_hash'])}" if notes.get("target_hash") else ""
            return f"certificate batch issued by {_who(names, row.get('tx_sender'))}{_for_issuer(row, names)}: Merkle root {_short(a['document'])}{extra}"
        case "DocumentRevoked":
            what = "certificate batch" if notes.get("batch_root") == a["document"] else "certificate"
            return f"{what} revoked by {_who(names, row.get('tx_sender'))}{_for_issuer(row, names)}: {_short(a['document'])}"
        case "TenderCreated":
            return f"tender created by {_who(names, a['agency'])}: bids until {_day(a['bidDeadline'])}, opening {_day(a['openingTime'])}"
        case "BidCommitted":
            return f"bid {_short(a['pseudonym'])} committed, version {a['version']} (ciphertext {_short(a['ciphertextHash'])})"
        case "BidWithdrawn":
            return f"bid {_short(a['pseudonym'])} withdrawn (version {a['version']})"
        case "TenderFailed":
            return f"opening failed: {a['bids']} bids, fewer than {a['minBidders']}"
        case "TenderOpened":
            return f"tender opened with {a['bids']} bids; keys until {_day(a['decryptionEnd'])}"
        case "ExpertReplaced":
            return f"expert {_short(a['expert'])} replaced by {_short(a['replacement'])} ({a['droppedScores']} scores dropped)"
        case "BidderSignedIn":
            return f"bidder {_short(a['bidder'])} signed in as {_short(a['pseudonym'])}"
        case "KeyRevealed":
            return f"key of bid {_short(a['pseudonym'])} revealed and matched its commitment"
        case "BidDecrypted":
            return f"bid {_short(a['pseudonym'])} decrypted (file {_short(a['plaintextHash'])})"
        case "BidNotDecrypted":
            return f"bid {_short(a['pseudonym'])} not decrypted: {'bidder at fault (revoked)' if a['cause'] == 1 else 'not the bidder (withdrawn)'}"
        case "BidRead":
            return f"reading: bid {_short(a['pseudonym'])} of {_short(a['bidder'])}, price {a['price']}"
        case "ReadingPublished":
            return f"reading published: {a['count']} bids, announcement {_short(a['announcementHash'])}"
        case "ObjectionRaised":
            return f"objection #{a['index']} raised by {_short(a['bidder'])}"
        case "ObjectionAnswered":
            return f"objection #{a['index']} answered"
        case "ScoresSubmitted":
            return f"expert {_short(a['expert'])} scored bid {_short(a['pseudonym'])}: {a['scores']}"
        case "ResultPublished":
            return f"result published: winner {_short(a['winner'])} ({_short(a['bidder'])}), value {a['value']}"
    return f"{event} on {row['contract_name']}"


RELAYED_KINDS = ("SUBMISSION_MANIFEST", "COMMITMENT")  # the platform's relayer anchors these
AGENCY_KINDS = ("COMMITMENT_CHECK", "DELIVERY")  # the handling agency anchors these


def expected_anchorers(relayers: AbstractSet[str], agency: str | None) -> dict[str, set[str]]:
    """Who may anchor each evidence kind under an application's reference."""
    return {**{k: set(relayers) for k in RELAYED_KINDS}, **{k: {agency} if agency else set() for k in AGENCY_KINDS}}


def application_selection(registry, *, agency: str | None, relayers: AbstractSet[str], stores: AbstractSet[str] | None = None) -> dict:
    """What :func:`own_rows` keeps of an application's rows, for the index (the API) and for the
    chain read straight (the CLI) alike: document events of the store that issued its certificate
    (``stores`` when known, else the handling agency's store as GovRegistry records it), and anchors
    by the relayer(s) and the handling agency, each only for its own kinds."""
    if not stores:
        store = registry.document_store_of(agency) if agency else None
        stores = {store} if store else set()
    return {"stores": stores, "anchorers": expected_anchorers(relayers, agency)}


def own_rows(rows: list[dict], *, stores: set[str], anchorers: dict[str, set[str]]) -> list[dict]:
    """The rows a case's own contracts and expected actors wrote: a document event only from the
    store that issued the case's certificate, an evidence anchor only from an anchorer allowed for
    its kind. Anyone else writing under the case's references is not the case's story."""
    from chain.evidence import KIND_BY_ID

    kept = []
    for row in rows:
        if row["contract_name"] == "DocumentStore" and row["contract"] not in stores:
            continue
        if row["event"] == "EvidenceAnchored":
            kind = KIND_BY_ID.get(unhex(str(row["args"]["kind"])), "")
            if row["args"]["by"] not in anchorers.get(kind, set()):
                continue
        kept.append(row)
    return kept


def step_of(index: int, row: dict, names: Names, notes: dict | None = None) -> dict:
    return {
        "index": index, "kind": row["kind"], "event": row["event"], "summary": summary(row, names, notes), "contract": row["contract"],
        "tx_hash": row["tx_hash"], "block_number": row["block_number"], "log_index": row["log_index"], "time": row["block_time"],
        "signer": row["tx_sender"], "verified": None, "verification": None,
    }  # fmt: skip


def trail_of(kind: str, case_id: str, rows: list[dict], names: Names, notes: dict | None = None) -> dict:
    rows = sorted(rows, key=lambda r: (r["block_number"], r["log_index"]))
    return {"case": {"kind": kind, "id": case_id}, "steps": [step_of(i, r, names, notes) for i, r in enumerate(rows)], "verified": None}


class ChainChecker:
    """Re-checks indexed steps against receipts from ``client`` (any node of the chain)."""

    def __init__(self, client: ChainClient, watched: Watched):
        self.client, self.watched = client, watched
        self._receipts: dict[str, Any] = {}  # a receipt, or None when the chain has no such transaction
        self._blocks: dict[int, int] = {}  # block number -> its timestamp

    def _receipt(self, tx_hash: str):
        if tx_hash not in self._receipts:
            try:
                self._receipts[tx_hash] = self.client.w3.eth.get_transaction_receipt(HexStr(tx_hash))
            except Exception:  # web3 raises TransactionNotFound; a node may answer null
                self._receipts[tx_hash] = None
        return self._receipts[tx_hash]

    def check(self, row: dict) -> tuple[bool, str]:
        receipt = self._receipt(row["tx_hash"])
        if receipt is None:
            return False, f"transaction {_short(row['tx_hash'])} is not on this chain"
        if receipt["status"] != 1:
            return False, "the transaction reverted"
        if receipt["blockNumber"] != row["block_number"]:
            return False, f"mined in block {receipt['blockNumber']}, the trail says {row['block_number']}"
        if row.get("block_hash") and hx(receipt["blockHash"]) != row["block_hash"]:
            return False, f"block {row['block_number']} has another hash on chain"
        entry = next((entry for entry in receipt["logs"] if entry["logIndex"] == row["log_index"]), None)
        if entry is None:
            return False, f"the transaction has no log at index {row['log_index']}"
        address = Web3.to_checksum_address(entry["address"])
        if address != row["contract"]:
            return False, f"log {row['log_index']} was emitted by {address}, not {row['contract']}"
        known = self.watched.readers.get(address)
        if known is None:
            return False, f"{address} is not a govchain contract of this deployment"
        event = known[1].decode(entry)
        if event is None or event.name != row["event"]:
            return False, f"log {row['log_index']} is {event.name if event else 'an unknown event'}, not {row['event']}"
        args = cast(dict, hexed(event.args))  # a dict of arguments gives a dict
        if args != row["args"]:
            changed = sorted(k for k in set(args) | set(row["args"]) if args.get(k) != row["args"].get(k))
            return False, f"the arguments differ from the chain's: {', '.join(changed)}"
        if receipt["from"] != row["tx_sender"]:
            return False, f"sent by {receipt['from']}, the trail says {row['tx_sender']}"
        if row.get("block_time") is not None:
            if row["block_number"] not in self._blocks:
                self._blocks[row["block_number"]] = self.client.w3.eth.get_block(row["block_number"])["timestamp"]
            if self._blocks[row["block_number"]] != row["block_time"]:
                return False, f"block time is {self._blocks[row['block_number']]} on chain, the trail says {row['block_time']}"
        return True, f"receipt holds: {row['event']} at log {row['log_index']} of block {row['block_number']}, sent by {_short(row['tx_sender'])}"


def verify(trail: dict, rows: list[dict], checker: ChainChecker, *, from_chain: list[dict] | None = None, names: Names | None = None, notes: dict | None = None) -> dict:
    """Mark each step verified or not (rows in the trail's order) and the whole trail.

    ``from_chain``, the case's rows re-derived from the chain's logs, adds every step the index
    lacks, marked not verified with the reason: a deleted index row never goes unnoticed.
    """
    rows = sorted(rows, key=lambda r: (r["block_number"], r["log_index"]))
    for step, row in zip(trail["steps"], rows, strict=True):
        try:
            step["verified"], step["verification"] = checker.check(row)
        except Exception as exc:  # the node failed mid-way: this step is not verified
            step["verified"], step["verification"] = False, f"could not check: {exc}"
    if from_chain is not None:
        known = {(r["tx_hash"], r["log_index"]) for r in rows}
        for row in from_chain:
            if (row["tx_hash"], row["log_index"]) not in known:
                step = step_of(0, row, names or (lambda _: None), notes)
                step["verified"] = False
                step["verification"] = f"{row['event']} is on chain (log {row['log_index']} of block {row['block_number']}) but missing from the index"
                trail["steps"].append(step)
        trail["steps"].sort(key=lambda s: (s["block_number"], s["log_index"]))
        for i, step in enumerate(trail["steps"]):
            step["index"] = i
    trail["verified"] = bool(trail["steps"]) and all(step["verified"] for step in trail["steps"])
    return trail


# -- straight from the chain (the CLI: no platform database) ----------------------------------


def _paged_logs(client: ChainClient, query: dict, start: int, end: int, page_blocks: int) -> list:
    logs = []
    while start <= end:
        stop = min(start + page_blocks - 1, end)
        logs += client.w3.eth.get_logs({**query, "fromBlock": start, "toBlock": stop})
        start = stop + 1
    return logs


def _topic(reader, event: str) -> str:
    from eth_utils import event_abi_to_log_topic

    abi = next(item for item in reader.contract.abi if item.get("type") == "event" and item["name"] == event)
    return hx(event_abi_to_log_topic(abi))


def chain_rows(
    watched: Watched, registry, *, tender_id: str | None = None, application_id: str | None = None, consent_id: str | None = None, documents: tuple[str, ...] = (), page_blocks: int = 2_000
) -> list[dict]:
    """A case's rows read straight from the chain by its references (topics), no index involved.

    ``registry`` (a GovRegistryClient) vouches for DocumentStores: a document event counts only
    from a store GovRegistry created for an issuer.
    """
    from api.audit.indexer import Facts, application_ref, build_rows, decode_logs

    client, head = watched.client, watched.client.block_number()
    by_name = {name: (address, reader) for address, (name, reader) in watched.readers.items()}
    logs = []
    if tender_id:
        address, _ = by_name["TenderLedger"]
        logs += _paged_logs(client, {"address": address, "topics": [None, tender_id]}, watched.start_block, head, page_blocks)
    if consent_id:
        address, _ = by_name["ConsentRegistry"]
        logs += _paged_logs(client, {"address": address, "topics": [None, consent_id]}, watched.start_block, head, page_blocks)
    if application_id:
        address, reader = by_name["EvidenceLedger"]
        query = {"address": address, "topics": [_topic(reader, "EvidenceAnchored"), None, None, application_ref(application_id)]}
        logs += _paged_logs(client, query, watched.start_block, head, page_blocks)
    facts = Facts()
    if documents:
        store_reader = None
        for document in documents:
            query = {"topics": [None, document]}
            for entry in _paged_logs(client, query, watched.start_block, head, page_blocks):
                address = Web3.to_checksum_address(entry["address"])
                if address not in watched.readers:
                    issuer = registry.issuer_of_store(address)
                    if issuer is None:
                        continue  # not a store GovRegistry created: not evidence
                    watched.add_store(address)
                    facts.stores[address] = issuer
                store_reader = watched.readers[address]
                if store_reader[0] == "DocumentStore":
                    logs.append(entry)
    unique = {(hx(e["transactionHash"]), e["logIndex"]): e for e in logs}
    return build_rows(watched, facts, decode_logs(watched, list(unique.values())))
