from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.auth.deps import CurrentIdentity
from api.deps import ClientDep, PlatformDep, SessionDep, read_body
from httpkit import NowDep
from httpkit.problems import BadRequest
from api.tenders import schemas, service

router = APIRouter(prefix="/v1/tenders", tags=["tenders"])


@router.post("", status_code=201)
def create_tender(body: schemas.TenderCreate, identity: CurrentIdentity, platform: PlatformDep, session: SessionDep):
    """A procurement agency publishes a tender (its terms go on chain)."""
    return service.view(platform, session, service.create(platform, session, identity, body))


@router.get("")
def my_tenders(identity: CurrentIdentity, platform: PlatformDep, session: SessionDep):
    """The signed-in procurement agency's own tenders, newest first (the /procurement page)."""
    return service.agency_tenders(platform, session, identity)


@router.get("/{tender_id}")
def get_tender(tender_id: str, platform: PlatformDep, session: SessionDep):
    """The tender; bids and bidders only once bidding has closed and the tender is opened."""
    return service.view(platform, session, service.get_tender(session, tender_id))


@router.get("/{tender_id}/pseudonym")
def my_pseudonym(tender_id: str, identity: CurrentIdentity, platform: PlatformDep, session: SessionDep):
    """The caller's pseudonym in this tender: its bid file is sealed to (tender, pseudonym)."""
    tender = service.get_tender(session, tender_id)
    return {"tender_id": tender.tender_id, "pseudonym": service.pseudonym_for(platform, session, tender.tender_id, identity.address)}


