"""The member registry as read from GovRegistry (public metadata only), and the outbox."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy import select

from api.auth.deps import require_role
from api.deps import ContractsDep, SessionDep
from api.members.schemas import MemberOut, OutboxEntryOut
from httpkit.problems import NotFound
from chain.outbox import OutboxEntry
from chain.registry import MemberStatus, Role

router = APIRouter(prefix="/v1", tags=["members"])
CHAIN_DOWN: dict[int | str, dict[str, Any]] = {503: {"description": "the chain node cannot be reached"}}


@router.get("/members", response_model=list[MemberOut], responses=CHAIN_DOWN)
def list_members(contracts: ContractsDep, include_retired: bool = False):
    """Every registered member, in registration order, read from the chain."""
    members = contracts.registry().members()
    return [MemberOut.of(m) for m in members if include_retired or m.status is not MemberStatus.RETIRED]


@router.get("/members/{address}", response_model=MemberOut, responses={404: {"description": "not a member"}, **CHAIN_DOWN})
def get_member(contracts: ContractsDep, address: Annotated[str, Path(pattern=r"^0x[0-9a-fA-F]{40}$")]):
    member = contracts.registry().member(address)
    if member.status is MemberStatus.NONE:
        raise NotFound(f"{address} is not registered in GovRegistry")
    return MemberOut.of(member)


@router.get(
    "/outbox",
    response_model=list[OutboxEntryOut],
    dependencies=[Depends(require_role(Role.GOVERNOR, Role.AUDITOR))],
    responses={401: {"description": "no token"}, 403: {"description": "needs GOVERNOR or AUDITOR"}},
)
def list_outbox(session: SessionDep, status: Annotated[str | None, Query(pattern="^(signed|sent|mined|failed)$")] = None, limit: Annotated[int, Query(ge=1, le=500)] = 100):
    """The platform's chain writes (exactly-once outbox), newest first."""
    query = select(OutboxEntry).order_by(OutboxEntry.id.desc()).limit(limit)
    if status:
        query = query.where(OutboxEntry.status == status)
    return [OutboxEntryOut(intent_key=e.intent_key, sender=e.sender, nonce=e.nonce, tx_hash=e.tx_hash, status=e.status, block_number=e.block_number, error=e.error) for e in session.scalars(query)]
