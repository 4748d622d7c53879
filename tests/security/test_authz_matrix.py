"""The authorization matrix: every route of the platform API against every kind of caller,
over real HTTP against real objects (an applicant's application with an issued certificate,
its consent, a tender). "Allow" means anything but 401/403; "deny" means 401 or 403.

A route added to the API without a row here fails ``test_every_route_has_a_row``.
"""

from __future__ import annotations

import json

import pytest

from api.dev import samples
from api.app import create_app
from api.settings import Settings
from identity import siwe
from tests.security.conftest import PRINCIPALS

SIGNED = frozenset(PRINCIPALS) - {"anonymous"}
EVERYONE = frozenset(PRINCIPALS)
OWNER = frozenset({"applicant"})
OWNER_AGENCY_AUDITOR = frozenset({"applicant", "agency", "auditor"})
HANDLING_AGENCY = frozenset({"agency"})
AGENCY_ROLE = frozenset({"agency", "agency_culture"})
PROCUREMENT = frozenset({"procurement"})
GOVERNOR_AUDITOR = frozenset({"governor", "auditor"})

SIG = "0x" + "11" * 65
HEX32 = "0x" + "22" * 32
APP = "/v1/applications/{application_id}"
TENDER = "/v1/tenders/{tender_id}"


def signed_challenge(world):
    """A fresh challenge signed by the applicant: anyone holding it may exchange it (it is the proof)."""
    message = world.http.post("/v1/auth/challenge", json={"address": world.applicant.address}).json()["message"]
    return {"json": {"message": message, "signature": siwe.sign(message, world.applicant.key)}}


def upload_form():
    return {"data": {"material": "health-exam"}, "files": {"file": ("scan.png", samples.png(seed=77))}}


