"""Face verification at an outside vendor: the platform's side.

The vendor calls the platform back with a Standard Webhooks callback (HMAC ``v1,``
signatures, a ``whsec_`` secret). The callback is only a trigger: :func:`verify_callback`
checks it and names the session; the platform then pulls the full result from the vendor
with the session's own token (:meth:`FaceVendorClient.fetch_result`) and decides on that
(:func:`decide`). No face image, video or template ever passes through here.

This module knows nothing of FastAPI; the API layer maps its exceptions to HTTP.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self

import httpx
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from chain.errors import ConfigError, GovchainError

EVENT_COMPLETED = "verification.completed"
OUTCOMES = ("pass", "fail", "low_score", "liveness_failure", "identity_mismatch")
REASONS = ("passed", "vendor_failed", "low_score", "liveness_failed", "identity_mismatch")
REJECTION_CODES = ("too_large", "malformed", "headers", "signature", "timestamp", "payload")

SECRET_PREFIX = "whsec_"
MIN_SECRET_BYTES = 24  # Standard Webhooks: secrets of 24 to 64 random bytes
MAX_CALLBACK_BODY = 64 * 1024
MAX_RESULT_BODY = 64 * 1024
TOLERANCE_SECONDS = 5 * 60  # fixed inside standardwebhooks 1.1; stated here for callers

_HEADER_NAMES = ("webhook-id", "webhook-timestamp", "webhook-signature")
_WEBHOOK_ID = re.compile(r"[\x21-\x7e]{1,256}")  # printable ASCII, no spaces
_TIMESTAMP = re.compile(r"[0-9]{1,12}")  # whole unix seconds, ASCII digits only
_SIGNATURE = re.compile(r"(v[0-9]+[a-z]?),([A-Za-z0-9+/]+={0,2})")
_MAX_SIGNATURES = 16
_SESSION_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
_EVENT_TYPE = re.compile(r"[a-z0-9_]+(\.[a-z0-9_]+)*")
_MAX_EVENT_TYPE = 64


class CallbackRejected(GovchainError, PermissionError):
    """A vendor callback is not acceptable. One class for every reason, on purpose: the
    reason is in the message (for the log). ``code`` sorts it coarsely, for callers that
    answer some cases differently (413 for ``too_large``): one of :data:`REJECTION_CODES`."""

    def __init__(self, message: str, code: str = "malformed"):
        self.code = code
        super().__init__(message)


class VendorError(GovchainError, ValueError):
    """The vendor refused the request (4xx) or answered something that is not its API.

    ``status_code`` is the HTTP status (None when the answer, not the status, was wrong)."""

    def __init__(self, message: str, status_code: int | None = None):
        self.status_code = status_code
        super().__init__(message)


class VendorUnavailable(GovchainError, ConnectionError):
    """The vendor cannot be reached, timed out, or answered 5xx / 429: try again later."""


@dataclass(frozen=True)
class FaceCallback:
    """A verified callback. ``webhook_id`` is the vendor's message id: the caller keeps the
    ids it has seen and ignores a repeat (this module does not remember anything)."""

    webhook_id: str
    session_id: str
    event_type: str
    timestamp: int  # unix seconds from the ``webhook-timestamp`` header


@dataclass(frozen=True)
class VendorSession:
    session_id: str
    session_token: str  # secret: needed to fetch the result; never logged or shown
    liveness_url: str  # where the citizen's phone runs the liveness check

    def __repr__(self) -> str:
        return f"VendorSession(session_id={self.session_id!r}, session_token='***', liveness_url={self.liveness_url!r})"


@dataclass(frozen=True)
class FaceResult:
    session_id: str
    request_id: str  # the vendor's id for this check
    passed: bool  # the vendor's own verdict
    score: float  # similarity, 0..1
    liveness: bool
    identity_match: bool  # the face matches the claimed identity's reference photo
    error_code: str | None
    raw: bytes  # the exact response body (store its SHA-256 as evidence)


@dataclass(frozen=True)
class FaceDecision:
    passed: bool
    reason: str  # one of REASONS


# --- secrets -------------------------------------------------------------------------------


def check_webhook_secret(secret: str) -> bytes:
    """The key bytes of a ``whsec_<base64>`` secret; :class:`ConfigError` if it is not one."""
    if not isinstance(secret, str) or not secret.startswith(SECRET_PREFIX):
        raise ConfigError("the webhook secret must be a string starting with 'whsec_'")
    encoded = secret[len(SECRET_PREFIX) :]
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError("the webhook secret is not 'whsec_' followed by base64") from None
    if len(key) < MIN_SECRET_BYTES:
        raise ConfigError(f"the webhook secret has {len(key)} bytes; at least {MIN_SECRET_BYTES} are needed")
    return key


def new_webhook_secret() -> str:
    """A fresh ``whsec_`` secret of 32 random bytes (for set-up, tests and the demo)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


