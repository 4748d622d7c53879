"""Face verification: the vendor stand-in over real HTTP (its own process), callbacks
verified by the platform, results pulled back and decided on; every bad callback is
rejected with one exception class."""

from __future__ import annotations

import base64
import hashlib
import json
import math
import secrets
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import uvicorn
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from standardwebhooks import Webhook

from api.dev.face_vendor import create_vendor_app
from chain.config import PROJECT_ROOT
from chain.errors import ConfigError, GovchainError
from chain.node import free_port
from identity.face import (
    EVENT_COMPLETED,
    REASONS,
    REJECTION_CODES,
    CallbackRejected,
    FaceCallback,
    FaceDecision,
    FaceResult,
    FaceVendorClient,
    VendorError,
    VendorUnavailable,
    check_webhook_secret,
    decide,
    new_webhook_secret,
    verify_callback,
)
from tests.face.conftest import CLAIMED_ID, CLAIMED_NAME, Recorder, vendor_env

THRESHOLD = 0.8
SECRET = new_webhook_secret()
OTHER_SECRET = new_webhook_secret()
NAMES = ("webhook-id", "webhook-timestamp", "webhook-signature")


def open_session(client, receiver, outcome=None):
    return client.create_session(f"{receiver.url}/face/callback", "APP-2026-000123", CLAIMED_NAME, CLAIMED_ID, outcome)


def complete(vendor, session_id) -> httpx.Response:
    return httpx.post(f"{vendor.url}/v1/sessions/{session_id}/complete", headers={"Authorization": f"Bearer {vendor.api_key}"})


def last_callback(vendor, session_id) -> dict:
    auth = {"Authorization": f"Bearer {vendor.api_key}"}
    answer = httpx.get(f"{vendor.url}/v1/sessions/{session_id}/last-callback", headers=auth)
    assert answer.status_code == 200, answer.text
    return answer.json()


def signed(body: str | bytes = b'{"type":"verification.completed","session_id":"ses_abc"}', *, secret=SECRET,
           msg_id="msg_test1", at: datetime | None = None) -> tuple[bytes, dict[str, str]]:  # fmt: skip
    """A callback as the vendor signs it (optionally at another time or with another key)."""
    at = (at or datetime.now(UTC)).replace(microsecond=0)
    text = body.decode() if isinstance(body, bytes) else body
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, at, text),
    }
    return text.encode(), headers


def rejected(body, headers, **kwargs) -> CallbackRejected:
    with pytest.raises(CallbackRejected) as caught:
        verify_callback(SECRET, body, headers, **kwargs)
    return caught.value


# --- end to end over real HTTP ---------------------------------------------------------------

EXPECTED = {
    "pass": (True, "passed", 0.97, None),
    "fail": (False, "vendor_failed", 0.0, "FACE_NOT_DETECTED"),
    "low_score": (False, "low_score", 0.41, None),
    # the vendor's own verdict is checked first, so its liveness error reads as vendor_failed
    "liveness_failure": (False, "vendor_failed", 0.97, "LIVENESS_FAILED"),
    "identity_mismatch": (False, "identity_mismatch", 0.12, None),
}


@pytest.mark.parametrize("outcome", list(EXPECTED))
def test_each_outcome_end_to_end(vendor, client, receiver, outcome):
    session = open_session(client, receiver, outcome)
    assert session.session_id.startswith("ses_") and session.liveness_url.startswith(vendor.url)
    assert session.session_token not in repr(session)

    answer = complete(vendor, session.session_id)
    assert answer.status_code == 202, answer.text
    assert answer.json() == {"delivered": True, "status_code": 204}

    [got] = receiver.received
    assert got.method == "POST" and got.path == "/face/callback"
    assert json.loads(got.body) == {"type": EVENT_COMPLETED, "session_id": session.session_id}  # no result data
    callback = verify_callback(vendor.secret, got.body, got.headers)
    assert callback == FaceCallback(got.headers["webhook-id"], session.session_id, EVENT_COMPLETED, callback.timestamp)
    assert callback.webhook_id.startswith("msg_") and abs(callback.timestamp - time.time()) < 60

    result = client.fetch_result(callback.session_id, session.session_token)
    passed, reason, score, error_code = EXPECTED[outcome]
    assert (result.session_id, result.score, result.error_code) == (session.session_id, score, error_code)
    assert result.request_id.startswith("req_")
    assert json.loads(result.raw) == {
        "session_id": session.session_id, "request_id": result.request_id, "passed": result.passed, "score": result.score,
        "liveness": result.liveness, "identity_match": result.identity_match, "error_code": result.error_code,
    }  # fmt: skip
    assert len(hashlib.sha256(result.raw).hexdigest()) == 64
    assert decide(result, threshold=THRESHOLD) == FaceDecision(passed, reason)


