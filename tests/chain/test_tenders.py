"""TenderLedger: an electronic bid opening end to end for both evaluation methods, and every
refusal with its exact custom error (roles, windows, signatures, commitments, the result)."""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
from dataclasses import dataclass

import pytest
from eth_abi import encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from chain.deploy import deploy, load_record, write_record
from chain.errors import DeploymentMismatch
from chain.node import rpc_call
from chain.registry import MemberInfo, role_id
from chain.reverts import revert_class
from chain.tenders import (
    BidStatus,
    Cause,
    Method,
    Reading,
    TenderLedgerClient,
    TenderState,
    TenderTerms,
)
from identity import tender712
from identity.eip712 import Domain
from identity.keys import dev_account
from identity.parties import governor_info

UnauthorizedProcurement = revert_class("TenderLedgerUnauthorizedProcurement")
UnauthorizedRelayer = revert_class("TenderLedgerUnauthorizedRelayer")
UnauthorizedAgency = revert_class("TenderLedgerUnauthorizedAgency")
UnknownTender = revert_class("TenderLedgerUnknownTender")
TenderExists = revert_class("TenderLedgerTenderExists")
InvalidTimes = revert_class("TenderLedgerInvalidTimes")
InvalidMethod = revert_class("TenderLedgerInvalidMethod")
InvalidMinBidders = revert_class("TenderLedgerInvalidMinBidders")
InvalidPanelSize = revert_class("TenderLedgerInvalidPanelSize")
InvalidExpert = revert_class("TenderLedgerInvalidExpert")
DuplicateExpert = revert_class("TenderLedgerDuplicateExpert")
InvalidWeights = revert_class("TenderLedgerInvalidWeights")
BiddingClosed = revert_class("TenderLedgerBiddingClosed")
ZeroPseudonym = revert_class("TenderLedgerZeroPseudonym")
TooManyBids = revert_class("TenderLedgerTooManyBids")
TooEarly = revert_class("TenderLedgerTooEarly")
DecryptionClosed = revert_class("TenderLedgerDecryptionClosed")
DecryptionOpen = revert_class("TenderLedgerDecryptionOpen")
WrongState = revert_class("TenderLedgerWrongState")
UnknownBid = revert_class("TenderLedgerUnknownBid")
WrongBidStatus = revert_class("TenderLedgerWrongBidStatus")
AlreadySignedIn = revert_class("TenderLedgerAlreadySignedIn")
BidderHasBid = revert_class("TenderLedgerBidderHasBid")
ConflictOfInterest = revert_class("TenderLedgerConflictOfInterest")
NotSignedIn = revert_class("TenderLedgerNotSignedIn")
InvalidSignature = revert_class("TenderLedgerInvalidSignature")
KeyMismatch = revert_class("TenderLedgerKeyMismatch")
InvalidCause = revert_class("TenderLedgerInvalidCause")
BidsPending = revert_class("TenderLedgerBidsPending")
ReadingIncomplete = revert_class("TenderLedgerReadingIncomplete")
DuplicateReading = revert_class("TenderLedgerDuplicateReading")
ObjectionExists = revert_class("TenderLedgerObjectionExists")
UnknownObjection = revert_class("TenderLedgerUnknownObjection")
ObjectionAnswered = revert_class("TenderLedgerObjectionAnswered")
ObjectionsOpen = revert_class("TenderLedgerObjectionsOpen")
WrongMethod = revert_class("TenderLedgerWrongMethod")
NotAnExpert = revert_class("TenderLedgerNotAnExpert")
AlreadyScored = revert_class("TenderLedgerAlreadyScored")
InvalidScoreCount = revert_class("TenderLedgerInvalidScoreCount")
ScoreOutOfRange = revert_class("TenderLedgerScoreOutOfRange")
ScoresMissing = revert_class("TenderLedgerScoresMissing")
NoReadBids = revert_class("TenderLedgerNoReadBids")
WrongWinner = revert_class("TenderLedgerWrongWinner")
KeyWasRevealed = revert_class("TenderLedgerKeyWasRevealed")

HOUR = 3600
DECRYPTION = 30 * 60
WEIGHTS = (6000, 4000)
GAS: dict[str, int] = {}  # gas used per step, printed by test_gas_figures
_ids = itertools.count(1)


def now(chain) -> int:
    return chain.w3.eth.get_block("latest")["timestamp"]


def advance_to(chain, moment: int) -> None:
    """Mine a block at or after ``moment``: the next transaction's block time is not before it."""
    gap = moment - now(chain)
    endpoint = chain.w3.provider.endpoint_uri
    if gap > 0:
        rpc_call(endpoint, "evm_increaseTime", [gap])
    rpc_call(endpoint, "evm_mine")


def h(label: str) -> bytes:
    return keccak(text=label)


# -- fixtures and factories -------------------------------------------------------------------


@dataclass(frozen=True)
class Bidder:
    """A bidder's side of one bid: its key, the pseudonym the platform gave it, its sealed file."""

    account: LocalAccount
    pseudonym: bytes
    key: bytes
    salt: bytes
    ciphertext_hash: bytes

    @property
    def address(self) -> str:
        return self.account.address

    def commitment(self, ledger: TenderLedgerClient, tender_id: bytes) -> bytes:
        return tender712.key_commitment(ledger.client.chain_id, ledger.address, tender_id, self.address, self.key, self.salt)


def make_bidder(account: LocalAccount, label: str) -> Bidder:
    return Bidder(account, h(f"pseudonym:{label}"), os.urandom(32), os.urandom(32), h(f"ciphertext:{label}"))


@pytest.fixture
def ledger(chain, deployment, build) -> TenderLedgerClient:
    return TenderLedgerClient(chain, deployment.address("TenderLedger"), build["TenderLedger"].abi)


@pytest.fixture
def domain(ledger) -> Domain:
    return tender712.domain(ledger.client.chain_id, ledger.address)


@pytest.fixture(scope="session")
def accounts(node_config) -> list[LocalAccount]:
    """Funded non-members: 12..15 bid, 16..18 sit on the panel, 19 is a spare key."""
    return [dev_account(node_config, i) for i in range(12, 20)]


@pytest.fixture
def experts(accounts) -> list[LocalAccount]:
    return accounts[4:7]


@pytest.fixture
def spare(accounts) -> LocalAccount:
    return accounts[7]


def register_bidder(registry, governor, address: str, name: str = "测试投标人") -> None:
    """The governor registers a bidder firm on GovRegistry with the BIDDER role (TenderLedger's sign-in asks for it)."""
    if registry.contract.functions.hasRole(role_id("BIDDER"), address).call():
        return
    try:
        registry.register_member(governor, address, MemberInfo(name), ["BIDDER"])
    except revert_class("GovRegistryMemberExists"):
        registry.grant_role(governor, "BIDDER", address)


@pytest.fixture
def bidders(accounts, registry, parties) -> list[Bidder]:
    label = next(_ids)
    for n, account in enumerate(accounts[:4]):
        register_bidder(registry, parties.governor, account.address, f"测试投标人{n}")
    return [make_bidder(account, f"{label}:{n}") for n, account in enumerate(accounts[:4])]


def make_terms(chain, panel, **changes) -> TenderTerms:
    deadline = now(chain) + HOUR
    terms = TenderTerms(
        document_hash=h("招标文件 GC-2026-001"),
        bid_deadline=deadline,
        opening_time=deadline,
        decryption_end=deadline + DECRYPTION,
        method=Method.LOWEST_PRICE,
        min_bidders=3,
        experts=[e.address for e in panel],
        weights=(),
    )
    return dataclasses.replace(terms, **changes)


@pytest.fixture
def create(ledger, parties, chain, experts):
    """Create a tender as the procurement centre; returns its id and terms."""

    def run(sender=None, **changes) -> tuple[bytes, TenderTerms]:
        if changes.get("method") == Method.WEIGHTED_SCORE:
            changes.setdefault("weights", WEIGHTS)
        terms = make_terms(chain, experts, **changes)
        tender_id = h(f"tender:{next(_ids)}")
        ledger.create_tender(sender or parties.procurement, tender_id, terms)
        return tender_id, terms

    return run


def commit(ledger, relayer, tender_id, bidder: Bidder):
    return ledger.commit_bid(relayer, tender_id, bidder.pseudonym, bidder.ciphertext_hash, bidder.commitment(ledger, tender_id))


def commit_all(ledger, relayer, tender_id, *bidders_: Bidder) -> None:
    for bidder in bidders_:
        commit(ledger, relayer, tender_id, bidder)


def decryption_end(ledger, tender_id) -> int:
    """The end of the decryption window that counts: the opening block's time + the terms' window."""
    return ledger.get_tender(tender_id).decryption_end


def past_objection_period(ledger, chain, tender_id) -> None:
    """Move the chain to the end of the objection period: no result is published before it."""
    advance_to(chain, ledger.objection_deadline(tender_id))


def open_now(ledger, chain, parties, tender_id, terms):
    advance_to(chain, terms.opening_time)
    return ledger.open_tender(parties.procurement, tender_id)


def sign_in(ledger, domain, sender, tender_id, bidder: Bidder):
    signature = tender712.sign_signin(tender_id, bidder.pseudonym, bidder.address, domain, bidder.account)
    return ledger.sign_in(sender, tender_id, bidder.pseudonym, bidder.address, signature)


def reveal(ledger, sender, tender_id, bidder: Bidder):
    return ledger.reveal_key(sender, tender_id, bidder.pseudonym, bidder.key, bidder.salt)


def plaintext_hash(bidder: Bidder) -> bytes:
    return keccak(bidder.pseudonym + b"plaintext")


def decrypt(ledger, domain, parties, tender_id, bidder: Bidder):
    """Sign in, reveal (both through the relayer) and record the decryption."""
    sign_in(ledger, domain, parties.relayer, tender_id, bidder)
    reveal(ledger, parties.relayer, tender_id, bidder)
    return ledger.record_decryption(parties.procurement, tender_id, bidder.pseudonym, True, plaintext_hash(bidder))


def readings_for(bidders, prices) -> list[Reading]:
    return [Reading(b.pseudonym, price, h(f"items:{price}")) for b, price in zip(bidders, prices, strict=True)]


def scores_for(ledger, domain, sender, tender_id, expert, bidder: Bidder, scores):
    signature = tender712.sign_scores(tender_id, bidder.pseudonym, scores, domain, expert)
    return ledger.submit_scores(sender, tender_id, expert.address, bidder.pseudonym, scores, signature)


@pytest.fixture
def read_tender(ledger, domain, parties, chain, create, bidders):
    """A tender with bidders 0..2 decrypted and read (bidder 3 never bid); returns (id, terms, prices)."""

    def run(prices=(1000, 900, 950), **changes):
        changes.setdefault("min_bidders", 1)
        tender_id, terms = create(**changes)
        for bidder in bidders[:3]:
            commit(ledger, parties.relayer, tender_id, bidder)
        open_now(ledger, chain, parties, tender_id, terms)
        for bidder in bidders[:3]:
            decrypt(ledger, domain, parties, tender_id, bidder)
        ledger.publish_reading(parties.procurement, tender_id, readings_for(bidders[:3], prices), h("announcement"))
        return tender_id, terms, prices

    return run


