"""Steps of the no-visit flow that the end-to-end, security and page tests share, each over
real HTTP against a running stack (:mod:`tests.support.stack`)."""

from __future__ import annotations

import time

from eth_account import Account

from identity.dev_citizens import demo_citizen
from api.dev import samples as files
from identity import pseudonym as pseudonyms


def apply_and_verify_face(stack, applicant, citizen, outcome="pass", code="teacher-qualification-primary"):
    me = stack.sign_in(applicant)
    created = stack.http.post("/v1/applications", json={"code": code}, headers=me)
    assert created.status_code == 201, created.text
    application = created.json()
    started = stack.http.post(
        f"/v1/applications/{application['id']}/face-verification",
        json={"name": citizen["name"], "id_number": citizen["id_number"], "outcome": outcome}, headers=me,
    )  # fmt: skip
    assert started.status_code == 201, started.text
    completed = stack.vendor("POST", f"/v1/sessions/{started.json()['session_id']}/complete")
    assert completed.status_code == 202 and completed.json()["delivered"], completed.text
    return me, stack.http.get(f"/v1/applications/{application['id']}", headers=me).json()


def consent_offer(stack, applicant, me, application_id):
    """The consent terms offered to the applicant's per-consent pseudonym (derived as the /me page does)."""
    first = stack.http.get(f"/v1/applications/{application_id}/consent-terms", headers=me)
    assert first.status_code == 200, first.text
    pseudonym = pseudonyms.from_derivation(applicant.key, first.json()["pseudonym"]).address
    offer = stack.http.get(f"/v1/applications/{application_id}/consent-terms", params={"pseudonym": pseudonym}, headers=me)
    assert offer.status_code == 200, offer.text
    return offer


def consent(stack, applicant, me, application_id):
    offer = consent_offer(stack, applicant, me, application_id)
    body = pseudonyms.sign_consent_offer(applicant.key, offer.json())
    granted = stack.http.post(f"/v1/applications/{application_id}/consent", json=body, headers=me)
    assert granted.status_code == 201, granted.text
    assert granted.json()["consent_id"] == offer.json()["consent_id"]
    return offer.json(), granted.json()


def upload(stack, me, application_id: str, material: str, data: bytes, filename: str = "scan.png"):
    return stack.http.post(f"/v1/applications/{application_id}/materials", data={"material": material}, files={"file": (filename, data)}, headers=me)


def sign_commitment(stack, applicant, me, application_id: str, material: str):
    offer = stack.http.get(f"/v1/applications/{application_id}/commitments/{material}/typed-data", headers=me)
    assert offer.status_code == 200, offer.text
    typed = offer.json()["typed_data"]
    signature = Account.sign_typed_data(applicant.key, full_message=typed).signature
    body = {"material": material, "signed_at": typed["message"]["signedAt"], "signature": "0x" + bytes(signature).hex()}
    return stack.http.post(f"/v1/applications/{application_id}/commitments", json=body, headers=me)


MAIL = {"method": "mail", "address": {"recipient": "测试 张三", "phone": "+86 10 5555 0100", "province": "北京市", "city": "北京市",
                                      "district": "示例区", "line": "示例路 1 号 2 单元 301", "postcode": "100000"}}  # fmt: skip


def submitted_application(stack, parties, applicant, citizen: int = 1, delivery: dict = MAIL) -> tuple[dict, dict, dict]:
    """An application taken through face check, consent, pulls, materials (one by commitment)
    and submission. Returns (applicant headers, application, submission receipt)."""
    me, application = apply_and_verify_face(stack, applicant, demo_citizen(citizen))
    consent(stack, applicant, me, application["id"])
    agency = stack.sign_in(parties.agency)
    pulled = stack.http.post(f"/v1/applications/{application['id']}/pulls", headers=agency)
    assert pulled.status_code == 200, pulled.text
    for response in (
        upload(stack, me, application["id"], "health-exam", files.png(seed=citizen), "体检.png"),
        upload(stack, me, application["id"], "mandarin-certificate", files.pdf(f"putonghua {citizen}"), "mandarin.pdf"),
        sign_commitment(stack, applicant, me, application["id"], "education-certificate"),
    ):
        assert response.status_code == 201, response.text
    receipt = stack.http.post(f"/v1/applications/{application['id']}/submit", json={"delivery": delivery}, headers=me)
    assert receipt.status_code == 200, receipt.text
    return me, application, receipt.json()


def wait_issued(stack, headers, application_id: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        certificate = stack.http.get(f"/v1/applications/{application_id}/certificate", headers=headers)
        assert certificate.status_code == 200, certificate.text
        if certificate.json()["state"] == "issued":
            return certificate.json()
        assert time.monotonic() < deadline, f"not issued within {timeout} s: {certificate.json()}"
        time.sleep(0.1)


def issued_application(stack, parties, applicant, citizen: int, delivery: dict = MAIL, reason: str = "材料齐全 complete") -> tuple[dict, dict, dict, dict]:
    """An application taken to an issued certificate: submitted, approved by the agency,
    batched and anchored. Returns (applicant headers, application, submission receipt, certificate)."""
    me, application, receipt = submitted_application(stack, parties, applicant, citizen=citizen, delivery=delivery)
    decided = stack.http.post(f"/v1/applications/{application['id']}/decision", json={"decision": "approve", "reason": reason}, headers=stack.sign_in(parties.agency))
    assert decided.status_code == 200, decided.text
    return me, application, receipt, wait_issued(stack, me, application["id"])
