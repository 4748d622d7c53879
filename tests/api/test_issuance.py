"""Batched issuance against a real node and database: approvals queue, one batch is cut and
committed with its queued transaction, and a batch left pending (the process died after cutting
it) is finished with the same root: each certificate issued exactly once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from api.certificates.service import Issuer
from api.dev.devdata import seed_submitted
from api.models import Application, Certificate, CertificateBatch
from chain.outbox import OutboxEntry
from tests.support.api import bearer, sign_in

pytestmark = pytest.mark.db


def test_a_pending_batch_is_finished_once_with_its_root(api, http, parties, chain):
    platform = api.platform
    background = platform.workers.of(Issuer)
    background.batch_size, background.max_wait = 10_000, 3_600.0  # the API's own batcher stays out of the way
    ids = seed_submitted(platform, 5)
    agency = bearer(sign_in(http, parties.agency))
    for application_id in ids:
        decided = http.post(f"/v1/applications/{application_id}/decision", json={"decision": "approve", "reason": "ok"}, headers=agency)
        assert decided.status_code == 200, decided.text
        assert decided.json()["certificate"]["state"] == "queued"

    crashed = Issuer(platform)
    crashed.batch_size = 5
    batch_id = crashed._cut(parties.agency.address)  # cut and committed with its queued issue(root); the process "dies" then
    with platform.sessions() as session:
        batch = session.get(CertificateBatch, batch_id)
        assert batch.state == "pending" and batch.size == 5
        root = batch.merkle_root
        intent = session.scalar(select(OutboxEntry).where(OutboxEntry.intent_key == f"certificates:issue:{root}"))
        assert intent is not None and intent.sender == parties.agency.address  # in the batch's transaction, for the agency key's writer
    store = platform.contracts.store_client(platform.contracts.document_store(parties.agency.address))

    restarted = Issuer(platform)
    finished = restarted.work(datetime.now(UTC))
    assert [b.merkle_root for b in finished] == [root]
    assert restarted.work(datetime.now(UTC), force=True) == []  # nothing queued, nothing pending: nothing sent
    assert store.is_issued(bytes.fromhex(root[2:]))
    issued_events = [e for e in store.reader.read(0, chain.block_number()) if e.name == "DocumentIssued"]
    assert [e.args["document"] for e in issued_events].count(bytes.fromhex(root[2:])) == 1
    with platform.sessions() as session:
        certificates = session.query(Certificate).filter(Certificate.application_id.in_(ids)).all()
        assert {c.state for c in certificates} == {"issued"} and {c.batch_id for c in certificates} == {batch_id}
        assert len({c.target_hash for c in certificates}) == 5


def test_decisions_are_refused_when_they_do_not_apply(api, http, parties):
    platform = api.platform
    platform.workers.of(Issuer).max_wait = 3_600.0
    (application_id,) = seed_submitted(platform, 1)
    agency = bearer(sign_in(http, parties.agency))
    other_agency = bearer(sign_in(http, parties.agency_culture))
    assert http.post(f"/v1/applications/{application_id}/decision", json={"decision": "approve", "reason": "x"}, headers=other_agency).status_code == 403
    assert http.post(f"/v1/applications/{application_id}/decision", json={"decision": "maybe", "reason": "x"}, headers=agency).status_code == 422
    assert http.post(f"/v1/applications/{application_id}/decision", json={"decision": "approve", "reason": ""}, headers=agency).status_code == 422
    assert http.post(f"/v1/applications/{application_id}/decision", json={"decision": "reject", "reason": "incomplete"}, headers=agency).status_code == 200
    again = http.post(f"/v1/applications/{application_id}/decision", json={"decision": "approve", "reason": "x"}, headers=agency)
    assert again.status_code == 409 and "rejected" in again.json()["detail"]
    assert http.post("/v1/agency/issuance/flush", headers=bearer(sign_in(http, parties.outsider))).status_code == 403


def test_bulk_decisions_answer_per_item_in_one_transaction(api, http, parties):
    platform = api.platform
    platform.workers.of(Issuer).max_wait = 3_600.0  # nothing is issued behind the test's back
    first, second, third = seed_submitted(platform, 3)
    agency = bearer(sign_in(http, parties.agency))
    other_agency = bearer(sign_in(http, parties.agency_culture))
    approve = {"decision": "approve", "reason": "meets every condition"}
    body = {"decisions": [
        {"application_id": first, **approve},
        {"application_id": second, "decision": "reject", "reason": "the diploma is not legible"},
        {"application_id": "app_missing", **approve},
        {"application_id": first, **approve},  # decided earlier in the same list
    ]}  # fmt: skip
    answer = http.post("/v1/agency/decisions", json=body, headers=agency)
    assert answer.status_code == 200, answer.text
    out = answer.json()
    assert (out["decided"], out["refused"]) == (2, 2)
    results = out["results"]
    assert [r["status"] for r in results] == [200, 200, 404, 409]
    assert results[0]["state"] == "approved" and results[0]["certificate"]["state"] == "queued"
    assert results[1]["state"] == "rejected" and "certificate" not in results[1]
    assert results[2]["problem"]["title"] == "Not found" and "app_missing" in results[2]["problem"]["detail"]
    assert results[3]["problem"]["state"] == "approved"

    # another agency's applications are refused item by item and left as they were
    refused = http.post("/v1/agency/decisions", json={"decisions": [{"application_id": third, **approve}]}, headers=other_agency)
    assert refused.status_code == 200 and refused.json()["results"][0]["status"] == 403
    assert http.get(f"/v1/applications/{third}", headers=agency).json()["state"] == "submitted"
    # only agencies may call it; an empty or oversized list is invalid
    applicant = bearer(sign_in(http, parties.auditor))
    assert http.post("/v1/agency/decisions", json={"decisions": [{"application_id": third, **approve}]}, headers=applicant).status_code == 403
    assert http.post("/v1/agency/decisions", json={"decisions": []}, headers=agency).status_code == 422
    assert http.post("/v1/agency/decisions", json={"decisions": [{"application_id": third, **approve}] * 1001}, headers=agency).status_code == 422

    # the approved certificate is issued like one decided alone
    flushed = http.post("/v1/agency/issuance/flush", headers=agency)
    assert flushed.status_code == 200 and [b["size"] for b in flushed.json()] == [1]
    certificate = http.get(f"/v1/applications/{first}/certificate", headers=agency).json()
    assert certificate["id"] == results[0]["certificate"]["id"] and certificate["state"] == "issued"
    assert http.get(f"/v1/verify/{certificate['target_hash']}").json()["valid"] is True


def test_a_refused_bulk_item_changes_nothing_while_the_others_commit(api, http, parties):
    platform = api.platform
    platform.workers.of(Issuer).max_wait = 3_600.0
    ids = seed_submitted(platform, 3)
    agency = bearer(sign_in(http, parties.agency))
    http.post(f"/v1/applications/{ids[1]}/decision", json={"decision": "reject", "reason": "x"}, headers=agency).raise_for_status()
    body = {"decisions": [{"application_id": i, "decision": "approve", "reason": "bulk"} for i in ids]}
    results = http.post("/v1/agency/decisions", json=body, headers=agency).json()["results"]
    assert [r["status"] for r in results] == [200, 409, 200]
    states = [http.get(f"/v1/applications/{i}", headers=agency).json() for i in ids]
    assert [s["state"] for s in states] == ["approved", "rejected", "approved"]
    with platform.sessions() as session:
        assert session.get(Application, ids[1]).decision_reason == "x"  # the refused item did not overwrite it