def test_platform_pulls_the_result_while_handling_the_callback(vendor, client, receiver):
    """The callback is only a trigger: the handler verifies it and pulls the result at once
    (the vendor has it ready before it calls back)."""
    tokens, decisions = {}, []

    def platform_endpoint(got):
        callback = verify_callback(vendor.secret, got.body, got.headers)
        result = client.fetch_result(callback.session_id, tokens[callback.session_id])
        decisions.append(decide(result, threshold=THRESHOLD))

    receiver.hook = platform_endpoint
    session = open_session(client, receiver)
    tokens[session.session_id] = session.session_token
    assert complete(vendor, session.session_id).json() == {"delivered": True, "status_code": 204}
    assert decisions == [FaceDecision(True, "passed")]


def test_replayed_callback_verifies_with_the_same_id_and_tampering_is_caught(vendor, client, receiver):
    """Replay: ``GET /v1/sessions/{id}/last-callback`` returns the exact body and headers
    sent. A replay verifies (within 5 minutes) with the same webhook_id, which is what the
    caller deduplicates on; any change to it is rejected."""
    session = open_session(client, receiver)
    complete(vendor, session.session_id)
    [got] = receiver.received
    sent = last_callback(vendor, session.session_id)
    assert sent["url"] == f"{receiver.url}/face/callback"
    assert sent["body"].encode() == got.body
    assert all(got.headers[name] == sent["headers"][name] for name in NAMES)

    httpx.post(sent["url"], content=sent["body"].encode(), headers=sent["headers"])  # replay it over HTTP
    first, again = (verify_callback(vendor.secret, item.body, item.headers) for item in receiver.received)
    assert first == again  # same webhook_id: the caller drops the second

    tampered = sent["body"].replace(session.session_id, "ses_" + "A" * 22).encode()
    assert "signature" in str(_reject(vendor, tampered, sent["headers"]))
    other = dict(sent["headers"], **{"webhook-id": "msg_other"})
    _reject(vendor, sent["body"].encode(), other)
    later = dict(sent["headers"], **{"webhook-timestamp": str(int(sent["headers"]["webhook-timestamp"]) + 1)})
    _reject(vendor, sent["body"].encode(), later)

    session2 = open_session(client, receiver)
    complete(vendor, session2.session_id)
    assert last_callback(vendor, session2.session_id)["headers"]["webhook-id"] != first.webhook_id


def _reject(vendor, body, headers) -> CallbackRejected:
    with pytest.raises(CallbackRejected) as caught:
        verify_callback(vendor.secret, body, headers)
    return caught.value


def test_fetch_result_refusals(vendor, client, receiver):
    session = open_session(client, receiver, "pass")
    with pytest.raises(VendorError) as early:
        client.fetch_result(session.session_id, session.session_token)
    assert early.value.status_code == 409

    complete(vendor, session.session_id)
    with pytest.raises(VendorError) as wrong:
        client.fetch_result(session.session_id, secrets.token_urlsafe(32))
    assert wrong.value.status_code == 403 and isinstance(wrong.value, ValueError)
    other = open_session(client, receiver)
    with pytest.raises(VendorError) as crossed:  # another session's token is as wrong as any
        client.fetch_result(session.session_id, other.session_token)
    assert crossed.value.status_code == 403

    with pytest.raises(VendorError) as unknown:
        client.fetch_result("ses_" + "x" * 22, session.session_token)
    assert unknown.value.status_code == 404
    with pytest.raises(VendorError):  # never reaches the vendor: no path games
        client.fetch_result("../../v1/sessions", session.session_token)

    assert client.fetch_result(session.session_id, session.session_token).passed is True


