"""Declared back-pressure: a cap on requests in flight, as plain ASGI middleware.

At most ``max_inflight`` HTTP requests are handled at once. A request that finds every slot
taken waits up to ``wait_seconds`` for one; if none frees up it is answered at once with
``503`` problem details and ``Retry-After``, before any of its work starts (nothing read,
nothing written), so a client may simply retry it later. Paths in ``exempt`` (health
checks) are never held back: a saturated service must still be able to say how it is.

The platform API reads ``GOVCHAIN_MAX_INFLIGHT`` and ``GOVCHAIN_INFLIGHT_WAIT_SECONDS``; each
gateway reads ``GOVCHAIN_GATEWAY_MAX_INFLIGHT`` and ``GOVCHAIN_GATEWAY_INFLIGHT_WAIT_SECONDS``.
``0`` turns the limit off.
"""

from __future__ import annotations

import asyncio
import json

from httpkit.problems import MEDIA_TYPE, PROBLEM_BASE

DEFAULT_EXEMPT = ("/v1/health",)


class InflightLimit:
    def __init__(self, app, max_inflight: int = 64, wait_seconds: float = 0.5, retry_after: int = 1, exempt: tuple[str, ...] = DEFAULT_EXEMPT):
        self.app = app
        self.max_inflight = max_inflight
        self.wait_seconds = wait_seconds
        self.retry_after = retry_after
        self.exempt = frozenset(exempt)
        self._slots: asyncio.Semaphore | None = None
        self.inflight = 0
        self.held = 0  # requests answered 503 because every slot stayed taken

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or self.max_inflight <= 0 or scope.get("path") in self.exempt:
            await self.app(scope, receive, send)
            return
        if self._slots is None:  # created on the serving loop
            self._slots = asyncio.Semaphore(self.max_inflight)
        try:
            await asyncio.wait_for(self._slots.acquire(), timeout=self.wait_seconds)
        except TimeoutError:
            self.held += 1
            await self._busy(send)
            return
        self.inflight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.inflight -= 1
            self._slots.release()

    async def _busy(self, send) -> None:
        body = json.dumps({
            "type": PROBLEM_BASE + "overloaded", "title": "Service busy", "status": 503,
            "detail": f"{self.max_inflight} requests are in progress; nothing was done, retry after {self.retry_after} s",
        }).encode()  # fmt: skip
        headers = [(b"content-type", MEDIA_TYPE.encode()), (b"content-length", str(len(body)).encode()),
                   (b"retry-after", str(self.retry_after).encode())]  # fmt: skip
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": body})
