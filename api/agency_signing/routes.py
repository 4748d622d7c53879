from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.agency_signing import service
from api.auth.deps import CurrentIdentity
from api.deps import PlatformDep
from httpkit.problems import BadRequest
from chain.hexcodec import unhex

router = APIRouter(prefix="/v1/agency", tags=["agency signature requests"])


class SignedTransaction(BaseModel):
    raw_transaction: str = Field(pattern=r"^0x[0-9a-fA-F]+$", max_length=262_144, description="the raw signed transaction, 0x-hex")


@router.get("/signature-requests")
def signature_requests(
    identity: CurrentIdentity, platform: PlatformDep,
    state: Annotated[str | None, Query(description="awaiting, submitted, mined or failed")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100, offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
):  # fmt: skip
    """The signed-in agency's own chain writes to sign in its own client (``agency-held`` keys): per
    request the exact ``to`` and ``data`` and the call decoded. Sign a transaction with exactly that
    ``to`` and ``data`` (value 0, this chain id, the agency's own nonce and gas) and POST it back."""
    if state is not None and state not in service.STATES:
        raise BadRequest(f"unknown state {state!r}; states: {', '.join(service.STATES)}")
    return [service.request_out(platform, row) for row in service.listing(platform, identity.address, state, limit, offset)]


@router.get("/signature-requests/{request_id}")
def signature_request(request_id: str, identity: CurrentIdentity, platform: PlatformDep):
    return service.request_out(platform, service.request_of(platform, identity.address, request_id))


@router.post("/signature-requests/{request_id}")
def submit_signature(request_id: str, body: SignedTransaction, identity: CurrentIdentity, platform: PlatformDep):
    """Relay the agency's signed transaction for a request: refused (422, nothing stored or sent) unless
    it is signed by the agency, for this chain, to exactly the ``to`` with exactly the ``data`` asked
    for; then stored, sent and awaited. The step that asked then gives its normal answer when repeated."""
    raw = unhex(body.raw_transaction) if len(body.raw_transaction) % 2 == 0 else b""
    row = service.submit(platform, identity.address, request_id, raw)
    return service.request_out(platform, row)