# (method, path) -> (who is allowed, request keyword arguments)
MATRIX: dict[tuple[str, str], tuple[frozenset, object]] = {
    # public by design
    ("GET", "/openapi.json"): (EVERYONE, None),
    ("GET", "/docs"): (EVERYONE, None),
    ("GET", "/docs/oauth2-redirect"): (EVERYONE, None),
    ("GET", "/redoc"): (EVERYONE, None),
    ("GET", "/v1/health"): (EVERYONE, None),
    ("GET", "/v1/catalog"): (EVERYONE, None),
    ("GET", "/v1/members"): (EVERYONE, None),
    ("GET", "/v1/members/{address}"): (EVERYONE, None),
    ("POST", "/v1/auth/challenge"): (EVERYONE, lambda w: {"json": {"address": w.applicant.address}}),
    ("POST", "/v1/auth/token"): (EVERYONE, lambda w: signed_challenge(w)),
    ("POST", "/v1/callbacks/face-verification"): (EVERYONE, lambda w: {"content": b"{}", "headers": {"content-type": "application/json"}}),
    ("POST", "/v1/verify"): (EVERYONE, lambda w: {"json": {"version": "x"}}),
    ("GET", "/v1/verify/{target_hash}"): (EVERYONE, None),
    ("GET", "/verify"): (EVERYONE, None),  # pages: HTML shells; their data comes from the API with the caller's token
    ("GET", "/me"): (EVERYONE, None),
    ("GET", "/audit"): (EVERYONE, None),
    ("GET", "/tenders/{tender_id}"): (EVERYONE, None),
    ("GET", "/procurement"): (EVERYONE, None),
    ("GET", "/tenders/{tender_id}/bid"): (EVERYONE, None),
    ("GET", "/tenders/{tender_id}/score"): (EVERYONE, None),
    ("GET", "/static/{name}"): (EVERYONE, None),
    ("GET", "/static/vendor/{name}"): (EVERYONE, None),
    ("GET", "/apply"): (EVERYONE, None),
    ("GET", "/agency"): (EVERYONE, None),
    ("GET", "/dev/wallet.json"): (EVERYONE, None),  # dev only (404 elsewhere): the public test mnemonic
    ("GET", TENDER): (EVERYONE, None),
    ("GET", TENDER + "/trail"): (EVERYONE, None),
    ("GET", TENDER + "/bids/{pseudonym}/ciphertext"): (EVERYONE - EVERYONE, None),  # nobody before the opening
    # any signed-in caller, acting on its own records
    ("GET", "/v1/auth/me"): (SIGNED, None),
    ("POST", "/v1/applications"): (SIGNED, lambda w: {"json": {"code": "teacher-qualification-primary"}}),
    ("GET", "/v1/me/applications"): (SIGNED, None),
    ("GET", "/v1/me/consents"): (SIGNED, None),
    ("GET", "/v1/me/data-access"): (SIGNED, None),
    ("GET", "/v1/me/consents/{consent_id}/revocation"): (OWNER, None),
    ("POST", "/v1/me/consents/{consent_id}/revocation"): (OWNER, lambda w: {"json": {"deadline": 1, "signature": SIG}}),
    ("GET", TENDER + "/pseudonym"): (SIGNED, None),
    ("POST", TENDER + "/bids"): (EVERYONE - EVERYONE, lambda w: {"content": b"short", "params": {"key_commitment": HEX32}}),  # registered bidders only (BIDDER)
    ("DELETE", TENDER + "/bids/mine"): (SIGNED, None),
    ("POST", TENDER + "/sign-in"): (SIGNED, lambda w: {"json": {"signature": SIG}}),
    ("POST", TENDER + "/key"): (SIGNED, lambda w: {"json": {"key": HEX32, "salt": HEX32}}),
    ("POST", TENDER + "/objections"): (SIGNED, lambda w: {"json": {"text": "异议", "signature": SIG}}),
    ("POST", TENDER + "/scores"): (SIGNED, lambda w: {"json": {"pseudonym": w.pseudonym, "scores": [1], "signature": SIG}}),
    # the applicant's own application
    ("GET", APP): (OWNER_AGENCY_AUDITOR, None),
    ("POST", APP + "/face-verification"): (OWNER, lambda w: {"json": {"name": "测试", "id_number": "110101199003070011"}}),
    ("GET", APP + "/consent-terms"): (OWNER, None),
    ("POST", APP + "/consent"): (OWNER, lambda w: {"json": {"signature": SIG, "link_signature": SIG}}),
    ("GET", APP + "/materials"): (OWNER_AGENCY_AUDITOR, None),
    ("POST", APP + "/materials"): (OWNER, lambda w: upload_form()),
    ("DELETE", APP + "/materials/{material}"): (OWNER, None),
    ("GET", APP + "/commitments/{material}/typed-data"): (OWNER, None),
    ("POST", APP + "/commitments"): (OWNER, lambda w: {"json": {"material": "education-certificate", "signed_at": 1, "signature": SIG}}),
    ("POST", APP + "/submit"): (OWNER, lambda w: {"json": {"delivery": {"method": "electronic"}}}),
    ("GET", APP + "/receipt"): (OWNER_AGENCY_AUDITOR, None),
    ("GET", APP + "/delivery"): (OWNER_AGENCY_AUDITOR, None),
    ("GET", APP + "/certificate"): (OWNER_AGENCY_AUDITOR, None),
    ("GET", "/v1/certificates/{certificate_id}"): (OWNER_AGENCY_AUDITOR, None),
    ("GET", "/v1/certificates/{certificate_id}/document"): (OWNER_AGENCY_AUDITOR, None),
    ("GET", "/v1/certificates/{certificate_id}/pdf"): (OWNER_AGENCY_AUDITOR, None),
    # the handling agency only
    ("POST", APP + "/pulls"): (HANDLING_AGENCY, None),
    ("GET", APP + "/pull-requests"): (HANDLING_AGENCY, None),
    ("GET", APP + "/data"): (HANDLING_AGENCY, None),
    ("GET", APP + "/materials/{material}/file"): (HANDLING_AGENCY, None),
    ("POST", APP + "/commitments/{material}/check"): (HANDLING_AGENCY, lambda w: {"json": {"outcome": "confirmed"}}),
    ("POST", APP + "/delivery"): (HANDLING_AGENCY, lambda w: {"json": {"status": "printed"}}),
    ("GET", "/v1/agency/applications/{application_id}"): (HANDLING_AGENCY, None),
    ("POST", APP + "/decision"): (HANDLING_AGENCY, lambda w: {"json": {"decision": "reject", "reason": "x"}}),
    ("POST", "/v1/certificates/{certificate_id}/revoke"): (HANDLING_AGENCY, lambda w: {"json": {"reason": "matrix"}}),
    ("POST", "/v1/certificate-batches/{merkle_root}/revoke"): (HANDLING_AGENCY, lambda w: {"json": {"reason": "matrix"}}),
    # any agency (its own queue)
    ("GET", "/v1/agency/commitments"): (AGENCY_ROLE, None),
    ("GET", "/v1/agency/applications"): (AGENCY_ROLE, None),
    ("POST", "/v1/agency/issuance/flush"): (AGENCY_ROLE, None),
    # a member's own signature requests (agency-held keys): every signed-in caller sees only its own (others' are 404)
    ("GET", "/v1/agency/signature-requests"): (SIGNED, None),
    ("GET", "/v1/agency/signature-requests/{request_id}"): (SIGNED, None),
    ("POST", "/v1/agency/signature-requests/{request_id}"): (SIGNED, lambda w: {"json": {"raw_transaction": "0x00"}}),
    ("GET", "/v1/writes/{intent_key}"): (SIGNED, None),  # a chain write's state (an intent key can name an application)
    ("GET", "/v1/certificate-batches/{merkle_root}"): (HANDLING_AGENCY, None),
    # procurement
    ("POST", "/v1/tenders"): (
        PROCUREMENT,
        lambda w: {"json": {"reference": "SEC-X", "title": "t", "document_hash": HEX32, "bid_deadline": 1, "method": "lowest_price", "experts": [w.applicant.address]}},
    ),  # fmt: skip
    ("POST", TENDER + "/open"): (PROCUREMENT, None),
    ("POST", TENDER + "/close-decryption"): (PROCUREMENT, None),
    ("POST", TENDER + "/reading"): (PROCUREMENT, None),
    ("POST", TENDER + "/objections/{index}/answer"): (PROCUREMENT, lambda w: {"json": {"text": "答复"}}),
    ("POST", TENDER + "/result"): (PROCUREMENT, lambda w: {"json": {}}),
    ("POST", TENDER + "/experts/replace"): (PROCUREMENT, lambda w: {"json": {"expert": w.applicant.address, "replacement": "0x" + "00" * 19 + "02"}}),
    ("POST", "/v1/agency/decisions"): (AGENCY_ROLE, lambda w: {"json": {"decisions": [{"application_id": w.application_id, "decision": "reject", "reason": "x"}]}}),
    # oversight
    ("GET", "/v1/outbox"): (GOVERNOR_AUDITOR, None),
    ("GET", "/v1/records"): (GOVERNOR_AUDITOR | AGENCY_ROLE, None),  # an agency sees the records it acted in
    ("GET", "/v1/audit/findings"): (GOVERNOR_AUDITOR, None),
    ("GET", "/v1/audit/applications/{application_id}/trail"): (GOVERNOR_AUDITOR | {"applicant", "agency"}, None),
    ("GET", "/v1/audit/tenders/{tender_id}/trail"): (GOVERNOR_AUDITOR | PROCUREMENT, None),
    ("GET", "/v1/tenders"): (PROCUREMENT, None),  # the agency's own tenders (the /procurement page)
    ("GET", TENDER + "/objections"): (PROCUREMENT, None),  # the tender's own procurement agency, which answers them
    ("GET", "/v1/me/consents/{consent_id}/receipt"): (frozenset({"applicant", "auditor"}), None),
}
# the revocations last: they change what the rows before them look at
ORDER = sorted(MATRIX, key=lambda k: k[1].endswith("/revoke"))


