"""Sign-in with Ethereum over real HTTP: the happy path and every refusal (401)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from identity import siwe
from tests.support.api import bearer, sign_in

PROBLEM = "application/problem+json"


def challenge_for(http, account):
    response = http.post("/v1/auth/challenge", json={"address": account.address.lower()})
    assert response.status_code == 201
    return response.json()


def assert_401(response, detail_part: str):
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == 401 and body["title"] == "Not signed in"
    assert detail_part in body["detail"]


def test_member_signs_in_and_gets_roles_from_the_registry(http, parties):
    challenge = challenge_for(http, parties.agency)
    message = siwe.parse(challenge["message"])
    assert message.address == parties.agency.address and message.chain_id == 1337
    signature = siwe.sign(challenge["message"], parties.agency.key)
    token = http.post("/v1/auth/token", json={"message": challenge["message"], "signature": signature})
    assert token.status_code == 200
    assert token.json()["roles"] == ["AGENCY", "ISSUER"]
    me = http.get("/v1/auth/me", headers=bearer(token.json()["access_token"])).json()
    assert me == {"address": parties.agency.address, "kind": "member", "name": "区教育局 (District Education Bureau)", "roles": ["AGENCY", "ISSUER"]}


def test_applicant_without_membership_signs_in_with_no_roles(http, parties):
    me = http.get("/v1/auth/me", headers=bearer(sign_in(http, parties.outsider))).json()
    assert me["kind"] == "applicant" and me["roles"] == []


def test_signature_by_another_key_is_refused(http, parties):
    challenge = challenge_for(http, parties.agency)
    forged = siwe.sign(challenge["message"], parties.outsider.key)
    assert_401(http.post("/v1/auth/token", json={"message": challenge["message"], "signature": forged}), "not made by the address")


def test_malformed_signature_is_refused(http, parties):
    challenge = challenge_for(http, parties.agency)
    assert_401(http.post("/v1/auth/token", json={"message": challenge["message"], "signature": "0x" + "00" * 65}), "malformed")


def test_replayed_challenge_is_refused(http, parties):
    challenge = challenge_for(http, parties.agency)
    body = {"message": challenge["message"], "signature": siwe.sign(challenge["message"], parties.agency.key)}
    assert http.post("/v1/auth/token", json=body).status_code == 200
    assert_401(http.post("/v1/auth/token", json=body), "already used")


def test_expired_challenge_is_refused(http, parties, clock):
    challenge = challenge_for(http, parties.agency)
    body = {"message": challenge["message"], "signature": siwe.sign(challenge["message"], parties.agency.key)}
    clock.offset = timedelta(minutes=6)
    assert_401(http.post("/v1/auth/token", json=body), "expired")


def test_message_the_server_never_issued_is_refused(http, parties, api, clock):
    own = siwe.SiweMessage(
        domain=api.settings.public_domain, address=parties.agency.address, uri=api.settings.public_url, chain_id=1337,
        nonce="a1b2c3d4e5f60708", issued_at=clock.now(), expiration_time=clock.now() + timedelta(minutes=1),
    )  # fmt: skip
    body = {"message": own.text(), "signature": siwe.sign(own, parties.agency.key)}
    assert_401(http.post("/v1/auth/token", json=body), "not issued by the server")


@pytest.mark.parametrize(
    "tamper, detail",
    [
        (lambda m: m.replace("Chain ID: 1337", "Chain ID: 1"), "for chain 1"),
        (lambda m: m.replace("127.0.0.1:", "phish.example:", 1), "is for phish.example"),
        (lambda m: m.replace("Version: 1", "Version: 2"), "not an EIP-4361 message"),
    ],
    ids=["other-chain", "other-domain", "malformed"],
)
def test_message_bound_to_something_else_is_refused(http, parties, tamper, detail):
    challenge = challenge_for(http, parties.agency)
    message = tamper(challenge["message"])
    body = {"message": message, "signature": siwe.sign(message, parties.agency.key)}
    assert_401(http.post("/v1/auth/token", json=body), detail)


def test_missing_tampered_and_expired_tokens_are_refused(http, parties, clock):
    assert_401(http.get("/v1/auth/me"), "needs a bearer token")
    token = sign_in(http, parties.agency)
    head, payload, signature = token.split(".")
    assert_401(http.get("/v1/auth/me", headers=bearer(f"{head}.{payload}.{signature[::-1]}")), "not valid")
    assert_401(http.get("/v1/auth/me", headers=bearer("not-a-token")), "not valid")
    assert http.get("/v1/auth/me", headers=bearer(token)).status_code == 200
    clock.offset = timedelta(minutes=16)  # past the 15-minute token life
    assert_401(http.get("/v1/auth/me", headers=bearer(token)), "expired")
