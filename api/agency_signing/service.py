"""Every chain write an agency signs goes through :func:`agency_write`.

Design ("prepare, sign in the agency's own client, submit", as for pull requests):

- ``GOVCHAIN_AGENCY_KEYS=dev-derived`` (dev only, a convenience): the write is queued for the
  writer of the agency's dev key (:func:`api.writes.service.write`); not mined within the wait,
  the step answers 202 (:class:`~api.writes.service.WriteAccepted`) and, as with agency-held
  keys, changes nothing until it is: repeated, it finds the write mined and answers as usual.
- ``agency-held`` (required outside dev): the platform holds no agency key. It records an
  *agency signature request* (exactly this ``to`` and calldata, for one intent key) and the step
  answers 202 Accepted with the request's URL. The agency lists its requests, checks and signs
  each in its own client (``govchain agency sign``) and posts the raw signed transaction back;
  the platform relays it only if the signer, chain id, ``to`` and calldata are exactly those
  asked for. The relayed transaction goes through the outbox under the same intent key (stored
  before it is sent), so the step that asked finds its receipt there when it runs again: the
  agency's client repeats its request and gets the normal answer; the issuer finishes a batch
  that waited for the signature.

Nothing is half done: a step raises :class:`SignatureAwaited` before it changes anything, and
a step's effects are written only once its transaction is mined.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from web3 import Web3

from api.agency_signing.models import AgencySignatureRequest, SignatureRequestState
from api.context import Platform
from httpkit.problems import Conflict, NotFound, Problem
from chain.addresses import checksum
from chain.errors import NonceTaken, TransactionFailed
from chain.outbox import Superseded
from chain.signed import SignedTx, UnreadableTransaction, describe_call, read_signed
from chain.tx import Receipt
from api.writes.service import write

log = logging.getLogger("govchain.agency_signing")
AWAITING, SUBMITTED, MINED, FAILED = (SignatureRequestState.AWAITING, SignatureRequestState.SUBMITTED,
                                      SignatureRequestState.MINED, SignatureRequestState.FAILED)  # fmt: skip
STATES = tuple(SignatureRequestState)
PATH = "/v1/agency/signature-requests"


class SignatureAwaited(Problem):
    """The step needs the agency's own signature first (202 Accepted: nothing was done yet)."""

    status, title, slug = 202, "Awaiting the agency's signature", "agency-signature-awaited"

    def __init__(self, platform: Platform, request: AgencySignatureRequest):
        url = platform.settings.public_url + f"{PATH}/{request.id}"
        super().__init__(
            f"this step is a chain write only the agency {request.agency} may sign: sign signature request {request.id} "
            f"({request.description}) in the agency's own client (`govchain agency sign`), then repeat this request",
            signature_request={"id": request.id, "url": url, "state": request.state, "description": request.description},
        )  # fmt: skip
        self.request_id = request.id
        self.headers = {"Location": url}


class Unprocessable(Problem):
    status, title, slug = 422, "Not the transaction asked for", "signed-transaction-refused"


@dataclass(frozen=True)
class _Agency:
    """The agency as the sender of an estimate (``ChainClient.build`` reads only the address)."""

    address: str


def agency_write(platform: Platform, intent_key: str, agency: str, call) -> Receipt:
    """Write ``call`` on chain once, signed by ``agency``; its receipt.

    dev-derived: signed here with the agency's dev key. agency-held: the receipt of what the agency
    signed for this intent, once mined; until then :class:`SignatureAwaited` (the request is
    recorded the first time). A call that would revert raises its named error before anything is
    recorded, as the outbox does."""
    if platform.settings.agency_keys == "dev-derived":  # dev convenience: queued for the agency key's writer
        platform.keyring.member_key(agency)  # the key is held here (ConfigError if not), so its writer will send it
        with platform.sessions() as session:
            return write(platform, session, intent_key, checksum(agency), call)
    agency = checksum(agency)
    receipt = _relayed(platform, intent_key)
    if receipt is not None:
        return receipt
    to, data = checksum(call.address), calldata(call)
    request = _open_request(platform, intent_key)
    if request is None or (request.state, request.to, request.data) != (AWAITING, to, data):
        # estimated as the agency before anything is recorded: a call that would revert is named now
        # (asked again unchanged, as the issuer does every round, it is not estimated again)
        platform.contracts.chain().build(_Agency(agency), call)
        request = _request(platform, intent_key, agency, to, data, _describe(platform, call, to, data))
    raise SignatureAwaited(platform, request)


