"""Typed client for ``TenderLedger``: tenders, sealed bids, the opening, objections, scores, the result.

This module knows no EIP-712: sign-ins, objections and scores arrive signed as raw bytes,
and key commitments as 32 bytes. Building and signing them is ``identity.tender712``'s job
(dependencies point api -> identity -> chain).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import NamedTuple

from eth_account.signers.local import LocalAccount
from web3 import Web3

from chain.consents import DomainFields
from chain.errors import TransactionFailed
from chain.events import ChainEvent
from chain.hexcodec import hx, unhex
from chain.contract import ContractClient
from chain.tx import Receipt

ZERO32 = b"\0" * 32


class TenderState(IntEnum):
    """``ITenderLedger.TenderState``. ``BIDDING`` until ``openTender``; ``FAILED``: too few bids."""

    NONE = 0
    BIDDING = 1
    FAILED = 2
    OPENED = 3
    READ = 4
    DECIDED = 5


class BidStatus(IntEnum):
    """``ITenderLedger.BidStatus`` of a bid's latest version."""

    NONE = 0
    COMMITTED = 1
    WITHDRAWN = 2
    REVEALED = 3
    DECRYPTED = 4
    REVOKED = 5  # not decrypted, the bidder's fault
    NOT_DECRYPTED_WITHDRAWN = 6  # not decrypted, not the bidder's fault


class Method(IntEnum):
    """How a tender is evaluated."""

    LOWEST_PRICE = 0
    WEIGHTED_SCORE = 1


class Cause(IntEnum):
    """Why a bid was not decrypted (``recordDecryption``'s ``cause``)."""

    NONE = 0  # it was decrypted
    BIDDER_FAULT = 1  # no sign-in, no key, or the key does not open the file: the bid is revoked
    NOT_BIDDER_FAULT = 2  # e.g. the platform's copy is lost: the bid counts as withdrawn


@dataclass(frozen=True)
class TenderTerms:
    """``ITenderLedger.TenderTerms``. Times are unix seconds; ``weights`` are basis points per
    criterion summing to 10000 (weighted score), empty for the lowest price. ``objection_window``
    (seconds after the reading: objections open, no result yet) is as long as the decryption window
    unless given."""

    document_hash: bytes
    bid_deadline: int
    opening_time: int
    decryption_end: int
    method: int
    min_bidders: int
    experts: Sequence[str]
    weights: Sequence[int] = ()
    objection_window: int | None = None

    def as_tuple(self) -> tuple:
        """The struct as web3 takes it for ``createTender`` (its field order)."""
        objection_window = self.decryption_end - self.opening_time if self.objection_window is None else self.objection_window
        return (
            bytes(self.document_hash),
            int(self.bid_deadline),
            int(self.opening_time),
            int(self.decryption_end),
            int(objection_window),
            int(self.method),
            int(self.min_bidders),
            [Web3.to_checksum_address(e) for e in self.experts],
            [int(w) for w in self.weights],
        )


@dataclass(frozen=True)
class Reading:
    """``ITenderLedger.Reading``: one bid as read out at the opening (唱标)."""

    pseudonym: bytes
    price: int
    items_hash: bytes

    def as_tuple(self) -> tuple:
        return (bytes(self.pseudonym), int(self.price), bytes(self.items_hash))