def test_vendor_answers_problem_details(vendor, client, receiver):
    auth = {"Authorization": f"Bearer {vendor.api_key}"}
    session = open_session(client, receiver)
    assert complete(vendor, session.session_id).status_code == 202
    again = complete(vendor, session.session_id)
    assert again.status_code == 409 and again.headers["content-type"] == "application/problem+json"
    assert again.json()["type"].endswith("/conflict") and again.json()["status"] == 409
    assert complete(vendor, "ses_" + "y" * 22).status_code == 404

    no_token = httpx.get(f"{vendor.url}/v1/sessions/{session.session_id}/result", headers=auth)
    assert no_token.status_code == 403 and no_token.json()["title"]
    assert httpx.get(f"{vendor.url}/v1/sessions/ses_nope/last-callback", headers=auth).status_code == 404

    body = {"callback_url": f"{receiver.url}/cb", "reference": "R1", "claimed_name": CLAIMED_NAME,
            "claimed_id_number": CLAIMED_ID, "outcome": "maybe"}  # fmt: skip
    invalid = httpx.post(f"{vendor.url}/v1/sessions", json=body, headers=auth)
    assert invalid.status_code == 422 and invalid.json()["detail"].startswith("body.outcome")
    assert CLAIMED_NAME not in invalid.text and CLAIMED_ID not in invalid.text  # inputs are never echoed
    for wrong in ({"photo": "x"}, {"callback_url": "ftp://x"}, {"claimed_id_number": ""}, {"reference": None}):
        answer = httpx.post(f"{vendor.url}/v1/sessions", json={**body, "outcome": "pass", **wrong}, headers=auth)
        assert answer.status_code == 422, wrong  # no images or other extras accepted, nothing empty
    assert httpx.post(f"{vendor.url}/v1/sessions", content=b"{", headers=auth).status_code == 422

    huge = httpx.post(f"{vendor.url}/v1/sessions", json={**body, "reference": "r" * 17_000}, headers=auth)
    assert huge.status_code == 413 and huge.json()["type"].endswith("/too-large")

    def chunks():  # no Content-Length: the cap still holds
        for _ in range(20):
            yield b"x" * 1024

    assert httpx.post(f"{vendor.url}/v1/sessions", content=chunks(), headers=auth).status_code == 413
    page = httpx.get(session.liveness_url)
    assert page.status_code == 200 and "no camera" in page.text


def test_vendor_requires_its_api_key(vendor, receiver):
    base = vendor.url
    for headers in ({}, {"Authorization": "Bearer wrong-key-wrong-key"}, {"Authorization": vendor.api_key},
                    {"Authorization": f"Basic {vendor.api_key}"}):  # fmt: skip
        answer = httpx.post(f"{base}/v1/sessions", json={}, headers=headers)
        assert answer.status_code == 401, headers
        assert answer.json()["type"].endswith("/unauthorized") and answer.headers["www-authenticate"] == "Bearer"
        assert httpx.get(f"{base}/v1/sessions/ses_x/result", headers=headers).status_code == 401
        assert httpx.post(f"{base}/v1/sessions/ses_x/complete", headers=headers).status_code == 401
    # no body parsing before the key: garbage and oversized bodies get 401 as well
    assert httpx.post(f"{base}/v1/sessions", content=b"{" * 20_000).status_code == 401
    assert httpx.get(f"{base}/v1/health").status_code == 200

    with FaceVendorClient(base, "not-the-right-key-at-all") as wrong, pytest.raises(VendorError) as caught:
        wrong.create_session(f"{receiver.url}/cb", "R1", CLAIMED_NAME, CLAIMED_ID)
    assert caught.value.status_code == 401


def test_callback_delivery_failures_are_reported_not_raised(vendor, client):
    failing = Recorder(status=500)
    try:
        session = open_session(client, failing)
        assert complete(vendor, session.session_id).json() == {"delivered": False, "status_code": 500}
        assert len(failing.received) == 1
    finally:
        failing.close()
    nobody = client.create_session(f"http://127.0.0.1:{free_port()}/cb", "R2", CLAIMED_NAME, CLAIMED_ID)
    answer = complete(vendor, nobody.session_id)
    assert answer.status_code == 202 and answer.json() == {"delivered": False, "status_code": None}
    # the result is there all the same; the platform can poll for it
    assert client.fetch_result(nobody.session_id, nobody.session_token).passed is True