def calldata(call) -> str:
    """The calldata of a contract call (0x-hex, lower case), encoded with its contract's ABI."""
    return Web3().eth.contract(abi=call.contract_abi).encode_abi(call.abi_element_identifier, args=call.args, kwargs=call.kwargs).lower()


def _describe(platform: Platform, call, to: str, data: str) -> str:
    known = platform.contracts.deployment().contract_at(to)
    return describe_call(known[0] if known else f"contract {to}", call.contract_abi, data)


def _open_request(platform: Platform, intent_key: str) -> AgencySignatureRequest | None:
    with platform.sessions() as session:
        return session.scalar(select(AgencySignatureRequest).where(AgencySignatureRequest.intent_key == intent_key))


def _relayed(platform: Platform, intent_key: str) -> Receipt | None:
    """The receipt of the intent if a signed transaction for it is stored (relayed, or signed in dev);
    its request marked mined or failed. A transaction that lost its nonce puts the request back to awaiting."""
    try:
        receipt = platform.contracts.outbox().finish(intent_key)
    except Superseded:
        _set(platform, intent_key, AWAITING, tx_hash=None, error="its nonce was taken by another transaction of the agency: sign again")
        return None
    except TransactionFailed as exc:
        _set(platform, intent_key, FAILED, error=str(exc))
        raise
    if receipt is not None:
        _set(platform, intent_key, MINED, tx_hash=receipt.tx_hash, block_number=receipt.block_number)
    return receipt


def _request(platform: Platform, intent_key: str, agency: str, to: str, data: str, description: str) -> AgencySignatureRequest:
    """The open request for ``intent_key``: recorded now, or the one already recorded (its call
    brought up to date while unsigned: the agency signs what the step asks for now)."""
    with platform.sessions() as session:
        row = session.scalar(select(AgencySignatureRequest).where(AgencySignatureRequest.intent_key == intent_key))
        if row is None:
            row = AgencySignatureRequest(id="asr_" + uuid.uuid4().hex, intent_key=intent_key, agency=agency, to=to, data=data,
                                         description=description, state=AWAITING)  # fmt: skip
            session.add(row)
            try:
                session.commit()
            except IntegrityError:  # another worker recorded it first
                session.rollback()
                row = session.scalar(select(AgencySignatureRequest).where(AgencySignatureRequest.intent_key == intent_key))
            log.info("agency %s asked to sign %s: %s", agency, intent_key, description)
        elif row.state != AWAITING or (row.to, row.data) != (to, data):
            # submitted but nothing stored in the outbox (the process died in between): never sent, ask again
            row.state, row.to, row.data, row.description, row.tx_hash = AWAITING, to, data, description, None
            session.commit()
        session.expunge(row)
        return row


def _set(platform: Platform, intent_key: str, state: str, **fields) -> None:
    with platform.sessions() as session:
        row = session.scalar(select(AgencySignatureRequest).where(AgencySignatureRequest.intent_key == intent_key))
        if row is None or (row.state == state and all(getattr(row, k) == v for k, v in fields.items())):
            return
        row.state = state
        for name, value in fields.items():
            setattr(row, name, value)
        session.commit()


def request_of(platform: Platform, agency: str, request_id: str) -> AgencySignatureRequest:
    with platform.sessions() as session:
        row = session.get(AgencySignatureRequest, request_id)
        if row is None or row.agency != checksum(agency):
            raise NotFound(f"the agency {agency} has no signature request {request_id}")
        session.expunge(row)
        return row


