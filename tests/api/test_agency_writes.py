"""Issue 15: outside dev the platform holds no agency key. With ``GOVCHAIN_AGENCY_KEYS=agency-held``
every chain write only an agency may sign (certificate batches and revocations, tender steps,
commitment checks and delivery anchors) becomes a signature request: the step answers 202, the
agency signs the exact call in its own client (:class:`AgencySigner`, ``govchain agency sign``)
with its own key, nonce and gas, and the platform relays it only if it is exactly what it asked
for. The step's effects appear only once the agency's transaction is mined."""

from __future__ import annotations

import json
import os
import time
from types import SimpleNamespace

import httpx
import pytest
from eth_account import Account
from sqlalchemy import select

from api.certificates.service import Issuer
from api.dev.devdata import seed_submitted
from api.models import Certificate
from api.settings import IssueSettings
from chain.deploy import write_record
from chain.errors import ConfigError
from chain.outbox import OutboxEntry
from chain.tx import ChainClient
from tests.support.api import ApiServer, api_settings, bearer, sign_in
from tests.support.tenders import Bidder, move_past, now_of

pytestmark = pytest.mark.db


@pytest.fixture
def held(chain, deployment, database_url, tmp_path, clock):
    """A platform API with agency-held keys (as outside dev), on a fresh database."""
    write_record(tmp_path, deployment)
    settings = api_settings(tmp_path, database_url, chain.w3.provider.endpoint_uri, agency_keys="agency-held", issue=IssueSettings(batch_seconds=0.1))
    with ApiServer(settings, clock) as server, httpx.Client(base_url=server.url, timeout=120) as http:
        yield SimpleNamespace(api=server, http=http, clock=clock, platform=server.platform, sign_in=lambda account: bearer(sign_in(http, account)))


def signer_of(held, chain, deployment, account):
    """The agency's own client (:class:`AgencySigner`): its own chain client (its node connection), its own key."""
    from api.agency_signing.client import AgencySigner

    return AgencySigner(held.http, account, ChainClient.from_url(chain.w3.provider.endpoint_uri), deployment)


