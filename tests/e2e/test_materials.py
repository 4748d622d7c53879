"""Bad uploads are refused with a clear 4xx and leave nothing behind: no row, no blob."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import pytest
from eth_account import Account

from identity.dev_citizens import demo_citizen
from api.dev import samples as files
from tests.support.flows import upload
from tests.support.flows import apply_and_verify_face, consent

pytestmark = pytest.mark.slow


def blobs(stack) -> list[str]:
    root = stack.api.settings.state_dir / "blobs"
    return sorted(str(p) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def provided(stack, me, application_id) -> dict:
    listing = stack.http.get(f"/v1/applications/{application_id}/materials", headers=me).json()
    return {m["material"]: m["provided"] for m in listing}


@pytest.fixture
def draft(stack, applicant):
    me = stack.sign_in(applicant)
    created = stack.http.post("/v1/applications", json={"code": "teacher-qualification-primary"}, headers=me)
    assert created.status_code == 201, created.text
    return me, created.json()["id"]


BAD = [
    ("html-named-pdf", "mandarin-certificate", b"<!doctype html><html><body>not a pdf</body></html>", "cert.pdf", 415, "type"),
    ("zip", "health-exam", b"PK\x03\x04" + b"\0" * 200, "scan.png", 415, "type"),
    ("truncated-png", "health-exam", files.png()[:-7], "scan.png", 422, "truncated"),
    ("truncated-pdf", "mandarin-certificate", files.pdf()[:-300], "cert.pdf", 422, "truncated"),
    ("truncated-jpeg", "health-exam", files.jpeg()[:-2], "scan.jpg", 422, "truncated"),
    ("empty", "health-exam", b"", "scan.png", 422, "empty"),
    ("unknown-material", "passport", files.png(), "scan.png", 400, "no material"),
    ("too-big", "health-exam", files.png() + b"\0" * 5_000_001, "scan.png", 413, "limited"),
]


@pytest.mark.parametrize(("name", "material", "data", "filename", "status", "words"), BAD, ids=[b[0] for b in BAD])
def test_bad_upload_is_refused_and_leaves_nothing(stack, draft, name, material, data, filename, status, words):
    me, application_id = draft
    before = blobs(stack)
    response = upload(stack, me, application_id, material, data, filename)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert words in response.json()["detail"].lower()
    assert blobs(stack) == before
    assert all(p is None for p in provided(stack, me, application_id).values())


def test_twice_is_refused_until_deleted_and_names_cannot_escape(stack, draft, applicant):
    me, application_id = draft
    first = upload(stack, me, application_id, "health-exam", files.png(seed=9), "../../etc/passwd.png")
    assert first.status_code == 201, first.text
    assert first.json()["filename"] == "passwd.png" and first.json()["mime"] == "image/png"
    stored = blobs(stack)
    twice = upload(stack, me, application_id, "health-exam", files.png(seed=10), "again.png")
    assert twice.status_code == 409 and blobs(stack) == stored
    other = Account.create()
    assert upload(stack, stack.sign_in(other), application_id, "health-exam", files.png(), "x.png").status_code == 403
    assert stack.http.delete(f"/v1/applications/{application_id}/materials/health-exam", headers=me).status_code == 204
    assert len(blobs(stack)) == len(stored) - 1
    assert upload(stack, me, application_id, "health-exam", files.jpeg(), "photo.jpg").status_code == 201
    assert provided(stack, me, application_id)["health-exam"]["mime"] == "image/jpeg"


def test_malformed_forms_are_refused(stack, draft):
    me, application_id = draft
    before = blobs(stack)
    url = f"/v1/applications/{application_id}/materials"
    assert stack.http.post(url, content=files.png(), headers={**me, "Content-Type": "image/png"}).status_code == 400
    no_file = stack.http.post(url, data={"material": "health-exam"}, files={"other": ("a.png", files.png())}, headers=me)
    assert no_file.status_code == 400 and "file" in no_file.json()["detail"]
    broken = stack.http.post(url, content=b'--x\r\nContent-Disposition: form-data; name="file"\r\n\r\nabc', headers={**me, "Content-Type": "multipart/form-data; boundary=x"})
    assert broken.status_code == 400
    assert blobs(stack) == before


def test_an_interrupted_upload_leaves_nothing(stack, draft):
    me, application_id = draft
    before = blobs(stack)
    body = b'--b\r\nContent-Disposition: form-data; name="material"\r\n\r\nhealth-exam\r\n--b\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\n' + files.png()
    url = urlsplit(stack.api.url)
    with socket.create_connection((url.hostname, url.port)) as sock:
        head = (f"POST /v1/applications/{application_id}/materials HTTP/1.1\r\nHost: {url.netloc}\r\n"
                f"Authorization: {me['Authorization']}\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                f"Content-Length: {len(body) + 100_000}\r\n\r\n")  # fmt: skip
        sock.sendall(head.encode() + body)
        time.sleep(0.3)
    time.sleep(0.5)
    assert blobs(stack) == before
    assert provided(stack, me, application_id)["health-exam"] is None


def test_submit_refuses_missing_materials_and_anchors_nothing(stack, parties, applicant):
    me, application = apply_and_verify_face(stack, applicant, demo_citizen(8))
    consent(stack, applicant, me, application["id"])
    agency = stack.sign_in(parties.agency)
    assert stack.http.post(f"/v1/applications/{application['id']}/pulls", headers=agency).status_code == 200
    assert upload(stack, me, application["id"], "health-exam", files.png(), "scan.png").status_code == 201
    refused = stack.http.post(f"/v1/applications/{application['id']}/submit", json={"delivery": {"method": "electronic"}}, headers=me)
    assert refused.status_code == 400
    assert refused.json()["missing"] == ["mandarin-certificate", "education-certificate"]
    after = stack.http.get(f"/v1/applications/{application['id']}", headers=me).json()
    assert after["state"] == "data_pulled"
    assert stack.http.get(f"/v1/applications/{application['id']}/receipt", headers=me).status_code == 404
    no_address = stack.http.post(f"/v1/applications/{application['id']}/submit", json={"delivery": {"method": "mail"}}, headers=me)
    assert no_address.status_code == 422
    not_allowed = stack.http.get(f"/v1/applications/{application['id']}/commitments/health-exam/typed-data", headers=me)
    assert not_allowed.status_code == 400 and "commitment" in not_allowed.json()["detail"]


def _submitted_with_template_files(stack, parties, applicant, citizen: int) -> dict:
    """An application whose every material is a file that anyone else might upload too."""
    me, application = apply_and_verify_face(stack, applicant, demo_citizen(citizen))
    consent(stack, applicant, me, application["id"])
    assert stack.http.post(f"/v1/applications/{application['id']}/pulls", headers=stack.sign_in(parties.agency)).status_code == 200
    for material, data, name in (("health-exam", files.png(seed=99), "体检表模板.png"), ("mandarin-certificate", files.pdf("template"), "模板.pdf"),
                                 ("education-certificate", files.pdf("template 2"), "学历模板.pdf")):  # fmt: skip
        assert upload(stack, me, application["id"], material, data, name).status_code == 201
    submitted = stack.http.post(f"/v1/applications/{application['id']}/submit", json={"delivery": {"method": "electronic"}}, headers=me)
    assert submitted.status_code == 200, submitted.text
    return submitted.json()


def test_the_same_files_in_two_applications_are_both_anchored_and_a_reapplication_works(stack, parties, applicant):
    """Issue 16: leaves carried no application id and the outbox intent key was the root, so a second
    application with the same files (a re-application after a rejection included) got 409 forever."""
    first = _submitted_with_template_files(stack, parties, applicant, citizen=6)
    rejected = stack.http.post(f"/v1/applications/{first['application_id']}/decision", json={"decision": "reject", "reason": "照片不清晰"},
                               headers=stack.sign_in(parties.agency))  # fmt: skip
    assert rejected.status_code == 200, rejected.text
    again = _submitted_with_template_files(stack, parties, applicant, citizen=6)  # the same person, the same files
    assert again["application_id"] != first["application_id"] and again["root"] != first["root"]
    assert again["tx_hash"] != first["tx_hash"]
    other = _submitted_with_template_files(stack, parties, Account.create(), citizen=7)  # another person, the same files
    assert other["root"] not in (first["root"], again["root"])
    for receipt in (first, again, other):
        assert {leaf["application"] for leaf in receipt["leaves"]} == {receipt["application_id"]}