# -- EIP-712 and the key commitment ------------------------------------------------------------


def test_domain_type_strings_and_commitment_match_the_contract(ledger, domain, chain):
    onchain = ledger.domain()
    assert Domain.of(onchain) == domain
    assert (onchain.name, onchain.version, onchain.chain_id) == ("govchain TenderLedger", "1", chain.chain_id)
    assert tender712.SIGNIN_TYPE == "SignIn(bytes32 tenderId,bytes32 pseudonym,address bidder)"
    assert tender712.OBJECTION_TYPE == "Objection(bytes32 tenderId,bytes32 pseudonym,bytes32 objectionHash)"
    assert tender712.SCORE_TYPE == "Score(bytes32 tenderId,bytes32 pseudonym,bytes32 scoresHash)"
    # scoresHash = keccak256(abi.encodePacked(uint16[])): 32-byte words, as EIP-712 encodes a uint16[]
    assert tender712.scores_hash([70, 80]) == keccak(encode(["uint16", "uint16"], [70, 80]))
    assert tender712.scores_hash([]) == keccak(b"")
    with pytest.raises(ValueError, match="score 1 must be a uint16"):
        tender712.scores_hash([1, 70000])
    tid, bidder, key, salt = h("t"), "0x" + "11" * 20, b"\x01" * 32, b"\x02" * 32
    expected = keccak(encode(["uint256", "address", "bytes32", "address", "bytes32", "bytes32"], [1337, ledger.address, tid, bidder, key, salt]))
    assert tender712.key_commitment(1337, ledger.address, tid, bidder, key, salt) == expected
    with pytest.raises(ValueError, match="salt must be 32 bytes, got 3"):
        tender712.key_commitment(1337, ledger.address, tid, bidder, key, b"abc")


def test_typed_data_is_plain_json_and_recovers_the_signer(domain, accounts):
    signer = accounts[0]
    for typed, signature in (
        (tender712.signin_typed_data(h("t"), h("p"), signer.address, domain), tender712.sign_signin(h("t"), h("p"), signer.address, domain, signer)),
        (tender712.objection_typed_data(h("t"), h("p"), h("o"), domain), tender712.sign_objection(h("t"), h("p"), h("o"), domain, signer.key)),
        (tender712.score_typed_data(h("t"), h("p"), [1, 2], domain), tender712.sign_scores(h("t"), h("p"), [1, 2], domain, signer)),
    ):
        message = json.loads(json.dumps(typed))  # what a wallet would get
        assert Account.recover_message(encode_typed_data(full_message=message), signature=signature) == signer.address
    assert tender712.text_hash("对工期有异议") == keccak("对工期有异议".encode())


# -- the whole path ------------------------------------------------------------------------------


@pytest.mark.node  # a smoke run of the flow on every node
def test_lowest_price_tender_end_to_end(ledger, domain, parties, chain, create, bidders):
    tender_id, terms = create()
    assert ledger.state(tender_id) is TenderState.BIDDING
    a, b, c, d = bidders
    versions = [commit(ledger, parties.relayer, tender_id, bidder)[0] for bidder in bidders]
    assert versions == [1, 1, 1, 1]
    assert ledger.bid_pseudonyms(tender_id) == [x.pseudonym for x in bidders]
    assert ledger.get_tender(tender_id).active_bids == 4

    opening = open_now(ledger, chain, parties, tender_id, terms)
    assert (opening.state, opening.count) == (TenderState.OPENED, 4)
    opened_at = chain.w3.eth.get_block(opening.receipt.block_number)["timestamp"]
    assert [(e.name, e.args) for e in ledger.events(opening.receipt)] == [("TenderOpened", {"tenderId": tender_id, "bids": 4, "decryptionEnd": opened_at + DECRYPTION})]

    # sign-ins go through the relayer; a reveals its key itself, b and c through the relayer; d never signs in
    receipt = sign_in(ledger, domain, parties.relayer, tender_id, a)
    assert [(e.name, e.args) for e in ledger.events(receipt)] == [("BidderSignedIn", {"tenderId": tender_id, "pseudonym": a.pseudonym, "bidder": a.address})]
    receipt = reveal(ledger, a.account, tender_id, a)
    assert [(e.name, e.args) for e in ledger.events(receipt)] == [("KeyRevealed", {"tenderId": tender_id, "pseudonym": a.pseudonym, "bidder": a.address, "key": a.key, "salt": a.salt})]
    assert ledger.get_bid(tender_id, a.pseudonym).status is BidStatus.REVEALED
    receipt = ledger.record_decryption(parties.procurement, tender_id, a.pseudonym, True, plaintext_hash(a))
    assert [(e.name, e.args) for e in ledger.events(receipt)] == [("BidDecrypted", {"tenderId": tender_id, "pseudonym": a.pseudonym, "plaintextHash": plaintext_hash(a)})]
    for bidder in (b, c):
        decrypt(ledger, domain, parties, tender_id, bidder)

    # d has the whole window: nothing can be recorded for it, and nothing read, before decryptionEnd
    with pytest.raises(DecryptionOpen) as early:
        ledger.record_decryption(parties.procurement, tender_id, d.pseudonym, False, cause=Cause.BIDDER_FAULT)
    assert early.value.args_by_name["tenderId"] == tender_id and early.value.args_by_name["decryptionEnd"] == decryption_end(ledger, tender_id)
    assert early.value.args_by_name["now"] < decryption_end(ledger, tender_id)
    prices = (1000, 900, 900)  # b and c tie: the lower pseudonym wins
    with pytest.raises(BidsPending) as pending:
        ledger.publish_reading(parties.procurement, tender_id, readings_for((a, b, c), prices), h("announcement"))
    assert pending.value.args_by_name == {"tenderId": tender_id, "pending": 1}

    advance_to(chain, decryption_end(ledger, tender_id))
    receipt = ledger.record_decryption(parties.procurement, tender_id, d.pseudonym, False, cause=Cause.BIDDER_FAULT)
    assert [(e.name, e.args) for e in ledger.events(receipt)] == [
        ("BidNotDecrypted", {"tenderId": tender_id, "pseudonym": d.pseudonym, "cause": 1}),
        ("BidSecurityForfeited", {"tenderId": tender_id, "pseudonym": d.pseudonym, "bidder": "0x" + "0" * 40}),  # never signed in
    ]
    assert ledger.get_bid(tender_id, d.pseudonym).status is BidStatus.REVOKED

    count, receipt = ledger.publish_reading(parties.procurement, tender_id, readings_for((a, b, c), prices), h("announcement"))
    assert count == 3
    events = ledger.events(receipt)
    assert [e.name for e in events] == ["BidRead"] * 3 + ["ReadingPublished"]
    assert events[1].args == {"tenderId": tender_id, "pseudonym": b.pseudonym, "bidder": b.address, "price": 900, "itemsHash": h("items:900")}
    assert events[3].args == {"tenderId": tender_id, "announcementHash": h("announcement"), "count": 3}
    assert ledger.state(tender_id) is TenderState.READ
    stored = ledger.get_bid(tender_id, b.pseudonym)
    assert (stored.read, stored.price, stored.status, stored.bidder) == (True, 900, BidStatus.DECRYPTED, b.address)

    index, receipt = ledger.raise_objection(parties.relayer, tender_id, a.pseudonym, h("objection"), tender712.sign_objection(tender_id, a.pseudonym, h("objection"), domain, a.account))
    assert index == 0
    assert [(e.name, e.args) for e in ledger.events(receipt)] == [
        ("ObjectionRaised", {"tenderId": tender_id, "index": 0, "pseudonym": a.pseudonym, "bidder": a.address, "objectionHash": h("objection")})
    ]
    receipt = ledger.answer_objection(parties.procurement, tender_id, 0, h("answer"))
    assert [(e.name, e.args) for e in ledger.events(receipt)] == [("ObjectionAnswered", {"tenderId": tender_id, "index": 0, "pseudonym": a.pseudonym, "answerHash": h("answer")})]

    tie_winner = min(b.pseudonym, c.pseudonym, key=lambda p: int.from_bytes(p, "big"))
    loser = c.pseudonym if tie_winner == b.pseudonym else b.pseudonym
    assert ledger.compute_result(tender_id) == (tie_winner, 900)
    past_objection_period(ledger, chain, tender_id)
    for wrong in (a.pseudonym, loser, d.pseudonym):
        with pytest.raises(WrongWinner) as refused:
            ledger.publish_result(parties.procurement, tender_id, wrong, h("report"))
        assert refused.value.args_by_name == {"tenderId": tender_id, "winner": wrong, "expected": tie_winner}
    result = ledger.publish_result(parties.procurement, tender_id, tie_winner, h("report"))
    winner_bidder = b.address if tie_winner == b.pseudonym else c.address
    assert (result.winner, result.bidder, result.value) == (tie_winner, winner_bidder, 900)
    assert ledger.compute_result(tender_id) == (tie_winner, 900)  # still recomputable by anyone

    final = ledger.get_tender(tender_id)
    assert final.state is TenderState.DECIDED and final.winner == tie_winner
    assert (final.bids, final.active_bids, final.settled_bids, final.decrypted_bids) == (4, 4, 4, 3)
    assert (final.objections, final.open_objections, final.agency) == (1, 0, parties.procurement.address)
    assert final.terms == dataclasses.replace(terms, experts=tuple(terms.experts), method=Method.LOWEST_PRICE, decryption_end=opened_at + DECRYPTION, objection_window=DECRYPTION)
    assert final.as_json()["method"] == "lowest_price" and "active_bids" not in final.as_json()

    trail = ledger.trail(tender_id)
    assert [e.name for e in trail] == (
        ["TenderCreated"] + ["BidCommitted"] * 4 + ["TenderOpened"]
        + ["BidderSignedIn", "KeyRevealed", "BidDecrypted"] * 3 + ["BidNotDecrypted", "BidSecurityForfeited"]
        + ["BidRead"] * 3 + ["ReadingPublished", "ObjectionRaised", "ObjectionAnswered", "ResultPublished"]
    )  # fmt: skip
    assert [(e.block_number, e.log_index) for e in trail] == sorted((e.block_number, e.log_index) for e in trail)
    assert trail[0].args == {
        "tenderId": tender_id, "agency": parties.procurement.address, "documentHash": terms.document_hash,
        "bidDeadline": terms.bid_deadline, "openingTime": terms.opening_time, "decryptionEnd": terms.decryption_end, "objectionWindow": DECRYPTION,
        "method": 0, "minBidders": 3, "experts": list(terms.experts), "weights": [],
    }  # fmt: skip
    assert trail[-1].args == {"tenderId": tender_id, "winner": tie_winner, "bidder": winner_bidder, "reportHash": h("report"), "value": 900}


