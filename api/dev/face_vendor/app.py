"""A stand-in for the face-verification vendor: its REST API and its signed callbacks.

It is a test and demo double. It never receives a face image, video or template: the
outcome of each check is simulated (chosen when the session is opened). Sessions live in
memory. The claimed name and ID number are kept only until the check completes, are used
for nothing but the simulation, and are never logged or returned.

API (every ``/v1/sessions`` route needs ``Authorization: Bearer <api key>``, else 401):

- ``POST /v1/sessions`` ``{callback_url, reference, claimed_name, claimed_id_number,
  outcome?}`` -> 201 ``{session_id, session_token, liveness_url}``
- ``POST /v1/sessions/{id}/complete`` (what the citizen's phone would trigger) -> computes
  the result, POSTs a Standard Webhooks callback ``{"type": "verification.completed",
  "session_id": ...}`` to ``callback_url`` -> 202 ``{delivered, status_code}``
- ``GET /v1/sessions/{id}/result`` with ``X-Session-Token`` -> 200 the result;
  404 unknown, 403 wrong token, 409 not completed
- ``GET /v1/sessions/{id}/last-callback`` -> ``{url, body, headers}``: the exact callback
  last sent, so tests and the demo can replay it or tamper with it (test hook; no real
  vendor has it)
- ``GET /v1/health`` and ``GET /liveness/{id}`` need no key. ``GET /liveness/{id}`` is the vendor's
  own page the citizen is sent to (``/apply`` does): it says the check is simulated and offers
  to complete it; ``POST /liveness/{id}`` completes it as the phone would (the callback is sent)
  and sends the citizen back to the session's ``return_url`` (303), when the platform gave one.

Request bodies over 16 KiB get 413; every error is RFC 9457 problem details.
"""

from __future__ import annotations

import hmac
from html import escape
from urllib.parse import urlsplit
import json
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from typing import Literal

import httpx
from fastapi import APIRouter, FastAPI, Header, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field
from standardwebhooks import Webhook

from httpkit import problems
from httpkit.problems import Problem, problem_response
from chain.errors import ConfigError
from identity.face import EVENT_COMPLETED, OUTCOMES, check_webhook_secret

log = logging.getLogger("govchain.face_vendor")

MAX_BODY = 16 * 1024
MIN_API_KEY = 16
SESSION_TTL = timedelta(minutes=30)
MAX_SESSIONS = 10_000
DELIVERY_TIMEOUT = 5.0
PUBLIC_PATHS = ("/v1/health", "/liveness/", "/docs", "/openapi.json")
_SESSION_ID = re.compile(r"ses_[A-Za-z0-9_-]{22}")
_API_KEY = re.compile(r"[\x21-\x7e]+")

# The simulated results. ``passed`` is the vendor's own verdict; the platform re-checks
# every part (a spoof can show the right face: liveness_failure keeps a high score).
RESULTS: dict[str, dict] = {
    "pass": {"passed": True, "score": 0.97, "liveness": True, "identity_match": True, "error_code": None},
    "fail": {"passed": False, "score": 0.0, "liveness": False, "identity_match": False, "error_code": "FACE_NOT_DETECTED"},
    "low_score": {"passed": True, "score": 0.41, "liveness": True, "identity_match": True, "error_code": None},
    "liveness_failure": {"passed": False, "score": 0.97, "liveness": False, "identity_match": True, "error_code": "LIVENESS_FAILED"},
    "identity_mismatch": {"passed": True, "score": 0.12, "liveness": True, "identity_match": False, "error_code": None},
}  # fmt: skip
if set(RESULTS) != set(OUTCOMES):
    raise RuntimeError("the stand-in must simulate exactly identity.face.OUTCOMES")


