"""Audit end to end: the trails of a finished no-visit application and of a finished tender
verify against the chain from the API and from the CLI; records, CSV, receipts, access."""

from __future__ import annotations

import csv
import io
import json

import pytest
from eth_account import Account
from eth_utils import keccak
from typer.testing import CliRunner

from api.cli import app as cli
from tests.support import canonical
from tests.support.flows import submitted_application, wait_issued
from tests.support.tenders import Bidder, create_tender, move_past, publish_result

pytestmark = pytest.mark.slow
runner = CliRunner()


def cli_env(stack) -> dict[str, str]:
    settings = stack.api.settings
    return {"GOVCHAIN_STATE_DIR": str(settings.state_dir), "GOVCHAIN_DATABASE_URL": settings.sqlalchemy_url,
            "GOVCHAIN_RPC_URL": settings.rpc_url, "COLUMNS": "250"}  # fmt: skip


@pytest.mark.node  # a smoke run of the flow on every node
def test_a_finished_application_trail_verifies_from_the_api_and_the_cli(stack, parties, applicant):
    me, application, receipt = submitted_application(stack, parties, applicant)
    app_id = application["id"]
    agency = stack.sign_in(parties.agency)
    decided = stack.http.post(f"/v1/applications/{app_id}/decision", json={"decision": "approve", "reason": "材料齐全"}, headers=agency)
    assert decided.status_code == 200, decided.text
    certificate = wait_issued(stack, me, app_id)
    mailed = stack.http.post(f"/v1/applications/{app_id}/delivery", json={"status": "printed"}, headers=agency)
    assert mailed.status_code in (200, 201), mailed.text
    # the DELIVERY root re-derived from docs/audit.md's rule alone is the one anchored on chain
    root = keccak(canonical.evidence_v0({"application": app_id, "status": "printed", "tracking": None}))
    assert mailed.json()["root"] == "0x" + root.hex()
    assert stack.api.platform.contracts.evidence().anchored_at(root).by == parties.agency.address

    auditor = stack.sign_in(parties.auditor)
    trail = stack.http.get(f"/v1/audit/applications/{app_id}/trail", params={"verify": "true"}, headers=auditor)
    assert trail.status_code == 200, trail.text
    trail = trail.json()
    assert trail["case"] == {"kind": "application", "id": app_id}
    events = [s["event"] for s in trail["steps"]]
    assert events[0] == "ConsentGranted" and "DataPulled" in events and "DocumentIssued" in events
    kinds = {s["kind"] for s in trail["steps"]}
    assert {"consent", "pull", "commitment", "submission", "certificate", "delivery"} <= kinds, kinds
    assert trail["verified"] is True and all(s["verified"] is True for s in trail["steps"]), trail
    assert [s["index"] for s in trail["steps"]] == list(range(len(events)))
    positions = [(s["block_number"], s["log_index"]) for s in trail["steps"]]
    assert positions == sorted(positions)
    step = trail["steps"][0]
    assert set(step) == {"index", "kind", "event", "summary", "contract", "tx_hash", "block_number", "log_index", "time", "signer", "verified", "verification"}
    assert step["signer"] == parties.relayer.address  # the relayer sent the applicant-signed consent
    issued = next(s for s in trail["steps"] if s["event"] == "DocumentIssued")
    assert certificate["target_hash"][2:10] in issued["summary"] or "target hash" in issued["summary"]

    # the applicant and the handling agency read their own trail; another citizen may not
    assert stack.http.get(f"/v1/audit/applications/{app_id}/trail", headers=me).status_code == 200
    assert stack.http.get(f"/v1/audit/applications/{app_id}/trail", headers=agency).status_code == 200
    assert stack.http.get(f"/v1/audit/applications/{app_id}/trail", headers=stack.sign_in(Account.create())).status_code == 403

    # from the CLI, straight from the chain (references from the platform database)
    done = runner.invoke(cli, ["audit", "trail", "application", app_id, "--rpc", stack.api.settings.rpc_url, "--json"], env=cli_env(stack))
    assert done.exit_code == 0, done.output
    from_chain = json.loads(done.stdout)  # --json prints the JSON alone (issue 16: a note came first)
    assert from_chain["verified"] is True
    assert [(s["tx_hash"], s["log_index"]) for s in from_chain["steps"]] == [(s["tx_hash"], s["log_index"]) for s in trail["steps"]]

    # records: by kind, by applicant, keyset pages, CSV; an agency sees its own only
    pulls = stack.http.get("/v1/records", params={"kind": "pull", "applicant": applicant.address}, headers=auditor).json()
    (pseudonym,) = {c["pseudonym"] for c in stack.http.get("/v1/me/consents", headers=me).json()}  # on chain a consent names its pseudonym
    assert pulls["records"] and all(r["kind"] == "pull" and r["applicant"] == pseudonym for r in pulls["records"])
    seen, cursor = [], None
    while True:
        page = stack.http.get("/v1/records", params={"limit": 3, **({"cursor": cursor} if cursor else {})}, headers=auditor).json()
        seen += [(r["block_number"], r["log_index"]) for r in page["records"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen) and len(seen) == len(set(seen))
    exported = stack.http.get("/v1/records", params={"format": "csv", "kind": "consent"}, headers=auditor)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert rows and {r["kind"] for r in rows} == {"consent"} and any(r["applicant"] == pseudonym for r in rows)
    assert all(r["applicant"] != applicant.address for r in rows)  # the wallet is on no record: the chain never names it
    own = stack.http.get("/v1/records", params={"limit": 1000}, headers=agency).json()["records"]
    assert own and all(parties.agency.address in (r["member"], r["tx_sender"]) for r in own)
    assert stack.http.get("/v1/records", headers=me).status_code == 403

    # the consent receipt (ISO/IEC TS 27560 fields)
    consent_id = stack.http.get(f"/v1/applications/{app_id}", headers=me).json()["consent_id"]
    receipt = stack.http.get(f"/v1/me/consents/{consent_id}/receipt", headers=me)
    assert receipt.status_code == 200, receipt.text
    receipt = receipt.json()
    for field in ("recordId", "schemaVersion", "principal", "purposes", "dataCategories", "controllers", "recipients", "validity", "withdrawal", "events"):
        assert receipt[field], field
    assert receipt["recordId"] == consent_id and receipt["principal"] == {**receipt["principal"], "id": pseudonym, "linkedWallet": applicant.address}
    assert "linkedWallet" not in stack.http.get(f"/v1/me/consents/{consent_id}/receipt", headers=auditor).json()["principal"]
    assert receipt["controllers"][0]["address"] == parties.agency.address and receipt["controllers"][0]["domain"]
    assert any(r["role"] == "data holder (served)" for r in receipt["recipients"])
    assert [e["type"] for e in receipt["events"]][0] == "granted" and "pull_released" in [e["type"] for e in receipt["events"]]
    assert stack.http.get(f"/v1/me/consents/{consent_id}/receipt", headers=auditor).status_code == 200
    assert stack.http.get(f"/v1/me/consents/{consent_id}/receipt", headers=stack.sign_in(Account.create())).status_code == 403


def test_a_finished_tender_trail_verifies_from_the_api_and_the_cli(stack, client, deployment, parties):
    expert = Account.create()
    tender = create_tender(stack, client, parties, [expert], reference="GC-AUDIT-001", method="lowest_price", min_bidders=1)
    bidder = Bidder(stack, "测试审计公司", 99_000_00, deployment)
    bidder.bid_ok(tender)
    bidder.bid_ok(tender, price=98_000_00)  # replaced: stays in the trail
    move_past(stack, client, tender["terms"]["opening_time"])
    procurement = stack.sign_in(parties.procurement)
    assert stack.http.post(f"/v1/tenders/{tender['tender_id']}/open", headers=procurement).status_code == 200
    bidder.signed_in(tender)
    bidder.released(tender)
    reading = stack.http.post(f"/v1/tenders/{tender['tender_id']}/reading", headers=procurement)
    assert reading.status_code == 200, reading.text
    result = publish_result(stack, client, parties, tender)
    assert result.status_code == 200, result.text
    # the report hash on chain re-derived from docs/audit.md's rule alone
    published = result.json()
    report_hash = keccak(canonical.canonical({"report": published["report"], "signature": published["report_signature"]}))
    (on_chain,) = [e for e in stack.api.platform.contracts.tenders().trail(bytes.fromhex(tender["tender_id"][2:])) if e.name == "ResultPublished"]
    assert bytes(on_chain.args["reportHash"]) == report_hash and published["report_hash"] == "0x" + report_hash.hex()

    auditor = stack.sign_in(parties.auditor)
    trail = stack.http.get(f"/v1/audit/tenders/{tender['tender_id']}/trail", params={"verify": "true"}, headers=auditor)
    assert trail.status_code == 200, trail.text
    trail = trail.json()
    events = [s["event"] for s in trail["steps"]]
    assert events[0] == "TenderCreated" and events[-1] == "ResultPublished" and events.count("BidCommitted") == 2
    assert trail["verified"] is True and all(s["verified"] for s in trail["steps"])
    assert stack.http.get(f"/v1/audit/tenders/{tender['tender_id']}/trail", headers=stack.sign_in(parties.agency)).status_code == 403

    done = runner.invoke(cli, ["audit", "trail", "tender", tender["tender_id"], "--rpc", stack.api.settings.rpc_url], env=cli_env(stack))
    assert done.exit_code == 0, done.output
    assert "verified" in done.output and "ResultPublished" in done.output


def test_a_trail_counts_only_the_cases_own_store_and_anchorers(stack, client, deployment, build, parties, applicant):
    """Issue 16: another issuer revoked the bureau's batch root in its OWN DocumentStore and the
    bureau's trail said "certificate batch revoked"; an AGENCY anchored evidence under another
    application's reference and it showed in that trail. Neither is the case's own."""
    from chain.documents import DocumentStoreClient
    from chain.evidence import EvidenceLedgerClient
    from chain.registry import GovRegistryClient
    from eth_utils import keccak
    from tests.support.flows import issued_application

    me, application, _, certificate = issued_application(stack, parties, applicant, citizen=4)
    app_id, root = application["id"], certificate["merkle_root"]
    registry = GovRegistryClient(client, deployment.address("GovRegistry"), build["GovRegistry"].abi)
    rival = parties.agency_culture  # an active ISSUER and AGENCY with a store of its own
    store = DocumentStoreClient(client, registry.document_store_of(rival.address), build["DocumentStore"].abi)
    store.revoke(rival, root)  # any bytes32: the rival's store now says the bureau's root is revoked
    ledger = EvidenceLedgerClient(client, deployment.address("EvidenceLedger"), build["EvidenceLedger"].abi)
    planted = ledger.anchor(rival, "DELIVERY", keccak(text=app_id), keccak(text=f"forged delivery {app_id}"))

    assert stack.http.get(f"/v1/verify/{certificate['target_hash']}").json()["valid"] is True
    auditor = stack.sign_in(parties.auditor)
    trail = stack.http.get(f"/v1/audit/applications/{app_id}/trail", params={"verify": "true"}, headers=auditor)
    assert trail.status_code == 200, trail.text
    trail = trail.json()
    assert not [s for s in trail["steps"] if s["event"] == "DocumentRevoked"], trail["steps"]
    assert planted.tx_hash not in {s["tx_hash"] for s in trail["steps"]}
    assert not any(s["signer"] == rival.address for s in trail["steps"])
    assert "DocumentIssued" in [s["event"] for s in trail["steps"]] and trail["verified"] is True

    # the CLI, straight from the chain, selects the same: with the references from the platform
    # database, and with them given by hand (the handling agency then read from the consent on chain)
    consent = stack.http.get(f"/v1/applications/{app_id}", headers=me).json()["consent_id"]
    by_hand = ["--consent", consent, "--certificate", certificate["target_hash"], "--certificate", root]
    for extra in ([], by_hand):
        done = runner.invoke(cli, ["audit", "trail", "application", app_id, "--rpc", stack.api.settings.rpc_url, "--json", *extra], env=cli_env(stack))
        assert done.exit_code == 0, done.output
        from_chain = json.loads(done.stdout)
        assert [(s["tx_hash"], s["log_index"]) for s in from_chain["steps"]] == [(s["tx_hash"], s["log_index"]) for s in trail["steps"]], extra
        assert not any(s["signer"] == rival.address for s in from_chain["steps"])


def test_a_tampered_index_is_reported_never_a_500_and_never_silently_dropped(stack, parties, applicant):
    """Issue 16: a changed event name in the index made the trail answer 500 (KeyError in the
    summary); a deleted index row left ``?verify=true`` at verified: true with one step fewer."""
    from sqlalchemy import create_engine, text

    me, application, _ = submitted_application(stack, parties, applicant, citizen=5)
    app_id, auditor = application["id"], stack.sign_in(parties.auditor)
    url = f"/v1/audit/applications/{app_id}/trail"
    honest = stack.http.get(url, params={"verify": "true"}, headers=auditor).json()
    assert honest["verified"] is True
    pull = next(s for s in honest["steps"] if s["event"] == "DataPulled")
    submission = next(s for s in honest["steps"] if s["kind"] == "submission")
    engine = create_engine(stack.api.settings.sqlalchemy_url)
    where = "tx_hash = :tx AND log_index = :log"
    try:
        with engine.begin() as db:
            db.execute(text(f"UPDATE chain_records SET event = 'BidCommitted' WHERE {where}"), {"tx": pull["tx_hash"], "log": pull["log_index"]})
            saved = db.execute(text(f"SELECT * FROM chain_records WHERE {where}"), {"tx": submission["tx_hash"], "log": submission["log_index"]}).mappings().one()
            db.execute(text(f"DELETE FROM chain_records WHERE {where}"), {"tx": submission["tx_hash"], "log": submission["log_index"]})
        plain = stack.http.get(url, headers=auditor)
        assert plain.status_code == 200, plain.text
        renamed = next(s for s in plain.json()["steps"] if s["tx_hash"] == pull["tx_hash"] and s["log_index"] == pull["log_index"])
        assert renamed["event"] == "BidCommitted" and "not" in renamed["summary"]
        checked = stack.http.get(url, params={"verify": "true"}, headers=auditor)
        assert checked.status_code == 200, checked.text
        checked = checked.json()
        assert checked["verified"] is False
        by_position = {(s["tx_hash"], s["log_index"]): s for s in checked["steps"]}
        assert by_position[(pull["tx_hash"], pull["log_index"])]["verified"] is False
        missing = by_position[(submission["tx_hash"], submission["log_index"])]  # re-derived from the chain
        assert missing["verified"] is False and "missing from the index" in missing["verification"]
        assert len(checked["steps"]) == len(honest["steps"])
    finally:
        with engine.begin() as db:
            db.execute(text(f"UPDATE chain_records SET event = 'DataPulled' WHERE {where}"), {"tx": pull["tx_hash"], "log": pull["log_index"]})
            if not db.execute(text(f"SELECT 1 FROM chain_records WHERE {where}"), {"tx": submission["tx_hash"], "log": submission["log_index"]}).first():
                db.execute(text(f"INSERT INTO chain_records ({', '.join(saved)}) VALUES ({', '.join(':' + k for k in saved)})"), dict(saved))
        engine.dispose()
    assert stack.http.get(url, params={"verify": "true"}, headers=auditor).json()["verified"] is True
