"""Paperless submission to a certificate anyone can verify, end to end over real HTTP on a
real node: materials -> anchored manifest -> review -> approval -> batched issuance -> PDF ->
verified valid by our API, our CLI and OpenAttestation's own oa-verify -> delivery ->
revocation -> all three say revoked."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
import json
import subprocess
import sys
import time
from io import BytesIO
from pathlib import Path

import pytest
from eth_account import Account
from eth_utils import keccak
from pypdf import PdfReader

from identity.dev_citizens import demo_citizen
from identity import manifest, oa
from api.certificates.service import Issuer
from api.dev import samples as files
from tests.support.flows import submitted_application, wait_issued

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def api_verify(stack, document) -> dict:
    response = stack.http.post("/v1/verify", json=document)
    assert response.status_code == 200, response.text
    return response.json()


def cli_verify(stack, tmp_path, document) -> tuple[int, dict]:
    path = tmp_path / "certificate.oa"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "api.cli", "verify", str(path), "--rpc", stack.api.settings.rpc_url,
         "--record", str(stack.api.settings.state_dir / "deployment.json"), "--json"],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip
    assert run.returncode in (0, 1), run.stderr
    return run.returncode, json.loads(run.stdout)


def oa_verify(stack, tmp_path, document) -> dict:
    path = tmp_path / "oa-verify.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    registry = json.loads((stack.api.settings.state_dir / "deployment.json").read_text())["contracts"]["GovRegistry"]["address"]
    run = subprocess.run(
        ["node", str(ROOT / "scripts/oa/verify.mjs"), str(path), "--rpc", stack.api.settings.rpc_url, "--registry", registry],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip
    assert run.returncode in (0, 1), run.stderr
    return json.loads(run.stdout)


def checks(verdict: dict) -> dict[str, bool]:
    return {c["name"]: c["valid"] for c in verdict["checks"]}


@pytest.mark.node  # a smoke run of the flow on every node
def test_submission_issuance_verification_delivery_revocation(stack, parties, applicant, tmp_path):
    me, application, receipt = submitted_application(stack, parties, applicant, citizen=3)
    app_id = application["id"]

    # the receipt: one leaf per material, each proof leads to the anchored root
    assert receipt["root"].startswith("0x") and receipt["tx_hash"].startswith("0x") and receipt["block_time"] > 0
    assert {leaf["material"] for leaf in receipt["leaves"]} == {"health-exam", "mandarin-certificate", "education-certificate"}
    root = bytes.fromhex(receipt["root"][2:])
    for leaf in receipt["leaves"]:
        entry = manifest.Leaf(leaf["material"], leaf["filename"], leaf["mime"], bytes.fromhex(leaf["sha256"]), leaf["application"])
        assert manifest.verify(entry, [bytes.fromhex(p[2:]) for p in leaf["proof"]], root)
    health = next(leaf for leaf in receipt["leaves"] if leaf["material"] == "health-exam")
    assert health["mime"] == "image/png" and health["filename"] == "体检.png"
    ledger = stack.api.platform.contracts.evidence()
    anchored = ledger.anchored_at(root)
    assert anchored is not None and anchored[0] == receipt["block_number"]
    assert stack.http.get(f"/v1/applications/{app_id}/receipt", headers=me).json()["root"] == receipt["root"]

    # the agency reviews: queue, pulled data, materials opened with its key
    agency = stack.sign_in(parties.agency)
    queue = stack.http.get("/v1/agency/applications", headers=agency).json()
    assert app_id in [a["id"] for a in queue]
    bundle = stack.http.get(f"/v1/agency/applications/{app_id}", headers=agency).json()
    assert {p["category"] for p in bundle["pulled"]} == {"id_card", "household_register", "residence_permit"}
    provided = {m["material"]: m["provided"]["kind"] for m in bundle["materials"]}
    assert provided == {"health-exam": "file", "mandarin-certificate": "file", "education-certificate": "commitment"}
    scan = stack.http.get(f"/v1/applications/{app_id}/materials/health-exam/file", headers=agency)
    assert scan.status_code == 200 and scan.content == files.png(seed=3)
    assert stack.http.get(f"/v1/applications/{app_id}/materials/health-exam/file", headers=me).status_code == 403

    # the commitment is due for an after-the-fact check; its outcome is anchored
    due = stack.http.get("/v1/agency/commitments", headers=agency).json()
    mine = next(c for c in due if c["application_id"] == app_id)
    checked = stack.http.post(f"/v1/applications/{app_id}/commitments/education-certificate/check",
                              json={"outcome": "confirmed", "note": "学信网 record found"}, headers=agency)  # fmt: skip
    assert checked.status_code == 200, checked.text
    assert checked.json()["check_outcome"] == "confirmed" and checked.json()["check_tx"].startswith("0x")
    assert ledger.anchored_at(bytes.fromhex(mine["digest"][2:])) is not None
    again = stack.http.post(f"/v1/applications/{app_id}/commitments/education-certificate/check", json={"outcome": "false"}, headers=agency)
    assert again.status_code == 409

    # approval -> batched issuance
    decided = stack.http.post(f"/v1/applications/{app_id}/decision", json={"decision": "approve", "reason": "材料齐全 complete"}, headers=agency)
    assert decided.status_code == 200, decided.text
    assert decided.json()["application"]["state"] == "approved"
    certificate = wait_issued(stack, me, app_id)
    assert certificate["document_store"] == stack.api.platform.contracts.document_store(parties.agency.address)
    assert stack.http.get(f"/v1/applications/{app_id}", headers=me).json()["state"] == "issued"
    document = stack.http.get(f"/v1/certificates/{certificate['id']}/document", headers=me).json()
    assert document["signature"]["type"] == "SHA3MerkleProof"
    assert "0x" + document["signature"]["targetHash"].removeprefix("0x") == certificate["target_hash"]
    data = oa.unsalt(document["data"])
    assert data["recipient"]["name"] == demo_citizen(3)["name"]  # the name the face check bound the application to
    assert data["issuers"][0]["identityProof"] == {"type": "DNS-TXT", "location": "edu.gov.example"}

    # the PDF carries the certificate number and the verification link with the target hash
    rendered = stack.http.get(f"/v1/certificates/{certificate['id']}/pdf", headers=me)
    assert rendered.status_code == 200 and rendered.headers["content-type"] == "application/pdf"
    text = PdfReader(BytesIO(rendered.content)).pages[0].extract_text()
    assert certificate["id"] in text and certificate["target_hash"][2:18] in text.replace("\n", "")
    assert certificate["verify_url"].endswith("targetHash=" + certificate["target_hash"])

    # valid in our API, our CLI and oa-verify; also with a field hidden by obfuscation
    block = stack.api.platform.contracts.store_client(certificate["document_store"]).contract.functions.documentIssued(bytes.fromhex(certificate["merkle_root"][2:])).call()
    verdict = api_verify(stack, document)
    assert verdict == {"valid": True, "checks": [
        {"name": "integrity", "valid": True, "reason": "ok"},
        {"name": "status", "valid": True, "reason": f"issued in {certificate['document_store']} on chain 1337 "
                                                    f"(issued in block {block} by key {parties.agency.address}) and not revoked"},
        {"name": "identity", "valid": True, "reason": "store of 区教育局 (District Education Bureau) (edu.gov.example), an active ISSUER member of GovRegistry"},
    ], "checkedAtBlock": verdict["checkedAtBlock"], "source": verdict["source"]}  # fmt: skip
    assert verdict["checkedAtBlock"] >= block and verdict["source"] in ("index", "chain")
    asked = stack.http.post("/v1/verify?source=chain", json=document).json()
    assert asked["checks"] == verdict["checks"] and asked["source"] == "chain" and asked["checkedAtBlock"] >= verdict["checkedAtBlock"]
    deadline = time.monotonic() + 30  # the API's indexer catches up within its poll (1 s): then the index answers, the same
    while (indexed := api_verify(stack, document))["source"] != "index":
        assert time.monotonic() < deadline, indexed
        time.sleep(0.2)
    assert indexed["checks"] == verdict["checks"] and indexed["checkedAtBlock"] >= block
    assert stack.http.get(f"/v1/verify/{certificate['target_hash']}").json()["valid"] is True
    code, cli = cli_verify(stack, tmp_path, document)
    assert code == 0 and cli["valid"] is True
    assert oa_verify(stack, tmp_path, document)["valid"] is True
    hidden = oa.obfuscate(document, ["recipient.idNumberMasked"])
    assert "idNumberMasked" not in oa.unsalt(hidden["data"])["recipient"]
    assert api_verify(stack, hidden)["valid"] is True and oa_verify(stack, tmp_path, hidden)["valid"] is True

    # an edited document fails integrity everywhere
    tampered = copy.deepcopy(document)
    tampered["data"]["issuedOn"] = tampered["data"]["issuedOn"].rsplit(":", 1)[0] + ":2020-01-01"
    assert checks(api_verify(stack, tampered)) == {"integrity": False, "status": True, "identity": True}
    assert cli_verify(stack, tmp_path, tampered)[0] == 1
    assert "DOCUMENT_TAMPERED" in oa_verify(stack, tmp_path, tampered)["codes"]

    # delivery by mail: printed -> mailed (tracking number) -> delivered, each anchored
    assert stack.http.post(f"/v1/applications/{app_id}/delivery", json={"status": "mailed", "tracking_number": "SF1234567890"}, headers=agency).status_code == 409
    for step in ({"status": "printed"}, {"status": "mailed", "tracking_number": "SF1234567890"}, {"status": "delivered"}):
        done = stack.http.post(f"/v1/applications/{app_id}/delivery", json=step, headers=agency)
        assert done.status_code == 201, done.text
        assert ledger.anchored_at(bytes.fromhex(done.json()["root"][2:])) is not None
    delivery = stack.http.get(f"/v1/applications/{app_id}/delivery", headers=me).json()
    assert [e["status"] for e in delivery["events"]] == ["printed", "mailed", "delivered"]
    assert delivery["address"]["postcode"] == "100000"
    assert stack.http.get(f"/v1/applications/{app_id}", headers=me).json()["state"] == "delivered"

    # revocation: API, CLI and oa-verify all say revoked
    assert stack.http.post(f"/v1/certificates/{certificate['id']}/revoke", json={"reason": "x"}, headers=me).status_code == 403
    revoked = stack.http.post(f"/v1/certificates/{certificate['id']}/revoke", json={"reason": "issued in error 误发"}, headers=agency)
    assert revoked.status_code == 200, revoked.text
    # issue 16: revoked_at came back with a time zone and issued_at (read back from the database) without
    for body in (revoked.json(), stack.http.get(f"/v1/applications/{application['id']}/certificate", headers=me).json()):
        for name in ("issued_at", "revoked_at"):
            assert datetime.fromisoformat(body[name]).utcoffset() == timedelta(0), (name, body[name])
    verdict = api_verify(stack, document)
    assert checks(verdict) == {"integrity": True, "status": False, "identity": True}
    assert "revoked" in verdict["checks"][1]["reason"]
    code, cli = cli_verify(stack, tmp_path, document)
    assert code == 1 and checks(cli)["status"] is False
    assert "DOCUMENT_REVOKED" in oa_verify(stack, tmp_path, document)["codes"]
    assert stack.http.post(f"/v1/certificates/{certificate['id']}/revoke", json={"reason": "again"}, headers=agency).status_code == 409


def test_a_batch_shares_one_root_and_revokes_one_or_all(stack, parties, tmp_path):
    agency = stack.sign_in(parties.agency)
    people = [(Account.create(), citizen) for citizen in (4, 5, 6)]
    submitted = [(account, *submitted_application(stack, parties, account, citizen=citizen, delivery={"method": "electronic"})[:2]) for account, citizen in people]
    issuer = stack.api.platform.workers.of(Issuer)
    issuer.batch_size, issuer.max_wait = 3, 3_600.0  # the three approvals make one batch, however slow the machine
    try:
        for _, _, application in submitted:
            decided = stack.http.post(f"/v1/applications/{application['id']}/decision", json={"decision": "approve", "reason": "ok"}, headers=agency)
            assert decided.status_code == 200, decided.text
        issued = [wait_issued(stack, me, application["id"]) for _, me, application in submitted]
    finally:
        issuer.batch_size, issuer.max_wait = stack.api.settings.issue.batch_size, stack.api.settings.issue.batch_seconds
    assert len({c["merkle_root"] for c in issued}) == 1 and len({c["target_hash"] for c in issued}) == 3
    documents = [stack.http.get(f"/v1/certificates/{c['id']}/document", headers=me).json() for c, (_, me, _) in zip(issued, submitted)]
    assert all(api_verify(stack, d)["valid"] for d in documents)

    first = issued[0]
    assert stack.http.post(f"/v1/certificates/{first['id']}/revoke", json={"reason": "one"}, headers=agency).status_code == 200
    assert [api_verify(stack, d)["valid"] for d in documents] == [False, True, True]
    assert oa_verify(stack, tmp_path, documents[1])["valid"] is True

    batch = stack.http.post(f"/v1/certificate-batches/{first['merkle_root']}/revoke", json={"reason": "all"}, headers=agency)
    assert batch.status_code == 200, batch.text
    assert [api_verify(stack, d)["valid"] for d in documents] == [False, False, False]
    assert "DOCUMENT_REVOKED" in oa_verify(stack, tmp_path, documents[2])["codes"]
    reject_me = Account.create()
    _, rejected, _ = submitted_application(stack, parties, reject_me, citizen=7, delivery={"method": "electronic"})
    no = stack.http.post(f"/v1/applications/{rejected['id']}/decision", json={"decision": "reject", "reason": "体检不合格"}, headers=agency)
    assert no.status_code == 200 and no.json()["application"]["state"] == "rejected" and "certificate" not in no.json()


def test_verify_refuses_what_is_not_a_document(stack):
    assert stack.http.post("/v1/verify", content=b"\xff\xfe not json", headers={"Content-Type": "application/json"}).status_code == 400
    assert stack.http.post("/v1/verify", content=b"x" * (1024 * 1024 + 1), headers={"Content-Type": "application/json"}).status_code == 413
    verdict = api_verify(stack, {"data": {}, "signature": {}})
    assert verdict["valid"] is False and all(not c["valid"] for c in verdict["checks"])
    assert stack.http.get("/v1/verify/0x" + keccak(b"nothing").hex()).status_code == 404
    assert stack.http.get("/v1/verify/not-a-hash").status_code == 422
    unknown_source = stack.http.post("/v1/verify?source=cache", json={"data": {}, "signature": {}})
    assert unknown_source.status_code == 422 and unknown_source.headers["content-type"] == "application/problem+json"
    assert verdict["checkedAtBlock"] is None and verdict["source"] is None  # no signature block: no status read


def test_the_verify_page_is_served_without_any_cdn(stack):
    page = stack.http.get("/verify")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<script src="/static/verify.js">' in page.text and "http" not in page.text.split("<body>")[0].replace("http-equiv", "")
    script = stack.http.get("/static/verify.js")
    assert script.status_code == 200 and "/v1/verify" in script.text
    assert stack.http.get("/static/../app.py").status_code == 404
    assert stack.http.get("/static/nothing.js").status_code == 404