class VendorProblem(Problem):
    def __init__(self, status: int, title: str, slug: str, detail: str, headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.status, self.title, self.slug, self.headers = status, title, slug, headers


class NewSession(BaseModel):
    model_config = ConfigDict(extra="forbid")

    callback_url: str = Field(max_length=2048, pattern=r"^https?://[^\s]+$")
    reference: str = Field(min_length=1, max_length=128)
    claimed_name: str = Field(min_length=1, max_length=128)
    claimed_id_number: str = Field(min_length=1, max_length=32)
    outcome: Literal["pass", "fail", "low_score", "liveness_failure", "identity_mismatch"] = "pass"
    return_url: str | None = Field(None, max_length=2048, pattern=r"^https?://[^\s<>\"']+$")


@dataclass(eq=False)
class Session:
    session_id: str
    token_hash: bytes = field(repr=False)
    callback_url: str
    reference: str
    outcome: str
    created: datetime
    claimed: tuple[str, str] | None = field(default=None, repr=False)  # dropped at completion
    return_url: str | None = None
    result: dict | None = None
    last_callback: dict | None = None


class _Gate:
    """Pure ASGI middleware: the API key for every non-public path, then the body cap.

    It runs before FastAPI parses anything, so an unauthenticated or oversized request
    never reaches validation (no 422 before the 401, no body read past the cap)."""

    def __init__(self, app, api_key: str, max_body: int):
        self.app = app
        self.expected = f"Bearer {api_key}".encode()
        self.max_body = max_body

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        headers = scope.get("headers", [])
        if not path.startswith(PUBLIC_PATHS):
            given = [value for name, value in headers if name == b"authorization"]
            if len(given) != 1 or not hmac.compare_digest(given[0], self.expected):
                response = problem_response(401, "Not authenticated", "unauthorized", "a valid API key is required",
                                            {"WWW-Authenticate": "Bearer"})  # fmt: skip
                return await response(scope, receive, send)
        limit = f"request bodies are limited to {self.max_body} bytes"
        too_large = problem_response(413, "Request too large", "too-large", limit)
        for name, value in headers:
            if name == b"content-length":
                if not value.isdigit():
                    bad = problem_response(400, "Bad request", "bad-request", "malformed Content-Length")
                    return await bad(scope, receive, send)
                if int(value) > self.max_body:
                    return await too_large(scope, receive, send)
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            body += message.get("body", b"")
            if len(body) > self.max_body:
                return await too_large(scope, receive, send)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("the vendor's clock must return timezone-aware datetimes")
    return moment.astimezone(UTC)


def create_vendor_app(webhook_secret: str, api_key: str, *, clock: Callable[[], datetime] | None = None) -> FastAPI:
    """The stand-in vendor. ``webhook_secret`` (``whsec_...``) signs callbacks; ``api_key``
    is the key the platform must present; ``clock`` (aware datetimes) stamps callbacks and
    expires sessions, so tests can make stale callbacks in-process."""
    check_webhook_secret(webhook_secret)
    if not isinstance(api_key, str) or len(api_key) < MIN_API_KEY or not _API_KEY.fullmatch(api_key):
        raise ConfigError(f"the vendor API key must be at least {MIN_API_KEY} printable characters without spaces")
    signer = Webhook(webhook_secret)
    now = (lambda: _utc(clock())) if clock else (lambda: datetime.now(UTC))
    sessions: dict[str, Session] = {}

    def find(session_id: str) -> Session:
        session = sessions.get(session_id) if _SESSION_ID.fullmatch(session_id) else None
        if session is not None and now() - session.created > SESSION_TTL:
            del sessions[session_id]
            session = None
        if session is None:
            raise VendorProblem(404, "Not found", "not-found", "no such session (unknown or expired)")
        return session

    def purge() -> None:
        cutoff = now() - SESSION_TTL
        for session_id in [s.session_id for s in sessions.values() if s.created < cutoff]:
            del sessions[session_id]

    async def deliver(session: Session) -> dict:
        stamp = now().replace(microsecond=0)
        body = json.dumps({"type": EVENT_COMPLETED, "session_id": session.session_id}, separators=(",", ":"))
        msg_id = "msg_" + secrets.token_urlsafe(18)
        headers = {
            "content-type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(stamp.timestamp())),
            "webhook-signature": signer.sign(msg_id, stamp, body),
        }
        session.last_callback = {"url": session.callback_url, "body": body, "headers": headers}
        try:
            async with httpx.AsyncClient(timeout=DELIVERY_TIMEOUT, follow_redirects=False) as client:
                answer = await client.post(session.callback_url, content=body.encode(), headers=headers)
        except httpx.HTTPError as exc:
            log.warning("callback for %s not delivered: %s", session.session_id, type(exc).__name__)
            return {"delivered": False, "status_code": None}
        log.info("callback %s for %s answered %d", msg_id, session.session_id, answer.status_code)
        return {"delivered": 200 <= answer.status_code < 300, "status_code": answer.status_code}

    router = APIRouter()

    @router.get("/v1/health")
    async def health() -> dict:
        return {"status": "ok", "sessions": len(sessions)}

    @router.post("/v1/sessions", status_code=201)
    async def new_session(spec: NewSession, request: Request) -> dict:
        purge()
        if len(sessions) >= MAX_SESSIONS:
            raise VendorProblem(503, "Busy", "busy", "too many open sessions", {"Retry-After": "30"})
        session_id = "ses_" + secrets.token_urlsafe(16)
        token = secrets.token_urlsafe(32)
        sessions[session_id] = Session(
            session_id=session_id,
            token_hash=sha256(token.encode()).digest(),
            callback_url=spec.callback_url,
            reference=spec.reference,
            outcome=spec.outcome,
            created=now(),
            claimed=(spec.claimed_name, spec.claimed_id_number),
            return_url=spec.return_url,
        )
        return {"session_id": session_id, "session_token": token, "liveness_url": f"{request.base_url}liveness/{session_id}"}

    @router.post("/v1/sessions/{session_id}/complete", status_code=202)
    async def complete(session_id: str) -> dict:
        session = find(session_id)
        if session.result is not None:
            raise VendorProblem(409, "Conflict", "conflict", "this session is already completed")
        # A real vendor compares the live face with the claimed identity's reference photo;
        # the stand-in only simulates the chosen outcome, then forgets the claimed identity.
        session.result = {"request_id": "req_" + secrets.token_hex(12), **RESULTS[session.outcome]}
        session.claimed = None
        return await deliver(session)

    @router.get("/v1/sessions/{session_id}/result")
    async def result(session_id: str, x_session_token: str | None = Header(default=None)) -> JSONResponse:
        session = find(session_id)
        given = sha256((x_session_token or "").encode("utf-8", "surrogateescape")).digest()
        if not x_session_token or not hmac.compare_digest(given, session.token_hash):
            raise VendorProblem(403, "Not allowed", "forbidden", "the session token is missing or wrong")
        if session.result is None:
            raise VendorProblem(409, "Conflict", "not-completed", "the check is not completed yet")
        return JSONResponse({"session_id": session.session_id, **session.result})

    @router.get("/v1/sessions/{session_id}/last-callback")
    async def last_callback(session_id: str) -> dict:
        session = find(session_id)
        if session.last_callback is None:
            raise VendorProblem(409, "Conflict", "not-completed", "no callback has been sent for this session yet")
        return session.last_callback

    @router.get("/liveness/{session_id}", response_class=HTMLResponse)
    async def liveness_page(session_id: str) -> HTMLResponse:
        session = find(session_id)
        done = session.result is not None
        action = (
            "<p>This check is completed. 核验已完成。</p>" if done else
            f'<form method="post" action="/liveness/{session.session_id}"><button type="submit">'
            "完成核验（模拟） Complete the check (simulated)</button></form>"
        )  # fmt: skip
        # form-action also covers the redirect after the POST: the way back to the platform's origin
        back_to = f" {_origin(session.return_url)}" if session.return_url else ""
        back = f'<p><a href="{escape(session.return_url)}">返回办事页面 Back to the application</a></p>' if session.return_url and done else ""
        return HTMLResponse(
            '<!doctype html><html lang="zh-CN"><meta charset=utf-8><meta name=viewport content="width=device-width, initial-scale=1">'
            "<title>人脸核验（模拟） Liveness check (stand-in)</title><main><h1>人脸核验（模拟） Liveness check (stand-in)</h1>"
            "<p>This is the face-verification stand-in. It uses no camera and receives no images; "
            "the outcome is simulated. 这是人脸核验服务的模拟页面：不使用摄像头，不接收任何图像，结果为模拟。</p>"
            f"{action}{back}</main></html>",
            headers={"Content-Security-Policy": f"default-src 'none'; form-action 'self'{back_to}; frame-ancestors 'none'", "Referrer-Policy": "no-referrer"},
        )

    @router.post("/liveness/{session_id}", response_class=HTMLResponse)
    async def liveness_complete(session_id: str):
        """What the citizen's phone triggers at the end of the check: complete it, send the
        callback, and return the citizen to the platform's page."""
        session = find(session_id)
        if session.result is None:
            await complete(session_id)
        if session.return_url:
            return RedirectResponse(session.return_url, status_code=303)
        return await liveness_page(session_id)

    app = FastAPI(title="face-verification vendor (stand-in)", version="1.0.0")
    app.add_middleware(_Gate, api_key=api_key, max_body=MAX_BODY)
    app.include_router(router)
    problems.install(app)  # the platform's RFC 9457 handlers: they never echo the input
    return app
