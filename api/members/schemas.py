from __future__ import annotations

from pydantic import BaseModel

from chain.registry import DataCategory, Member
from chain.hexcodec import hx


class MemberOut(BaseModel):
    address: str
    name: str
    org_code: str
    domain: str
    hpke_public_key: str
    data_categories: list[str]
    status: str
    roles: list[str]
    registered_at: int
    updated_at: int

    @classmethod
    def of(cls, member: Member) -> "MemberOut":
        return cls(
            address=member.address,
            name=member.info.name,
            org_code=member.info.org_code,
            domain=member.info.domain,
            hpke_public_key=hx(member.info.hpke_public_key),
            data_categories=[(c.name or "").lower() for c in DataCategory if member.info.data_categories & c],  # one-bit members: all named
            status=member.status.name.lower(),
            roles=sorted(member.roles),
            registered_at=member.registered_at,
            updated_at=member.updated_at,
        )


class OutboxEntryOut(BaseModel):
    intent_key: str
    sender: str
    nonce: int
    tx_hash: str
    status: str
    block_number: int | None
    error: str | None
