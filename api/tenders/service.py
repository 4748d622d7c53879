"""Electronic bid opening (不见面开标): tenders, sealed bids through the relayer under
pseudonyms, sign-in, remote decryption, reading, objections, expert scores and the result.

Every step is a transaction on TenderLedger, sent exactly once by the writer of its key
(:mod:`api.writes`): the relayer's (bidders' and experts' signed messages, queued with the step's
change in one transaction) or the procurement agency's own (:func:`agency_write`).
The contract enforces every window with block time; the platform refuses early too, on its
own clock, so a user hears "too late" before anything is sent.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, cast

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_typing import HexStr
from eth_utils import keccak
from sqlalchemy import select
from sqlalchemy.orm import Session
from web3 import Web3

from api.agency_signing.service import SignatureAwaited, agency_write
from api.blobs import BlobMissing, BlobStore
from api.context import Platform
from api.writes.service import WriteAccepted, write
from api.models import Tender, TenderBid, TenderObjection
from httpkit.problems import Conflict, Forbidden, NotFound
from api.tenders import schemas
from chain import intents
from chain.hexcodec import hx, unhex
from chain.tenders import BidStatus, TenderState, TenderTerms
from identity.bids import BidUnreadable, ciphertext_hash, open_bid
from identity.canonical import canonical_json
from chain.registry import Role

BIDDER_FAULT, NOT_BIDDER_FAULT = 1, 2
MAX_BID_BYTES = 20 * 1024 * 1024


def blobs(platform: Platform) -> BlobStore:
    return BlobStore(platform.settings.state_dir / "blobs")


def pseudonym_for(platform: Platform, session: Session, tender_id: str, bidder: str) -> str:
    """Per-tender pseudonym: a keyed hash only the platform can link back to the bidder (the bid-pseudonym
    key, :mod:`api.keys`). A bidder who bid in this tender before the keys were split keeps the pseudonym
    it was given then: its bid is on chain under it."""
    before = platform.keys.pseudonym_before_split(tender_id, bidder)
    if session.get(TenderBid, (tender_id, before)) is not None:
        return before
    return platform.keys.pseudonym(tender_id, bidder)


def _send(platform: Platform, session: Session, intent: str, call):
    """A step the relayer sends (bidders' and experts' signed messages): queued with what ``session``
    changed so far, in one transaction (:func:`api.writes.service.write`)."""
    receipt = write(platform, session, intent, platform.keyring.signer("relayer").address, call)
    return receipt, platform.contracts.tenders().events(receipt)


def _agency_send(platform: Platform, intent: str, agency: str, call):
    """A step only the procurement agency may sign (:func:`agency_write`: with agency-held keys it
    answers 202 until the agency has signed it in its own client; the step changes nothing before)."""
    receipt = agency_write(platform, intent, agency, call)
    return receipt, platform.contracts.tenders().events(receipt)


def get_tender(session: Session, tender_id: str) -> Tender:
    tender = session.get(Tender, tender_id.lower())
    if tender is None:
        raise NotFound(f"no tender {tender_id}")
    return tender


def require_agency(identity, tender: Tender) -> None:
    if identity.address != tender.agency or Role.PROCUREMENT not in identity.roles:
        raise Forbidden(f"only the procurement agency {tender.agency} of this tender may do this")


def create(platform: Platform, session: Session, identity, body: schemas.TenderCreate) -> Tender:
    if Role.PROCUREMENT not in identity.roles:
        raise Forbidden(f"{identity.address} needs the PROCUREMENT role to create a tender")
    if session.scalar(select(Tender).where(Tender.reference == body.reference)):
        raise Conflict(f"a tender with reference {body.reference} exists")
    tender_id = hx(keccak(text=f"govchain tender:{body.reference}"))
    opening = body.opening_time or body.bid_deadline
    terms = TenderTerms(
        unhex(body.document_hash), body.bid_deadline, opening, opening + body.decryption_minutes * 60,
        schemas.METHODS[body.method], body.min_bidders, body.experts, body.weights, body.objection_seconds,
    )  # fmt: skip
    receipt, _ = _agency_send(platform, intents.tender_create(tender_id), identity.address, platform.contracts.tenders().create_tender_call(tender_id, terms))
    tender = Tender(tender_id=tender_id, reference=body.reference, title=body.title, agency=identity.address, created_tx=receipt.tx_hash)
    session.add(tender)
    session.commit()
    return tender


def view(platform: Platform, session: Session, tender: Tender) -> dict:
    """The tender as anyone may see it; bidders and counts only once the deadline has passed."""
    on_chain = platform.contracts.tenders().get_tender(unhex(tender.tender_id))
    out: dict[str, Any] = {"tender_id": tender.tender_id, "reference": tender.reference, "title": tender.title, "agency": tender.agency,
           "state": on_chain.state.name.lower(), "terms": on_chain.as_json(), "created_tx": tender.created_tx,
           "ledger": ledger(platform)}  # fmt: skip
    if on_chain.state is not TenderState.BIDDING:
        read = on_chain.state in READ_OUT
        out["bids"] = [_bid_view(platform, tender, bid, read) for bid in session.scalars(select(TenderBid).where(TenderBid.tender_id == tender.tender_id))]
    if on_chain.state in READ_OUT:  # objections are taken, and no result published, until then
        out["objection_deadline"] = platform.contracts.tenders().objection_deadline(unhex(tender.tender_id))
    return out


def ledger(platform: Platform) -> dict:
    """The TenderLedger a bidder's or expert's client signs for: the EIP-712 domain's chain id and
    verifying contract, which the key commitment is bound to as well (:mod:`identity.tender712`)."""
    deployment = platform.contracts.deployment()
    return {"chain_id": deployment.chain_id, "address": Web3.to_checksum_address(deployment.address("TenderLedger"))}


def agency_tenders(platform: Platform, session: Session, identity) -> list[dict]:
    """The signed-in procurement agency's own tenders, newest first, with their state on chain."""
    if Role.PROCUREMENT not in identity.roles:
        raise Forbidden(f"{identity.address} needs the PROCUREMENT role to list its tenders")
    rows = session.scalars(select(Tender).where(Tender.agency == identity.address).order_by(Tender.created_at.desc()))
    return [{"tender_id": t.tender_id, "reference": t.reference, "title": t.title,
             "state": platform.contracts.tenders().state(unhex(t.tender_id)).name.lower()} for t in rows]  # fmt: skip