def wait_state(held, headers, application_id: str, state: str, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        certificate = held.http.get(f"/v1/applications/{application_id}/certificate", headers=headers).json()
        if certificate["state"] == state:
            return certificate
        assert time.monotonic() < deadline, f"not {state} within {timeout} s: {certificate}"
        time.sleep(0.1)


def test_a_certificate_is_issued_only_once_the_agency_signs_its_batch(held, chain, deployment, parties):
    """Before: the agency-held API signed issue(root) with the agency's key itself (loaded from the dev
    keys) and the certificates were issued with no act of the agency's. Now the batch waits, not shown
    as issued, until the agency's own client has checked its root and signed it."""
    platform = held.platform
    platform.workers.of(Issuer).max_wait = 3_600.0  # both approvals in one batch: cut by the flush below
    agency = held.sign_in(parties.agency)
    ids = seed_submitted(platform, 2)
    for application_id in ids:
        decided = held.http.post(f"/v1/applications/{application_id}/decision", json={"decision": "approve", "reason": "ok"}, headers=agency)
        assert decided.status_code == 200, decided.text
    nonce = chain.w3.eth.get_transaction_count(parties.agency.address)

    flushed = held.http.post("/v1/agency/issuance/flush", headers=agency)
    assert flushed.status_code == 200, flushed.text
    time.sleep(0.5)  # the issuer runs on: it still cannot issue
    assert chain.w3.eth.get_transaction_count(parties.agency.address) == nonce  # nothing signed as the agency
    (batch,) = flushed.json()
    assert batch["state"] == "awaiting" and batch["size"] == 2 and batch["signature_request"], batch
    with pytest.raises(ConfigError, match="no key"):
        platform.keyring.member_key(parties.agency.address)  # the platform process has no agency key at all
    store = platform.contracts.store_client(platform.contracts.document_store(parties.agency.address))
    assert not store.is_issued(bytes.fromhex(batch["merkle_root"][2:]))
    for application_id in ids:  # not shown as issued
        certificate = held.http.get(f"/v1/applications/{application_id}/certificate", headers=agency).json()
        assert certificate["state"] == "batched" and certificate["issue_tx"] is None
        assert held.http.get(f"/v1/applications/{application_id}", headers=agency).json()["state"] == "approved"

    (request,) = held.http.get("/v1/agency/signature-requests", params={"state": "awaiting"}, headers=agency).json()
    assert request["url"] == batch["signature_request"] and request["to"] == store.address
    assert request["description"] == f"DocumentStore.issue(document={batch['merkle_root']})"
    assert held.http.get("/v1/agency/signature-requests", headers=held.sign_in(parties.agency_culture)).json() == []  # only its own

    # a platform that put a certificate into the batch behind the agency's back: the client refuses the root
    with platform.sessions() as session:
        row = session.scalar(select(Certificate).where(Certificate.application_id == ids[0]))
        kept, row.target_hash = row.target_hash, "0x" + os.urandom(32).hex()
        session.commit()
    (refused,) = signer_of(held, chain, deployment, parties.agency).run()
    assert refused.state == "refused" and "not the Merkle root" in refused.detail
    assert chain.w3.eth.get_transaction_count(parties.agency.address) == nonce
    with platform.sessions() as session:
        session.scalar(select(Certificate).where(Certificate.application_id == ids[0])).target_hash = kept
        session.commit()

    (signed,) = signer_of(held, chain, deployment, parties.agency).run()
    assert signed.state == "mined" and signed.decoded == request["description"], signed
    transaction = chain.w3.eth.get_transaction(signed.tx_hash)
    assert transaction["from"] == parties.agency.address and transaction["to"] == store.address
    for application_id in ids:
        certificate = wait_state(held, agency, application_id, "issued")
        assert certificate["issue_tx"] == signed.tx_hash
        verdict = held.http.get(f"/v1/verify/{certificate['target_hash']}")
        assert verdict.status_code == 200 and verdict.json()["valid"] is True, verdict.text

    # an evidence anchor of the agency's (a delivery step): 202 until its client signs, then the step is recorded
    delivery = f"/v1/applications/{ids[0]}/delivery"
    waiting = held.http.post(delivery, json={"status": "delivered"}, headers=agency)
    assert waiting.status_code == 202 and waiting.json()["signature_request"]["description"].startswith("EvidenceLedger.anchor("), waiting.text
    assert held.http.get(delivery, headers=agency).json()["events"] == []
    (anchored,) = signer_of(held, chain, deployment, parties.agency).run()
    delivered = held.http.post(delivery, json={"status": "delivered"}, headers=agency)
    assert delivered.status_code == 201 and delivered.json()["tx_hash"] == anchored.tx_hash, delivered.text
    assert held.http.get(f"/v1/applications/{ids[0]}", headers=agency).json()["state"] == "delivered"

    # a revocation waits for the agency's signature too, and changes nothing until it is mined
    revoke = f"/v1/certificates/{certificate['id']}/revoke"
    waiting = held.http.post(revoke, json={"reason": "issued in error"}, headers=agency)
    assert waiting.status_code == 202, waiting.text
    assert waiting.json()["signature_request"]["description"] == f"DocumentStore.revoke(document={certificate['target_hash']})"
    assert waiting.headers["location"] == waiting.json()["signature_request"]["url"]
    assert held.http.get(f"/v1/certificates/{certificate['id']}", headers=agency).json()["state"] == "issued"
    (revoked_tx,) = signer_of(held, chain, deployment, parties.agency).run()
    assert revoked_tx.state == "mined"
    revoked = held.http.post(revoke, json={"reason": "issued in error"}, headers=agency)  # the same request, repeated
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked" and revoked.json()["revoke_tx"] == revoked_tx.tx_hash
    assert held.http.get(f"/v1/verify/{certificate['target_hash']}").json()["valid"] is False


def tender_body(held, chain, reference: str, experts) -> dict:
    """A tender's terms, the platform's clock first caught up with the chain's (earlier tests may have
    moved the chain ahead): sign in after this, or the token is already old on the platform's clock.
    Bidding is open five minutes (the 15-minute sign-in must outlive the clocks moved past it and the
    objection period): the tests move both clocks past the deadline when they want it
    closed, and a slow machine (several signing round trips) never closes it early."""
    move_past(held, chain, now_of(held, chain) - 1)
    return {"reference": reference, "title": "测试区图书馆设备采购", "document_hash": "0x" + os.urandom(32).hex(),
            "bid_deadline": now_of(held, chain) + 300, "decryption_minutes": 30, "objection_seconds": 60, "method": "lowest_price", "weights": [],
            "experts": [e.address for e in experts], "min_bidders": 1}  # fmt: skip


def test_the_platform_relays_only_the_transaction_it_asked_for(held, chain, deployment, parties):
    from api.agency_signing.models import AgencySignatureRequest

    body = tender_body(held, chain, "GC-HELD-REFUSE", [Account.create()])  # moves the platform's clock: sign in after
    procurement = held.sign_in(parties.procurement)
    asked = held.http.post("/v1/tenders", json=body, headers=procurement)
    assert asked.status_code == 202, asked.text
    request = held.http.get(asked.json()["signature_request"]["url"], headers=procurement).json()
    assert request["state"] == "awaiting" and request["description"].startswith("TenderLedger.createTender(")
    own = ChainClient.from_url(chain.w3.provider.endpoint_uri)
    nonce = own.w3.eth.get_transaction_count(parties.procurement.address)

    def signed(account, **changes) -> str:
        tx = own.build(account, to=changes.get("to", request["to"]), data=changes.get("data", request["data"]), gas=3_000_000)
        tx.update({k: v for k, v in changes.items() if k == "chainId"})
        return "0x" + own.sign_with_nonce(account, tx, own.w3.eth.get_transaction_count(account.address, "pending"))[0].hex()

    flipped = request["data"][:-2] + ("00" if request["data"][-2:] != "00" else "01")
    attempts = {
        "signed by another key": signed(parties.outsider),
        "other calldata": signed(parties.procurement, data=flipped),
        "another contract": signed(parties.procurement, to=deployment.address("EvidenceLedger")),
        "another chain": signed(parties.procurement, chainId=1),
        "not a transaction": "0x" + os.urandom(40).hex(),
    }
    for what, raw in attempts.items():
        refused = held.http.post(request["url"], json={"raw_transaction": raw}, headers=procurement)
        assert refused.status_code == 422, (what, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"
    with held.platform.sessions() as session:
        assert session.scalar(select(OutboxEntry).where(OutboxEntry.intent_key == request["intent_key"])) is None  # nothing stored
        assert session.get(AgencySignatureRequest, request["id"]).state == "awaiting"
    assert own.w3.eth.get_transaction_count(parties.procurement.address) == nonce  # nothing sent
    other = held.http.post(request["url"], json={"raw_transaction": signed(parties.agency)}, headers=held.sign_in(parties.agency))
    assert other.status_code == 404  # another agency's request is not even shown to it

    accepted = held.http.post(request["url"], json={"raw_transaction": signed(parties.procurement)}, headers=procurement)
    assert accepted.status_code == 200 and accepted.json()["state"] == "mined", accepted.text
    late = held.http.post(request["url"], json={"raw_transaction": signed(parties.procurement)}, headers=procurement)
    assert late.status_code == 409  # one signed transaction per request
    created = held.http.post("/v1/tenders", json=body, headers=procurement)  # the same request, repeated
    assert created.status_code == 201 and created.json()["created_tx"] == accepted.json()["tx_hash"], created.text


def test_a_tender_opens_once_the_procurement_agency_signs_in_its_own_client(held, chain, deployment, parties, tmp_path, monkeypatch):
    """``govchain agency sign`` with the procurement agency's own keystore: create, then open."""
    from typer.testing import CliRunner

    from api.cli import app as cli

    keystore = tmp_path / "procurement.json"
    keystore.write_text(json.dumps(Account.encrypt(parties.procurement.key, "procurement pw", kdf="scrypt")))
    monkeypatch.setenv("GOVCHAIN_KEYSTORE_PASSWORD", "procurement pw")
    sign = ["agency", "sign", "--keystore", str(keystore), "--api", held.api.url, "--rpc-url", chain.w3.provider.endpoint_uri,
            "--deployment-dir", str(held.api.settings.state_dir)]  # fmt: skip
    body = tender_body(held, chain, "GC-HELD-OPEN", [Account.create()])
    procurement = held.sign_in(parties.procurement)
    asked = held.http.post("/v1/tenders", json=body, headers=procurement)
    assert asked.status_code == 202, asked.text
    result = CliRunner().invoke(cli, sign)
    assert result.exit_code == 0 and "mined" in result.output, result.output
    assert held.http.get(asked.json()["signature_request"]["url"], headers=procurement).json()["state"] == "mined"
    tender = held.http.post("/v1/tenders", json=body, headers=procurement)
    assert tender.status_code == 201, tender.text
    tender_id = tender.json()["tender_id"]
    bidder = Bidder(held, "甲公司", 1_000_000, deployment)
    bidder.bid_ok(tender.json())
    move_past(held, chain, body["bid_deadline"])

    path = f"/v1/tenders/{tender_id}/open"
    waiting = held.http.post(path, headers=procurement)
    assert waiting.status_code == 202, waiting.text
    assert waiting.json()["signature_request"]["description"] == f"TenderLedger.openTender(tenderId={tender_id})"
    assert held.http.get(f"/v1/tenders/{tender_id}").json()["state"] == "bidding"  # not shown as opened
    assert held.http.post(path, headers=procurement).status_code == 202  # asked again: the same request
    assert len(held.http.get("/v1/agency/signature-requests", params={"state": "awaiting"}, headers=procurement).json()) == 1
    result = CliRunner().invoke(cli, sign)
    assert result.exit_code == 0 and "mined" in result.output, result.output
    opened = held.http.post(path, headers=procurement)
    assert opened.status_code == 200 and opened.json()["state"] == "opened", opened.text
    assert chain.w3.eth.get_transaction(opened.json()["tx_hash"])["from"] == parties.procurement.address
    assert held.http.get(f"/v1/tenders/{tender_id}").json()["state"] == "opened"


def signed_step(held, signer, method: str, path: str, rounds: int = 1, **kwargs) -> httpx.Response:
    """A step only the agency may sign: 202 (asked), signed in its own client, asked again; ``rounds``
    times (a step may need writes that depend on earlier ones); then the step's normal answer."""
    for _ in range(rounds):
        asked = held.http.request(method, path, **kwargs)
        assert asked.status_code == 202, asked.text
        outcomes = signer.run()
        assert outcomes and {o.state for o in outcomes} == {"mined"}, outcomes
    return held.http.request(method, path, **kwargs)


def test_every_step_of_a_tender_is_signed_by_the_procurement_agency_itself(held, chain, deployment, parties):
    """Create, open, the decryption outcomes (both asked at once), the reading, an objection's answer
    and the result: each is the procurement agency's own transaction, signed in its own client."""
    body = tender_body(held, chain, "GC-HELD-ALL", [Account.create()])
    signer = signer_of(held, chain, deployment, parties.procurement)
    procurement = {"headers": signer.headers}
    created = signed_step(held, signer, "POST", "/v1/tenders", json=body, **procurement)
    assert created.status_code == 201, created.text
    tender = created.json()
    path = f"/v1/tenders/{tender['tender_id']}"
    bidders = [Bidder(held, f"测试签名{n}公司", price, deployment) for n, price in (("甲", 500_00), ("乙", 400_00))]
    for bidder in bidders:
        bidder.bid_ok(tender)
    move_past(held, chain, body["bid_deadline"])
    assert signed_step(held, signer, "POST", path + "/open", **procurement).json()["state"] == "opened"
    for bidder in bidders:
        bidder.signed_in(tender)
        assert bidder.released(tender)["decrypted"] is True

    reading = signed_step(held, signer, "POST", path + "/reading", rounds=2, **procurement)  # the two outcomes, then the reading
    assert reading.status_code == 200 and reading.json()["read"] == 2, reading.text
    objection = bidders[0].object(tender["tender_id"], "对乙的报价有异议")
    assert objection.status_code == 201, objection.text
    answer = signed_step(held, signer, "POST", path + f"/objections/{objection.json()['index']}/answer", json={"text": "报价有效"}, **procurement)
    assert answer.status_code == 200, answer.text
    move_past(held, chain, held.http.get(path).json()["objection_deadline"])  # no result during the objection period
    result = signed_step(held, signer, "POST", path + "/result", json={}, **procurement)
    assert result.status_code == 200 and result.json()["winner"] == bidders[1].receipt["pseudonym"], result.text
    assert result.json()["report_signature"] is None  # no key here to sign the report: the agency's transaction attests its hash

    trail = held.http.get(path + "/trail").json()
    agency_steps = {"TenderCreated", "TenderOpened", "BidDecrypted", "ReadingPublished", "ObjectionAnswered", "ResultPublished"}
    assert agency_steps <= {s["step"] for s in trail}
    assert {s["sent_by"] for s in trail if s["step"] in agency_steps} == {parties.procurement.address}