def test_vendor_down_is_vendor_unavailable(receiver):
    with FaceVendorClient(f"http://127.0.0.1:{free_port()}", "some-api-key-1234", timeout=2) as down:
        with pytest.raises(VendorUnavailable) as caught:
            down.create_session(f"{receiver.url}/cb", "R1", CLAIMED_NAME, CLAIMED_ID)
        assert isinstance(caught.value, ConnectionError) and isinstance(caught.value, GovchainError)
        with pytest.raises(VendorUnavailable):
            down.fetch_result("ses_" + "a" * 22, "token")


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_vendor_5xx_is_vendor_unavailable(stub, status):
    stub.status, stub.body = status, b'{"detail": "down for maintenance"}'
    with FaceVendorClient(stub.url, "some-api-key-1234") as vendor, pytest.raises(VendorUnavailable):
        vendor.fetch_result("ses_" + "a" * 22, "token")
    assert stub.received[0].headers["X-Session-Token"] == "token"
    assert stub.received[0].headers["Authorization"] == "Bearer some-api-key-1234"


GOOD = {"session_id": "ses_" + "a" * 22, "request_id": "req_1", "passed": True, "score": 0.9, "liveness": True,
        "identity_match": True, "error_code": None}  # fmt: skip


@pytest.mark.parametrize(
    "answer",
    [
        b"not json", b"[1, 2]", json.dumps({**GOOD, "session_id": "ses_" + "b" * 22}).encode(),
        json.dumps({**GOOD, "score": 1.5}).encode(), json.dumps({**GOOD, "score": True}).encode(),
        json.dumps({**GOOD, "score": "0.9"}).encode(), json.dumps({**GOOD, "passed": "yes"}).encode(),
        json.dumps({**GOOD, "liveness": 1}).encode(), json.dumps({**GOOD, "error_code": 7}).encode(),
        json.dumps({k: v for k, v in GOOD.items() if k != "identity_match"}).encode(),
        json.dumps({**GOOD, "request_id": ""}).encode(), json.dumps(GOOD).replace("0.9", "NaN").encode(),
        json.dumps({**GOOD, "pad": "x" * 70_000}).encode(),
    ],
)  # fmt: skip
def test_malformed_vendor_results_are_vendor_errors(stub, answer):
    stub.body = answer
    with FaceVendorClient(stub.url, "some-api-key-1234") as vendor:
        with pytest.raises(VendorError):
            vendor.fetch_result(GOOD["session_id"], "token")
        stub.body = json.dumps(GOOD).encode()
        assert vendor.fetch_result(GOOD["session_id"], "token").raw == stub.body


def test_vendor_never_logs_or_returns_the_claimed_identity(vendor, client, receiver):
    session = open_session(client, receiver, "identity_mismatch")
    complete(vendor, session.session_id)
    result = client.fetch_result(session.session_id, session.session_token)
    sent = last_callback(vendor, session.session_id)
    log = vendor.log.read_text(encoding="utf-8", errors="replace")
    assert "POST /v1/sessions" in log  # the log is being written...
    for text in (log, result.raw.decode(), json.dumps(sent, ensure_ascii=False), receiver.received[0].body.decode()):
        assert CLAIMED_NAME not in text and CLAIMED_ID not in text  # ...but never with the identity


def test_in_process_vendor_clock_makes_stale_callbacks(receiver):
    """``create_vendor_app(..., clock=...)``: a vendor whose clock is 10 minutes behind sends
    callbacks the platform rejects as stale."""
    api_key = secrets.token_urlsafe(24)
    app = create_vendor_app(SECRET, api_key, clock=lambda: datetime.now(UTC) - timedelta(minutes=10))
    with serve(app) as url, FaceVendorClient(url, api_key) as client:
        session = open_session(client, receiver)
        answer = httpx.post(f"{url}/v1/sessions/{session.session_id}/complete", headers={"Authorization": f"Bearer {api_key}"})
        assert answer.json() == {"delivered": True, "status_code": 204}
        assert client.fetch_result(session.session_id, session.session_token).passed is True
    [got] = receiver.received
    assert rejected(got.body, got.headers).code == "timestamp"


