"""Re-check a tender's trail from the chain alone (``govchain tender verify``).

Reads every TenderLedger event of the tender, re-derives each revealed key's commitment,
and, where the bid files can be fetched (from any copy: the platform's public
``/v1/tenders/{id}/bids/{pseudonym}/ciphertext`` or a file folder), checks each file
against its on-chain hash, decrypts it with the revealed key and compares what it holds
with the recorded plaintext hash and the read price. A bid whose revealed key opens its file
but that was recorded as not decrypted fails the check (an agency dropping a valid bid), and so
does a revealed bid recorded as not decrypted whose file nobody can produce. Finally it recomputes the result from
the anchored readings and scores and compares it with the published one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from eth_utils import keccak

from chain.tender_rules import ResultUndefined, compute_result
from chain.tenders import TenderLedgerClient
from identity.bids import BidUnreadable, ciphertext_hash, open_bid
from identity.canonical import canonical_json
from identity.tender712 import key_commitment
from chain.hexcodec import hx


@dataclass
class Check:
    what: str
    ok: bool
    detail: str = ""


@dataclass
class Verdict:
    tender_id: str
    checks: list[Check] = field(default_factory=list)

    @property
    def consistent(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    def add(self, what: str, ok: bool, detail: str = "") -> None:
        self.checks.append(Check(what, ok, detail))


def verify_tender(ledger: TenderLedgerClient, tender_id: bytes, fetch: Callable[[bytes], bytes | None] | None = None) -> Verdict:
    verdict = Verdict(hx(tender_id))
    events = ledger.trail(tender_id)
    if not events:
        verdict.add("tender exists", False, "no TenderCreated event for this id")
        return verdict
    created = next(e.args for e in events if e.name == "TenderCreated")
    panel = list(created["experts"])
    committed: dict[bytes, dict] = {}
    revealed: dict[bytes, dict] = {}
    decrypted: dict[bytes, bytes] = {}
    not_decrypted: dict[bytes, int] = {}
    prices: dict[bytes, int] = {}
    items: dict[bytes, bytes] = {}
    scores: dict[tuple[str, bytes], list[int]] = {}
    result = None
    for event in events:
        args = event.args
        if event.name == "BidCommitted":
            committed[bytes(args["pseudonym"])] = args
        elif event.name == "KeyRevealed":
            revealed[bytes(args["pseudonym"])] = args
        elif event.name == "BidDecrypted":
            decrypted[bytes(args["pseudonym"])] = bytes(args["plaintextHash"])
        elif event.name == "BidNotDecrypted":
            not_decrypted[bytes(args["pseudonym"])] = args["cause"]
        elif event.name == "BidRead":
            prices[bytes(args["pseudonym"])] = args["price"]
            items[bytes(args["pseudonym"])] = bytes(args["itemsHash"])
        elif event.name == "ScoresSubmitted":
            scores[(args["expert"], bytes(args["pseudonym"]))] = list(args["scores"])
        elif event.name == "ExpertReplaced":  # its scores are dropped; the replacement scores instead
            panel = [args["replacement"] if e == args["expert"] else e for e in panel]
            scores = {k: v for k, v in scores.items() if k[0] != args["expert"]}
        elif event.name == "ResultPublished":
            result = args
    chain_id = ledger.client.chain_id
    for pseudonym, reveal in revealed.items():
        label = "0x" + pseudonym.hex()[:10]
        commitment = key_commitment(chain_id, ledger.address, tender_id, reveal["bidder"], bytes(reveal["key"]), bytes(reveal["salt"]))
        verdict.add(f"{label} key matches its commitment", commitment == bytes(committed[pseudonym]["keyCommitment"]))
        ciphertext = fetch(pseudonym) if fetch else None
        if ciphertext is None:
            if pseudonym in not_decrypted:  # a revealed key, yet not decrypted: only the file can tell why
                verdict.add(f"{label} revealed but not decrypted: its file re-opened", False,
                            f"recorded as not decrypted (cause {not_decrypted[pseudonym]}) and no copy of its file to re-check")  # fmt: skip
            continue
        matches = ciphertext_hash(ciphertext) == bytes(committed[pseudonym]["ciphertextHash"])
        verdict.add(f"{label} bid file matches its on-chain hash", matches)
        if not matches:
            continue
        try:
            bid = open_bid(ciphertext, bytes(reveal["key"]), tender_id, pseudonym)
        except BidUnreadable as exc:
            verdict.add(f"{label} bid file opens with the revealed key", pseudonym not in decrypted, str(exc))
            continue
        dropped = pseudonym in not_decrypted
        verdict.add(f"{label} opens with its revealed key and is recorded as decrypted", not dropped,
                    f"the revealed key opens the file, yet the bid was recorded as not decrypted (cause {not_decrypted[pseudonym]})" if dropped else "")  # fmt: skip
        if pseudonym in decrypted:
            verdict.add(f"{label} plaintext matches the recorded hash", keccak(canonical_json(bid)) == decrypted[pseudonym])
        if pseudonym in prices:
            verdict.add(f"{label} read price is the bid's price", int(bid.get("price_fen", -1)) == prices[pseudonym])
            verdict.add(f"{label} read items are the bid's items", keccak(canonical_json(bid.get("items", {}))) == items[pseudonym])
    if result is not None:
        try:
            winner, value = compute_result(created["method"], list(created["weights"]), prices, scores, panel)
            verdict.add("published result is the one the readings and scores give",
                        winner == bytes(result["winner"]) and value == result["value"],
                        f"computed 0x{winner.hex()[:10]} ({value}), published 0x{bytes(result['winner']).hex()[:10]} ({result['value']})")  # fmt: skip
        except ResultUndefined as exc:
            verdict.add("published result is the one the readings and scores give", False, str(exc))
        _check_objection_period(ledger, events, created, verdict)
    return verdict


def _check_objection_period(ledger: TenderLedgerClient, events: list, created: dict, verdict: Verdict) -> None:
    """The result's block is at or after the reading's block time + the terms' objection window."""
    block_time = {e.name: ledger.client.w3.eth.get_block(e.block_number)["timestamp"] for e in events if e.name in ("ReadingPublished", "ResultPublished")}
    ends = block_time.get("ReadingPublished", 0) + created["objectionWindow"]
    verdict.add("result published after the objection period", block_time["ResultPublished"] >= ends,
                f"objections were open until {ends}; result at {block_time['ResultPublished']}")  # fmt: skip
