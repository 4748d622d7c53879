from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, field_validator
from web3 import Web3

ADDRESS_PATTERN = r"^0x[0-9a-fA-F]{40}$"


class ChallengeRequest(BaseModel):
    address: str = Field(pattern=ADDRESS_PATTERN, description="the account that will sign in (any case)")

    @field_validator("address")
    @classmethod
    def _checksum(cls, value: str) -> str:
        return Web3.to_checksum_address(value)


class Challenge(BaseModel):
    message: str = Field(description="EIP-4361 text to sign with personal_sign (EIP-191)")
    nonce: str
    expires_at: datetime


class TokenRequest(BaseModel):
    message: str = Field(max_length=2_000)
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]{130}$")


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime
    address: str
    roles: list[str]


class Principal(BaseModel):
    address: str
    kind: str = Field(description="'member' for a registered organisation, 'applicant' otherwise")
    name: str | None = None
    roles: list[str]
