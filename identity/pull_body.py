"""The pull request's JSON body, as the agency posts it signed to the platform (``POST
/v1/applications/{id}/pulls``) and the platform forwards it to the holder's gateway (``POST
/v1/pulls``), and the gateway's answer. The EIP-712 message the signature covers is
:class:`identity.pull_request.PullRequest`."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

HEX32 = r"^0x[0-9a-fA-F]{64}$"
Category = Literal["id_card", "residence_permit", "household_register"]


class PullIn(BaseModel):
    consent_id: str = Field(pattern=HEX32)
    sequence: int = Field(
        ge=1, le=65535,
        description="the pull number asked for (the consent's pull count plus one); with the consent it makes the request id, "
        "the idempotency key: a retry with it gets the same answer",
    )  # fmt: skip
    category: Category
    attributes: list[str] = Field(min_length=1, max_length=50)
    scope: dict[Category, list[str]] = Field(description="the consent's full attribute list, whose salted hash is on chain")
    scope_salt: str = Field(pattern=HEX32, description="the salt of the consent's scope hash")
    subject: str = Field(max_length=4096, description="base64 HPKE box to this holder: the opening of the consent's face-check reference")
    requester: str = Field(pattern=r"^0x[0-9a-fA-F]{40}$")
    issued_at: int = Field(ge=0)
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]{130}$", description="the requester's EIP-712 signature of the PullRequest (checked again on chain)")


class PullOut(BaseModel):
    request_id: str = Field(description="keccak256(abi.encode(consent_id, sequence))")
    consent_id: str
    category: Category
    holder: str
    ciphertext: str = Field(description="base64 HPKE box to the requester's registered X25519 key: the holder's signed answer")
    digest: str = Field(description="SHA-256 of the ciphertext, as logged on chain")
    tx_hash: str
    block_number: int
    pull_number: int