def test_weighted_score_tender_end_to_end(ledger, domain, parties, chain, create, bidders, experts):
    tender_id, terms = create(method=Method.WEIGHTED_SCORE)
    assert ledger.get_tender(tender_id).weights == WEIGHTS
    a, b, c, d = bidders
    for bidder in bidders:
        commit(ledger, parties.relayer, tender_id, bidder)
    open_now(ledger, chain, parties, tender_id, terms)
    for bidder in (a, b, c):
        decrypt(ledger, domain, parties, tender_id, bidder)
    sign_in(ledger, domain, parties.relayer, tender_id, d)  # d signs in but never releases its key
    advance_to(chain, decryption_end(ledger, tender_id))
    with pytest.raises(DecryptionClosed):
        reveal(ledger, d.account, tender_id, d)
    ledger.record_decryption(parties.procurement, tender_id, d.pseudonym, False, cause=Cause.BIDDER_FAULT)
    prices = (1000, 950, 990)
    ledger.publish_reading(parties.procurement, tender_id, readings_for((a, b, c), prices), h("announcement"))

    # b and c tie on the total; b is cheaper and wins; a scores lower
    marks = {
        experts[0].address: {a.pseudonym: [70, 80], b.pseudonym: [90, 80], c.pseudonym: [80, 95]},
        experts[1].address: {a.pseudonym: [60, 70], b.pseudonym: [80, 90], c.pseudonym: [90, 75]},
        experts[2].address: {a.pseudonym: [75, 75], b.pseudonym: [85, 85], c.pseudonym: [85, 85]},
    }
    totals = {p: sum(s * w for e in marks for s, w in zip(marks[e][p], WEIGHTS)) for p in (a.pseudonym, b.pseudonym, c.pseudonym)}
    assert totals[b.pseudonym] == totals[c.pseudonym] > totals[a.pseudonym]
    senders = itertools.cycle(["relayer", "expert"])
    for expert in experts:
        for bidder in (a, b, c):
            if expert is experts[2] and bidder is c:
                continue  # scored below, after the refusal
            sender = parties.relayer if next(senders) == "relayer" else expert
            receipt = scores_for(ledger, domain, sender, tender_id, expert, bidder, marks[expert.address][bidder.pseudonym])
            (event,) = ledger.events(receipt)
            assert event.name == "ScoresSubmitted"
            assert event.args == {"tenderId": tender_id, "expert": expert.address, "pseudonym": bidder.pseudonym, "scores": marks[expert.address][bidder.pseudonym]}

    with pytest.raises(ScoresMissing) as missing:
        ledger.compute_result(tender_id)
    assert missing.value.args_by_name == {"tenderId": tender_id, "expert": experts[2].address, "pseudonym": c.pseudonym}
    past_objection_period(ledger, chain, tender_id)
    with pytest.raises(ScoresMissing):
        ledger.publish_result(parties.procurement, tender_id, b.pseudonym, h("report"))
    scores_for(ledger, domain, parties.relayer, tender_id, experts[2], c, marks[experts[2].address][c.pseudonym])
    stored = ledger.get_bid(tender_id, c.pseudonym)
    assert (stored.score_count, stored.score_total) == (3, totals[c.pseudonym])
    assert ledger.has_scored(tender_id, experts[2].address, c.pseudonym) is True

    assert ledger.compute_result(tender_id) == (b.pseudonym, totals[b.pseudonym])
    with pytest.raises(WrongWinner) as refused:
        ledger.publish_result(parties.procurement, tender_id, c.pseudonym, h("report"))
    assert refused.value.args_by_name == {"tenderId": tender_id, "winner": c.pseudonym, "expected": b.pseudonym}
    result = ledger.publish_result(parties.procurement, tender_id, b.pseudonym, h("report"))
    assert (result.winner, result.bidder, result.value) == (b.pseudonym, b.address, totals[b.pseudonym])
    assert ledger.state(tender_id) is TenderState.DECIDED
    assert [e.name for e in ledger.trail(tender_id)].count("ScoresSubmitted") == 9
    with pytest.raises(WrongState):  # no scores after the result
        scores_for(ledger, domain, parties.relayer, tender_id, experts[0], b, [1, 1])


def test_fewer_bids_than_min_bidders_fail_the_opening(ledger, domain, parties, chain, create, bidders):
    tender_id, terms = create(min_bidders=3)
    for bidder in bidders[:3]:
        commit(ledger, parties.relayer, tender_id, bidder)
    ledger.withdraw_bid(parties.relayer, tender_id, bidders[2].pseudonym)  # 2 left
    opening = open_now(ledger, chain, parties, tender_id, terms)
    assert (opening.state, opening.count) == (TenderState.FAILED, 2)
    assert [(e.name, e.args) for e in ledger.events(opening.receipt)] == [("TenderFailed", {"tenderId": tender_id, "bids": 2, "minBidders": 3})]
    assert ledger.state(tender_id) is TenderState.FAILED
    with pytest.raises(WrongState) as closed:
        sign_in(ledger, domain, parties.relayer, tender_id, bidders[0])
    assert closed.value.args_by_name == {"tenderId": tender_id, "state": TenderState.FAILED}
    with pytest.raises(WrongState):
        ledger.open_tender(parties.procurement, tender_id)
    # exactly min_bidders is enough
    other, other_terms = create(min_bidders=2)
    for bidder in bidders[:2]:
        commit(ledger, parties.relayer, other, bidder)
    assert open_now(ledger, chain, parties, other, other_terms).state is TenderState.OPENED


def test_a_tender_without_bids_fails(ledger, parties, chain, create):
    tender_id, terms = create(min_bidders=1)
    assert open_now(ledger, chain, parties, tender_id, terms)[:2] == (TenderState.FAILED, 0)


# -- bidding ------------------------------------------------------------------------------------


def test_replace_and_withdraw_before_the_deadline_keep_every_version_in_the_trail(ledger, parties, create, bidders):
    tender_id, _ = create()
    bidder = bidders[0]
    assert commit(ledger, parties.relayer, tender_id, bidder)[0] == 1
    replaced = dataclasses.replace(bidder, key=os.urandom(32), ciphertext_hash=h("ciphertext:v2"))
    version, receipt = commit(ledger, parties.relayer, tender_id, replaced)
    assert version == 2
    GAS["commitBid (replacement)"] = receipt.gas_used
    receipt = ledger.withdraw_bid(parties.relayer, tender_id, bidder.pseudonym)
    assert [(e.name, e.args) for e in ledger.events(receipt)] == [("BidWithdrawn", {"tenderId": tender_id, "pseudonym": bidder.pseudonym, "version": 2})]
    stored = ledger.get_bid(tender_id, bidder.pseudonym)
    assert (stored.status, stored.version, stored.ciphertext_hash) == (BidStatus.WITHDRAWN, 2, h("ciphertext:v2"))
    assert ledger.get_tender(tender_id).active_bids == 0
    with pytest.raises(WrongBidStatus) as twice:
        ledger.withdraw_bid(parties.relayer, tender_id, bidder.pseudonym)
    assert twice.value.args_by_name == {"tenderId": tender_id, "pseudonym": bidder.pseudonym, "status": BidStatus.WITHDRAWN}
    third = dataclasses.replace(bidder, ciphertext_hash=h("ciphertext:v3"))
    assert commit(ledger, parties.relayer, tender_id, third)[0] == 3  # a withdrawn bid may come back
    stored = ledger.get_bid(tender_id, bidder.pseudonym)
    assert (stored.status, stored.version, stored.ciphertext_hash) == (BidStatus.COMMITTED, 3, h("ciphertext:v3"))
    assert stored.key_commitment == third.commitment(ledger, tender_id) and stored.bidder is None
    assert ledger.get_tender(tender_id).active_bids == 1
    assert ledger.bid_pseudonyms(tender_id) == [bidder.pseudonym]  # listed once: off the list while withdrawn, back now

    trail = [(e.name, e.args.get("version"), e.args.get("ciphertextHash")) for e in ledger.trail(tender_id)]
    assert trail == [
        ("TenderCreated", None, None),
        ("BidCommitted", 1, bidder.ciphertext_hash),
        ("BidCommitted", 2, h("ciphertext:v2")),
        ("BidWithdrawn", 2, None),
        ("BidCommitted", 3, h("ciphertext:v3")),
    ]
    unknown = h("nobody")
    with pytest.raises(UnknownBid) as missing:
        ledger.withdraw_bid(parties.relayer, tender_id, unknown)
    assert missing.value.args_by_name == {"tenderId": tender_id, "pseudonym": unknown}
    assert isinstance(missing.value, LookupError)
    with pytest.raises(ZeroPseudonym):
        ledger.commit_bid(parties.relayer, tender_id, b"\0" * 32, h("c"), h("k"))


def test_late_commits_and_withdrawals_are_refused(ledger, parties, chain, create, bidders):
    tender_id, terms = create()
    commit(ledger, parties.relayer, tender_id, bidders[0])
    advance_to(chain, terms.bid_deadline)
    with pytest.raises(BiddingClosed) as late:
        commit(ledger, parties.relayer, tender_id, bidders[1])
    assert late.value.args_by_name["tenderId"] == tender_id and late.value.args_by_name["deadline"] == terms.bid_deadline
    assert late.value.args_by_name["now"] >= terms.bid_deadline
    with pytest.raises(BiddingClosed):
        commit(ledger, parties.relayer, tender_id, bidders[0])  # no replacement either
    with pytest.raises(BiddingClosed):
        ledger.withdraw_bid(parties.relayer, tender_id, bidders[0].pseudonym)
    assert [e.name for e in ledger.trail(tender_id)] == ["TenderCreated", "BidCommitted"]
    with pytest.raises(UnknownTender) as unknown:
        ledger.commit_bid(parties.relayer, h("no tender"), bidders[0].pseudonym, h("c"), h("k"))
    assert unknown.value.args_by_name == {"tenderId": h("no tender")}


# -- keys and sign-in ---------------------------------------------------------------------------