def objections(platform: Platform, session: Session, identity, tender: Tender) -> list[dict]:
    """The objections raised in the tender with their texts and answers, for the agency that answers them."""
    require_agency(identity, tender)
    rows = session.scalars(select(TenderObjection).where(TenderObjection.tender_id == tender.tender_id).order_by(TenderObjection.index))
    return [{"index": o.index, "pseudonym": o.pseudonym, "text": o.text, "objection_hash": hx(keccak(text=o.text)), "answer": o.answer} for o in rows]


READ_OUT = (TenderState.READ, TenderState.DECIDED)  # every bid opened or out for good: contents may be shown


def _bid_view(platform: Platform, tender: Tender, bid: TenderBid, read: bool = True) -> dict:
    """A bid as shown: its decryption outcome and content only once the reading is published, that
    is once every bid could be opened (the window closed, or every key revealed)."""
    chain_bid = platform.contracts.tenders().get_bid(unhex(tender.tender_id), unhex(bid.pseudonym))
    return {"pseudonym": bid.pseudonym, "status": chain_bid.status.name.lower(), "bidder": chain_bid.bidder,
            "version": bid.version, "decryption": bid.decryption if read else None, "bid": bid.opened if read else None}  # fmt: skip


# -- bids --------------------------------------------------------------------------------------


def _bidder_of(platform: Platform, bid: TenderBid) -> str:
    return platform.keys.open(bid.bidder_sealed, f"tender_bids/{bid.tender_id}/{bid.pseudonym}".encode()).decode()


def _check_bidding(platform: Platform, tender: Tender, now: datetime) -> None:
    terms = platform.contracts.tenders().get_tender(unhex(tender.tender_id))
    if terms.state is not TenderState.BIDDING or now.timestamp() >= terms.bid_deadline:
        raise Conflict(f"bidding on {tender.reference} closed at {terms.bid_deadline} (now {int(now.timestamp())}); nothing was accepted")


