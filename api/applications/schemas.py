from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from api.applications import states
from api.models import Application

FaceOutcome = Literal["pass", "fail", "low_score", "liveness_failure", "identity_mismatch"]


class ApplicationCreate(BaseModel):
    code: str = Field(min_length=2, max_length=64, description="a matter code, or a scene code bundling several matters")


class MatterOut(BaseModel):
    code: str
    name_zh: str
    name_en: str


class ApplicationOut(BaseModel):
    id: str
    applicant: str
    code: str
    matters: list[MatterOut]
    agency: str
    state: str
    next_states: list[str]
    face_decision: str | None
    face_check_ref: str | None
    consent_id: str | None
    consent_tx: str | None
    decision_reason: str | None = Field(None, description="the agency's reason for its approval or rejection, once decided")
    created_at: datetime
    updated_at: datetime


class FaceVerificationStart(BaseModel):
    name: str = Field(min_length=1, max_length=64, description="the applicant's claimed name; stored sealed, never logged")
    id_number: str = Field(min_length=18, max_length=18, description="the claimed resident ID number; stored sealed, never logged")
    outcome: FaceOutcome | None = Field(None, description="dev/demo only: the outcome the vendor stand-in should simulate")


class FaceVerificationStarted(BaseModel):
    session_id: str
    liveness_url: str


def application_out(application: Application, catalog) -> ApplicationOut:
    """An application as the API shows it, with the states it may move to next."""
    return ApplicationOut(
        id=application.id,
        applicant=application.applicant,
        code=application.code,
        matters=[MatterOut(code=c, name_zh=catalog.matters[c].name_zh, name_en=catalog.matters[c].name_en) for c in application.matters],
        agency=application.agency,
        state=application.state,
        next_states=list(states.TRANSITIONS[application.state]),
        face_decision=application.face_decision,
        face_check_ref=application.face_check_ref,
        consent_id=application.consent_id,
        consent_tx=application.consent_tx,
        decision_reason=application.decision_reason,
        created_at=application.created_at,
        updated_at=application.updated_at,
    )