def listing(platform: Platform, agency: str, state: str | None, limit: int, offset: int) -> list[AgencySignatureRequest]:
    """The agency's own requests (oldest first), in ``state`` if given."""
    query = select(AgencySignatureRequest).where(AgencySignatureRequest.agency == checksum(agency))
    if state is not None:
        query = query.where(AgencySignatureRequest.state == state)
    with platform.sessions() as session:
        return list(session.scalars(query.order_by(AgencySignatureRequest.created_at, AgencySignatureRequest.id).limit(limit).offset(offset)))


def check_signed(platform: Platform, request: AgencySignatureRequest, raw: bytes) -> SignedTx:
    """The signed transaction if it is exactly the one asked for; :class:`Unprocessable` otherwise."""
    try:
        signed = read_signed(raw)
    except UnreadableTransaction as exc:
        raise Unprocessable(str(exc)) from None
    chain_id = platform.contracts.chain().chain_id
    if signed.sender != request.agency:
        raise Unprocessable(f"the transaction is signed by {signed.sender}, not by the agency {request.agency}; nothing was stored or sent")
    if signed.chain_id != chain_id:
        raise Unprocessable(f"the transaction is for chain id {signed.chain_id}, this chain is {chain_id}; nothing was stored or sent")
    if signed.to != request.to or signed.data != request.data or signed.value != 0:
        raise Unprocessable(f"the transaction is not the call asked for ({request.description} to {request.to}, no value); "
                            "nothing was stored or sent")  # fmt: skip
    return signed


def submit(platform: Platform, agency: str, request_id: str, raw: bytes) -> AgencySignatureRequest:
    """Relay the agency's signed transaction for its request and record the receipt.

    Checked first (:func:`check_signed`); then the request is claimed (one submission wins) and the
    transaction goes through the outbox: stored, sent, awaited. The node refusing it (a nonce taken,
    no funds) puts the request back to awaiting, nothing stored."""
    request = request_of(platform, agency, request_id)
    signed = check_signed(platform, request, raw)
    if request.state != AWAITING:
        if request.tx_hash == signed.tx_hash:
            return request  # the same transaction again: already relayed
        raise Conflict(f"signature request {request_id} is {request.state} already ({request.tx_hash})")
    with platform.sessions() as session:
        claimed = session.execute(
            update(AgencySignatureRequest).where(AgencySignatureRequest.id == request_id, AgencySignatureRequest.state == AWAITING)
            .values(state=SUBMITTED, tx_hash=signed.tx_hash, error=None)
        ).rowcount  # fmt: skip
        session.commit()
    if not claimed:
        raise Conflict(f"signature request {request_id} was submitted at the same time")
    try:
        receipt = platform.contracts.outbox().relay(request.intent_key, signed.sender, signed.nonce, raw, signed.tx_hash)
    except (NonceTaken, TransactionFailed) as exc:
        mined = platform.contracts.outbox().entry(request.intent_key)
        if mined is None:  # refused before mining: nothing on chain, nothing stored
            _set(platform, request.intent_key, AWAITING, tx_hash=None, error=str(exc))
            raise Unprocessable(f"the node refused the transaction: {exc}; sign it again (with the agency's next nonce)") from None
        _set(platform, request.intent_key, FAILED, error=str(exc))
    else:
        _set(platform, request.intent_key, MINED, tx_hash=receipt.tx_hash, block_number=receipt.block_number)
    platform.workers.wake("issuer")  # a certificate batch may have been waiting for this signature
    return request_of(platform, agency, request_id)


def request_out(platform: Platform, row: AgencySignatureRequest) -> dict:
    return {
        "id": row.id, "url": platform.settings.public_url + f"{PATH}/{row.id}", "intent_key": row.intent_key, "agency": row.agency,
        "chain_id": platform.contracts.chain().chain_id, "to": row.to, "data": row.data, "value": 0, "description": row.description,
        "state": row.state, "tx_hash": row.tx_hash, "block_number": row.block_number, "error": row.error, "created_at": row.created_at,
    }  # fmt: skip


def awaiting_for(platform: Platform, intent_key: str) -> AgencySignatureRequest | None:
    """The open request of ``intent_key``, if the step is waiting for the agency's signature."""
    row = _open_request(platform, intent_key)
    return row if row is not None and row.state in (AWAITING, SUBMITTED) else None