def test_a_key_that_does_not_match_its_commitment_is_refused(ledger, domain, parties, chain, create, bidders):
    tender_id, terms = create(min_bidders=1)
    a, b = bidders[:2]
    commit_all(ledger, parties.relayer, tender_id, a, b)
    open_now(ledger, chain, parties, tender_id, terms)
    with pytest.raises(NotSignedIn) as anonymous:
        reveal(ledger, parties.relayer, tender_id, a)
    assert anonymous.value.args_by_name == {"tenderId": tender_id, "pseudonym": a.pseudonym}
    sign_in(ledger, domain, parties.relayer, tender_id, a)
    for wrong in (
        dataclasses.replace(a, key=os.urandom(32)),
        dataclasses.replace(a, salt=os.urandom(32)),
        dataclasses.replace(a, key=b.key, salt=b.salt),
    ):
        with pytest.raises(KeyMismatch) as refused:
            reveal(ledger, parties.relayer, tender_id, wrong)
        assert refused.value.args_by_name == {"tenderId": tender_id, "pseudonym": a.pseudonym}
    assert ledger.get_bid(tender_id, a.pseudonym).status is BidStatus.COMMITTED
    reveal(ledger, parties.relayer, tender_id, a)
    with pytest.raises(WrongBidStatus) as again:
        reveal(ledger, parties.relayer, tender_id, a)
    assert again.value.args_by_name == {"tenderId": tender_id, "pseudonym": a.pseudonym, "status": BidStatus.REVEALED}
    # the key matched, but the file it opens is broken: left out at once, never as the bidder's fault
    # (the key is on chain: anyone re-checks that it does not open the file)
    with pytest.raises(InvalidCause) as cause:
        ledger.record_decryption(parties.procurement, tender_id, a.pseudonym, False, cause=3)
    assert cause.value.args_by_name == {"tenderId": tender_id, "pseudonym": a.pseudonym, "cause": 3}
    with pytest.raises(InvalidCause):
        ledger.record_decryption(parties.procurement, tender_id, a.pseudonym, False, cause=Cause.NONE)
    with pytest.raises(KeyWasRevealed):
        ledger.record_decryption(parties.procurement, tender_id, a.pseudonym, False, cause=Cause.BIDDER_FAULT)
    ledger.record_decryption(parties.procurement, tender_id, a.pseudonym, False, cause=Cause.NOT_BIDDER_FAULT)
    assert ledger.get_bid(tender_id, a.pseudonym).status is BidStatus.NOT_DECRYPTED_WITHDRAWN
    with pytest.raises(WrongBidStatus):
        ledger.record_decryption(parties.procurement, tender_id, a.pseudonym, True, h("x"))


def test_a_commitment_binds_the_bidder_chain_and_contract(ledger, domain, parties, chain, create, bidders, spare, registry):
    """Someone who signs in to another's pseudonym cannot reveal its key: the commitment names
    the bidder. So do commitments made for another contract or chain."""
    tender_id, terms = create(min_bidders=1)
    a, b, c = bidders[:3]
    commit(ledger, parties.relayer, tender_id, a)
    other_chain = tender712.key_commitment(1, ledger.address, tender_id, b.address, b.key, b.salt)
    ledger.commit_bid(parties.relayer, tender_id, b.pseudonym, b.ciphertext_hash, other_chain)
    other_contract = tender712.key_commitment(ledger.client.chain_id, parties.relayer.address, tender_id, c.address, c.key, c.salt)
    ledger.commit_bid(parties.relayer, tender_id, c.pseudonym, c.ciphertext_hash, other_contract)
    open_now(ledger, chain, parties, tender_id, terms)
    register_bidder(registry, parties.governor, spare.address, "测试抢注投标人")  # a registered firm, all the same
    squatter = dataclasses.replace(a, account=spare)  # tries to sign in, by itself, under a's pseudonym
    with pytest.raises(UnauthorizedRelayer):
        sign_in(ledger, domain, spare, tender_id, squatter)
    with pytest.raises(KeyMismatch):  # even relayed: a's real key, but the commitment names a, not spare
        sign_in(ledger, domain, parties.relayer, tender_id, squatter)
        reveal(ledger, parties.relayer, tender_id, squatter)
    for bidder in (b, c):
        sign_in(ledger, domain, parties.relayer, tender_id, bidder)
        with pytest.raises(KeyMismatch):
            reveal(ledger, parties.relayer, tender_id, bidder)
    # not the bidder's fault: recorded as withdrawn once the window is over
    advance_to(chain, decryption_end(ledger, tender_id))
    ledger.record_decryption(parties.procurement, tender_id, a.pseudonym, False, cause=Cause.NOT_BIDDER_FAULT)
    assert ledger.get_bid(tender_id, a.pseudonym).status is BidStatus.NOT_DECRYPTED_WITHDRAWN


def test_sign_in_rules(ledger, domain, parties, chain, create, bidders, experts):
    tender_id, terms = create(min_bidders=1)
    a, b, c = bidders[:3]
    commit_all(ledger, parties.relayer, tender_id, a, b, c)
    ledger.withdraw_bid(parties.relayer, tender_id, c.pseudonym)
    with pytest.raises(WrongState) as early:
        sign_in(ledger, domain, parties.relayer, tender_id, a)
    assert early.value.args_by_name == {"tenderId": tender_id, "state": TenderState.BIDDING}
    open_now(ledger, chain, parties, tender_id, terms)
    with pytest.raises(WrongBidStatus) as withdrawn:
        sign_in(ledger, domain, parties.relayer, tender_id, c)
    assert withdrawn.value.args_by_name == {"tenderId": tender_id, "pseudonym": c.pseudonym, "status": BidStatus.WITHDRAWN}
    with pytest.raises(UnknownBid):
        sign_in(ledger, domain, parties.relayer, tender_id, dataclasses.replace(a, pseudonym=h("nobody")))
    for insider in (experts[0], parties.procurement):  # the panel and the agency may not bid
        with pytest.raises(ConflictOfInterest) as conflict:
            sign_in(ledger, domain, parties.relayer, tender_id, dataclasses.replace(a, account=insider))
        assert conflict.value.args_by_name == {"tenderId": tender_id, "bidder": insider.address}
    sign_in(ledger, domain, parties.relayer, tender_id, a)
    assert ledger.pseudonym_of(tender_id, a.address) == a.pseudonym and ledger.pseudonym_of(tender_id, b.address) is None
    with pytest.raises(AlreadySignedIn) as twice:
        sign_in(ledger, domain, parties.relayer, tender_id, a)
    assert twice.value.args_by_name == {"tenderId": tender_id, "pseudonym": a.pseudonym, "bidder": a.address}
    with pytest.raises(BidderHasBid) as second:  # one bid per bidder: a may not also take b's pseudonym
        sign_in(ledger, domain, parties.relayer, tender_id, dataclasses.replace(b, account=a.account))
    assert second.value.args_by_name == {"tenderId": tender_id, "bidder": a.address, "pseudonym": a.pseudonym}


def test_a_contract_wallet_bidder_signs_in_through_erc1271(ledger, domain, parties, chain, create, bidders, build, registry):
    owner = bidders[0].account
    artifact = build["TestERC1271Wallet"]
    factory = chain.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    wallet = chain.transact(owner, factory.constructor(owner.address)).raw["contractAddress"]
    register_bidder(registry, parties.governor, wallet, "测试合约钱包投标人")
    tender_id, terms = create(min_bidders=1)
    key, salt, pseudonym = os.urandom(32), os.urandom(32), h("wallet bid")
    commitment = tender712.key_commitment(chain.chain_id, ledger.address, tender_id, wallet, key, salt)
    ledger.commit_bid(parties.relayer, tender_id, pseudonym, h("wallet file"), commitment)
    open_now(ledger, chain, parties, tender_id, terms)
    forged = tender712.sign_signin(tender_id, pseudonym, wallet, domain, bidders[1].account)
    with pytest.raises(InvalidSignature) as refused:
        ledger.sign_in(parties.relayer, tender_id, pseudonym, wallet, forged)
    assert refused.value.args_by_name == {"tenderId": tender_id, "signer": wallet}
    ledger.sign_in(parties.relayer, tender_id, pseudonym, wallet, tender712.sign_signin(tender_id, pseudonym, wallet, domain, owner))
    ledger.reveal_key(parties.relayer, tender_id, pseudonym, key, salt)
    assert ledger.get_bid(tender_id, pseudonym).bidder == wallet


# -- signatures by someone else ---------------------------------------------------------------


def test_a_sign_in_signed_by_someone_else_is_refused(ledger, domain, parties, chain, create, bidders):
    tender_id, terms = create(min_bidders=1)
    a, b = bidders[:2]
    commit(ledger, parties.relayer, tender_id, a)
    open_now(ledger, chain, parties, tender_id, terms)
    cases = [
        tender712.sign_signin(tender_id, a.pseudonym, a.address, domain, b.account),  # b's key
        tender712.sign_signin(tender_id, a.pseudonym, b.address, domain, a.account),  # another bidder named
        tender712.sign_signin(h("other tender"), a.pseudonym, a.address, domain, a.account),
        tender712.sign_signin(tender_id, a.pseudonym, a.address, dataclasses.replace(domain, chain_id=1), a.account),
        tender712.sign_signin(tender_id, a.pseudonym, a.address, Domain(domain.chain_id, domain.verifying_contract), a.account),
        b"\0" * 65,
        b"",
    ]
    for signature in cases:
        with pytest.raises(InvalidSignature) as refused:
            ledger.sign_in(parties.relayer, tender_id, a.pseudonym, a.address, signature)
        assert refused.value.args_by_name == {"tenderId": tender_id, "signer": a.address}
    assert ledger.get_bid(tender_id, a.pseudonym).bidder is None


def test_an_objection_signed_by_someone_else_is_refused(ledger, domain, parties, chain, read_tender, bidders):
    tender_id, _, _ = read_tender()
    a, b = bidders[:2]
    forged = tender712.sign_objection(tender_id, a.pseudonym, h("objection"), domain, b.account)
    with pytest.raises(InvalidSignature) as refused:
        ledger.raise_objection(parties.relayer, tender_id, a.pseudonym, h("objection"), forged)
    assert refused.value.args_by_name == {"tenderId": tender_id, "signer": a.address}
    other_text = tender712.sign_objection(tender_id, a.pseudonym, h("another objection"), domain, a.account)
    with pytest.raises(InvalidSignature):
        ledger.raise_objection(parties.relayer, tender_id, a.pseudonym, h("objection"), other_text)
    assert ledger.objection_count(tender_id) == 0


def test_scores_signed_by_someone_else_or_a_non_panel_key_are_refused(ledger, domain, parties, read_tender, bidders, experts, spare):
    tender_id, _, _ = read_tender(method=Method.WEIGHTED_SCORE)
    a = bidders[0]
    forged = tender712.sign_scores(tender_id, a.pseudonym, [90, 90], domain, experts[0])  # expert 0's signature ...
    with pytest.raises(InvalidSignature) as refused:  # ... submitted as expert 1's
        ledger.submit_scores(experts[1], tender_id, experts[1].address, a.pseudonym, [90, 90], forged)
    assert refused.value.args_by_name == {"tenderId": tender_id, "signer": experts[1].address}
    altered = tender712.sign_scores(tender_id, a.pseudonym, [90, 90], domain, experts[0])
    with pytest.raises(InvalidSignature):  # other scores than the ones signed
        ledger.submit_scores(parties.relayer, tender_id, experts[0].address, a.pseudonym, [90, 91], altered)
    own = tender712.sign_scores(tender_id, a.pseudonym, [90, 90], domain, spare)
    with pytest.raises(NotAnExpert) as outsider:
        ledger.submit_scores(spare, tender_id, spare.address, a.pseudonym, [90, 90], own)
    assert outsider.value.args_by_name == {"tenderId": tender_id, "expert": spare.address}
    with pytest.raises(NotAnExpert):
        ledger.submit_scores(parties.relayer, tender_id, spare.address, a.pseudonym, [90, 90], own)
    assert ledger.has_scored(tender_id, experts[1].address, a.pseudonym) is False


