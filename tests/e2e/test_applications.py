"""Applications over real HTTP: the state machine, who may see what, and every bad
face-verification callback refused with 4xx and no state change."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from eth_account import Account

from identity.dev_citizens import demo_citizen
from tests.support.flows import apply_and_verify_face

CALLBACK = "/v1/callbacks/face-verification"


def new_application(stack, applicant, code="teacher-qualification-kindergarten"):
    me = stack.sign_in(applicant)
    response = stack.http.post("/v1/applications", json={"code": code}, headers=me)
    assert response.status_code == 201, response.text
    return me, response.json()


def state_of(stack, me, application_id) -> str:
    return stack.http.get(f"/v1/applications/{application_id}", headers=me).json()["state"]


def test_unknown_code_and_unauthenticated_create_are_refused(stack, applicant):
    me = stack.sign_in(applicant)
    unknown = stack.http.post("/v1/applications", json={"code": "no-such-matter"}, headers=me)
    assert unknown.status_code == 404 and "teacher-qualification-primary" in unknown.json()["detail"]
    assert stack.http.post("/v1/applications", json={"code": "teacher-qualification-primary"}).status_code == 401


def test_catalog_scene_bundles_its_matters(stack, applicant):
    me = stack.sign_in(applicant)
    response = stack.http.post("/v1/applications", json={"code": "film-shooting"}, headers=me)
    assert response.status_code == 201, response.text
    assert [m["code"] for m in response.json()["matters"]] == ["film-location-permit", "film-road-occupation", "film-drone-registration"]


def test_illegal_transitions_are_409(stack, applicant, parties):
    me, application = new_application(stack, applicant)
    assert application["state"] == "draft" and application["next_states"] == ["face_verified"]
    terms = stack.http.get(f"/v1/applications/{application['id']}/consent-terms", headers=me)
    assert terms.status_code == 409 and "draft" in terms.json()["detail"]
    agency = stack.sign_in(parties.agency)
    pulls = stack.http.post(f"/v1/applications/{application['id']}/pulls", headers=agency)
    assert pulls.status_code == 409
    me, verified = apply_and_verify_face(stack, Account.create(), demo_citizen(2))
    again = stack.http.post(f"/v1/applications/{verified['id']}/face-verification", json={"name": "x", "id_number": demo_citizen(2)["id_number"]}, headers=me)
    assert again.status_code == 409 and "face_verified" in again.json()["detail"]


def test_who_may_see_an_application(stack, applicant, parties):
    me, application = new_application(stack, applicant)
    path = f"/v1/applications/{application['id']}"
    assert stack.http.get(path, headers=stack.sign_in(parties.agency)).status_code == 200  # the handling agency
    assert stack.http.get(path, headers=stack.sign_in(parties.auditor)).status_code == 200
    assert stack.http.get(path, headers=stack.sign_in(Account.create())).status_code == 403  # another applicant
    assert stack.http.get(path, headers=stack.sign_in(parties.holder_psb)).status_code == 403
    assert stack.http.get("/v1/applications/app_nope", headers=me).status_code == 404
    start = stack.http.post(f"{path}/face-verification", json={"name": "x", "id_number": demo_citizen(3)["id_number"]}, headers=stack.sign_in(parties.agency))
    assert start.status_code == 403  # only the applicant starts a face check


def test_bad_id_numbers_are_400_and_nothing_is_stored(stack, applicant):
    me, application = new_application(stack, applicant)
    path = f"/v1/applications/{application['id']}/face-verification"
    wrong_check = demo_citizen(4)["id_number"][:17] + ("0" if demo_citizen(4)["id_number"][17] != "0" else "1")
    for id_number, status in [(wrong_check, 400), ("99010119900101001", 422), ("ABCDEFGHIJKLMNOPQR", 400)]:
        response = stack.http.post(path, json={"name": "测试用户0004", "id_number": id_number}, headers=me)
        assert response.status_code == status, response.text
    assert state_of(stack, me, application["id"]) == "draft"


@pytest.mark.parametrize("outcome, reason", [("fail", "vendor_failed"), ("low_score", "low_score"), ("identity_mismatch", "identity_mismatch"), ("liveness_failure", "vendor_failed")])
def test_failed_face_checks_keep_the_application_in_draft(stack, outcome, reason):
    me, application = apply_and_verify_face(stack, Account.create(), demo_citizen(5), outcome=outcome)
    assert application["state"] == "draft" and application["face_decision"] == reason and application["face_check_ref"] is None


@pytest.fixture
def delivered(stack):
    """A face session completed at the vendor whose callback reached the platform once."""
    citizen = demo_citizen(6)
    applicant = Account.create()
    me, application = new_application(stack, applicant)
    started = stack.http.post(f"/v1/applications/{application['id']}/face-verification",
                              json={"name": citizen["name"], "id_number": citizen["id_number"], "outcome": "pass"}, headers=me).json()  # fmt: skip
    return me, application, started["session_id"]


def last_callback(stack, session_id):
    response = stack.vendor("GET", f"/v1/sessions/{session_id}/last-callback")
    assert response.status_code == 200, response.text
    return response.json()


def post_callback(stack, body, headers):
    return httpx.post(stack.api.url + CALLBACK, content=body, headers=headers, timeout=30)


def test_replayed_callback_is_refused(stack, delivered):
    me, application, session_id = delivered
    assert stack.vendor("POST", f"/v1/sessions/{session_id}/complete").json()["delivered"]
    assert state_of(stack, me, application["id"]) == "face_verified"
    sent = last_callback(stack, session_id)
    replay = post_callback(stack, sent["body"], sent["headers"])
    assert replay.status_code == 409 and "already received" in replay.json()["detail"]


def _signed(stack, body: bytes, *, msg_id="msg_test", timestamp=None):
    from standardwebhooks import Webhook
    from datetime import UTC, datetime

    moment = datetime.fromtimestamp(timestamp or time.time(), UTC)
    signature = Webhook(stack.api.settings.secret("face_webhook_secret")).sign(msg_id, moment, body.decode("utf-8", "replace"))
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(moment.timestamp())), "webhook-signature": signature, "content-type": "application/json"}


ATTACKS = {
    "forged": lambda s, b, sid: (b, {**_signed(s, b), "webhook-signature": "v1,Zm9yZ2VkZm9yZ2VkZm9yZ2VkZm9yZ2VkZm9yZ2Vk"}, 400),
    "stale": lambda s, b, sid: (b, _signed(s, b, timestamp=time.time() - 600), 400),
    "future": lambda s, b, sid: (b, _signed(s, b, timestamp=time.time() + 600), 400),
    "malformed-header": lambda s, b, sid: (b, {**_signed(s, b), "webhook-signature": "no-comma-here"}, 400),
    "missing-header": lambda s, b, sid: (b, {k: v for k, v in _signed(s, b).items() if k != "webhook-id"}, 400),
    "non-utf8": lambda s, b, sid: (b"\xff\xfe" + b, _signed(s, b), 400),
    "unknown-session": lambda s, b, sid: (json.dumps({"type": "verification.completed", "session_id": "ses_unknown"}).encode(),
                                          _signed(s, json.dumps({"type": "verification.completed", "session_id": "ses_unknown"}).encode()), 404),
    "oversized": lambda s, b, sid: (b + b" " * 70_000, _signed(s, b + b" " * 70_000), 413),
}  # fmt: skip


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_bad_callbacks_are_4xx_and_change_nothing(stack, delivered, attack):
    me, application, session_id = delivered
    body = json.dumps({"type": "verification.completed", "session_id": session_id}).encode()
    payload, headers, status = ATTACKS[attack](stack, body, session_id)
    response = post_callback(stack, payload, headers)
    assert response.status_code == status, (attack, response.text)
    assert response.headers["content-type"] == "application/problem+json"
    current = stack.http.get(f"/v1/applications/{application['id']}", headers=me).json()
    assert current["state"] == "draft" and current["face_decision"] is None


def test_face_sessions_are_rate_limited_per_applicant(stack, applicant):
    """Each face session is a paid vendor session, and nothing limited how many one applicant
    opened (issue 16 item 7): beyond ``limits.face_sessions`` per applicant, 429 with Retry-After,
    before the vendor is called."""
    me, application = new_application(stack, applicant)
    quota = stack.api.settings.limits.face_sessions.address
    citizen = demo_citizen(1)
    start = {"name": citizen["name"], "id_number": citizen["id_number"], "outcome": "pass"}
    sessions = set()
    for _ in range(quota.count):
        started = stack.http.post(f"/v1/applications/{application['id']}/face-verification", json=start, headers=me)
        assert started.status_code == 201, started.text
        sessions.add(started.json()["session_id"])
    refused = stack.http.post(f"/v1/applications/{application['id']}/face-verification", json=start, headers=me)
    assert refused.status_code == 429 and refused.json()["status"] == 429, refused.text
    assert quota.seconds - 60 <= int(refused.headers["Retry-After"]) <= quota.seconds
    assert len(sessions) == quota.count


def test_an_applicant_lists_only_their_own_applications(stack, parties):
    """GET /v1/me/applications (the /apply page's list): the signed-in applicant's own, newest first."""
    one, two = Account.create(), Account.create()
    me, first = new_application(stack, one)
    _, second = new_application(stack, one, code="teacher-qualification-primary")
    new_application(stack, two)
    mine = stack.http.get("/v1/me/applications", headers=me)
    assert mine.status_code == 200, mine.text
    assert [a["id"] for a in mine.json()] == [second["id"], first["id"]]
    assert all(a["applicant"] == one.address and a["decision_reason"] is None for a in mine.json())
    # another signed-in party (the agency; other tests on this stack may have applied as it) sees none of them
    theirs = {a["id"] for a in stack.http.get("/v1/me/applications", headers=stack.sign_in(parties.agency)).json()}
    assert theirs.isdisjoint({first["id"], second["id"]})
    assert [a["id"] for a in stack.http.get("/v1/me/applications", headers=stack.sign_in(Account.create())).json()] == []
    assert stack.http.get("/v1/me/applications").status_code == 401


def test_the_vendors_own_page_completes_the_check_and_sends_the_citizen_back(stack, applicant):
    """The face check as /apply walks it: the vendor stand-in's page, its button (what the phone
    would do), the callback, and a 303 back to the platform's /apply for that application."""
    me, application = new_application(stack, applicant)
    citizen = demo_citizen(3)
    started = stack.http.post(f"/v1/applications/{application['id']}/face-verification",
                              json={"name": citizen["name"], "id_number": citizen["id_number"]}, headers=me)  # fmt: skip
    assert started.status_code == 201, started.text
    liveness = started.json()["liveness_url"]
    page = httpx.get(liveness)
    assert page.status_code == 200 and f'action="/liveness/{started.json()["session_id"]}"' in page.text
    assert f"form-action 'self' {stack.api.url};" in page.headers["content-security-policy"]  # the way back, and nowhere else
    back = httpx.post(liveness, follow_redirects=False)
    assert back.status_code == 303 and back.headers["location"] == f"{stack.api.url}/apply?application={application['id']}"
    assert state_of(stack, me, application["id"]) == "face_verified"
    again = httpx.post(liveness, follow_redirects=False)  # completed already: back again, nothing sent twice
    assert again.status_code == 303 and state_of(stack, me, application["id"]) == "face_verified"