def require_bidder(identity) -> None:
    """Only a bidder firm the bureau registered on GovRegistry (BIDDER role) may bid: a throw-away key
    cannot fill a tender or count toward its minimum (TenderLedger also refuses its sign-in)."""
    if Role.BIDDER not in identity.roles:
        raise Forbidden(f"{identity.address} needs the BIDDER role on GovRegistry (a registered bidder) to bid; nothing was stored")


def _drop_blob(platform: Platform, session: Session, blob: str | None) -> None:
    """Delete a bid file no bid refers to any more: the chain keeps its hash, the trail needs no copy
    (only the latest version of a bid not withdrawn is ever opened)."""
    if blob and not session.scalar(select(TenderBid).where(TenderBid.blob == blob)):
        blobs(platform).delete(blob)


def upload_bid(platform: Platform, session: Session, identity, tender: Tender, ciphertext: bytes, key_commitment: str, now: datetime) -> schemas.BidReceipt:
    """Store the ciphertext and commit it on chain (a new version if the bidder bid before)."""
    _check_bidding(platform, tender, now)
    pseudonym = pseudonym_for(platform, session, tender.tender_id, identity.address)
    digest = ciphertext_hash(ciphertext)
    existing = session.get(TenderBid, (tender.tender_id, pseudonym))
    version = (existing.version + 1) if existing else 1
    call = platform.contracts.tenders().commit_bid_call(tender.tender_id, pseudonym, digest, key_commitment)
    store = blobs(platform)
    blob = store.put(ciphertext)
    sealed = platform.keys.seal(identity.address.encode(), f"tender_bids/{tender.tender_id}/{pseudonym}".encode())
    if existing is None:
        existing = TenderBid(tender_id=tender.tender_id, pseudonym=pseudonym, bidder_sealed=sealed, version=0, tx_hash="")
        session.add(existing)
    superseded = existing.blob
    # the new version (the contract counts a pseudonym's commitments as this row does) is committed
    # with the queued commitBid; its tx hash once mined
    existing.version, existing.blob, existing.key_commitment, existing.withdrawn = version, blob, key_commitment.lower(), False
    try:
        receipt, events = _send(platform, session, intents.tender_sealed("bid", tender.tender_id, pseudonym, version), call)
    except WriteAccepted:
        raise  # committed: the file is the bid's
    except Exception:
        session.rollback()
        if not session.scalar(select(TenderBid).where(TenderBid.blob == blob)):
            store.delete(blob)  # refused (too late, chain down): leave no file behind
        raise
    (committed,) = [e for e in events if e.name == "BidCommitted"]
    existing.version, existing.tx_hash = committed.args["version"], receipt.tx_hash
    session.commit()
    _drop_blob(platform, session, superseded if superseded != blob else None)
    return _receipt(platform, tender.tender_id, pseudonym, existing.version, hx(digest), key_commitment.lower(), now, receipt)


def _receipt(platform, tender_id, pseudonym, version, digest, key_commitment, now, receipt) -> schemas.BidReceipt:
    relayer = platform.keyring.signer("relayer")
    fields = {"tender_id": tender_id, "pseudonym": pseudonym, "version": version, "ciphertext_hash": digest,
              "key_commitment": key_commitment, "received_at": int(now.timestamp()), "tx_hash": receipt.tx_hash,
              "block_number": receipt.block_number, "platform": relayer.address}  # fmt: skip
    signature = Account.sign_message(encode_defunct(canonical_json(fields)), relayer.key).signature
    return schemas.BidReceipt(**fields, signature=hx(signature))


def own_bid(platform: Platform, session: Session, identity, tender: Tender) -> TenderBid:
    bid = session.get(TenderBid, (tender.tender_id, pseudonym_for(platform, session, tender.tender_id, identity.address)))
    if bid is None:
        raise NotFound(f"{identity.address} has no bid in {tender.reference}")
    return bid


def withdraw_bid(platform: Platform, session: Session, identity, tender: Tender, now: datetime) -> dict:
    _check_bidding(platform, tender, now)
    bid = own_bid(platform, session, identity, tender)
    if bid.withdrawn:
        raise Conflict("this bid is already withdrawn")
    call = platform.contracts.tenders().withdraw_bid_call(tender.tender_id, bid.pseudonym)
    bid.withdrawn, withdrawn_blob, bid.blob = True, bid.blob, None
    receipt, _ = _send(platform, session, intents.tender_sealed("withdraw", tender.tender_id, bid.pseudonym, bid.version), call)
    _drop_blob(platform, session, withdrawn_blob)
    return {"pseudonym": bid.pseudonym, "withdrawn": True, "tx_hash": receipt.tx_hash}