# -- roles ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["relayer", "agency", "governor", "auditor", "outsider"])
def test_only_procurement_members_create_tenders(ledger, parties, chain, experts, who):
    sender = getattr(parties, who)
    with pytest.raises(UnauthorizedProcurement) as refused:
        ledger.create_tender(sender, h("tender:role"), make_terms(chain, experts))
    assert refused.value.args_by_name == {"caller": sender.address}
    assert isinstance(refused.value, PermissionError)


@pytest.mark.parametrize("who", ["procurement", "agency", "governor", "outsider"])
def test_only_relayers_commit_and_withdraw(ledger, parties, create, bidders, who):
    tender_id, _ = create()
    commit(ledger, parties.relayer, tender_id, bidders[0])
    sender = getattr(parties, who)
    with pytest.raises(UnauthorizedRelayer) as refused:
        commit(ledger, sender, tender_id, bidders[1])
    assert refused.value.args_by_name == {"caller": sender.address}
    with pytest.raises(UnauthorizedRelayer):
        ledger.withdraw_bid(sender, tender_id, bidders[0].pseudonym)
    with pytest.raises(UnauthorizedRelayer):  # a bidder may not commit by itself either
        commit(ledger, bidders[1].account, tender_id, bidders[1])


def test_a_suspended_relayer_or_agency_is_refused(ledger, parties, chain, create, bidders, registry):
    tender_id, terms = create(min_bidders=1)
    commit(ledger, parties.relayer, tender_id, bidders[0])
    registry.suspend_member(parties.governor, parties.relayer.address)
    with pytest.raises(UnauthorizedRelayer):
        commit(ledger, parties.relayer, tender_id, bidders[1])
    registry.suspend_member(parties.governor, parties.procurement.address)
    advance_to(chain, terms.opening_time)
    with pytest.raises(UnauthorizedAgency) as agency:
        ledger.open_tender(parties.procurement, tender_id)
    assert agency.value.args_by_name == {"tenderId": tender_id, "caller": parties.procurement.address}
    registry.reinstate_member(parties.governor, parties.procurement.address)
    assert ledger.open_tender(parties.procurement, tender_id).state is TenderState.OPENED


def test_only_the_tenders_own_agency_runs_it(ledger, domain, parties, chain, create, bidders, registry):
    registry.register_member(parties.governor, parties.outsider2.address, MemberInfo(name="另一交易中心"), ["PROCUREMENT"])
    other = parties.outsider2
    tender_id, terms = create(min_bidders=1)
    a = bidders[0]
    commit(ledger, parties.relayer, tender_id, a)
    advance_to(chain, terms.opening_time)

    def refused(action):
        with pytest.raises(UnauthorizedAgency) as error:
            action()
        assert error.value.args_by_name["tenderId"] == tender_id
        return error.value.args_by_name["caller"]

    for sender in (other, parties.relayer, parties.governor):
        assert refused(lambda s=sender: ledger.open_tender(s, tender_id)) == sender.address
    ledger.open_tender(parties.procurement, tender_id)
    sign_in(ledger, domain, parties.relayer, tender_id, a)
    reveal(ledger, parties.relayer, tender_id, a)
    refused(lambda: ledger.record_decryption(other, tender_id, a.pseudonym, True, h("x")))
    ledger.record_decryption(parties.procurement, tender_id, a.pseudonym, True, h("x"))
    refused(lambda: ledger.publish_reading(other, tender_id, readings_for([a], [5]), h("announcement")))
    ledger.publish_reading(parties.procurement, tender_id, readings_for([a], [5]), h("announcement"))
    signature = tender712.sign_objection(tender_id, a.pseudonym, h("objection"), domain, a.account)
    index, _ = ledger.raise_objection(a.account, tender_id, a.pseudonym, h("objection"), signature)
    refused(lambda: ledger.answer_objection(other, tender_id, index, h("answer")))
    ledger.answer_objection(parties.procurement, tender_id, index, h("answer"))
    past_objection_period(ledger, chain, tender_id)
    refused(lambda: ledger.publish_result(other, tender_id, a.pseudonym, h("report")))
    ledger.publish_result(parties.procurement, tender_id, a.pseudonym, h("report"))


def test_signed_messages_come_from_the_signer_or_a_relayer(ledger, domain, parties, read_tender, bidders, experts, spare):
    tender_id, _, _ = read_tender(method=Method.WEIGHTED_SCORE)
    a, b = bidders[:2]
    with pytest.raises(UnauthorizedRelayer) as objection:  # b relays a's objection: b is no relayer
        ledger.raise_objection(b.account, tender_id, a.pseudonym, h("o"), tender712.sign_objection(tender_id, a.pseudonym, h("o"), domain, a.account))
    assert objection.value.args_by_name == {"caller": b.address}
    signature = tender712.sign_scores(tender_id, a.pseudonym, [50, 50], domain, experts[0])
    with pytest.raises(UnauthorizedRelayer) as scores:
        ledger.submit_scores(experts[1], tender_id, experts[0].address, a.pseudonym, [50, 50], signature)
    assert scores.value.args_by_name == {"caller": experts[1].address}
    ledger.submit_scores(experts[0], tender_id, experts[0].address, a.pseudonym, [50, 50], signature)


def test_sign_in_comes_from_the_relayer_and_reveal_from_the_bidder_or_the_relayer(ledger, domain, parties, chain, create, bidders, spare):
    tender_id, terms = create(min_bidders=1)
    a = bidders[0]
    commit(ledger, parties.relayer, tender_id, a)
    open_now(ledger, chain, parties, tender_id, terms)
    for caller in (spare, a.account):  # not even the bidder itself: only the platform knows whose pseudonym it is
        with pytest.raises(UnauthorizedRelayer) as signin:
            sign_in(ledger, domain, caller, tender_id, a)
        assert signin.value.args_by_name == {"caller": caller.address}
    sign_in(ledger, domain, parties.relayer, tender_id, a)
    with pytest.raises(UnauthorizedRelayer) as revealed:
        reveal(ledger, spare, tender_id, a)
    assert revealed.value.args_by_name == {"caller": spare.address}
    reveal(ledger, a.account, tender_id, a)


# -- windows --------------------------------------------------------------------------------------


def test_the_opening_waits_for_its_time(ledger, parties, chain, create, bidders):
    tender_id, terms = create(min_bidders=1, opening_time=now(chain) + HOUR + 600, decryption_end=now(chain) + 2 * HOUR)
    commit(ledger, parties.relayer, tender_id, bidders[0])
    with pytest.raises(TooEarly) as early:
        ledger.open_tender(parties.procurement, tender_id)
    assert early.value.args_by_name["tenderId"] == tender_id and early.value.args_by_name["openingTime"] == terms.opening_time
    assert early.value.args_by_name["now"] < terms.bid_deadline
    advance_to(chain, terms.bid_deadline)  # bidding closed, opening not yet due
    with pytest.raises(TooEarly):
        ledger.open_tender(parties.procurement, tender_id)
    advance_to(chain, terms.opening_time)
    assert ledger.open_tender(parties.procurement, tender_id).state is TenderState.OPENED


def test_sign_in_and_reveal_close_at_decryption_end(ledger, domain, parties, chain, create, bidders):
    tender_id, terms = create(min_bidders=1)
    a, b = bidders[:2]
    commit_all(ledger, parties.relayer, tender_id, a, b)
    open_now(ledger, chain, parties, tender_id, terms)
    sign_in(ledger, domain, parties.relayer, tender_id, a)
    advance_to(chain, decryption_end(ledger, tender_id))
    with pytest.raises(DecryptionClosed) as late_key:
        reveal(ledger, parties.relayer, tender_id, a)
    assert late_key.value.args_by_name["tenderId"] == tender_id
    assert late_key.value.args_by_name["decryptionEnd"] == decryption_end(ledger, tender_id)
    assert late_key.value.args_by_name["now"] >= decryption_end(ledger, tender_id)
    with pytest.raises(DecryptionClosed):
        sign_in(ledger, domain, parties.relayer, tender_id, b)
    # after the window, causes are recorded for bids without a key: signed in (a) or not (b)
    ledger.record_decryption(parties.procurement, tender_id, a.pseudonym, False, cause=Cause.BIDDER_FAULT)
    ledger.record_decryption(parties.procurement, tender_id, b.pseudonym, False, cause=Cause.NOT_BIDDER_FAULT)
    assert [ledger.get_bid(tender_id, x.pseudonym).status for x in (a, b)] == [BidStatus.REVOKED, BidStatus.NOT_DECRYPTED_WITHDRAWN]
    with pytest.raises(WrongBidStatus) as once:
        ledger.record_decryption(parties.procurement, tender_id, b.pseudonym, False, cause=Cause.BIDDER_FAULT)
    assert once.value.args_by_name["status"] == BidStatus.NOT_DECRYPTED_WITHDRAWN
    # nothing decrypted: the reading is empty, and there is no winner
    count, _ = ledger.publish_reading(parties.procurement, tender_id, [], h("nothing could be read"))
    assert count == 0 and ledger.state(tender_id) is TenderState.READ
    with pytest.raises(NoReadBids) as none:
        ledger.compute_result(tender_id)
    assert none.value.args_by_name == {"tenderId": tender_id}


def test_decryption_outcomes_need_the_right_bid_status(ledger, domain, parties, chain, create, bidders):
    tender_id, terms = create(min_bidders=1)
    a, b, c = bidders[:3]
    commit_all(ledger, parties.relayer, tender_id, a, b, c)
    ledger.withdraw_bid(parties.relayer, tender_id, c.pseudonym)
    open_now(ledger, chain, parties, tender_id, terms)
    with pytest.raises(WrongBidStatus) as unrevealed:
        ledger.record_decryption(parties.procurement, tender_id, a.pseudonym, True, h("x"))
    assert unrevealed.value.args_by_name == {"tenderId": tender_id, "pseudonym": a.pseudonym, "status": BidStatus.COMMITTED}
    sign_in(ledger, domain, parties.relayer, tender_id, a)
    reveal(ledger, parties.relayer, tender_id, a)
    with pytest.raises(InvalidCause) as cause:
        ledger.record_decryption(parties.procurement, tender_id, a.pseudonym, True, h("x"), cause=Cause.BIDDER_FAULT)
    assert cause.value.args_by_name == {"tenderId": tender_id, "pseudonym": a.pseudonym, "cause": 1}
    # a revealed key whose file the platform lost: not the bidder's fault, at any time
    ledger.record_decryption(parties.procurement, tender_id, a.pseudonym, False, cause=Cause.NOT_BIDDER_FAULT)
    assert ledger.get_bid(tender_id, a.pseudonym).status is BidStatus.NOT_DECRYPTED_WITHDRAWN
    with pytest.raises(WrongBidStatus) as withdrawn:
        ledger.record_decryption(parties.procurement, tender_id, c.pseudonym, False, cause=Cause.BIDDER_FAULT)
    assert withdrawn.value.args_by_name["status"] == BidStatus.WITHDRAWN
    with pytest.raises(UnknownBid):
        ledger.record_decryption(parties.procurement, tender_id, h("nobody"), False, cause=Cause.BIDDER_FAULT)
    advance_to(chain, decryption_end(ledger, tender_id))
    with pytest.raises(InvalidCause):
        ledger.record_decryption(parties.procurement, tender_id, b.pseudonym, False, cause=0)
    ledger.record_decryption(parties.procurement, tender_id, b.pseudonym, False, cause=Cause.BIDDER_FAULT)
    tender = ledger.get_tender(tender_id)
    assert (tender.active_bids, tender.settled_bids, tender.decrypted_bids) == (2, 2, 0)


