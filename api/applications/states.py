"""The application state machine. Every change goes through :func:`advance`."""

from __future__ import annotations

from api.models import Application, ApplicationState
from httpkit.problems import Conflict

DRAFT, FACE_VERIFIED, CONSENTED = ApplicationState.DRAFT, ApplicationState.FACE_VERIFIED, ApplicationState.CONSENTED
DATA_PULLED, SUBMITTED, APPROVED = ApplicationState.DATA_PULLED, ApplicationState.SUBMITTED, ApplicationState.APPROVED
REJECTED, ISSUED, DELIVERED = ApplicationState.REJECTED, ApplicationState.ISSUED, ApplicationState.DELIVERED

TRANSITIONS: dict[str, tuple[ApplicationState, ...]] = {  # keyed by the column's text
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


def require(application: Application, *states: ApplicationState) -> None:
    """Refuse (409) unless the application is in one of ``states``."""
    if application.state not in states:
        raise Conflict(
            f"application {application.id} is {application.state}; this needs it to be {' or '.join(states)}",
            state=application.state,
        )


def advance(application: Application, to: ApplicationState) -> None:
    """Move to ``to`` or refuse with 409 naming both states."""
    if to not in TRANSITIONS[application.state]:
        raise Conflict(f"application {application.id} cannot go from {application.state} to {to}", state=application.state)
    application.state = to