# -- the opening ---------------------------------------------------------------------------------


def open_tender(platform: Platform, session: Session, identity, tender: Tender) -> dict:
    require_agency(identity, tender)
    call = platform.contracts.tenders().open_tender_call(tender.tender_id)
    receipt, events = _agency_send(platform, intents.tender_open(tender.tender_id), tender.agency, call)
    state = platform.contracts.tenders().get_tender(unhex(tender.tender_id)).state
    return {"state": state.name.lower(), "tx_hash": receipt.tx_hash, "events": [e.name for e in events]}


def sign_in(platform: Platform, session: Session, identity, tender: Tender, signature: str) -> dict:
    bid = own_bid(platform, session, identity, tender)
    call = platform.contracts.tenders().sign_in_call(tender.tender_id, bid.pseudonym, identity.address, signature)
    receipt, _ = _send(platform, session, intents.tender_sign_in(tender.tender_id, bid.pseudonym), call)
    return {"pseudonym": bid.pseudonym, "bidder": identity.address, "tx_hash": receipt.tx_hash}


def release_key(platform: Platform, session: Session, identity, tender: Tender, key: str, salt: str) -> dict:
    """Reveal the key on chain and tell the bidder at once whether it opens its stored file. The
    outcome goes on chain only when every bid can be opened (:func:`settle`): before that no
    plaintext hash (a price could be tried against it) and no content leaves the platform."""
    bid = own_bid(platform, session, identity, tender)
    tid, pid = unhex(tender.tender_id), unhex(bid.pseudonym)
    reveal = platform.contracts.tenders().reveal_key_call(tid, pid, key, salt)
    revealed, _ = _send(platform, session, intents.tender_reveal(tender.tender_id, bid.pseudonym), reveal)
    outcome = _open(platform, tender, bid, unhex(key))
    details = {k: v for k, v in outcome.items() if k in ("cause", "detail")}
    return {"pseudonym": bid.pseudonym, "reveal_tx": revealed.tx_hash, "decrypted": outcome["cause"] is None, **details,
            "recorded": False}  # fmt: skip


def _open(platform: Platform, tender: Tender, bid: TenderBid, key: bytes) -> dict:
    """Check the stored file against its on-chain hash and open it: ``cause`` None and the bid, or why not."""
    tid, pid = unhex(tender.tender_id), unhex(bid.pseudonym)
    try:
        ciphertext = blobs(platform).get(cast(str, bid.blob))  # a committed bid has its file
        if ciphertext_hash(ciphertext) != platform.contracts.tenders().get_bid(tid, pid).ciphertext_hash:
            raise BlobMissing("the stored file does not match its on-chain commitment")
    except BlobMissing as exc:  # the platform's copy is gone or altered: not the bidder's fault
        return {"cause": "file_mismatch", "detail": str(exc)}
    try:
        opened = open_bid(ciphertext, key, tid, pid)
        price, _name = int(opened["price_fen"]), str(opened["bidder"])
        if price <= 0:
            raise ValueError("price must be positive")
    except (BidUnreadable, KeyError, TypeError, ValueError) as exc:
        return {"cause": "unreadable", "detail": str(exc)}
    return {"cause": None, "bid": opened}


def decrypt(platform: Platform, session: Session, tender: Tender, bid: TenderBid, key: bytes) -> dict:
    """Open the bid with its revealed key and record the outcome on chain (the agency's key)."""
    tid, pid = unhex(tender.tender_id), unhex(bid.pseudonym)
    outcome = _open(platform, tender, bid, key)
    if outcome["cause"] is None:
        opened = outcome["bid"]
        digest, decrypted, fault = keccak(canonical_json(opened)), True, 0
        bid.opened, bid.decryption = {**opened, "bidder_name": str(opened["bidder"])}, "decrypted"
    else:
        # a revealed key is never "the bidder's fault" on chain (TenderLedgerKeyWasRevealed): the bid is
        # left out as not decrypted, and anyone re-opens the file with the key on chain (tender verify)
        digest, decrypted, fault, bid.decryption = bytes(32), False, NOT_BIDDER_FAULT, outcome["cause"]
    session.commit()
    call = platform.contracts.tenders().record_decryption_call(tid, pid, decrypted, digest, fault)
    receipt, _ = _agency_send(platform, intents.tender_decrypt(tender.tender_id, bid.pseudonym), tender.agency, call)
    return {"decrypted": decrypted, "cause": bid.decryption, "tx_hash": receipt.tx_hash}


