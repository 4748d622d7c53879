from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, model_validator

HEX32 = r"^0x[0-9a-fA-F]{64}$"
ADDRESS = r"^0x[0-9a-fA-F]{40}$"
SIGNATURE = r"^0x[0-9a-fA-F]{130}$"
METHODS = {"lowest_price": 0, "weighted_score": 1}


class TenderCreate(BaseModel):
    reference: str = Field(min_length=3, max_length=100, description="the procurement project number, unique")
    title: str = Field(min_length=1, max_length=200)
    document_hash: str = Field(pattern=HEX32, description="hash of the published tender document")
    bid_deadline: int = Field(gt=0, lt=2**39, description="unix seconds; bids must be committed before it")
    opening_time: int | None = Field(None, ge=0, lt=2**39, description="unix seconds; the deadline itself unless set (Art 29)")
    decryption_minutes: int = Field(30, ge=1, le=1440, description="how long bidders have to release their keys")
    objection_seconds: int | None = Field(
        None, ge=1, le=30 * 86400,
        description="after the reading: how long objections may be raised, and no result published (异议期); the decryption window's length unless set",
    )  # fmt: skip
    method: Literal["lowest_price", "weighted_score"]
    weights: list[int] = Field(default_factory=list, description="basis points per criterion, summing to 10000 (weighted_score)")
    experts: list[Annotated[str, Field(pattern=ADDRESS)]] = Field(min_length=1, max_length=50)
    min_bidders: int = Field(3, ge=1, le=500, description="TenderLedger bounds a tender to 500 bids")

    @model_validator(mode="after")
    def _consistent(self) -> "TenderCreate":
        if self.method == "weighted_score" and sum(self.weights) != 10_000:
            raise ValueError(f"weights sum to {sum(self.weights)}, expected 10000 basis points")
        if self.method == "lowest_price" and self.weights:
            raise ValueError("lowest_price takes no weights")
        if self.opening_time is not None and self.opening_time < self.bid_deadline:
            raise ValueError("the opening cannot be before the bid deadline")
        return self


class BidReceipt(BaseModel):
    """What the platform signed when it accepted an upload: keep it as proof of time."""

    tender_id: str
    pseudonym: str
    version: int
    ciphertext_hash: str
    key_commitment: str
    received_at: int
    tx_hash: str
    block_number: int
    platform: str = Field(description="the relayer address that signed this receipt (a GovRegistry member)")
    signature: str


class SignIn(BaseModel):
    signature: str = Field(pattern=SIGNATURE, description="EIP-712 SignIn(tenderId, pseudonym, bidder) by the bidder")


class KeyRelease(BaseModel):
    key: str = Field(pattern=HEX32)
    salt: str = Field(pattern=HEX32)


class ObjectionIn(BaseModel):
    text: str = Field(min_length=1, max_length=5000)
    signature: str = Field(pattern=SIGNATURE, description="EIP-712 Objection(tenderId, pseudonym, objectionHash) by the bidder")


class AnswerIn(BaseModel):
    text: str = Field(min_length=1, max_length=5000)


class ScoresIn(BaseModel):
    pseudonym: str = Field(pattern=HEX32)
    scores: list[Annotated[int, Field(ge=0, le=100)]] = Field(min_length=1, max_length=20, description="0 to 100 points per criterion (uint16 on chain, MAX_SCORE 100)")
    signature: str = Field(pattern=SIGNATURE, description="EIP-712 Score(tenderId, pseudonym, scoresHash) by the expert")


class ExpertReplace(BaseModel):
    expert: str = Field(pattern=ADDRESS, description="the panel expert who has not scored every read bid by its deadline")
    replacement: str = Field(pattern=ADDRESS, description="the expert who takes its place (scores every read bid)")


class ResultIn(BaseModel):
    winner: str | None = Field(None, pattern=HEX32, description="omit to publish the computed winner")