# -- reading, objections, scores, result ----------------------------------------------------------


def test_the_reading_lists_every_decrypted_bid_exactly_once(ledger, domain, parties, chain, create, bidders):
    tender_id, terms = create(min_bidders=1)
    a, b, c = bidders[:3]
    commit_all(ledger, parties.relayer, tender_id, a, b, c)
    open_now(ledger, chain, parties, tender_id, terms)
    for bidder in (a, b):
        decrypt(ledger, domain, parties, tender_id, bidder)
    advance_to(chain, decryption_end(ledger, tender_id))
    ledger.record_decryption(parties.procurement, tender_id, c.pseudonym, False, cause=Cause.BIDDER_FAULT)

    def publish(readers, prices=None):
        prices = prices or [100] * len(readers)
        return ledger.publish_reading(parties.procurement, tender_id, readings_for(readers, prices), h("announcement"))

    with pytest.raises(ReadingIncomplete) as short:
        publish([a])
    assert short.value.args_by_name == {"tenderId": tender_id, "count": 1, "expected": 2}
    with pytest.raises(ReadingIncomplete):
        publish([a, b, c])
    with pytest.raises(DuplicateReading) as twice:
        publish([a, a])
    assert twice.value.args_by_name == {"tenderId": tender_id, "pseudonym": a.pseudonym}
    with pytest.raises(WrongBidStatus) as revoked:
        publish([a, c])
    assert revoked.value.args_by_name == {"tenderId": tender_id, "pseudonym": c.pseudonym, "status": BidStatus.REVOKED}
    with pytest.raises(UnknownBid):
        publish([a, dataclasses.replace(b, pseudonym=h("nobody"))])
    publish([b, a], [200, 100])
    assert ledger.compute_result(tender_id) == (a.pseudonym, 100)
    with pytest.raises(WrongState) as again:
        publish([a, b])
    assert again.value.args_by_name == {"tenderId": tender_id, "state": TenderState.READ}


def test_objection_rules(ledger, domain, parties, chain, create, bidders):
    tender_id, terms = create(min_bidders=1)
    a, b = bidders[:2]
    commit_all(ledger, parties.relayer, tender_id, a, b)

    def objection(bidder, text="objection", sender=None):
        signature = tender712.sign_objection(tender_id, bidder.pseudonym, h(text), domain, bidder.account)
        return ledger.raise_objection(sender or parties.relayer, tender_id, bidder.pseudonym, h(text), signature)

    with pytest.raises(WrongState):
        objection(a)
    open_now(ledger, chain, parties, tender_id, terms)
    with pytest.raises(NotSignedIn) as anonymous:
        objection(a)
    assert anonymous.value.args_by_name == {"tenderId": tender_id, "pseudonym": a.pseudonym}
    decrypt(ledger, domain, parties, tender_id, a)
    sign_in(ledger, domain, parties.relayer, tender_id, b)
    assert objection(a)[0] == 0
    with pytest.raises(ObjectionExists) as replay:
        objection(a)
    assert replay.value.args_by_name == {"tenderId": tender_id, "pseudonym": a.pseudonym, "objectionHash": h("objection")}
    assert objection(b, sender=b.account)[0] == 1  # a signed-in bidder whose bid is not decrypted may object too
    assert objection(a, "second")[0] == 2
    stored = ledger.get_objection(tender_id, 1)
    assert (stored.pseudonym, stored.bidder, stored.answered) == (b.pseudonym, b.address, False)
    with pytest.raises(UnknownObjection) as missing:
        ledger.get_objection(tender_id, 3)
    assert missing.value.args_by_name == {"tenderId": tender_id, "index": 3}
    with pytest.raises(UnknownObjection):
        ledger.answer_objection(parties.procurement, tender_id, 3, h("answer"))
    ledger.answer_objection(parties.procurement, tender_id, 1, h("answer"))
    with pytest.raises(ObjectionAnswered) as twice:
        ledger.answer_objection(parties.procurement, tender_id, 1, h("answer"))
    assert twice.value.args_by_name == {"tenderId": tender_id, "index": 1}
    assert ledger.get_objection(tender_id, 1).answered is True

    advance_to(chain, decryption_end(ledger, tender_id))
    ledger.record_decryption(parties.procurement, tender_id, b.pseudonym, False, cause=Cause.BIDDER_FAULT)
    ledger.publish_reading(parties.procurement, tender_id, readings_for([a], [10]), h("announcement"))
    assert objection(a, "after the reading")[0] == 3  # objections stay open through the evaluation
    tender = ledger.get_tender(tender_id)
    assert (tender.objections, tender.open_objections) == (4, 3)
    past_objection_period(ledger, chain, tender_id)
    with pytest.raises(ObjectionsOpen) as pending:
        ledger.publish_result(parties.procurement, tender_id, a.pseudonym, h("report"))
    assert pending.value.args_by_name == {"tenderId": tender_id, "open": 3}
    for index in (0, 2, 3):
        ledger.answer_objection(parties.procurement, tender_id, index, h(f"answer {index}"))
    ledger.publish_result(parties.procurement, tender_id, a.pseudonym, h("report"))
    with pytest.raises(WrongState) as decided:
        objection(a, "too late")
    assert decided.value.args_by_name == {"tenderId": tender_id, "state": TenderState.DECIDED}


def test_score_rules(ledger, domain, parties, chain, create, read_tender, bidders, experts):
    lowest, _, _ = read_tender()
    a = bidders[0]
    with pytest.raises(WrongMethod) as method:
        scores_for(ledger, domain, parties.relayer, lowest, experts[0], a, [])
    assert method.value.args_by_name == {"tenderId": lowest, "method": 0}

    tender_id, terms = create(method=Method.WEIGHTED_SCORE, min_bidders=1)
    b, c = bidders[1:3]
    commit_all(ledger, parties.relayer, tender_id, a, b, c)
    open_now(ledger, chain, parties, tender_id, terms)
    decrypt(ledger, domain, parties, tender_id, a)
    decrypt(ledger, domain, parties, tender_id, b)
    with pytest.raises(WrongState) as early:
        scores_for(ledger, domain, parties.relayer, tender_id, experts[0], a, [50, 50])
    assert early.value.args_by_name == {"tenderId": tender_id, "state": TenderState.OPENED}
    advance_to(chain, decryption_end(ledger, tender_id))
    ledger.record_decryption(parties.procurement, tender_id, c.pseudonym, False, cause=Cause.BIDDER_FAULT)
    ledger.publish_reading(parties.procurement, tender_id, readings_for([a, b], [100, 100]), h("announcement"))

    with pytest.raises(InvalidScoreCount) as count:
        scores_for(ledger, domain, parties.relayer, tender_id, experts[0], a, [50])
    assert count.value.args_by_name == {"tenderId": tender_id, "count": 1, "expected": 2}
    with pytest.raises(ScoreOutOfRange) as high:
        scores_for(ledger, domain, parties.relayer, tender_id, experts[0], a, [50, 101])
    assert high.value.args_by_name == {"tenderId": tender_id, "criterion": 1, "score": 101}
    with pytest.raises(WrongBidStatus) as unread:
        scores_for(ledger, domain, parties.relayer, tender_id, experts[0], c, [50, 50])
    assert unread.value.args_by_name == {"tenderId": tender_id, "pseudonym": c.pseudonym, "status": BidStatus.REVOKED}
    scores_for(ledger, domain, parties.relayer, tender_id, experts[0], a, [100, 0])
    with pytest.raises(AlreadyScored) as twice:
        scores_for(ledger, domain, parties.relayer, tender_id, experts[0], a, [0, 100])
    assert twice.value.args_by_name == {"tenderId": tender_id, "expert": experts[0].address, "pseudonym": a.pseudonym}
    # equal totals and equal prices: the lower pseudonym wins
    scores_for(ledger, domain, parties.relayer, tender_id, experts[0], b, [100, 0])
    for expert in experts[1:]:
        for bidder in (a, b):
            scores_for(ledger, domain, parties.relayer, tender_id, expert, bidder, [0, 0])
    lower = min(a.pseudonym, b.pseudonym, key=lambda p: int.from_bytes(p, "big"))
    assert ledger.compute_result(tender_id) == (lower, 600_000)


def test_the_result_follows_the_rule_for_random_readings(ledger, domain, parties, chain, create, bidders, experts):
    """The contract's winner equals a plain Python reading of the rule (several seeds of prices/scores)."""
    import random

    rng = random.Random(20260101)
    tender_id, terms = create(method=Method.WEIGHTED_SCORE, weights=(5000, 3000, 2000), min_bidders=1)
    for bidder in bidders:
        commit(ledger, parties.relayer, tender_id, bidder)
    open_now(ledger, chain, parties, tender_id, terms)
    for bidder in bidders:
        decrypt(ledger, domain, parties, tender_id, bidder)
    prices = [rng.choice([900, 1000]) for _ in bidders]
    ledger.publish_reading(parties.procurement, tender_id, readings_for(bidders, prices), h("announcement"))
    totals = dict.fromkeys((b.pseudonym for b in bidders), 0)
    for expert in experts:
        for bidder in bidders:
            marks = [rng.choice([60, 80]) for _ in range(3)]
            totals[bidder.pseudonym] += sum(s * w for s, w in zip(marks, (5000, 3000, 2000)))
            scores_for(ledger, domain, parties.relayer, tender_id, expert, bidder, marks)
    price_of = {b.pseudonym: p for b, p in zip(bidders, prices)}
    expected = min(totals, key=lambda p: (-totals[p], price_of[p], int.from_bytes(p, "big")))
    assert ledger.compute_result(tender_id) == (expected, totals[expected])


# -- creating -----------------------------------------------------------------------------------