def revealed_keys(platform: Platform, tender: Tender) -> dict[str, bytes]:
    """The keys revealed on chain for the tender (by the platform or by bidders themselves), by pseudonym."""
    return {hx(e.args["pseudonym"]): bytes(e.args["key"]) for e in platform.contracts.tenders().trail(unhex(tender.tender_id)) if e.name == "KeyRevealed"}


def settle(platform: Platform, session: Session, tender: Tender, now: datetime) -> list[dict]:
    """Record every open bid's outcome, once every bid can be opened: the decryption window has
    closed (the chain's time, or the platform's), or every bid not withdrawn has its key revealed.
    Revealed bids (through the platform or straight to the contract) are decrypted with the key
    read from their ``KeyRevealed`` event; bids with no key are the bidder's fault (bid security
    forfeited on chain). Before that, nothing is recorded: no plaintext hash, no content."""
    tid = unhex(tender.tender_id)
    on_chain = platform.contracts.tenders().get_tender(tid)
    if on_chain.state is not TenderState.OPENED:
        raise Conflict(f"tender {tender.reference} is {on_chain.state.name.lower()}, not opened: there is nothing to decrypt")
    bids = list(session.scalars(select(TenderBid).where(TenderBid.tender_id == tender.tender_id, TenderBid.withdrawn.is_(False))))
    statuses = {bid.pseudonym: platform.contracts.tenders().get_bid(tid, unhex(bid.pseudonym)).status for bid in bids}
    waiting = [p for p, status in statuses.items() if status is BidStatus.COMMITTED]
    chain_now = platform.contracts.chain().w3.eth.get_block("latest")["timestamp"]
    if waiting and max(chain_now, int(now.timestamp())) < on_chain.decryption_end:
        raise Conflict(f"the decryption window of {tender.reference} is open until {on_chain.decryption_end} and {len(waiting)} bids have "
                       "no key yet: no outcome is recorded, and nothing is shown, before every bid can be opened")  # fmt: skip
    recorded, keys, awaited = [], None, []
    for bid in bids:
        try:
            if statuses[bid.pseudonym] is BidStatus.REVEALED:
                keys = keys if keys is not None else revealed_keys(platform, tender)
                outcome = decrypt(platform, session, tender, bid, keys[bid.pseudonym])
                recorded.append({"pseudonym": bid.pseudonym, "cause": outcome["cause"], "tx_hash": outcome["tx_hash"]})
            elif statuses[bid.pseudonym] is BidStatus.COMMITTED:
                call = platform.contracts.tenders().record_decryption_call(tid, bid.pseudonym, False, bytes(32), BIDDER_FAULT)
                receipt, _ = _agency_send(platform, intents.tender_decrypt(tender.tender_id, bid.pseudonym), tender.agency, call)
                bid.decryption = "no_key"
                recorded.append({"pseudonym": bid.pseudonym, "cause": "no_key", "tx_hash": receipt.tx_hash})
        except SignatureAwaited as waiting:  # agency-held keys: every outcome asked for at once, signed in one go
            awaited.append(waiting)
    session.commit()
    if awaited:
        raise awaited[0]
    return recorded


def close_decryption(platform: Platform, session: Session, identity, tender: Tender, now: datetime) -> list[dict]:
    """Once every bid can be opened (see :func:`settle`): record every outcome."""
    require_agency(identity, tender)
    return settle(platform, session, tender, now)


def items_hash(bid: dict) -> bytes:
    return keccak(canonical_json(bid.get("items", {})))


def announcement(tender: Tender, bids: list[TenderBid]) -> str:
    lines = [f"开标记录 {tender.reference} {tender.title}"]
    for bid in bids:
        opened = cast(dict, bid.opened)  # decrypted bids only
        items = "，".join(f"{k}：{v}" for k, v in sorted(opened.get("items", {}).items()))
        lines.append(f"投标人：{opened['bidder_name']}；投标报价：{opened['price_fen'] / 100:.2f} 元；{items}")
    return "\n".join(lines)


