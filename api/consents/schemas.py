from __future__ import annotations

from pydantic import BaseModel, Field

SIGNATURE = r"^0x[0-9a-fA-F]{130}$"
HEX32 = r"^0x[0-9a-fA-F]{64}$"


class ConsentOffer(BaseModel):
    consent_id: str = Field(description="the id the consent will have once granted (its EIP-712 digest)")
    typed_data: dict = Field(description="EIP-712 message to sign with eth_signTypedData_v4")
    scope: dict[str, list[str]] = Field(description="the attributes the agency may pull, per category (data minimisation)")
    purposes: list[str]
    expires_at: int


class SignedConsent(BaseModel):
    signature: str = Field(pattern=SIGNATURE)


class ConsentGranted(BaseModel):
    consent_id: str
    tx_hash: str
    block_number: int
    state: str


class RevocationOffer(BaseModel):
    consent_id: str
    deadline: int
    typed_data: dict


class SignedRevocation(BaseModel):
    deadline: int = Field(ge=0)
    signature: str = Field(pattern=SIGNATURE)


class ConsentView(BaseModel):
    consent_id: str
    state: str
    agency: str
    agency_name: str | None
    categories: list[str]
    application_id: str | None
    purposes: list[str]
    not_before: int
    expires_at: int
    pulls: int
    max_pulls: int
    granted_tx: str
    granted_block: int


class AccessView(BaseModel):
    """One access to the applicant's data, as Estonia's Data Tracker shows it."""

    consent_id: str
    outcome: str = Field(description="'released' or 'refused'")
    reason: str | None
    category: str
    requester: str
    requester_name: str | None
    holder: str
    holder_name: str | None
    purposes: list[str]
    legal_basis: str
    at: int = Field(description="block time (unix seconds)")
    tx_hash: str
    block_number: int
