"""The application state machine. Every change goes through :func:`advance`."""

from __future__ import annotations

from api.models import Application
from httpkit.problems import Conflict

DRAFT, FACE_VERIFIED, CONSENTED, DATA_PULLED, SUBMITTED = "draft", "face_verified", "consented", "data_pulled", "submitted"
APPROVED, REJECTED, ISSUED, DELIVERED = "approved", "rejected", "issued", "delivered"

TRANSITIONS: dict[str, tuple[str, ...]] = {
    DRAFT: (FACE_VERIFIED,),
    FACE_VERIFIED: (CONSENTED,),
    CONSENTED: (DATA_PULLED,),
    DATA_PULLED: (SUBMITTED,),
    SUBMITTED: (APPROVED, REJECTED),
    APPROVED: (ISSUED,),
    ISSUED: (DELIVERED,),
    REJECTED: (),
    DELIVERED: (),
}


def require(application: Application, *states: str) -> None:
    """Refuse (409) unless the application is in one of ``states``."""
    if application.state not in states:
        raise Conflict(
            f"application {application.id} is {application.state}; this needs it to be {' or '.join(states)}",
            state=application.state,
        )


def advance(application: Application, to: str) -> None:
    """Move to ``to`` or refuse with 409 naming both states."""
    if to not in TRANSITIONS[application.state]:
        raise Conflict(f"application {application.id} cannot go from {application.state} to {to}", state=application.state)
    application.state = to
