"""The data-holder gateway as its own FastAPI app and process (one per data-holding agency)."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request

from gateway import db
from gateway.service import Gateway
from gateway.settings import GatewaySettings
from httpkit import NowDep, problems
from httpkit.inflight import InflightLimit
from identity.pull_body import PullIn, PullOut

REFUSALS: dict[int | str, dict[str, Any]] = {
    401: {"description": "bad or stale signature (checked here, and again by the contract)"},
    403: {"description": "refused, with `reason`: revoked, expired, paused, not_yet_valid, category_not_covered, "
                         "category_not_served, max_pulls_reached, wrong_agency, unknown_consent, scope_mismatch, "
                         "attribute_not_covered, subject_mismatch, requester_not_active, requester_not_agency, "
                         "duplicate_request, out_of_sequence"},
    409: {"description": "the pull number of this consent was used for another request"},
}  # fmt: skip


def get_gateway(request: Request) -> Gateway:
    return request.app.state.gateway


GatewayDep = Annotated[Gateway, Depends(get_gateway)]


def create_gateway_app(settings: GatewaySettings | None = None, source=None) -> FastAPI:
    settings = settings or GatewaySettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        gateway = Gateway(settings, source)
        db.upgrade(gateway.engine)
        app.state.gateway = gateway
        yield
        gateway.close()

    app = FastAPI(title="govchain data-holder gateway", version="0.1.0", lifespan=lifespan)
    problems.install(app)
    app.add_middleware(InflightLimit, max_inflight=settings.max_inflight, wait_seconds=settings.inflight_wait_seconds)

    @app.post("/v1/pulls", response_model=PullOut, responses=REFUSALS, tags=["pulls"])
    def pull(body: PullIn, gateway: GatewayDep, now: NowDep):
        """Check the consent, log the pull on chain, then return the data sealed to the requester."""
        return gateway.pull(body, now)

    @app.get("/v1/health", tags=["health"])
    def health(gateway: GatewayDep):
        return {
            "status": "ok",
            "holder": gateway.holder.address,
            "latest_block": gateway.client.block_number(),
            "consent_registry": gateway.consents.address,
            "batches_sent": gateway.batcher.batches,
        }

    return app
