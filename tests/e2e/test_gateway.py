"""The data-holder gateway over real HTTP: every refusal reason (403 + reason, nothing
released), signature edge cases (401), and idempotent retries (one log entry)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from identity.dev_citizens import demo_citizen
from api.pulls.service import pull_body
from api.services import ServiceProcess
from chain.node import rpc_call
from identity.keys import hpke_key_for, x25519_public_bytes
from identity.pull_request import pull_request_id, verify_answer
from identity.sealing import hpke_open


def request(stack, deployment, parties, consent, *, category="id_card", holder="holder_psb", agency=None, attributes=None, **overrides):
    holder_account = getattr(parties, holder)
    consent_id = bytes.fromhex(consent["consent_id"][2:])
    sequence = overrides.pop("sequence", None) or consent["registry"].get(consent_id).pulls + 1  # the next pull number
    body = pull_body(
        agency or parties.agency, holder_account.address, x25519_public_bytes(hpke_key_for(holder_account)),
        sequence, consent["consent_id"], category, consent["scope"], consent["scope_salt"],
        attributes or consent["scope"].get(category, ["name"]), overrides.pop("subject", consent["subject"]),
        overrides.pop("issued_at", int(time.time())), deployment.chain_id, deployment.address("ConsentRegistry"),
    )  # fmt: skip
    body.update(overrides)
    return body, stack.services.gateways[holder].url


def post(url, body):
    return httpx.post(url + "/v1/pulls", json=body, timeout=120)


def pull(prepared):
    body, url = prepared
    return post(url, body)


def assert_refused(response, reason):
    assert response.status_code == 403, response.text
    assert response.json()["reason"] == reason
    assert "ciphertext" not in response.json()


def test_released_once_and_retry_returns_the_same_answer(stack, deployment, parties, make_consent, consents):
    consent = make_consent()
    body, url = request(stack, deployment, parties, consent)
    first = post(url, body)
    assert first.status_code == 200, first.text
    answer = first.json()
    assert answer["pull_number"] == 1 and answer["category"] == "id_card"
    ciphertext = base64.b64decode(answer["ciphertext"])
    request_id = pull_request_id(bytes.fromhex(consent["consent_id"][2:]), 1)
    assert answer["request_id"] == "0x" + request_id.hex()
    payload = verify_answer(json.loads(hpke_open(hpke_key_for(parties.agency), ciphertext, b"govchain pull " + request_id)), parties.holder_psb.address)
    assert payload["data"] == {"id_number": consent["person"]["id_number"], "name": consent["person"]["name"]}
    assert answer["digest"] == "0x" + hashlib.sha256(ciphertext).hexdigest()

    again = post(url, body)
    assert again.status_code == 200 and again.json() == answer  # same ciphertext, same log entry
    assert consents.get(bytes.fromhex(consent["consent_id"][2:])).pulls == 1

    reused, _ = request(stack, deployment, parties, consent, attributes=["name"], sequence=1)
    conflict = post(url, reused)  # same id, another (validly signed) request: never a second answer
    assert conflict.status_code == 409 and "another request" in conflict.json()["detail"]


def test_the_same_request_sent_at_once_by_several_clients_is_logged_once(stack, deployment, parties, make_consent, consents):
    """Four copies of one request at the same moment (they may share a batch): one log entry on
    chain; each copy gets that answer or 409 "being processed; retry", and a retry gets the answer."""
    consent = make_consent()
    body, url = request(stack, deployment, parties, consent)
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: post(url, body), range(4)))
    assert {a.status_code for a in answers} <= {200, 409}, [a.text for a in answers]
    assert all("being processed" in a.json()["detail"] for a in answers if a.status_code == 409)
    released = [a.json() for a in answers if a.status_code == 200]
    again = post(url, body)
    assert again.status_code == 200
    assert all(answer == again.json() for answer in released)  # one ciphertext, one log entry
    assert consents.get(bytes.fromhex(consent["consent_id"][2:])).pulls == 1


def test_revoked_and_paused_consents_are_refused(stack, deployment, parties, make_consent, consents):
    paused = make_consent()
    consents.pause(paused["applicant"], bytes.fromhex(paused["consent_id"][2:]))
    assert_refused(pull(request(stack, deployment, parties, paused)), "paused")
    revoked = make_consent()
    consents.revoke(revoked["applicant"], bytes.fromhex(revoked["consent_id"][2:]))
    assert_refused(pull(request(stack, deployment, parties, revoked)), "revoked")


def test_window_is_enforced(stack, deployment, parties, make_consent, client):
    early = make_consent(opens_in=3600)
    assert_refused(pull(request(stack, deployment, parties, early)), "not_yet_valid")
    short = make_consent(lasts=5)
    rpc_call(client.w3.provider.endpoint_uri, "evm_increaseTime", [10])
    rpc_call(client.w3.provider.endpoint_uri, "evm_mine")
    assert_refused(pull(request(stack, deployment, parties, short)), "expired")


def test_category_agency_holder_and_count_limits(stack, deployment, parties, make_consent):
    narrow = make_consent(categories=0b001)  # scope lists the household register, the consent does not cover it
    assert_refused(pull(request(stack, deployment, parties, narrow, category="household_register")), "category_not_covered")
    consent = make_consent()
    assert_refused(pull(request(stack, deployment, parties, consent, agency=parties.agency_culture)), "wrong_agency")
    assert_refused(pull(request(stack, deployment, parties, consent, holder="holder_rp")), "category_not_served")
    once = make_consent(max_pulls=1)
    assert pull(request(stack, deployment, parties, once)).status_code == 200
    assert_refused(pull(request(stack, deployment, parties, once)), "max_pulls_reached")


def test_off_chain_checks_refuse_before_anything_is_sealed(stack, deployment, parties, make_consent):
    consent = make_consent()
    wider = dict(consent, scope={**consent["scope"], "id_card": ["id_number", "name", "address"]})
    assert_refused(pull(request(stack, deployment, parties, wider)), "scope_mismatch")
    assert_refused(pull(request(stack, deployment, parties, consent, attributes=["name", "address"])), "attribute_not_covered")
    other = dict(consent["subject"], id_number=demo_citizen(8)["id_number"])
    assert_refused(pull(request(stack, deployment, parties, consent, subject=other)), "subject_mismatch")
    unknown = dict(consent, consent_id="0x" + "ab" * 32)
    assert_refused(pull(request(stack, deployment, parties, unknown)), "unknown_consent")


def test_signature_edge_cases_are_401(stack, deployment, parties, make_consent):
    consent = make_consent()
    body, url = request(stack, deployment, parties, consent)
    assert post(url, dict(body, attributes=["name"])).status_code == 401  # a field changed after signing
    forged, _ = request(stack, deployment, parties, consent, agency=parties.outsider)
    assert post(url, dict(forged, requester=parties.agency.address)).status_code == 401
    stale, _ = request(stack, deployment, parties, consent, issued_at=1_000_000_000)
    response = post(url, stale)
    assert response.status_code == 401 and "too far from now" in response.json()["detail"]
    assert post(url, dict(body, signature="0x" + "00" * 65)).status_code == 401
    assert post(url, dict(body, subject="not base64")).status_code in (400, 401)
    assert post(url, {"consent_id": "0x12"}).status_code == 422


def test_agency_that_lost_its_role_gets_nothing(stack, deployment, parties, make_consent, consents, client, build):
    from chain.registry import GovRegistryClient

    registry = GovRegistryClient(client, deployment.address("GovRegistry"), build["GovRegistry"].abi)
    consent = make_consent(agency=parties.agency_culture)
    registry.revoke_role(parties.governor, "AGENCY", parties.agency_culture.address)
    try:
        assert_refused(pull(request(stack, deployment, parties, consent, agency=parties.agency_culture)), "requester_not_agency")
    finally:
        registry.grant_role(parties.governor, "AGENCY", parties.agency_culture.address)
    assert consents.get(bytes.fromhex(consent["consent_id"][2:])).pulls == 0


def test_a_contract_wallet_agency_pulls_through_erc1271(stack, deployment, parties, make_consent, consents, client, build):
    from api.pulls.service import request_body
    from chain.registry import GovRegistryClient, MemberInfo
    from tests.support.wallets import deploy_wallet

    owner = parties.outsider2
    wallet = deploy_wallet(client, build, owner)
    registry = GovRegistryClient(client, deployment.address("GovRegistry"), build["GovRegistry"].abi)
    hpke = x25519_public_bytes(hpke_key_for(owner))
    registry.register_member(parties.governor, wallet.address, MemberInfo("区教育局 (multisig)", "ORG-W", "w.edu.example", hpke, 0), ["AGENCY"])
    consent = make_consent(agency=wallet)
    holder = parties.holder_psb
    body, request_ = request_body(
        wallet.address, holder.address, x25519_public_bytes(hpke_key_for(holder)), 1, consent["consent_id"], "id_card", consent["scope"],
        consent["scope_salt"], consent["scope"]["id_card"], consent["subject"], int(time.time()),
    )  # fmt: skip
    url = stack.services.gateways["holder_psb"].url
    forged = request_.sign(parties.outsider.key, deployment.chain_id, deployment.address("ConsentRegistry"))
    assert post(url, dict(body, signature="0x" + forged.hex())).status_code == 401  # not the wallet owner's key
    signed = request_.sign(owner.key, deployment.chain_id, deployment.address("ConsentRegistry"))
    answer = post(url, dict(body, signature="0x" + signed.hex()))
    assert answer.status_code == 200, answer.text  # the wallet accepts its owner's signature (ERC-1271), here and on chain
    box = base64.b64decode(answer.json()["ciphertext"])
    payload = verify_answer(json.loads(hpke_open(hpke_key_for(owner), box, b"govchain pull " + request_.request_id)), holder.address)
    assert payload["data"]["name"] == consent["person"]["name"]
    assert consents.get(bytes.fromhex(consent["consent_id"][2:])).pulls == 1


# the kill test sends with the holder's key from another process: it stays the last one of the module
@pytest.mark.node  # a smoke run of the flow on every node
def test_gateway_killed_between_log_and_answer_delivers_on_retry_with_one_log_entry(stack, deployment, parties, make_consent, consents, tmp_path):
    consent = make_consent()
    env = {**os.environ, "GOVCHAIN_GATEWAY_HOLDER_PARTY": "holder_psb", "GOVCHAIN_GATEWAY_RPC_URL": stack.api.settings.rpc_url,
           "GOVCHAIN_GATEWAY_STATE_DIR": str(stack.api.settings.state_dir), "GOVCHAIN_GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'gw.db'}"}  # fmt: skip
    doomed = ServiceProcess("doomed gateway", "gateway", {**env, "GOVCHAIN_FAULT": "gateway.after_log"}, health_path="/v1/health").start()
    body, _ = request(stack, deployment, parties, consent)
    with pytest.raises(httpx.TransportError):
        post(doomed.url, body)  # the process dies after the chain logged the pull
    doomed.process.wait(10)
    assert doomed.process.returncode == -9
    assert consents.get(bytes.fromhex(consent["consent_id"][2:])).pulls == 1  # logged before the kill
    with ServiceProcess("gateway", "gateway", env, health_path="/v1/health", port=doomed.port) as revived:
        retry, _ = request(stack, deployment, parties, consent, sequence=body["sequence"])  # re-signed, same pull number
        answer = post(revived.url, retry)
    assert answer.status_code == 200, answer.text
    assert answer.json()["pull_number"] == 1
    assert consents.get(bytes.fromhex(consent["consent_id"][2:])).pulls == 1  # exactly one log entry
