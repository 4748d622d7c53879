"""Issue 15: the platform held every agency's chain key and opened every pulled record.
With ``GOVCHAIN_AGENCY_KEYS=agency-held`` (required outside dev) the agency signs its pull
requests in its own client (typed data fetched from the API, signed with its own key,
submitted back), the answers stay sealed to the agency's own HPKE key, and the platform
never loads the agency's key for a pull."""

from __future__ import annotations

import base64
import json

import pytest
from eth_account import Account

from identity.dev_citizens import demo_citizen
from identity.keys import hpke_key_for
from identity.pull_request import verify_answer
from identity.sealing import hpke_open
from tests.support.flows import apply_and_verify_face, consent

pytestmark = pytest.mark.slow


@pytest.fixture
def agency_held(stack, parties):
    platform = stack.api.platform
    before = platform.settings.agency_keys
    platform.settings.agency_keys = "agency-held"  # as outside dev
    platform.keyring._keys.pop(parties.agency.address, None)  # whatever earlier tests loaded
    yield platform
    platform.settings.agency_keys = before


def test_the_agency_signs_its_pulls_and_alone_opens_the_answers(stack, parties, agency_held):
    applicant = Account.create()
    me, application = apply_and_verify_face(stack, applicant, demo_citizen(30))
    consent(stack, applicant, me, application["id"])
    agency = stack.sign_in(parties.agency)
    path = f"/v1/applications/{application['id']}"

    unsigned = stack.http.post(path + "/pulls", headers=agency)
    assert unsigned.status_code == 409, unsigned.text  # the platform has no key to sign with
    assert "pull-requests" in unsigned.json()["detail"]

    offered = stack.http.get(path + "/pull-requests", headers=agency)
    assert offered.status_code == 200, offered.text
    requests = offered.json()["requests"]
    assert {r["body"]["category"] for r in requests} == {"id_card", "residence_permit", "household_register"}
    assert [r["body"]["sequence"] for r in requests] == [1, 2, 3]  # the consent's next pull numbers
    signed = [dict(r["body"], signature="0x" + bytes(Account.sign_typed_data(parties.agency.key, full_message=r["typed_data"]).signature).hex())
              for r in requests]  # fmt: skip
    forged = [dict(signed[0], signature="0x" + bytes(Account.sign_typed_data(parties.outsider.key, full_message=requests[0]["typed_data"]).signature).hex())]
    refused = stack.http.post(path + "/pulls", json={"requests": forged}, headers=agency)
    assert refused.status_code == 400 and "not by the agency" in refused.json()["detail"], refused.text

    pulled = stack.http.post(path + "/pulls", json={"requests": signed}, headers=agency)
    assert pulled.status_code == 200, pulled.text
    assert {r["outcome"] for r in pulled.json()["pulls"]} == {"released"} and pulled.json()["state"] == "data_pulled"

    data = stack.http.get(path + "/data", headers=agency).json()
    assert len(data) == 3 and all("data" not in d for d in data)  # the platform could not open them
    opened = []
    for record in data:  # the agency opens them on its side, with its own key
        box = base64.b64decode(record["sealed_to_agency"])
        payload = verify_answer(json.loads(hpke_open(hpke_key_for(parties.agency), box, b"govchain pull " + bytes.fromhex(record["request_id"][2:]))), record["holder"])
        assert payload["consent_id"] == application_consent(stack, me, application["id"]) and payload["request_id"] == record["request_id"]
        opened.append(payload)
    assert any(p["found"] and p["data"] for p in opened)
    assert parties.agency.address not in agency_held.keyring._keys  # never loaded for these pulls


def application_consent(stack, me, application_id) -> str:
    return stack.http.get(f"/v1/applications/{application_id}", headers=me).json()["consent_id"]


def test_a_material_reaches_the_agency_sealed_to_its_own_key(stack, parties, agency_held):
    from api.dev import samples
    from tests.support.flows import upload

    applicant = Account.create()
    me, application = apply_and_verify_face(stack, applicant, demo_citizen(31))
    scan = samples.pdf("health exam 体检表")
    uploaded = upload(stack, me, application["id"], "health-exam", scan, "exam.pdf")
    assert uploaded.status_code == 201, uploaded.text
    read = stack.http.get(f"/v1/applications/{application['id']}/materials/health-exam/file", headers=stack.sign_in(parties.agency))
    assert read.status_code == 200, read.text
    assert read.content != scan and read.headers["content-type"] == "application/octet-stream"  # the platform did not open it
    info = read.headers["x-govchain-hpke-info"].encode()
    assert hpke_open(hpke_key_for(parties.agency), read.content, info) == scan  # the agency does, with its own key
    assert read.headers["x-govchain-mime"] == "application/pdf"
    assert parties.agency.address not in agency_held.keyring._keys


def test_the_agencys_own_client_pulls_with_its_keystore(stack, parties, agency_held, tmp_path, monkeypatch):
    """``govchain agency pull``: the agency's own service, its key in its own keystore."""
    from typer.testing import CliRunner

    from api.cli import app as cli

    keystore = tmp_path / "agency.json"
    keystore.write_text(json.dumps(Account.encrypt(parties.agency.key, "agency keystore pw", kdf="scrypt")))
    monkeypatch.setenv("GOVCHAIN_KEYSTORE_PASSWORD", "agency keystore pw")
    applicant = Account.create()
    citizen = demo_citizen(32)
    me, application = apply_and_verify_face(stack, applicant, citizen)
    consent(stack, applicant, me, application["id"])
    result = CliRunner().invoke(cli, ["agency", "pull", application["id"], "--keystore", str(keystore), "--api", stack.api.url])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["state"] == "data_pulled" and {p["outcome"] for p in out["pulls"]} == {"released"}
    id_card = next(d for d in out["data"] if d["category"] == "id_card")
    assert id_card["data"]["name"] == citizen["name"] and id_card["data"]["id_number"] == citizen["id_number"]  # opened in the client
    assert parties.agency.address not in agency_held.keyring._keys