# --- callbacks -----------------------------------------------------------------------------


def _webhook_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The three Standard Webhooks headers, case-folded; each must be present exactly once."""
    found: dict[str, str] = {}
    try:
        items = list(headers.items())
    except Exception:  # noqa: BLE001 - not a mapping at all
        raise CallbackRejected("the headers are not a mapping", "headers") from None
    for name, value in items:
        if not isinstance(name, str) or not isinstance(value, str):
            raise CallbackRejected("a header name or value is not text", "headers")
        key = name.strip().lower()
        if key in _HEADER_NAMES:
            if key in found:
                raise CallbackRejected(f"header {key} appears more than once", "headers")
            found[key] = value.strip()
    missing = [name for name in _HEADER_NAMES if not found.get(name)]
    if missing:
        raise CallbackRejected(f"missing header {', '.join(missing)}", "headers")
    if not _WEBHOOK_ID.fullmatch(found["webhook-id"]):
        raise CallbackRejected("webhook-id is malformed", "headers")
    if not _TIMESTAMP.fullmatch(found["webhook-timestamp"]):
        raise CallbackRejected("webhook-timestamp is not whole unix seconds", "headers")
    tokens = found["webhook-signature"].split(" ")
    if len(tokens) > _MAX_SIGNATURES:
        raise CallbackRejected("webhook-signature carries too many signatures", "headers")
    for token in tokens:
        match = _SIGNATURE.fullmatch(token)
        if match is None:
            raise CallbackRejected("webhook-signature is not a list of 'version,base64' signatures", "headers")
        try:
            base64.b64decode(match.group(2), validate=True)
        except (binascii.Error, ValueError):
            raise CallbackRejected("webhook-signature is not valid base64", "headers") from None
    return found


def verify_callback(secret: str, body: bytes, headers: Mapping[str, str], *, max_body: int = MAX_CALLBACK_BODY) -> FaceCallback:
    """Check a vendor callback and return what it names.

    Checks, in order: body size, UTF-8, the three ``webhook-*`` headers (present once,
    well formed), the HMAC signature and the timestamp (within 5 minutes either way, by
    standardwebhooks), then the payload's shape: a JSON object with a string ``type`` and
    ``session_id``. Raises :class:`CallbackRejected` on any failure, and
    :class:`~chain.errors.ConfigError` if ``secret`` itself is not a ``whsec_`` secret.

    The callback proves only that the vendor sent it; it carries no result. Fetch the
    result with :meth:`FaceVendorClient.fetch_result`, and drop repeated ``webhook_id``\\ s.
    """
    key = check_webhook_secret(secret)
    if not isinstance(body, bytes | bytearray | memoryview):
        raise CallbackRejected("the body is not bytes", "malformed")
    body = bytes(body)
    if len(body) > max_body:
        raise CallbackRejected(f"the body is too large: {len(body)} bytes, at most {max_body} are accepted", "too_large")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise CallbackRejected("the body is not UTF-8", "malformed") from None
    found = _webhook_headers(headers)
    try:
        Webhook(key).verify(text, found, json_parse=False)
    except WebhookVerificationError as exc:  # bad signature, or a timestamp off by more than 5 minutes
        code = "timestamp" if "timestamp" in str(exc) else "signature"
        raise CallbackRejected(f"signature check failed: {exc}", code) from None
    except Exception:  # noqa: BLE001 - standardwebhooks 1.1 also raises ValueError, binascii.Error... on odd input
        raise CallbackRejected("signature check failed: malformed signature headers", "headers") from None
    try:
        payload = json.loads(text)
    except (ValueError, RecursionError):
        raise CallbackRejected("the body is not JSON", "payload") from None
    if not isinstance(payload, dict):
        raise CallbackRejected("the payload is not a JSON object", "payload")
    event_type, session_id = payload.get("type"), payload.get("session_id")
    if not isinstance(event_type, str) or len(event_type) > _MAX_EVENT_TYPE or not _EVENT_TYPE.fullmatch(event_type):
        raise CallbackRejected("the payload has no valid 'type'", "payload")
    if not isinstance(session_id, str) or not _SESSION_ID.fullmatch(session_id):
        raise CallbackRejected("the payload has no valid 'session_id'", "payload")
    return FaceCallback(
        webhook_id=found["webhook-id"],
        session_id=session_id,
        event_type=event_type,
        timestamp=int(found["webhook-timestamp"]),
    )


# --- decision ------------------------------------------------------------------------------


def decide(result: FaceResult, *, threshold: float) -> FaceDecision:
    """The platform's verdict on a vendor result. Pure.

    Checked in this order, the first failure names the reason: the vendor's own verdict
    (an error code, or ``passed`` false) -> ``vendor_failed``; liveness ->
    ``liveness_failed``; identity match -> ``identity_mismatch``; ``score >= threshold``
    -> ``low_score``. The later checks hold even when the vendor says it passed.
    """
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0 <= threshold <= 1:
        raise ValueError(f"threshold must be in [0, 1], not {threshold!r}")
    if result.error_code is not None or result.passed is not True:
        return FaceDecision(False, "vendor_failed")
    if result.liveness is not True:
        return FaceDecision(False, "liveness_failed")
    if result.identity_match is not True:
        return FaceDecision(False, "identity_mismatch")
    if not result.score >= threshold:  # also false for NaN
        return FaceDecision(False, "low_score")
    return FaceDecision(True, "passed")


# --- the vendor's API ----------------------------------------------------------------------


class FaceVendorClient:
    """The vendor's REST API over httpx. Use as a context manager, or call :meth:`close`.

    4xx (except 408 and 429) and answers that are not the vendor's API raise
    :class:`VendorError`; transport errors, timeouts, 408, 429 and 5xx raise
    :class:`VendorUnavailable`.
    """

    def __init__(self, base_url: str, api_key: str, *, timeout: float = 10.0, transport: httpx.BaseTransport | None = None):
        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            raise ConfigError("the face vendor's base URL must be http(s)")
        if not api_key or not isinstance(api_key, str) or any(c.isspace() for c in api_key):
            raise ConfigError("the face vendor's API key is empty or contains whitespace")
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
            timeout=timeout,
            follow_redirects=False,
            transport=transport,
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def __repr__(self) -> str:
        return f"FaceVendorClient({str(self._http.base_url)!r})"

    def create_session(
        self,
        callback_url: str,
        reference: str,
        claimed_name: str,
        claimed_id_number: str,
        outcome: str | None = None,
        return_url: str | None = None,
    ) -> VendorSession:
        """Open a verification session. ``outcome`` (one of :data:`OUTCOMES`) is for the
        stand-in vendor only: it picks the simulated result; real vendors ignore it.
        ``return_url``: where the vendor's own liveness page sends the citizen back when done."""
        body: dict[str, Any] = {
            "callback_url": callback_url,
            "reference": reference,
            "claimed_name": claimed_name,
            "claimed_id_number": claimed_id_number,
        }
        if outcome is not None:
            if outcome not in OUTCOMES:
                raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}")
            body["outcome"] = outcome
        if return_url is not None:
            body["return_url"] = return_url
        status, raw = self._request("POST", "/v1/sessions", json=body)
        if status != 201:
            raise VendorError(f"the vendor answered {status} to a new session, not 201", status)
        data = _json_object(raw)
        session_id, token, url = data.get("session_id"), data.get("session_token"), data.get("liveness_url")
        if not isinstance(session_id, str) or not _SESSION_ID.fullmatch(session_id):
            raise VendorError("the vendor's new session has no valid session_id")
        if not isinstance(token, str) or not token or len(token) > 512:
            raise VendorError("the vendor's new session has no valid session_token")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise VendorError("the vendor's new session has no valid liveness_url")
        return VendorSession(session_id=session_id, session_token=token, liveness_url=url)

    def fetch_result(self, session_id: str, session_token: str) -> FaceResult:
        """Pull a completed session's result; ``raw`` holds the exact bytes received."""
        if not isinstance(session_id, str) or not _SESSION_ID.fullmatch(session_id):
            raise VendorError("the session id is malformed")
        status, raw = self._request("GET", f"/v1/sessions/{session_id}/result", headers={"X-Session-Token": session_token})
        if status != 200:
            raise VendorError(f"the vendor answered {status} to a result request, not 200", status)
        return _parse_result(raw, session_id)

    def _request(self, method: str, path: str, **kwargs) -> tuple[int, bytes]:
        try:
            with self._http.stream(method, path, **kwargs) as response:
                raw = bytearray()
                for chunk in response.iter_bytes():
                    raw += chunk
                    if len(raw) > MAX_RESULT_BODY:
                        raise VendorError(f"the vendor's answer exceeds {MAX_RESULT_BODY} bytes", response.status_code)
                status = response.status_code
        except httpx.TransportError as exc:  # connect, read, write, pool, timeouts, protocol
            raise VendorUnavailable(f"the face vendor cannot be reached: {type(exc).__name__}") from None
        if status >= 500 or status in (408, 429):
            raise VendorUnavailable(f"the face vendor answered {status}; try again later")
        if status >= 400:
            raise VendorError(f"the face vendor refused the request ({status}): {_detail(bytes(raw))}", status)
        if status >= 300:
            raise VendorError(f"the face vendor answered an unexpected redirect ({status})", status)
        return status, bytes(raw)