@router.post("/{tender_id}/bids", response_model=schemas.BidReceipt, status_code=201,
             openapi_extra={"requestBody": {"content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}})  # fmt: skip
async def upload_bid(
    tender_id: str, request: Request, identity: CurrentIdentity, platform: PlatformDep, session: SessionDep, now: NowDep, client: ClientDep,
    key_commitment: Annotated[str, Query(pattern=schemas.HEX32, description="keccak of (chain, contract, tender, bidder, key, salt)")],
):  # fmt: skip
    """A registered bidder (BIDDER on GovRegistry) uploads its encrypted bid file (the body, as bytes);
    uploading again replaces it. At most
    ``limits.bid_uploads`` per bidder and per client: beyond, 429 with Retry-After, before the body is read."""
    service.require_bidder(identity)
    await run_in_threadpool(platform.limits.take, "bid_uploads", identity.address, client, now)
    body = await read_body(request, service.MAX_BID_BYTES, "bid files")
    if len(body) < 29:
        raise BadRequest("the body must be the encrypted bid file (nonce, ciphertext and tag)")
    tender = service.get_tender(session, tender_id)
    return await run_in_threadpool(service.upload_bid, platform, session, identity, tender, body, key_commitment, now)


@router.delete("/{tender_id}/bids/mine")
def withdraw_bid(tender_id: str, identity: CurrentIdentity, platform: PlatformDep, session: SessionDep, now: NowDep):
    """Withdraw the caller's bid before the deadline (it stays in the trail)."""
    return service.withdraw_bid(platform, session, identity, service.get_tender(session, tender_id), now)


@router.post("/{tender_id}/open")
def open_tender(tender_id: str, identity: CurrentIdentity, platform: PlatformDep, session: SessionDep):
    """Open at the opening time; fewer bids than the minimum fails the tender (re-tender)."""
    return service.open_tender(platform, session, identity, service.get_tender(session, tender_id))


@router.post("/{tender_id}/sign-in")
def sign_in(tender_id: str, body: schemas.SignIn, identity: CurrentIdentity, platform: PlatformDep, session: SessionDep):
    """The bidder signs in to the opening with its key (binds its pseudonym to it on chain)."""
    return service.sign_in(platform, session, identity, service.get_tender(session, tender_id), body.signature)


@router.post("/{tender_id}/key")
def release_key(tender_id: str, body: schemas.KeyRelease, identity: CurrentIdentity, platform: PlatformDep, session: SessionDep):
    """The bidder releases its key; the platform checks both commitments and decrypts."""
    return service.release_key(platform, session, identity, service.get_tender(session, tender_id), body.key, body.salt)


@router.post("/{tender_id}/close-decryption")
def close_decryption(tender_id: str, identity: CurrentIdentity, platform: PlatformDep, session: SessionDep, now: NowDep):
    """Once every bid can be opened (window closed, or every key revealed): decryption outcomes are
    recorded; bids without a key are the bidder's fault (bid security forfeited)."""
    return service.close_decryption(platform, session, identity, service.get_tender(session, tender_id), now)


@router.post("/{tender_id}/reading")
def publish_reading(tender_id: str, identity: CurrentIdentity, platform: PlatformDep, session: SessionDep, now: NowDep):
    """唱标: outcomes recorded if not yet, then bidders, prices and items read from the decrypted bids, anchored with the announcement."""
    return service.publish_reading(platform, session, identity, service.get_tender(session, tender_id), now)


@router.post("/{tender_id}/objections", status_code=201)
def raise_objection(tender_id: str, body: schemas.ObjectionIn, identity: CurrentIdentity, platform: PlatformDep, session: SessionDep):
    """A bidder objects during the opening (signed by its key)."""
    return service.raise_objection(platform, session, identity, service.get_tender(session, tender_id), body.text, body.signature)


@router.get("/{tender_id}/objections")
def list_objections(tender_id: str, identity: CurrentIdentity, platform: PlatformDep, session: SessionDep):
    """The objections raised so far, with their texts and answers: for the procurement agency that answers them."""
    return service.objections(platform, session, identity, service.get_tender(session, tender_id))


@router.post("/{tender_id}/objections/{index}/answer")
def answer_objection(tender_id: str, index: int, body: schemas.AnswerIn, identity: CurrentIdentity, platform: PlatformDep, session: SessionDep):
    """The procurement agency answers an objection."""
    return service.answer_objection(platform, session, identity, service.get_tender(session, tender_id), index, body.text)


@router.post("/{tender_id}/scores", status_code=201)
def submit_scores(tender_id: str, body: schemas.ScoresIn, identity: CurrentIdentity, platform: PlatformDep, session: SessionDep):
    """An expert's scores for one bid, signed with the expert's key (EIP-712)."""
    return service.submit_scores(platform, session, identity, service.get_tender(session, tender_id), body)


@router.post("/{tender_id}/experts/replace")
def replace_expert(tender_id: str, body: schemas.ExpertReplace, identity: CurrentIdentity, platform: PlatformDep, session: SessionDep):
    """The agency replaces an expert who has not scored every read bid by its scoring deadline."""
    return service.replace_expert(platform, identity, service.get_tender(session, tender_id), body)


@router.post("/{tender_id}/result")
def publish_result(tender_id: str, body: schemas.ResultIn, identity: CurrentIdentity, platform: PlatformDep, session: SessionDep, now: NowDep):
    """The result, computed from the anchored readings and scores, with the signed report's hash; not
    before the objection period after the reading is over (409)."""
    return service.publish_result(platform, session, identity, service.get_tender(session, tender_id), body.winner, now)


@router.get("/{tender_id}/trail")
def tender_trail(tender_id: str, platform: PlatformDep, session: SessionDep):
    """Every step on chain: what, transaction, block, time and who sent it."""
    return service.trail(platform, service.get_tender(session, tender_id))


@router.get("/{tender_id}/bids/{pseudonym}/ciphertext", response_class=Response)
def bid_ciphertext(tender_id: str, pseudonym: str, platform: PlatformDep, session: SessionDep):
    """The encrypted bid file, for anyone re-checking the trail once the reading is published."""
    return Response(service.ciphertext_after_opening(platform, session, service.get_tender(session, tender_id), pseudonym), media_type="application/octet-stream")
