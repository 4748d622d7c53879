from __future__ import annotations

from pydantic import BaseModel, Field

SIGNATURE = r"^0x[0-9a-fA-F]{130}$"
HEX32 = r"^0x[0-9a-fA-F]{64}$"


ADDRESS = r"^0x[0-9a-fA-F]{40}$"


class PseudonymInfo(BaseModel):
    """How the applicant derives the consent's pseudonym (identity.pseudonym): the wallet signs
    ``message`` (personal_sign), and the key is keccak256(tag || that signature || ``salt``)."""

    message: str = Field(description="the fixed text the wallet signs once (the root of its pseudonyms)")
    salt: str = Field(description="this consent's salt (not a secret)")


class ConsentOffer(BaseModel):
    pseudonym: PseudonymInfo
    consent_id: str | None = Field(description="the id the consent will have once granted (its EIP-712 digest); null until a pseudonym is given")
    typed_data: dict | None = Field(description="EIP-712 consent terms, the pseudonym as applicant, for the pseudonym's key to sign")
    link_typed_data: dict | None = Field(description="EIP-712 PseudonymLink for the applicant's wallet to sign (kept off chain)")
    scope: dict[str, list[str]] = Field(description="the attributes the agency may pull, per category (data minimisation)")
    purposes: list[str]
    expires_at: int | None


class SignedConsent(BaseModel):
    signature: str = Field(pattern=SIGNATURE, description="the pseudonym's signature of the terms")
    link_signature: str = Field(pattern=SIGNATURE, description="the wallet's signature of the PseudonymLink")


class ConsentGranted(BaseModel):
    consent_id: str
    tx_hash: str
    block_number: int
    state: str


class RevocationOffer(BaseModel):
    consent_id: str
    deadline: int
    typed_data: dict = Field(description="EIP-712 Revocation for the consent's pseudonym key to sign")
    pseudonym: str = Field(description="the consent's applicant on chain")
    derivation: PseudonymInfo


class SignedRevocation(BaseModel):
    deadline: int = Field(ge=0)
    signature: str = Field(pattern=SIGNATURE)


class ConsentView(BaseModel):
    consent_id: str
    pseudonym: str = Field(description="the consent's applicant on chain (a per-consent pseudonym of the signed-in wallet)")
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
