from __future__ import annotations

from fastapi import APIRouter

from api.auth.deps import CurrentIdentity
from api.deps import PlatformDep
from api.writes import service

router = APIRouter(prefix=service.PATH, tags=["chain writes"])


@router.get("/{intent_key}")
def write_status(intent_key: str, identity: CurrentIdentity, platform: PlatformDep):
    """A chain write's state: ``queued``, ``signed``, ``sent``, ``mined`` or ``failed``, with its
    transaction hash and block once known. Signed-in callers only (an intent key can name an
    application); what it shows (hash, block, status) is public on chain once mined."""
    return service.status(platform, intent_key)
