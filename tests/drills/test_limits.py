"""The declared back-pressure of api/limits.py: beyond the cap, 503 problem details with
Retry-After before any work; health is never held back."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI

from httpkit.inflight import InflightLimit


def _app(started: list[str]) -> FastAPI:
    app = FastAPI()
    app.add_middleware(InflightLimit, max_inflight=2, wait_seconds=0.05)

    @app.get("/slow")
    async def slow():
        started.append("slow")
        await asyncio.sleep(0.3)
        return {"ok": True}

    @app.get("/v1/health")
    async def health():
        return {"status": "ok"}

    return app


def test_saturated_service_answers_503_with_retry_after_and_does_no_work():
    started: list[str] = []

    async def run():
        transport = httpx.ASGITransport(app=_app(started))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            slow = [asyncio.create_task(client.get("/slow")) for _ in range(5)]
            await asyncio.sleep(0.1)
            health = await client.get("/v1/health")
            return await asyncio.gather(*slow), health

    answers, health = asyncio.run(run())
    codes = sorted(a.status_code for a in answers)
    assert codes == [200, 200, 503, 503, 503]
    busy = next(a for a in answers if a.status_code == 503)
    assert busy.headers["retry-after"] == "1" and busy.headers["content-type"] == "application/problem+json"
    assert busy.json()["status"] == 503 and "retry" in busy.json()["detail"]
    assert len(started) == 2  # the held requests never reached the route
    assert health.status_code == 200  # not held back while saturated


def test_a_short_wait_lets_a_request_through_when_a_slot_frees():
    started: list[str] = []

    async def run():
        app = _app(started)
        app.user_middleware[0].kwargs["wait_seconds"] = 1.0
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await asyncio.gather(*(client.get("/slow") for _ in range(3)))

    assert [a.status_code for a in asyncio.run(run())] == [200, 200, 200]