@contextmanager
def serve(app):
    """Serve an ASGI app with uvicorn on a free loopback port, in a thread."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the in-process vendor did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.mark.parametrize(
    ("secret", "api_key"),
    [("", "k" * 20), ("abc", "k" * 20), ("whsec_", "k" * 20), ("whsec_" + base64.b64encode(b"short").decode(), "k" * 20),
     ("whsec_not base64!", "k" * 20), (SECRET, ""), (SECRET, "short"), (SECRET, "has spaces in the key")],
    ids=["no-secret", "no-prefix", "empty-secret", "short-secret", "not-base64", "no-key", "short-key", "key-with-spaces"],  # SECRET is random: stable ids for xdist
)  # fmt: skip
def test_vendor_app_refuses_bad_secrets(secret, api_key):
    with pytest.raises(ConfigError):
        create_vendor_app(secret, api_key)


@pytest.mark.parametrize(
    "env",
    [{}, {"FACE_VENDOR_API_KEY": "k" * 20}, {"FACE_VENDOR_WEBHOOK_SECRET": SECRET},
     {"FACE_VENDOR_WEBHOOK_SECRET": "", "FACE_VENDOR_API_KEY": "k" * 20},
     {"FACE_VENDOR_WEBHOOK_SECRET": "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0", "FACE_VENDOR_API_KEY": "k" * 20},
     {"FACE_VENDOR_WEBHOOK_SECRET": "whsec_c2hvcnQ=", "FACE_VENDOR_API_KEY": "k" * 20}],
)  # fmt: skip
@pytest.mark.proc
def test_vendor_process_refuses_to_start_without_secrets(env):
    done = subprocess.run(
        [sys.executable, "-m", "api.dev.face_vendor", "--host", "127.0.0.1", "--port", str(free_port())],
        cwd=PROJECT_ROOT, env=vendor_env(**env), capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "usage: python -m api.dev.face_vendor" in done.stderr and "refusing to start" in done.stderr
    assert "FACE_VENDOR_WEBHOOK_SECRET" in done.stderr and "FACE_VENDOR_API_KEY" in done.stderr


# --- verify_callback, offline -----------------------------------------------------------------


def test_a_well_formed_callback_verifies():
    body, headers = signed()
    callback = verify_callback(SECRET, body, headers)
    assert callback == FaceCallback("msg_test1", "ses_abc", EVENT_COMPLETED, int(headers["webhook-timestamp"]))
    # header names are case-insensitive; several signatures (key rotation) are fine if one matches
    loud = {name.title(): value for name, value in headers.items()}
    assert verify_callback(SECRET, body, loud) == callback
    _, other = signed(secret=OTHER_SECRET)
    rotated = dict(headers, **{"webhook-signature": f"{other['webhook-signature']} {headers['webhook-signature']}"})
    assert verify_callback(SECRET, bytearray(body), rotated) == callback
    # within the 5-minute tolerance either way
    assert verify_callback(SECRET, *signed(at=datetime.now(UTC) - timedelta(minutes=4))).session_id == "ses_abc"
    assert verify_callback(SECRET, *signed(at=datetime.now(UTC) + timedelta(minutes=4))).session_id == "ses_abc"


def _body(payload) -> str:
    return json.dumps(payload, separators=(",", ":"))


def _drop(name):
    body, headers = signed()
    return body, {k: v for k, v in headers.items() if k != name}


def _set(name, value):
    body, headers = signed()
    return body, dict(headers, **{name: value})


def _unsigned(body: bytes):
    _, headers = signed()
    return body, headers


BAD_CALLBACKS = {
    "forged signature (other secret)": lambda: signed(secret=OTHER_SECRET),
    "tampered body": lambda: (signed()[0].replace(b"ses_abc", b"ses_abd"), signed()[1]),
    "tampered id": lambda: _set("webhook-id", "msg_test2"),
    "stale timestamp": lambda: signed(at=datetime.now(UTC) - timedelta(minutes=5, seconds=30)),
    "future timestamp": lambda: signed(at=datetime.now(UTC) + timedelta(minutes=5, seconds=30)),
    "missing webhook-id": lambda: _drop("webhook-id"),
    "missing webhook-timestamp": lambda: _drop("webhook-timestamp"),
    "missing webhook-signature": lambda: _drop("webhook-signature"),
    "empty webhook-id": lambda: _set("webhook-id", ""),
    "empty signature": lambda: _set("webhook-signature", ""),
    "signature without comma": lambda: _set("webhook-signature", "v1" + signed()[1]["webhook-signature"][3:]),
    "signature with two commas": lambda: _set("webhook-signature", signed()[1]["webhook-signature"] + ",x"),
    "non-base64 signature": lambda: _set("webhook-signature", "v1,@@not*base64@@"),
    "badly padded signature": lambda: _set("webhook-signature", "v1,abcde"),
    "non-ASCII signature": lambda: _set("webhook-signature", "v1,签名"),
    "only another scheme": lambda: _set("webhook-signature", "v1a," + signed()[1]["webhook-signature"][3:]),
    "double space between signatures": lambda: _set("webhook-signature", "v1,AAAA  " + signed()[1]["webhook-signature"]),
    "non-numeric timestamp": lambda: _set("webhook-timestamp", "yesterday"),
    "fractional timestamp": lambda: _set("webhook-timestamp", signed()[1]["webhook-timestamp"] + ".5"),
    "non-ASCII digits timestamp": lambda: _set("webhook-timestamp", "١٧٠٠٠٠٠٠٠٠"),
    "infinite timestamp": lambda: _set("webhook-timestamp", "inf"),
    "id with spaces": lambda: _set("webhook-id", "msg 1"),
    "non-UTF-8 body": lambda: _unsigned(b'{"type":"verification.completed","session_id":"\xff\xfe"}'),
    "oversized body": lambda: signed(_body({"type": EVENT_COMPLETED, "session_id": "ses_abc", "pad": "x" * 65_536})),
    "non-JSON body": lambda: signed("session ses_abc is done"),
    "JSON array": lambda: signed(_body(["verification.completed", "ses_abc"])),
    "JSON without session_id": lambda: signed(_body({"type": EVENT_COMPLETED})),
    "JSON without type": lambda: signed(_body({"session_id": "ses_abc"})),
    "session_id not a string": lambda: signed(_body({"type": EVENT_COMPLETED, "session_id": 42})),
    "session_id with a path": lambda: signed(_body({"type": EVENT_COMPLETED, "session_id": "../../admin"})),
    "deeply nested JSON": lambda: signed("[" * 50_000 + "]" * 50_000),
}


@pytest.mark.parametrize("case", list(BAD_CALLBACKS))
def test_bad_callbacks_are_rejected(case):
    body, headers = BAD_CALLBACKS[case]()
    error = rejected(body, headers)
    assert isinstance(error, PermissionError) and isinstance(error, GovchainError) and str(error)


@pytest.mark.parametrize(
    ("case", "code", "words"),
    [
        ("oversized body", "too_large", "too large"),
        ("non-UTF-8 body", "malformed", "UTF-8"),
        ("missing webhook-id", "headers", "webhook-id"),
        ("signature without comma", "headers", "webhook-signature"),
        ("non-numeric timestamp", "headers", "webhook-timestamp"),
        ("forged signature (other secret)", "signature", "No matching signature"),
        ("tampered body", "signature", "No matching signature"),
        ("stale timestamp", "timestamp", "too old"),
        ("future timestamp", "timestamp", "too new"),
        ("non-JSON body", "payload", "JSON"),
        ("JSON without session_id", "payload", "session_id"),
    ],
)
def test_rejections_name_their_reason(case, code, words):
    error = rejected(*BAD_CALLBACKS[case]())
    assert error.code == code and error.code in REJECTION_CODES
    assert words in str(error)


def test_body_limit_and_duplicate_headers():
    body, headers = signed()
    assert verify_callback(SECRET, body, headers, max_body=len(body)).session_id == "ses_abc"
    rejected(body, headers, max_body=len(body) - 1)
    twice = {**headers, "Webhook-Signature": headers["webhook-signature"]}
    assert "more than once" in str(rejected(body, twice))
    rejected(body, {**headers, "webhook-id": b"msg_test1"})  # not text
    rejected(body, None)
    rejected("a str body", headers)


def test_a_malformed_secret_is_a_config_error_not_a_rejection():
    body, headers = signed()
    for secret in ("", "whsec_", "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0", "whsec_!!!!", "whsec_c2hvcnQ="):
        with pytest.raises(ConfigError):
            verify_callback(secret, body, headers)
    assert len(check_webhook_secret(new_webhook_secret())) == 32


header_text = st.one_of(
    st.text(st.characters(codec=None, exclude_categories=()), max_size=40),  # any code point, surrogates too
    st.from_regex(r"v1,[A-Za-z0-9+/=]{0,60}", fullmatch=True),
    st.from_regex(r"[ -~]{0,40}", fullmatch=True),
    st.builds(lambda delta: str(int(time.time()) + delta), st.integers(-1000, 1000)),
)
header_name = st.one_of(st.sampled_from(NAMES + ("Webhook-Id", "WEBHOOK-SIGNATURE", " webhook-timestamp")), st.text(max_size=20))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(headers=st.dictionaries(header_name, header_text, max_size=6), body=st.binary(max_size=300))
@example(headers={"webhook-id": "", "webhook-timestamp": "", "webhook-signature": ""}, body=b"")
@example(headers={"webhook-id": "msg_1", "webhook-timestamp": "", "webhook-signature": ""}, body=b"{}")
@example(headers={"webhook-id": " ", "webhook-timestamp": " ", "webhook-signature": " "}, body=b" ")
@example(headers={"webhook-id": "msg_1", "webhook-timestamp": str(int(time.time())), "webhook-signature": "v1,"}, body=b"{}")
@example(headers={"webhook-id": "msg_1", "webhook-timestamp": str(int(time.time())), "webhook-signature": "v1"}, body=b"{}")
@example(headers={"webhook-id": "msg_1", "webhook-timestamp": "0", "webhook-signature": "v1,AAAA"}, body=b"")
@example(headers={}, body=b"")
def test_random_header_garbage_only_ever_raises_callback_rejected(headers, body):
    with pytest.raises(CallbackRejected):
        verify_callback(SECRET, body, headers)


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(NAMES), value=header_text)
@example(name="webhook-id", value="")
@example(name="webhook-timestamp", value="")
@example(name="webhook-signature", value="")
def test_a_signed_callback_with_one_header_replaced_is_rejected(name, value):
    body, headers = signed()
    if headers[name] == value.strip():
        return
    with pytest.raises(CallbackRejected):
        verify_callback(SECRET, body, dict(headers, **{name: value}))


# --- decide, pure -----------------------------------------------------------------------------

PASSING = FaceResult("ses_1", "req_1", passed=True, score=0.97, liveness=True, identity_match=True, error_code=None, raw=b"{}")


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({}, "passed"),
        ({"score": THRESHOLD}, "passed"),  # the threshold itself passes
        ({"passed": False}, "vendor_failed"),
        ({"error_code": "SOMETHING"}, "vendor_failed"),  # an error code fails even with passed true
        ({"passed": False, "liveness": False, "identity_match": False, "score": 0.0}, "vendor_failed"),  # first check wins
        ({"liveness": False}, "liveness_failed"),  # the vendor said passed; the platform still checks
        ({"liveness": False, "identity_match": False, "score": 0.1}, "liveness_failed"),
        ({"identity_match": False}, "identity_mismatch"),
        ({"identity_match": False, "score": 0.1}, "identity_mismatch"),
        ({"score": 0.7999}, "low_score"),
        ({"score": math.nan}, "low_score"),
    ],
)
def test_decide_checks_in_order(changes, reason):
    decision = decide(replace(PASSING, **changes), threshold=THRESHOLD)
    assert decision == FaceDecision(reason == "passed", reason)


@pytest.mark.parametrize("threshold", [-0.1, 1.01, math.nan, math.inf, True, "0.8", None])
def test_decide_refuses_a_nonsense_threshold(threshold):
    with pytest.raises(ValueError):
        decide(PASSING, threshold=threshold)


def test_decide_threshold_bounds():
    assert decide(replace(PASSING, score=0.0), threshold=0).reason == "passed"  # 0: the score is not used
    assert decide(replace(PASSING, score=1.0), threshold=1).reason == "passed"
    assert decide(replace(PASSING, score=0.99), threshold=1).reason == "low_score"


@settings(max_examples=300, deadline=None)
@given(passed=st.booleans(), score=st.floats(0, 1), liveness=st.booleans(), identity_match=st.booleans(),
       error_code=st.none() | st.text(min_size=1, max_size=8), threshold=st.floats(0, 1))  # fmt: skip
def test_decide_passes_only_when_everything_holds(passed, score, liveness, identity_match, error_code, threshold):
    result = FaceResult("s", "r", passed, score, liveness, identity_match, error_code, b"")
    decision = decide(result, threshold=threshold)
    assert decision.reason in REASONS
    assert decision.passed == (passed and error_code is None and liveness and identity_match and score >= threshold)
    assert decision.passed == (decision.reason == "passed")
