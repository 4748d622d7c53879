"""Batched issuance against a real node and database: approvals queue, one batch is cut and
committed before its transaction, and a batch left pending (the process died after cutting
it) is finished with the same root: each certificate issued exactly once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from api.certificates.service import Issuer
from api.devdata import seed_submitted
from api.models import Certificate, CertificateBatch
from tests.api.conftest import bearer, sign_in

pytestmark = pytest.mark.db


def test_a_pending_batch_is_finished_once_with_its_root(api, http, parties, chain):
    platform = api.platform
    background = platform.issuer()
    background.batch_size, background.max_wait = 10_000, 3_600.0  # the API's own batcher stays out of the way
    ids = seed_submitted(platform, 5)
    agency = bearer(sign_in(http, parties.agency))
    for application_id in ids:
        decided = http.post(f"/v1/applications/{application_id}/decision", json={"decision": "approve", "reason": "ok"}, headers=agency)
        assert decided.status_code == 200, decided.text
        assert decided.json()["certificate"]["state"] == "queued"

    crashed = Issuer(platform)
    crashed.batch_size = 5
    batch_id = crashed._cut(parties.agency.address)  # cut and committed; the process "dies" before sending
    with platform.sessions() as session:
        batch = session.get(CertificateBatch, batch_id)
        assert batch.state == "pending" and batch.size == 5
        root = batch.merkle_root
    store = platform.store_client(platform.document_store(parties.agency.address))
    assert not store.is_issued(bytes.fromhex(root[2:]))

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
    platform.issuer().max_wait = 3_600.0
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
