from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from api import db
from api.deps import PlatformDep
from chain.errors import GovchainError

router = APIRouter(prefix="/v1", tags=["health"])


@router.get("/health", responses={503: {"description": "the chain or the database is down (same body)", "content": {"application/json": {"schema": {}}}}})
def health(platform: PlatformDep):
    """Chain id, latest block, contract addresses and database state; 503 if any is down."""
    chain: dict = {"url": platform.settings.rpc_url, "reachable": False}
    try:
        client = platform.contracts.chain()
        chain.update(reachable=True, chain_id=client.chain_id, latest_block=client.block_number(), fee_mode=client.fee_mode.value)
    except (GovchainError, OSError) as exc:
        chain["error"] = str(exc)
    contracts: dict = {}
    stores: dict = {}
    try:
        contracts = {name: entry["address"] for name, entry in platform.contracts.deployment().contracts.items()}
        stores = {issuer: entry["address"] for issuer, entry in platform.contracts.deployment().stores.items()}
    except GovchainError as exc:
        chain.setdefault("error", str(exc))
    database: dict = {"dialect": platform.engine.dialect.name, "ok": False}
    try:
        with platform.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        database.update(ok=True, revision=db.current_revision(platform.engine), head=db.head_revision())
    except Exception as exc:  # any driver error means "down"
        database["error"] = type(exc).__name__
    ok = chain["reachable"] and bool(contracts) and database["ok"]
    body = {"status": "ok" if ok else "degraded", "chain": chain, "contracts": contracts, "document_stores": stores, "database": database}
    return JSONResponse(body, status_code=200 if ok else 503)