def publish_reading(platform: Platform, session: Session, identity, tender: Tender, now: datetime) -> dict:
    """唱标: record the outcomes not yet recorded (see :func:`settle`), then read every decrypted bid
    (bidder, price, items) and anchor it with the announcement."""
    require_agency(identity, tender)
    if platform.contracts.tenders().state(unhex(tender.tender_id)) is TenderState.OPENED:
        settle(platform, session, tender, now)
    bids = list(session.scalars(select(TenderBid).where(TenderBid.tender_id == tender.tender_id, TenderBid.decryption == "decrypted").order_by(TenderBid.pseudonym)))
    text = announcement(tender, bids)
    opened = [(b, cast(dict, b.opened)) for b in bids]  # decrypted bids only
    readings = [(unhex(b.pseudonym), int(bid["price_fen"]), items_hash(bid)) for b, bid in opened]
    call = platform.contracts.tenders().publish_reading_call(tender.tender_id, readings, keccak(text=text))
    receipt, _ = _agency_send(platform, intents.tender_reading(tender.tender_id), tender.agency, call)
    return {"announcement": text, "announcement_hash": hx(keccak(text=text)), "read": len(readings), "tx_hash": receipt.tx_hash}


def raise_objection(platform: Platform, session: Session, identity, tender: Tender, text: str, signature: str) -> dict:
    bid = own_bid(platform, session, identity, tender)
    objection_hash = keccak(text=text)
    if session.scalar(select(TenderObjection).where(TenderObjection.tender_id == tender.tender_id, TenderObjection.pseudonym == bid.pseudonym,
                                                    TenderObjection.text == text)):  # fmt: skip
        raise Conflict("this objection was raised already (the contract takes each objection once)")
    call = platform.contracts.tenders().raise_objection_call(tender.tender_id, bid.pseudonym, objection_hash, signature)
    intent = intents.tender_objection(tender.tender_id, bid.pseudonym, objection_hash)
    # the objection's index is the contract's (its event): the row is written once the write is mined
    # (not within the wait: 202, and the bidder's repeat finds it mined and writes the row then)
    receipt, events = _send(platform, session, intent, call)
    (raised,) = [e for e in events if e.name == "ObjectionRaised"]
    session.add(TenderObjection(tender_id=tender.tender_id, index=raised.args["index"], pseudonym=bid.pseudonym, text=text))
    session.commit()
    return {"index": raised.args["index"], "objection_hash": hx(keccak(text=text)), "tx_hash": receipt.tx_hash}


def answer_objection(platform: Platform, session: Session, identity, tender: Tender, index: int, text: str) -> dict:
    require_agency(identity, tender)
    objection = session.get(TenderObjection, (tender.tender_id, index))
    if objection is None:
        raise NotFound(f"no objection {index} in {tender.reference}")
    call = platform.contracts.tenders().answer_objection_call(tender.tender_id, index, keccak(text=text))
    receipt, _ = _agency_send(platform, intents.tender_answer(tender.tender_id, index), tender.agency, call)
    objection.answer = text
    session.commit()
    return {"index": index, "answer_hash": hx(keccak(text=text)), "tx_hash": receipt.tx_hash}


def submit_scores(platform: Platform, session: Session, identity, tender: Tender, body: schemas.ScoresIn) -> dict:
    """An expert's signed scores for one bid; the contract checks the signer is on the panel."""
    call = platform.contracts.tenders().submit_scores_call(tender.tender_id, identity.address, body.pseudonym, body.scores, body.signature)
    receipt, _ = _send(platform, session, intents.tender_scores(tender.tender_id, identity.address, body.pseudonym), call)
    return {"expert": identity.address, "pseudonym": body.pseudonym.lower(), "tx_hash": receipt.tx_hash}