@dataclass(frozen=True)
class Tender:
    """A tender as ``getTender`` reports it: terms, agency, state and counts.

    ``bids``: pseudonyms listed (bids not withdrawn); ``active_bids``: not withdrawn (frozen at the opening);
    ``settled_bids``: opened bids with a decryption outcome; ``decrypted_bids``: decrypted ones;
    ``winner``: the winning pseudonym once decided, else None.
    """

    tender_id: bytes
    agency: str
    state: TenderState
    document_hash: bytes
    bid_deadline: int
    opening_time: int
    decryption_end: int
    objection_window: int
    method: Method
    min_bidders: int
    experts: tuple[str, ...]
    weights: tuple[int, ...]
    bids: int
    active_bids: int
    settled_bids: int
    decrypted_bids: int
    objections: int
    open_objections: int
    winner: bytes | None

    @property
    def terms(self) -> TenderTerms:
        return TenderTerms(
            self.document_hash, self.bid_deadline, self.opening_time, self.decryption_end,
            self.method, self.min_bidders, self.experts, self.weights, self.objection_window,
        )  # fmt: skip

    def as_json(self) -> dict:
        """The terms only, JSON-friendly: what may be shown at any time (no bid counts, Art 21)."""
        return {
            "document_hash": hx(self.document_hash),
            "bid_deadline": self.bid_deadline,
            "opening_time": self.opening_time,
            "decryption_end": self.decryption_end,
            "objection_seconds": self.objection_window,
            "method": self.method.name.lower(),
            "min_bidders": self.min_bidders,
            "experts": list(self.experts),
            "weights": list(self.weights),
        }


@dataclass(frozen=True)
class Bid:
    """The latest version of a bid. ``bidder`` is None until someone signed in to it; ``price``
    is meaningful once ``read``; ``score_total`` sums score * weight over ``score_count`` experts."""

    tender_id: bytes
    pseudonym: bytes
    ciphertext_hash: bytes
    key_commitment: bytes
    bidder: str | None
    version: int
    status: BidStatus
    read: bool
    score_count: int
    score_total: int
    price: int


@dataclass(frozen=True)
class Objection:
    tender_id: bytes
    index: int
    pseudonym: bytes
    bidder: str
    raised_at: int
    answered: bool


class Opening(NamedTuple):
    """What ``openTender`` did: ``OPENED`` or ``FAILED``, with the number of bids not withdrawn."""

    state: TenderState
    count: int  # type: ignore[assignment]  # the name the API and tests read; shadows tuple.count, which nothing calls
    receipt: Receipt


class Result(NamedTuple):
    """The winner ``computeResult`` gives and its value (method 0: the price; method 1: the total score)."""

    winner: bytes
    value: int


class PublishedResult(NamedTuple):
    winner: bytes
    bidder: str
    value: int
    receipt: Receipt


def _address_or_none(address: str) -> str | None:
    return None if int(address, 16) == 0 else Web3.to_checksum_address(address)