def _json_object(raw: bytes) -> dict:
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise VendorError("the vendor's answer is not JSON") from None
    if not isinstance(data, dict):
        raise VendorError("the vendor's answer is not a JSON object")
    return data


def _detail(raw: bytes) -> str:
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return "no details"
    detail = data.get("detail") if isinstance(data, dict) else None
    return detail[:200] if isinstance(detail, str) else "no details"


def _parse_result(raw: bytes, session_id: str) -> FaceResult:
    data = _json_object(raw)

    def flag(name: str) -> bool:
        value = data.get(name)
        if not isinstance(value, bool):
            raise VendorError(f"the vendor's result has no boolean {name!r}")
        return value

    if data.get("session_id") != session_id:
        raise VendorError("the vendor's result is for another session")
    request_id = data.get("request_id")
    if not isinstance(request_id, str) or not request_id or len(request_id) > 128:
        raise VendorError("the vendor's result has no valid request_id")
    score = data.get("score")
    if isinstance(score, bool) or not isinstance(score, int | float) or not math.isfinite(score) or not 0 <= score <= 1:
        raise VendorError("the vendor's result has no score in [0, 1]")
    error_code = data.get("error_code")
    if error_code is not None and (not isinstance(error_code, str) or not error_code or len(error_code) > 64):
        raise VendorError("the vendor's result has a malformed error_code")
    return FaceResult(
        session_id=session_id,
        request_id=request_id,
        passed=flag("passed"),
        score=float(score),
        liveness=flag("liveness"),
        identity_match=flag("identity_match"),
        error_code=error_code,
        raw=raw,
    )