def api_routes(routes=None) -> set[tuple[str, str]]:
    """Every (method, path) the platform API serves, through included routers too (HEAD aside)."""
    found: set[tuple[str, str]] = set()
    for route in routes if routes is not None else create_app(Settings()).routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            prefix = getattr(getattr(route, "include_context", None), "prefix", "")
            found |= {(m, prefix + p) for m, p in api_routes(inner.routes)}
        elif hasattr(route, "path"):
            found |= {(m, route.path) for m in getattr(route, "methods", None) or {"GET"} if m != "HEAD"}
    return found


def test_every_route_has_a_row():
    served = api_routes()
    assert len(served) >= 60
    assert served - set(MATRIX) == set(), "routes without a row in the authorization matrix"
    assert set(MATRIX) - served == set(), "rows for routes the API no longer serves"


def fill(path: str, world) -> str:
    return path.format(
        application_id=world.application_id, consent_id=world.consent_id, certificate_id=world.certificate_id,
        target_hash=world.target_hash, merkle_root=world.merkle_root, tender_id=world.tender_id, pseudonym=world.pseudonym,
        material="health-exam", address="0x" + "00" * 19 + "01", name="govchain.css", index=0, request_id="asr_" + "00" * 16,
        intent_key="consent:" + world.application_id,
    )  # fmt: skip


@pytest.mark.parametrize("route", ORDER, ids=[f"{m} {p}" for m, p in ORDER])
def test_matrix(stack, world, route):
    method, path = route
    allowed, make = MATRIX[route]
    url = fill(path, world)
    outcome = {}
    for who in PRINCIPALS:
        kwargs = make(world) if make else {}
        headers = {**world.headers[who], **kwargs.pop("headers", {})}
        response = stack.http.request(method, url, headers=headers, **kwargs)
        assert response.status_code < 500, (who, method, url, response.status_code, response.text[:300])
        outcome[who] = response.status_code
    wrong = {who: status for who, status in outcome.items() if (who in allowed) == (status in (401, 403))}
    assert not wrong, f"{method} {path}: expected allowed={sorted(allowed)}; got {json.dumps(outcome)}"
    if "anonymous" not in allowed and allowed:
        assert outcome["anonymous"] == 401, "a route that needs sign-in answers 401 (not 403) to no token"