class TenderLedgerClient(ContractClient):
    """Reads and writes of one deployed TenderLedger. Writes are sent by the given account."""

    def _only(self, receipt: Receipt, name: str) -> ChainEvent:
        found = [e for e in self.events(receipt) if e.name == name]
        if len(found) != 1:
            raise TransactionFailed(f"{receipt.tx_hash} emitted {len(found)} {name} events, expected 1", receipt.tx_hash)
        return found[0]

    # -- calls, built unsent (the outbox or an agency's own client signs and sends them) ----------
    # bytes32 and bytes arguments are taken as bytes or 0x hex; addresses in any case.

    def create_tender_call(self, tender_id: bytes | str, terms: TenderTerms):
        return self.contract.functions.createTender(unhex(tender_id), terms.as_tuple())

    def commit_bid_call(self, tender_id: bytes | str, pseudonym: bytes | str, ciphertext_hash: bytes | str, key_commitment: bytes | str):
        return self.contract.functions.commitBid(unhex(tender_id), unhex(pseudonym), unhex(ciphertext_hash), unhex(key_commitment))

    def withdraw_bid_call(self, tender_id: bytes | str, pseudonym: bytes | str):
        return self.contract.functions.withdrawBid(unhex(tender_id), unhex(pseudonym))

    def open_tender_call(self, tender_id: bytes | str):
        return self.contract.functions.openTender(unhex(tender_id))

    def sign_in_call(self, tender_id: bytes | str, pseudonym: bytes | str, bidder: str, signature: bytes | str):
        return self.contract.functions.signIn(unhex(tender_id), unhex(pseudonym), Web3.to_checksum_address(bidder), unhex(signature))

    def reveal_key_call(self, tender_id: bytes | str, pseudonym: bytes | str, key: bytes | str, salt: bytes | str):
        return self.contract.functions.revealKey(unhex(tender_id), unhex(pseudonym), unhex(key), unhex(salt))

    def record_decryption_call(self, tender_id: bytes | str, pseudonym: bytes | str, decrypted: bool, plaintext_hash: bytes | str = ZERO32, cause: int = Cause.NONE):
        return self.contract.functions.recordDecryption(unhex(tender_id), unhex(pseudonym), bool(decrypted), unhex(plaintext_hash), int(cause))

    def publish_reading_call(self, tender_id: bytes | str, readings: Sequence[Reading | tuple], announcement_hash: bytes | str):
        rows = [(r if isinstance(r, Reading) else Reading(*r)).as_tuple() for r in readings]
        return self.contract.functions.publishReading(unhex(tender_id), rows, unhex(announcement_hash))

    def raise_objection_call(self, tender_id: bytes | str, pseudonym: bytes | str, objection_hash: bytes | str, signature: bytes | str):
        return self.contract.functions.raiseObjection(unhex(tender_id), unhex(pseudonym), unhex(objection_hash), unhex(signature))

    def answer_objection_call(self, tender_id: bytes | str, index: int, answer_hash: bytes | str):
        return self.contract.functions.answerObjection(unhex(tender_id), int(index), unhex(answer_hash))

    def submit_scores_call(self, tender_id: bytes | str, expert: str, pseudonym: bytes | str, scores: Sequence[int], signature: bytes | str):
        return self.contract.functions.submitScores(unhex(tender_id), Web3.to_checksum_address(expert), unhex(pseudonym), [int(s) for s in scores], unhex(signature))

    def replace_expert_call(self, tender_id: bytes | str, expert: str, replacement: str):
        return self.contract.functions.replaceExpert(unhex(tender_id), Web3.to_checksum_address(expert), Web3.to_checksum_address(replacement))

    def publish_result_call(self, tender_id: bytes | str, winner: bytes | str, report_hash: bytes | str):
        return self.contract.functions.publishResult(unhex(tender_id), unhex(winner), unhex(report_hash))

    # -- tender and bids ------------------------------------------------------------------

    def create_tender(self, agency: LocalAccount, tender_id: bytes, terms: TenderTerms) -> Receipt:
        """Create tender ``tender_id`` (sent by an active PROCUREMENT member, who becomes its agency)."""
        return self.client.transact(agency, self.create_tender_call(tender_id, terms))

    def commit_bid(self, relayer: LocalAccount, tender_id: bytes, pseudonym: bytes, ciphertext_hash: bytes, key_commitment: bytes) -> tuple[int, Receipt]:
        """Commit, replace or re-commit the bid ``pseudonym``; returns its new version."""
        receipt = self.client.transact(relayer, self.commit_bid_call(tender_id, pseudonym, ciphertext_hash, key_commitment))
        return self._only(receipt, "BidCommitted").args["version"], receipt

    def withdraw_bid(self, relayer: LocalAccount, tender_id: bytes, pseudonym: bytes) -> Receipt:
        return self.client.transact(relayer, self.withdraw_bid_call(tender_id, pseudonym))

    # -- the opening ----------------------------------------------------------------------

    def open_tender(self, agency: LocalAccount, tender_id: bytes) -> Opening:
        """Open the tender: ``(OPENED, count, receipt)``, or ``(FAILED, count, receipt)`` with too few bids."""
        receipt = self.client.transact(agency, self.open_tender_call(tender_id))
        (event,) = [e for e in self.events(receipt) if e.name in ("TenderOpened", "TenderFailed")]
        state = TenderState.OPENED if event.name == "TenderOpened" else TenderState.FAILED
        return Opening(state, event.args["bids"], receipt)

    def sign_in(self, sender: LocalAccount, tender_id: bytes, pseudonym: bytes, bidder: str, signature: bytes) -> Receipt:
        """Submit the bidder's signed sign-in (sent by the bidder or the relayer)."""
        return self.client.transact(sender, self.sign_in_call(tender_id, pseudonym, bidder, signature))

    def reveal_key(self, sender: LocalAccount, tender_id: bytes, pseudonym: bytes, key: bytes, salt: bytes) -> Receipt:
        """Reveal the bid's key and salt (sent by the signed-in bidder or the relayer)."""
        return self.client.transact(sender, self.reveal_key_call(tender_id, pseudonym, key, salt))

    def record_decryption(
        self,
        agency: LocalAccount,
        tender_id: bytes,
        pseudonym: bytes,
        decrypted: bool,
        plaintext_hash: bytes = ZERO32,
        cause: int = Cause.NONE,
    ) -> Receipt:
        """Record the decryption outcome: ``decrypted`` with ``plaintext_hash``, or not, with ``cause``."""
        return self.client.transact(agency, self.record_decryption_call(tender_id, pseudonym, decrypted, plaintext_hash, cause))

    def publish_reading(self, agency: LocalAccount, tender_id: bytes, readings: Sequence[Reading], announcement_hash: bytes) -> tuple[int, Receipt]:
        """Publish the reading (every decrypted bid once); returns the number of bids read."""
        receipt = self.client.transact(agency, self.publish_reading_call(tender_id, readings, announcement_hash))
        return self._only(receipt, "ReadingPublished").args["count"], receipt

    # -- objections -----------------------------------------------------------------------

    def raise_objection(self, sender: LocalAccount, tender_id: bytes, pseudonym: bytes, objection_hash: bytes, signature: bytes) -> tuple[int, Receipt]:
        """Submit a bidder's signed objection (sent by the bidder or the relayer); returns its index."""
        receipt = self.client.transact(sender, self.raise_objection_call(tender_id, pseudonym, objection_hash, signature))
        return self._only(receipt, "ObjectionRaised").args["index"], receipt

    def answer_objection(self, agency: LocalAccount, tender_id: bytes, index: int, answer_hash: bytes) -> Receipt:
        return self.client.transact(agency, self.answer_objection_call(tender_id, index, answer_hash))

    # -- evaluation and result ------------------------------------------------------------

    def submit_scores(self, sender: LocalAccount, tender_id: bytes, expert: str, pseudonym: bytes, scores: Sequence[int], signature: bytes) -> Receipt:
        """Submit an expert's signed scores for one bid (sent by the expert or the relayer)."""
        return self.client.transact(sender, self.submit_scores_call(tender_id, expert, pseudonym, scores, signature))

    def replace_expert(self, agency: LocalAccount, tender_id: bytes, expert: str, replacement: str) -> Receipt:
        """Replace a panel expert who has not scored every read bid by its scoring deadline; its scores are dropped."""
        return self.client.transact(agency, self.replace_expert_call(tender_id, expert, replacement))

    def objection_deadline(self, tender_id: bytes) -> int:
        """The first second no objection is taken (the reading + the window); 0 before the reading."""
        return self.contract.functions.objectionDeadline(bytes(tender_id)).call()

    def scoring_deadline(self, tender_id: bytes, expert: str) -> int:
        """The first second ``expert`` may be replaced if it has not scored every read bid; 0 before the reading."""
        return self.contract.functions.scoringDeadline(bytes(tender_id), Web3.to_checksum_address(expert)).call()

    def publish_result(self, agency: LocalAccount, tender_id: bytes, winner: bytes, report_hash: bytes) -> PublishedResult:
        """Publish the result; the contract refuses a winner other than the one it computes."""
        receipt = self.client.transact(agency, self.publish_result_call(tender_id, winner, report_hash))
        event = self._only(receipt, "ResultPublished")
        return PublishedResult(bytes(event.args["winner"]), event.args["bidder"], event.args["value"], receipt)

    def compute_result(self, tender_id: bytes) -> Result:
        """The winner and its value as the contract computes them from the stored readings and scores."""
        winner, value = self._read(self.contract.functions.computeResult(bytes(tender_id)))
        return Result(bytes(winner), value)

    # -- reads ----------------------------------------------------------------------------

    def state(self, tender_id: bytes) -> TenderState:
        return TenderState(self.contract.functions.tenderState(bytes(tender_id)).call())

    def get_tender(self, tender_id: bytes) -> Tender:
        tender_id = bytes(tender_id)
        terms, agency, state, bids, active, settled, decrypted, objections, open_objections, winner = self.contract.functions.getTender(tender_id).call()
        document_hash, bid_deadline, opening_time, decryption_end, objection_window, method, min_bidders, experts, weights = terms
        return Tender(
            tender_id=tender_id,
            agency=Web3.to_checksum_address(agency),
            state=TenderState(state),
            document_hash=bytes(document_hash),
            bid_deadline=bid_deadline,
            opening_time=opening_time,
            decryption_end=decryption_end,
            objection_window=objection_window,
            method=Method(method),
            min_bidders=min_bidders,
            experts=tuple(Web3.to_checksum_address(e) for e in experts),
            weights=tuple(weights),
            bids=bids,
            active_bids=active,
            settled_bids=settled,
            decrypted_bids=decrypted,
            objections=objections,
            open_objections=open_objections,
            winner=None if bytes(winner) == ZERO32 else bytes(winner),
        )

    def get_bid(self, tender_id: bytes, pseudonym: bytes) -> Bid:
        tender_id, pseudonym = bytes(tender_id), bytes(pseudonym)
        ciphertext_hash, key_commitment, bidder, version, status, read, score_count, score_total, price = self.contract.functions.getBid(tender_id, pseudonym).call()
        return Bid(
            tender_id=tender_id,
            pseudonym=pseudonym,
            ciphertext_hash=bytes(ciphertext_hash),
            key_commitment=bytes(key_commitment),
            bidder=_address_or_none(bidder),
            version=version,
            status=BidStatus(status),
            read=read,
            score_count=score_count,
            score_total=score_total,
            price=price,
        )

    def bid_pseudonyms(self, tender_id: bytes) -> list[bytes]:
        """The pseudonyms with a bid not withdrawn (a withdrawn one frees its slot)."""
        return [bytes(p) for p in self.contract.functions.bidPseudonyms(bytes(tender_id)).call()]

    def objection_count(self, tender_id: bytes) -> int:
        return self.contract.functions.objectionCount(bytes(tender_id)).call()

    def get_objection(self, tender_id: bytes, index: int) -> Objection:
        pseudonym, bidder, raised_at, answered = self._read(self.contract.functions.getObjection(bytes(tender_id), int(index)))
        return Objection(bytes(tender_id), int(index), bytes(pseudonym), Web3.to_checksum_address(bidder), raised_at, answered)

    def pseudonym_of(self, tender_id: bytes, bidder: str) -> bytes | None:
        """The pseudonym ``bidder`` signed in under, or None."""
        pseudonym = bytes(self.contract.functions.pseudonymOf(bytes(tender_id), Web3.to_checksum_address(bidder)).call())
        return None if pseudonym == ZERO32 else pseudonym

    def has_scored(self, tender_id: bytes, expert: str, pseudonym: bytes) -> bool:
        return self.contract.functions.hasScored(bytes(tender_id), Web3.to_checksum_address(expert), bytes(pseudonym)).call()

    def domain(self) -> DomainFields:
        """The contract's EIP-712 domain as ERC-5267 ``eip712Domain()`` reports it."""
        _fields, name, version, chain_id, verifying_contract, _salt, _extensions = self.contract.functions.eip712Domain().call()
        return DomainFields(name, version, chain_id, Web3.to_checksum_address(verifying_contract))

    def trail(self, tender_id: bytes, *, from_block: int = 0, to_block: int | None = None) -> list[ChainEvent]:
        """Every event of this contract for the tender, in chain order (block, then log index)."""
        tender_id = bytes(tender_id)
        return [e for e in self.reader.read(from_block, to_block) if bytes(e.args.get("tenderId", b"")) == tender_id]