INVALID_TERMS = {
    "deadline-past": (lambda t, e: {"bid_deadline": t - 1, "opening_time": t + 10, "decryption_end": t + 20}, InvalidTimes),
    "opening-before-deadline": (lambda t, e: {"bid_deadline": t + 100, "opening_time": t + 99, "decryption_end": t + 200}, InvalidTimes),
    "decryption-not-after-opening": (lambda t, e: {"bid_deadline": t + 100, "opening_time": t + 100, "decryption_end": t + 100}, InvalidTimes),
    "method-2": (lambda t, e: {"method": 2}, InvalidMethod),
    "min-bidders-0": (lambda t, e: {"min_bidders": 0}, InvalidMinBidders),
    "min-bidders-501": (lambda t, e: {"min_bidders": 501}, InvalidMinBidders),
    "no-experts": (lambda t, e: {"experts": []}, InvalidPanelSize),
    "65-experts": (lambda t, e: {"experts": ["0x" + f"{i + 1:040x}" for i in range(65)]}, InvalidPanelSize),
    "zero-expert": (lambda t, e: {"experts": [e[0].address, "0x" + "00" * 20]}, InvalidExpert),
    "duplicate-expert": (lambda t, e: {"experts": [e[0].address, e[1].address, e[0].address]}, DuplicateExpert),
    "weights-for-lowest-price": (lambda t, e: {"weights": (10000,)}, InvalidWeights),
    "weights-sum-9999": (lambda t, e: {"method": 1, "weights": (5000, 4999)}, InvalidWeights),
    "no-weights-for-score": (lambda t, e: {"method": 1, "weights": ()}, InvalidWeights),
}
EXPECTED_ARGS = {
    "method-2": {"method": 2},
    "min-bidders-0": {"minBidders": 0, "max": 500},
    "min-bidders-501": {"minBidders": 501, "max": 500},
    "no-experts": {"size": 0, "max": 64},
    "65-experts": {"size": 65, "max": 64},
    "zero-expert": {"expert": "0x" + "00" * 20},
    "weights-for-lowest-price": {"method": 0, "count": 1, "sum": 10000},
    "weights-sum-9999": {"method": 1, "count": 2, "sum": 9999},
    "no-weights-for-score": {"method": 1, "count": 0, "sum": 0},
}


@pytest.mark.parametrize("case", list(INVALID_TERMS))
def test_invalid_terms_are_refused_with_the_values(ledger, parties, chain, experts, case):
    changes, error = INVALID_TERMS[case]
    terms = make_terms(chain, experts, **changes(now(chain), experts))
    with pytest.raises(error) as refused:
        ledger.create_tender(parties.procurement, h(f"tender:{case}"), terms)
    args = refused.value.args_by_name
    if error is InvalidTimes:
        assert (args["bidDeadline"], args["openingTime"], args["decryptionEnd"]) == (terms.bid_deadline, terms.opening_time, terms.decryption_end)
    elif error is DuplicateExpert:
        assert args == {"expert": experts[0].address}
    else:
        assert args == EXPECTED_ARGS[case]
    assert ledger.state(h(f"tender:{case}")) is TenderState.NONE


def test_a_tender_id_is_used_once(ledger, parties, chain, create, experts):
    tender_id, _ = create()
    with pytest.raises(TenderExists) as refused:
        ledger.create_tender(parties.procurement, tender_id, make_terms(chain, experts))
    assert refused.value.args_by_name == {"tenderId": tender_id}
    unknown = ledger.get_tender(h("no tender"))
    assert unknown.state is TenderState.NONE and unknown.experts == () and unknown.winner is None
    with pytest.raises(UnknownTender):
        ledger.open_tender(parties.procurement, h("no tender"))
    with pytest.raises(UnknownTender):
        ledger.compute_result(h("no tender"))


def test_the_deployment_record_must_have_the_tender_ledger(chain, build, parties, node_config, tmp_path):
    first = deploy(chain, parties.governor, build, tmp_path, governor_info=governor_info(node_config))
    assert load_record(tmp_path).contracts["TenderLedger"]["address"] == first.address("TenderLedger")
    ledger = TenderLedgerClient(chain, first.address("TenderLedger"), build["TenderLedger"].abi)
    assert ledger.contract.functions.registry().call() == first.address("GovRegistry")
    old = load_record(tmp_path)
    del old.contracts["TenderLedger"]
    write_record(tmp_path, old)
    with pytest.raises(DeploymentMismatch, match="the deployment record has no TenderLedger"):
        deploy(chain, parties.governor, build, tmp_path, governor_info=governor_info(node_config))


def fill(ledger, chain, relayer, tender_id: bytes, prefix: str, count: int) -> None:
    """Commit ``count`` bids under new pseudonyms ``{prefix}:{n}``: the first and the last through
    the client, the ones between sent back to back and then awaited (fixed gas, no estimate each),
    every receipt checked."""
    _, first = ledger.commit_bid(relayer, tender_id, h(f"{prefix}:0"), h("file:0"), h("key:0"))
    gas = 2 * first.gas_used
    sent = [chain.send(relayer, chain.build(relayer, ledger.contract.functions.commitBid(tender_id, h(f"{prefix}:{n}"), h(f"file:{n}"), h(f"key:{n}")), gas=gas))
            for n in range(1, count - 1)]  # fmt: skip
    assert all(chain.wait(tx_hash).ok for tx_hash in sent)
    ledger.commit_bid(relayer, tender_id, h(f"{prefix}:{count - 1}"), h(f"file:{count - 1}"), h(f"key:{count - 1}"))
    assert ledger.get_tender(tender_id).bids == count


@pytest.mark.slow
def test_a_tender_takes_at_most_500_pseudonyms_and_opens_in_constant_gas(ledger, parties, chain, create, bidders):
    tender_id, terms = create(min_bidders=500)
    small, small_terms = create(min_bidders=2)
    commit(ledger, parties.relayer, small, bidders[0])
    fill(ledger, chain, parties.relayer, tender_id, "bulk", 500)
    with pytest.raises(TooManyBids) as full:
        ledger.commit_bid(parties.relayer, tender_id, h("bulk:500"), h("file"), h("key"))
    assert full.value.args_by_name == {"tenderId": tender_id, "max": 500}
    commit(ledger, parties.relayer, tender_id, dataclasses.replace(bidders[0], pseudonym=h("bulk:7")))  # replacing still works
    ledger.withdraw_bid(parties.relayer, tender_id, h("bulk:3"))
    assert ledger.get_tender(tender_id).bids == 499  # a withdrawn pseudonym frees its slot
    advance_to(chain, max(terms.opening_time, small_terms.opening_time))  # the latest block may be old: times differ
    one = ledger.open_tender(parties.procurement, small)
    many = ledger.open_tender(parties.procurement, tender_id)
    assert (one.state, one.count, many.state, many.count) == (TenderState.FAILED, 1, TenderState.FAILED, 499)
    assert abs(many.receipt.gas_used - one.receipt.gas_used) < 100  # counted as bids come and go: no loop
    GAS["openTender (500 pseudonyms)"] = many.receipt.gas_used


# -- gas ------------------------------------------------------------------------------------------


def test_gas_figures(ledger, domain, parties, chain, create, bidders, experts, accounts):
    terms = make_terms(chain, experts, method=Method.WEIGHTED_SCORE, weights=WEIGHTS)
    tender_id = h("tender:gas")
    GAS["createTender (method 1, 3 experts, 2 criteria)"] = ledger.create_tender(parties.procurement, tender_id, terms).gas_used
    extra = make_bidder(accounts[7], "gas:extra")
    for n, bidder in enumerate(bidders + [extra]):
        _, receipt = commit(ledger, parties.relayer, tender_id, bidder)
        if n == 1:
            GAS["commitBid (new pseudonym)"] = receipt.gas_used
    GAS["withdrawBid"] = ledger.withdraw_bid(parties.relayer, tender_id, extra.pseudonym).gas_used
    GAS["openTender (4 bids)"] = open_now(ledger, chain, parties, tender_id, terms).receipt.gas_used
    for n, bidder in enumerate(bidders):
        signin = sign_in(ledger, domain, parties.relayer, tender_id, bidder)
        revealed = reveal(ledger, parties.relayer, tender_id, bidder)
        recorded = ledger.record_decryption(parties.procurement, tender_id, bidder.pseudonym, True, plaintext_hash(bidder))
        if n == 1:
            GAS["signIn (relayer)"] = signin.gas_used
            GAS["revealKey (relayer)"] = revealed.gas_used
            GAS["recordDecryption (decrypted)"] = recorded.gas_used
    _, receipt = ledger.publish_reading(parties.procurement, tender_id, readings_for(bidders, (1000, 950, 990, 1010)), h("announcement"))
    GAS["publishReading (4 bids)"] = receipt.gas_used
    signature = tender712.sign_objection(tender_id, bidders[0].pseudonym, h("objection"), domain, bidders[0].account)
    GAS["raiseObjection (relayer)"] = ledger.raise_objection(parties.relayer, tender_id, bidders[0].pseudonym, h("objection"), signature)[1].gas_used
    GAS["answerObjection"] = ledger.answer_objection(parties.procurement, tender_id, 0, h("answer")).gas_used
    for n, (expert, bidder) in enumerate(itertools.product(experts, bidders)):
        receipt = scores_for(ledger, domain, parties.relayer, tender_id, expert, bidder, [80, 70])
        if n == 1:
            GAS["submitScores (relayer, 2 criteria)"] = receipt.gas_used
    past_objection_period(ledger, chain, tender_id)
    winner, _ = ledger.compute_result(tender_id)
    GAS["publishResult (method 1, 4 read bids, 3 experts)"] = ledger.publish_result(parties.procurement, tender_id, winner, h("report")).receipt.gas_used

    lowest, lowest_terms = create(min_bidders=1)
    for bidder in bidders:
        commit(ledger, parties.relayer, lowest, bidder)
    open_now(ledger, chain, parties, lowest, lowest_terms)
    for bidder in bidders[:3]:
        decrypt(ledger, domain, parties, lowest, bidder)
    advance_to(chain, decryption_end(ledger, lowest))
    GAS["recordDecryption (cause 1, after the window)"] = ledger.record_decryption(parties.procurement, lowest, bidders[3].pseudonym, False, cause=Cause.BIDDER_FAULT).gas_used
    ledger.publish_reading(parties.procurement, lowest, readings_for(bidders[:3], (1000, 950, 990)), h("announcement"))
    past_objection_period(ledger, chain, lowest)
    GAS["publishResult (method 0, 3 read bids of 4)"] = ledger.publish_result(parties.procurement, lowest, bidders[1].pseudonym, h("report")).receipt.gas_used
    for name, gas in GAS.items():
        print(f"gas {name}: {gas}")
    assert GAS["commitBid (new pseudonym)"] < 180_000 and GAS["publishReading (4 bids)"] < 250_000


# -- fairness against a dishonest agency (issue 14) ---------------------------------------------------


def test_a_revealed_bid_is_never_recorded_as_the_bidders_fault(ledger, domain, parties, chain, create, bidders):
    """The agency tried to drop the lowest bid as "bidder's fault" although its key was revealed."""
    tender_id, terms = create(min_bidders=1)
    a = bidders[0]
    commit(ledger, parties.relayer, tender_id, a)
    open_now(ledger, chain, parties, tender_id, terms)
    sign_in(ledger, domain, parties.relayer, tender_id, a)
    reveal(ledger, a.account, tender_id, a)  # straight to the contract
    for moment in ("in the window", "after it"):
        with pytest.raises(KeyWasRevealed) as refused:
            ledger.record_decryption(parties.procurement, tender_id, a.pseudonym, False, cause=Cause.BIDDER_FAULT)
        assert refused.value.args_by_name == {"tenderId": tender_id, "pseudonym": a.pseudonym}, moment
        advance_to(chain, ledger.get_tender(tender_id).decryption_end)
    assert ledger.get_bid(tender_id, a.pseudonym).status is BidStatus.REVEALED
    ledger.record_decryption(parties.procurement, tender_id, a.pseudonym, True, plaintext_hash(a))


