"""No-visit approval end to end: face check -> consent -> pulls -> the applicant sees every
access; then revocation -> the next pull is refused and nothing is released."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from eth_account import Account

from chain.deploy import RECORD_NAME
from identity.dev_citizens import demo_citizen
from identity import pseudonym as pseudonyms
from tests.support.flows import apply_and_verify_face, consent

pytestmark = pytest.mark.slow


@pytest.mark.node  # a smoke run of the flow on every node
def test_face_check_consent_pulls_tracker_then_revocation(stack, parties, applicant):
    citizen = demo_citizen(1)  # registered locally: has a household register, no residence permit
    me, application = apply_and_verify_face(stack, applicant, citizen)
    assert application["state"] == "face_verified" and application["face_decision"] == "passed"
    assert application["face_check_ref"].startswith("0x")

    offer, granted = consent(stack, applicant, me, application["id"])
    assert offer["scope"]["id_card"] == ["birth_date", "id_number", "name", "sex", "valid_until"]
    assert granted["state"] == "consented"

    agency = stack.sign_in(parties.agency)
    pulled = stack.http.post(f"/v1/applications/{application['id']}/pulls", headers=agency)
    assert pulled.status_code == 200, pulled.text
    results = {r["category"]: r for r in pulled.json()["pulls"]}
    assert {c: r["outcome"] for c, r in results.items()} == {"household_register": "released", "id_card": "released", "residence_permit": "released"}, results
    assert results["residence_permit"]["found"] is False and results["id_card"]["found"] is True
    assert pulled.json()["state"] == "data_pulled"

    data = {d["category"]: d for d in stack.http.get(f"/v1/applications/{application['id']}/data", headers=agency).json()}
    assert data["id_card"]["data"] == {k: citizen["id_card"][k] for k in offer["scope"]["id_card"]}
    assert "address" not in data["id_card"]["data"]  # data minimisation: only the consented attributes
    assert stack.http.get(f"/v1/applications/{application['id']}/data", headers=me).status_code == 403

    access = stack.http.get("/v1/me/data-access", headers=me).json()
    assert [a["outcome"] for a in access] == ["released"] * 3
    psb = next(a for a in access if a["category"] == "id_card")
    assert psb["requester"] == parties.agency.address and psb["holder"] == parties.holder_psb.address
    assert psb["requester_name"].startswith("区教育局") and psb["purposes"] == ["小学教师资格认定"]
    assert psb["tx_hash"] == results["id_card"]["tx_hash"] and psb["at"] > 0

    consent_id = granted["consent_id"]
    revocation = stack.http.get(f"/v1/me/consents/{consent_id}/revocation", headers=me).json()
    wallet_signed = "0x" + bytes(Account.sign_typed_data(applicant.key, full_message=revocation["typed_data"]).signature).hex()
    refused = stack.http.post(f"/v1/me/consents/{consent_id}/revocation", json={"deadline": revocation["deadline"], "signature": wallet_signed}, headers=me)
    assert refused.status_code == 400 and "pseudonym" in refused.json()["detail"]  # the wallet is not the consent's applicant on chain
    signature = pseudonyms.sign_revocation_offer(applicant.key, revocation)
    revoked = stack.http.post(f"/v1/me/consents/{consent_id}/revocation", json={"deadline": revocation["deadline"], "signature": signature}, headers=me)
    assert revoked.status_code == 200, revoked.text
    (mine,) = stack.http.get("/v1/me/consents", headers=me).json()
    assert mine["state"] == "revoked" and mine["pulls"] == 3

    again = stack.http.post(f"/v1/applications/{application['id']}/pulls", headers=agency)
    assert again.status_code == 200, again.text
    assert {r["outcome"] for r in again.json()["pulls"]} == {"refused"}
    assert {r["reason"] for r in again.json()["pulls"]} == {"revoked"}
    assert len(stack.http.get(f"/v1/applications/{application['id']}/data", headers=agency).json()) == 3  # nothing new
    access = stack.http.get("/v1/me/data-access", headers=me).json()
    assert [a["outcome"] for a in access] == ["released"] * 3 + ["refused"] * 3
    assert {a["reason"] for a in access[3:]} == {"revoked"}


def test_demo_runs_the_whole_path(stack, parties, tmp_path):
    from io import StringIO

    from rich.console import Console

    from api.dev.demo import run_no_visit

    out = StringIO()
    info = {"api": stack.api.url, "vendor": stack.services.vendor.url, "vendor_api_key": stack.api.settings.secret("face_vendor_api_key")}
    summary = run_no_visit(info, parties.agency, Console(file=out, width=200), citizen_index=9, demo_dir=tmp_path)
    text = out.getvalue()
    assert summary["refused_after_revocation"] is True and summary["certificate_valid"] is True
    # consent, three pulls, revocation, commitment, manifest, issue
    assert len([t for t in summary["transactions"] if t]) == 8
    for step in ("1. sign-in", "3. face check", "4. consent", "5. pull", "what the applicant sees", "7. revoke", "8. pull again",
                 "9. upload", "9. commitment", "10. submit", "11. issue", "12. verify"):  # fmt: skip
        assert step in text
    assert (tmp_path / f"{summary['certificate_id']}.oa").exists() and (tmp_path / f"{summary['certificate_id']}.pdf").read_bytes().startswith(b"%PDF")
    assert "revoked" in text and "VALID: integrity ok, status ok, identity ok" in text
    # the certificate it wrote, checked straight against the chain by `govchain verify` (no platform)
    record = stack.api.settings.state_dir / RECORD_NAME
    checked = subprocess.run([sys.executable, "-m", "api.cli", "verify", str(tmp_path / f"{summary['certificate_id']}.oa"), "--rpc", stack.api.settings.rpc_url,
                              "--record", str(record)], capture_output=True, text=True, timeout=120)  # fmt: skip
    assert checked.returncode == 0 and "VALID" in checked.stdout, checked.stdout + checked.stderr
    # issue 16: the demo threw the applicant's key away, so nobody could open /me for it afterwards
    key_file = Path(summary["applicant_key_file"])
    assert key_file.parent == tmp_path and str(key_file) in text.replace("\n", "") and key_file.stat().st_mode & 0o077 == 0
    kept = Account.from_key(key_file.read_text().strip())
    mine = stack.http.get(f"/v1/applications/{summary['application_id']}", headers=stack.sign_in(kept))  # the applicant's own
    assert mine.status_code == 200 and mine.json()["applicant"] == kept.address, mine.text
    assert stack.http.get("/v1/me/consents", headers=stack.sign_in(kept)).json()


def test_the_chain_does_not_tell_the_matter(stack, parties, client, deployment):
    """Issue 15: the unsalted scope hash, with the pull budget and the window length, named the
    matter of a consent against the public catalog. On chain now: a salted scope hash, and the
    handling agency's one window and budget for every matter it handles."""
    from api.catalog import load_catalog, merged_scope
    from chain.consents import ConsentRegistryClient
    from identity.eip712 import scope_digest

    catalog = load_catalog()
    contract = ConsentRegistryClient(client, deployment.address("ConsentRegistry"), deployment.contracts["ConsentRegistry"]["abi"]).contract
    seen = {}
    for n, code in enumerate(("teacher-qualification-kindergarten", "teacher-qualification-primary")):
        applicant = Account.create()
        me, application = apply_and_verify_face(stack, applicant, demo_citizen(20 + n), code=code)
        _, granted = consent(stack, applicant, me, application["id"])
        (event,) = contract.events.ConsentGranted.get_logs(from_block=0, argument_filters={"consentId": bytes.fromhex(granted["consent_id"][2:])})
        args = event["args"]
        guesses = {scope_digest(merged_scope([m])) for m in catalog.matter} | {scope_digest(merged_scope([catalog.matters[c] for c in s.matters])) for s in catalog.scene}
        assert bytes(args["scopeHash"]) not in guesses, f"the scope hash of {code} is the catalog's: the matter is named on chain"
        seen[code] = (args["expiresAt"] - args["notBefore"], args["maxPulls"])
    assert len(set(seen.values())) == 1, seen