def replace_expert(platform: Platform, identity, tender: Tender, body: schemas.ExpertReplace) -> dict:
    """Replace an expert who has not scored every read bid by its scoring deadline (the contract
    checks the deadline and drops its scores); the replacement is anchored (``ExpertReplaced``)."""
    require_agency(identity, tender)
    expert, replacement = Web3.to_checksum_address(body.expert), Web3.to_checksum_address(body.replacement)
    call = platform.contracts.tenders().replace_expert_call(tender.tender_id, expert, replacement)
    receipt, events = _agency_send(platform, intents.tender_replace(tender.tender_id, expert), tender.agency, call)
    (replaced,) = [e for e in events if e.name == "ExpertReplaced"]
    return {"expert": expert, "replacement": replacement, "dropped_scores": replaced.args["droppedScores"], "tx_hash": receipt.tx_hash}


def publish_result(platform: Platform, session: Session, identity, tender: Tender, winner: str | None, now: datetime) -> dict:
    """Compute the winner from the anchored readings and scores, sign the evaluation report
    with the agency's key and anchor its hash; the contract refuses any other winner, and any
    result before the objection period is over (answering the objections raised so far does not
    end it early)."""
    require_agency(identity, tender)
    tid = unhex(tender.tender_id)
    deadline = platform.contracts.tenders().objection_deadline(tid)
    chain_now = platform.contracts.chain().w3.eth.get_block("latest")["timestamp"]
    if deadline and max(chain_now, int(now.timestamp())) < deadline:
        raise Conflict(f"objections to {tender.reference} may be raised until {deadline}: no result before then")
    computed, value = platform.contracts.tenders().compute_result(tid)
    chosen = unhex(winner) if winner else computed
    report = {"tender_id": tender.tender_id, "winner": hx(chosen), "value": value,
              "bids": [_bid_view(platform, tender, b) for b in session.scalars(select(TenderBid).where(TenderBid.tender_id == tender.tender_id))]}  # fmt: skip
    # dev-derived keys: the report also carries the agency's EIP-191 signature; agency-held: the platform
    # has no key to sign it with, and the agency's own signature on the transaction anchoring its hash attests it
    report_signature = None
    if platform.settings.agency_keys == "dev-derived":
        report_signature = hx(Account.sign_message(encode_defunct(canonical_json(report)), platform.keyring.member_key(tender.agency).key).signature)
    report_hash = keccak(canonical_json({"report": report, "signature": report_signature}))
    call = platform.contracts.tenders().publish_result_call(tid, chosen, report_hash)
    receipt, _ = _agency_send(platform, intents.tender_result(tender.tender_id, chosen), tender.agency, call)
    return {"winner": hx(chosen), "value": value, "report": report, "report_signature": report_signature,
            "report_hash": hx(report_hash), "tx_hash": receipt.tx_hash}  # fmt: skip


def trail(platform: Platform, tender: Tender) -> list[dict]:
    """Every step on chain for the tender, in order, with transaction, block, time and sender. Before
    the opening, bid commitments and withdrawals are left out (names and count stay secret, Art 21)."""
    times: dict[int, int] = {}
    steps = []
    w3 = platform.contracts.chain().w3
    events = platform.contracts.tenders().trail(unhex(tender.tender_id))
    if not any(e.name in ("TenderOpened", "TenderFailed") for e in events):
        events = [e for e in events if e.name not in ("BidCommitted", "BidWithdrawn")]
    for event in events:
        if event.block_number not in times:
            times[event.block_number] = w3.eth.get_block(event.block_number)["timestamp"]
        sender = w3.eth.get_transaction(HexStr(event.tx_hash))["from"]
        args = {k: (hx(v) if isinstance(v, bytes) else v) for k, v in event.args.items() if k != "tenderId"}
        steps.append({"step": event.name, "args": json.loads(json.dumps(args, default=str)), "tx_hash": event.tx_hash,
                      "block_number": event.block_number, "log_index": event.log_index, "time": times[event.block_number], "sent_by": sender})  # fmt: skip
    return steps


def ciphertext_after_opening(platform: Platform, session: Session, tender: Tender, pseudonym: str) -> bytes:
    if platform.contracts.tenders().get_tender(unhex(tender.tender_id)).state not in READ_OUT:
        # a revealed key is on chain during the window: its file must not be, or a rival reads the price
        raise Forbidden("bid files are released only after the reading (once every bid could be opened)")
    bid = session.get(TenderBid, (tender.tender_id, pseudonym.lower()))
    if bid is None or bid.blob is None:
        raise NotFound(f"no bid {pseudonym} in {tender.reference}")
    return blobs(platform).get(bid.blob)