# -- windows no party can shorten (issue 14) ---------------------------------------------------------

ObjectionsClosed = revert_class("TenderLedgerObjectionsClosed")
ScoringOpen = revert_class("TenderLedgerScoringOpen")
ExpertDone = revert_class("TenderLedgerExpertDone")


def test_a_late_opening_does_not_shorten_the_decryption_window(ledger, domain, parties, chain, create, bidders):
    """The agency opened one minute before the planned decryptionEnd: bidders still get the whole window."""
    tender_id, terms = create(min_bidders=1)
    a, b = bidders[:2]
    commit_all(ledger, parties.relayer, tender_id, a, b)
    advance_to(chain, terms.decryption_end - 60)
    opening = ledger.open_tender(parties.procurement, tender_id)
    opened_at = chain.w3.eth.get_block(opening.receipt.block_number)["timestamp"]
    assert opened_at >= terms.decryption_end - 60
    end = opened_at + (terms.decryption_end - terms.opening_time)
    assert ledger.get_tender(tender_id).decryption_end == end
    assert [e.args for e in ledger.events(opening.receipt)] == [{"tenderId": tender_id, "bids": 2, "decryptionEnd": end}]
    advance_to(chain, terms.decryption_end + 1)  # past the planned end, inside the window that counts
    decrypt(ledger, domain, parties, tender_id, a)
    with pytest.raises(DecryptionOpen) as early:  # b keeps its time: nothing recorded for it yet
        ledger.record_decryption(parties.procurement, tender_id, b.pseudonym, False, cause=Cause.BIDDER_FAULT)
    assert early.value.args_by_name["decryptionEnd"] == end
    advance_to(chain, end)
    with pytest.raises(DecryptionClosed):
        sign_in(ledger, domain, parties.relayer, tender_id, b)
    ledger.record_decryption(parties.procurement, tender_id, b.pseudonym, False, cause=Cause.BIDDER_FAULT)


def test_no_new_objection_after_the_objection_deadline(ledger, domain, parties, chain, read_tender, bidders):
    """A bidder stalled the result by raising a new objection after each answer."""
    tender_id, terms, _ = read_tender()
    a = bidders[0]
    window = terms.decryption_end - terms.opening_time
    deadline = ledger.objection_deadline(tender_id)
    read_at = chain.w3.eth.get_block(ledger.trail(tender_id)[-1].block_number)["timestamp"]
    assert deadline == read_at + window

    def objection(text):
        signature = tender712.sign_objection(tender_id, a.pseudonym, h(text), domain, a.account)
        return ledger.raise_objection(parties.relayer, tender_id, a.pseudonym, h(text), signature)

    for n in range(2):
        index, _ = objection(f"objection {n}")
        ledger.answer_objection(parties.procurement, tender_id, index, h(f"answer {n}"))
    advance_to(chain, deadline)
    with pytest.raises(ObjectionsClosed) as closed:
        objection("objection 2")
    assert closed.value.args_by_name["tenderId"] == tender_id and closed.value.args_by_name["deadline"] == deadline
    winner, _ = ledger.compute_result(tender_id)
    assert ledger.publish_result(parties.procurement, tender_id, winner, h("report")).winner == winner


ObjectionPeriodOpen = revert_class("TenderLedgerObjectionPeriodOpen")


def test_the_agency_cannot_end_the_objection_period_early(ledger, domain, parties, chain, read_tender, bidders):
    """The agency answered the one objection raised so far and published the result at once: the
    other bidders lost the rest of their objection period."""
    tender_id, _, _ = read_tender()
    a = bidders[0]
    signature = tender712.sign_objection(tender_id, a.pseudonym, h("objection"), domain, a.account)
    index, _ = ledger.raise_objection(parties.relayer, tender_id, a.pseudonym, h("objection"), signature)
    ledger.answer_objection(parties.procurement, tender_id, index, h("answer"))
    deadline = ledger.objection_deadline(tender_id)
    winner, _ = ledger.compute_result(tender_id)
    with pytest.raises(ObjectionPeriodOpen) as early:
        ledger.publish_result(parties.procurement, tender_id, winner, h("report"))
    assert early.value.args_by_name["tenderId"] == tender_id and early.value.args_by_name["deadline"] == deadline
    assert ledger.state(tender_id) is TenderState.READ
    advance_to(chain, deadline)
    assert ledger.publish_result(parties.procurement, tender_id, winner, h("report")).winner == winner


def test_the_objection_window_is_a_term_of_its_own(ledger, parties, chain, create):
    """A tender may give objections a period other than the decryption window; never none."""
    tender_id, terms = create(objection_window=7)
    assert ledger.get_tender(tender_id).objection_window == 7
    with pytest.raises(revert_class("TenderLedgerInvalidObjectionWindow")):
        create(objection_window=0)


def test_an_expert_who_does_not_score_is_replaced_after_the_deadline(ledger, domain, parties, chain, create, bidders, experts, spare):
    """One expert never scored: the result was blocked for good."""
    tender_id, terms = create(method=Method.WEIGHTED_SCORE, min_bidders=1)
    a, b = bidders[:2]
    commit_all(ledger, parties.relayer, tender_id, a, b)
    open_now(ledger, chain, parties, tender_id, terms)
    for bidder in (a, b):
        decrypt(ledger, domain, parties, tender_id, bidder)
    ledger.publish_reading(parties.procurement, tender_id, readings_for([a, b], [100, 90]), h("announcement"))
    for expert in experts[:2]:
        for bidder in (a, b):
            scores_for(ledger, domain, parties.relayer, tender_id, expert, bidder, [50, 50])
    stalling = experts[2]
    scores_for(ledger, domain, parties.relayer, tender_id, stalling, a, [100, 100])  # one bid only, then nothing
    with pytest.raises(ScoresMissing):
        ledger.compute_result(tender_id)
    deadline = ledger.scoring_deadline(tender_id, stalling.address)
    with pytest.raises(ScoringOpen) as early:
        ledger.replace_expert(parties.procurement, tender_id, stalling.address, spare.address)
    assert early.value.args_by_name["deadline"] == deadline
    advance_to(chain, deadline)
    with pytest.raises(ExpertDone) as done:  # an expert who scored every read bid stays
        ledger.replace_expert(parties.procurement, tender_id, experts[0].address, spare.address)
    assert done.value.args_by_name == {"tenderId": tender_id, "expert": experts[0].address}
    for bad, error in ((experts[1].address, DuplicateExpert), (a.address, ConflictOfInterest), (parties.procurement.address, ConflictOfInterest),
                       ("0x" + "00" * 20, InvalidExpert)):  # fmt: skip
        with pytest.raises(error):
            ledger.replace_expert(parties.procurement, tender_id, stalling.address, bad)
    with pytest.raises(UnauthorizedAgency):
        ledger.replace_expert(parties.relayer, tender_id, stalling.address, spare.address)
    receipt = ledger.replace_expert(parties.procurement, tender_id, stalling.address, spare.address)
    assert [(e.name, e.args) for e in ledger.events(receipt)] == [("ExpertReplaced", {"tenderId": tender_id, "expert": stalling.address, "replacement": spare.address, "droppedScores": 1})]
    assert ledger.get_tender(tender_id).experts == (experts[0].address, experts[1].address, spare.address)
    assert (ledger.get_bid(tender_id, a.pseudonym).score_count, ledger.has_scored(tender_id, stalling.address, a.pseudonym)) == (2, False)
    with pytest.raises(NotAnExpert):  # the replaced expert is off the panel
        scores_for(ledger, domain, parties.relayer, tender_id, stalling, b, [100, 100])
    with pytest.raises(InvalidExpert):  # and never comes back
        ledger.replace_expert(parties.procurement, tender_id, spare.address, stalling.address)
    assert ledger.scoring_deadline(tender_id, spare.address) > deadline  # the replacement gets a whole window of its own
    for bidder in (a, b):
        scores_for(ledger, domain, parties.relayer, tender_id, spare, bidder, [60, 40] if bidder is b else [10, 10])
    past_objection_period(ledger, chain, tender_id)
    winner, value = ledger.compute_result(tender_id)
    assert (winner, value) == (b.pseudonym, 2 * (50 * 6000 + 50 * 4000) + 60 * 6000 + 40 * 4000)
    ledger.publish_result(parties.procurement, tender_id, winner, h("report"))


# -- only real bids count (issue 14) -----------------------------------------------------------------


def test_a_withdrawn_pseudonym_frees_its_slot(ledger, parties, chain, create):
    """Junk committed and withdrawn under new pseudonyms filled the tender's 500 for good: the real bidder got 409."""
    tender_id, terms = create(min_bidders=1)
    fill(ledger, chain, parties.relayer, tender_id, "junk", 500)
    with pytest.raises(TooManyBids):
        ledger.commit_bid(parties.relayer, tender_id, h("real"), h("file"), h("key"))
    for n in range(3):
        ledger.withdraw_bid(parties.relayer, tender_id, h(f"junk:{n}"))
    assert ledger.get_tender(tender_id).bids == 497
    assert h("junk:0") not in ledger.bid_pseudonyms(tender_id) and h("junk:499") in ledger.bid_pseudonyms(tender_id)
    assert ledger.commit_bid(parties.relayer, tender_id, h("real"), h("file"), h("key"))[0] == 1
    assert ledger.commit_bid(parties.relayer, tender_id, h("junk:1"), h("file"), h("key"))[0] == 2  # back, as its next version
    ledger.commit_bid(parties.relayer, tender_id, h("more"), h("file"), h("key"))
    with pytest.raises(TooManyBids):
        ledger.commit_bid(parties.relayer, tender_id, h("one more"), h("file"), h("key"))
    assert len(set(ledger.bid_pseudonyms(tender_id))) == ledger.get_tender(tender_id).bids == ledger.get_tender(tender_id).active_bids == 500


UnregisteredBidder = revert_class("TenderLedgerUnregisteredBidder")


def test_only_a_registered_bidder_signs_in(ledger, domain, parties, chain, create, registry, spare):
    """A throw-away key committed a bid through the relayer and took part in the opening."""
    tender_id, terms = create(min_bidders=1)
    throwaway = make_bidder(spare, f"throwaway:{next(_ids)}")
    commit(ledger, parties.relayer, tender_id, throwaway)
    open_now(ledger, chain, parties, tender_id, terms)
    with pytest.raises(UnregisteredBidder) as refused:
        sign_in(ledger, domain, parties.relayer, tender_id, throwaway)
    assert refused.value.args_by_name == {"tenderId": tender_id, "bidder": spare.address}
    register_bidder(registry, parties.governor, spare.address, "测试新注册投标人")
    sign_in(ledger, domain, parties.relayer, tender_id, throwaway)
    registry.revoke_role(parties.governor, "BIDDER", spare.address)  # the chain answers at each call
    assert ledger.get_bid(tender_id, throwaway.pseudonym).bidder == spare.address
