"""/apply in a real browser against the real stack: a new applicant chooses a matter, does the face
check at the vendor stand-in's own page and comes back, reads the consent in plain words beside
the exact EIP-712 terms and signs it (pseudonym derived in the page), uploads materials (one by
drag and drop) and signs a commitment, submits for mail delivery, and follows the application to
the issued certificate (.oa, PDF, QR link) and each mail step. Failure paths: a file of the wrong
type (refused before upload, nothing stored), a face check that does not pass, expired terms."""

from __future__ import annotations

import base64
import json
import re

import pytest
from eth_account import Account
from playwright.sync_api import expect

from api.dev import samples
from identity.dev_citizens import demo_citizen
from tests.pages.conftest import Wallet, assert_accessible, screenshot
from tests.support.flows import apply_and_verify_face, wait_issued

pytestmark = [pytest.mark.pages, pytest.mark.slow]

MATTER = "teacher-qualification-primary"


def signed_in(page, account, path="/apply") -> Wallet:
    wallet = Wallet(page, account)
    page.goto(path)
    page.click("#sign-in")
    expect(page.locator("#address")).to_have_text(account.address)
    return wallet


def state_is(page, state: str):
    expect(page.locator("#application-section")).to_have_attribute("data-state", state)


def material(page, code: str):
    return page.locator(f'#materials .material[data-material="{code}"]')


def drop_file(page, code: str, data: bytes, name: str, mime: str):
    page.evaluate(
        """([code, b64, name, mime]) => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, { type: mime }));
            const zone = document.querySelector(`#materials .material[data-material="${code}"] .drop`);
            zone.dispatchEvent(new DragEvent("dragover", { dataTransfer: transfer, bubbles: true, cancelable: true }));
            zone.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
        }""",
        [code, base64.b64encode(data).decode(), name, mime],
    )


def test_the_applicants_whole_journey(page, stack, parties):
    applicant, citizen = Account.create(), demo_citizen(5)
    wallet = signed_in(page, applicant)
    agency = stack.sign_in(parties.agency)

    # the catalog: what will be pulled, from whom and why, in plain words
    card = page.locator(f'#catalog li[data-code="{MATTER}"]')
    for text in ("小学教师资格认定", "区教育局", "身份证 ID card", "户籍 household register", "区公安分局", "居住证管理中心", "Why", "体检合格证明"):
        expect(card).to_contain_text(text)
    expect(page.locator("#no-applications")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "apply-catalog")
    card.get_by_role("button", name="申请此事项 Apply for this").click()
    state_is(page, "draft")
    application_id = page.locator("#application-id").inner_text()
    assert page.url.endswith(f"/apply?application={application_id}")

    # the face check: the vendor stand-in's own page, and back
    page.fill("#face-name", citizen["name"])
    page.fill("#face-id", citizen["id_number"])
    expect(page.locator("#face-outcome")).to_be_visible()  # dev: the stand-in's simulated outcome
    page.select_option("#face-outcome", "pass")
    page.click("#face-start")
    page.wait_for_url(re.compile(re.escape(stack.services.vendor.url) + r"/liveness/ses_"))
    expect(page.locator("body")).to_contain_text("no camera")
    screenshot(page, "apply-face-vendor")
    page.get_by_role("button", name=re.compile("Complete the check")).click()
    page.wait_for_url(f"{stack.api.url}/apply?application={application_id}")
    state_is(page, "face_verified")

    # the consent: plain words beside the exact EIP-712 terms; pseudonym derived in the page
    page.click("#consent-load")
    expect(page.locator("#consent-terms")).to_be_visible()
    assert wallet.methods()[-1] == "personal_sign", wallet.requests
    assert bytes.fromhex(wallet.requests[-1][1][0][2:]).decode().startswith("govchain: derive my consent pseudonyms."), wallet.requests
    plain = page.locator("#consent-plain")
    for text in ("区教育局", "小学教师资格认定", "身份证 ID card", "姓名 name", "身份证号 ID number", "At most"):
        expect(plain).to_contain_text(text)
    typed = json.loads(page.locator("#consent-typed").inner_text())
    assert typed["primaryType"] == "Consent" and typed["message"]["agency"].lower() == parties.agency.address.lower()
    assert typed["message"]["applicant"].lower() != applicant.address.lower()  # a pseudonym on chain, not the wallet
    assert_accessible(page)
    screenshot(page, "apply-consent")
    page.click("#consent-sign")
    state_is(page, "consented")
    assert wallet.methods()[-1] == "eth_signTypedData_v4"  # the wallet signed the pseudonym link; the pseudonym signed the terms in the page
    consent = stack.http.get(f"/v1/applications/{application_id}", headers=agency).json()
    assert consent["state"] == "consented" and consent["consent_id"] == stack.http.get("/v1/me/consents", headers=stack.sign_in(applicant)).json()[0]["consent_id"]
    expect(page.locator("#submit-wait")).to_be_visible()
    expect(page.locator("#submit-button")).to_be_disabled()

    # the agency pulls (its own journey is /agency); the applicant's page follows
    pulled = stack.http.post(f"/v1/applications/{application_id}/pulls", headers=agency)
    assert pulled.status_code == 200 and {p["outcome"] for p in pulled.json()["pulls"]} == {"released"}, pulled.text
    page.reload()
    state_is(page, "data_pulled")

    # a wrong file is refused before upload, said in both languages, and nothing is stored
    uploads = []
    page.on("request", lambda r: r.method == "POST" and "/materials" in r.url and uploads.append(r.url))
    page.set_input_files("#file-health-exam", files=[{"name": "体检.png", "mimeType": "image/png", "buffer": b"this is text, not a PNG"}])
    expect(page.locator("#error")).to_contain_text("文件类型不符")
    expect(page.locator("#error")).to_contain_text("Wrong file type")
    screenshot(page, "apply-wrong-type")
    assert uploads == []
    listing = stack.http.get(f"/v1/applications/{application_id}/materials", headers=agency).json()
    assert all(m["provided"] is None for m in listing)

    # materials: one chosen, one dropped, one replaced by a signed commitment
    page.set_input_files("#file-health-exam", files=[{"name": "体检.png", "mimeType": "image/png", "buffer": samples.png(seed=5)}])
    expect(material(page, "health-exam")).to_have_attribute("data-provided", "file")
    expect(page.locator("#error")).to_be_hidden()
    drop_file(page, "mandarin-certificate", samples.pdf("putonghua 5"), "mandarin.pdf", "application/pdf")
    expect(material(page, "mandarin-certificate")).to_have_attribute("data-provided", "file")
    assert len(uploads) == 2
    texts = []
    page.once("dialog", lambda dialog: (texts.append(dialog.message), dialog.accept()))
    material(page, "education-certificate").get_by_role("button", name=re.compile("Sign a commitment")).click()
    expect(material(page, "education-certificate")).to_have_attribute("data-provided", "commitment")
    assert "本人承诺已取得《学历证书》" in texts[0]
    assert wallet.methods()[-1] == "eth_signTypedData_v4"
    assert_accessible(page)
    screenshot(page, "apply-materials")

    # submission with mail delivery
    page.get_by_label("邮寄纸质证书 Mail the paper certificate").check()
    for field, value in (("recipient", citizen["name"]), ("phone", "+86 10 5555 0100"), ("province", "北京市"), ("city", "北京市"),
                         ("district", "示例区"), ("line", "示例路 1 号"), ("postcode", "100000")):  # fmt: skip
        page.fill(f"#mail-{field}", value)
    page.click("#submit-button")
    state_is(page, "submitted")
    receipt = stack.http.get(f"/v1/applications/{application_id}/receipt", headers=agency).json()
    expect(page.locator("#receipt-root")).to_have_text(receipt["root"][:8] + "…" + receipt["root"][-4:])
    expect(page.locator("#status-text")).to_contain_text("Waiting for the agency")

    # the agency approves; the page shows the issued certificate and its files
    decided = stack.http.post(f"/v1/applications/{application_id}/decision", json={"decision": "approve", "reason": "材料齐全 complete"}, headers=agency)
    assert decided.status_code == 200, decided.text
    certificate = wait_issued(stack, agency, application_id)
    page.click("#status-refresh")
    expect(page.locator("#certificate-box")).to_have_attribute("data-state", "issued")
    expect(page.locator("#status-text")).to_contain_text("材料齐全 complete")
    with page.expect_download() as oa:
        page.click("#download-oa")
    assert oa.value.suggested_filename == f"{certificate['id']}.oa"
    document = stack.http.get(f"/v1/certificates/{certificate['id']}/document", headers=agency).json()
    assert json.loads(open(oa.value.path(), encoding="utf-8").read()) == document
    with page.expect_download() as pdf:
        page.click("#download-pdf")
    assert open(pdf.value.path(), "rb").read().startswith(b"%PDF")
    assert page.locator("#verify-link").get_attribute("href") == certificate["verify_url"]

    # each mail-tracking step
    for step in ({"status": "printed"}, {"status": "mailed", "tracking_number": "SF1234567890"}):
        recorded = stack.http.post(f"/v1/applications/{application_id}/delivery", json=step, headers=agency)
        assert recorded.status_code == 201, recorded.text
    page.click("#status-refresh")
    expect(page.locator("#delivery-events li[data-status]")).to_have_count(2)
    expect(page.locator('#delivery-events li[data-status="mailed"]')).to_contain_text("SF1234567890")
    assert_accessible(page)
    screenshot(page, "apply-status")

    # and the application is listed as the applicant's own
    page.goto("/apply")
    expect(page.locator(f'#applications tr[data-application="{application_id}"]')).to_have_attribute("data-state", "issued")


def test_a_face_check_that_fails_is_said_and_can_be_tried_again(page, stack):
    applicant, citizen = Account.create(), demo_citizen(6)
    signed_in(page, applicant)
    page.locator(f'#catalog li[data-code="{MATTER}"]').get_by_role("button", name="申请此事项 Apply for this").click()
    state_is(page, "draft")
    page.fill("#face-name", citizen["name"])
    page.fill("#face-id", citizen["id_number"])
    page.select_option("#face-outcome", "identity_mismatch")
    page.click("#face-start")
    page.get_by_role("button", name=re.compile("Complete the check")).click()
    expect(page.locator("#face-result")).to_contain_text("人脸核验未通过")
    expect(page.locator("#face-result")).to_contain_text("did not pass")
    state_is(page, "draft")
    expect(page.locator("#face-start")).to_be_enabled()  # another try is offered
    screenshot(page, "apply-face-failed")


def test_expired_consent_terms_are_not_signed(page, stack):
    applicant = Account.create()
    me, application = apply_and_verify_face(stack, applicant, demo_citizen(7))
    wallet = signed_in(page, applicant, f"/apply?application={application['id']}")
    state_is(page, "face_verified")
    page.click("#consent-load")
    expect(page.locator("#consent-terms")).to_be_visible()
    deadline = json.loads(page.locator("#consent-typed").inner_text())["message"]["deadline"]
    page.clock.set_fixed_time(deadline + 60)  # the applicant came back after the signing window
    signatures = len(wallet.requests)
    page.click("#consent-sign")
    expect(page.locator("#error")).to_contain_text("授权条款已过期")
    expect(page.locator("#error")).to_contain_text("expired")
    screenshot(page, "apply-consent-expired")
    assert len(wallet.requests) == signatures  # the wallet was not asked for anything
    assert stack.http.get(f"/v1/applications/{application['id']}", headers=me).json()["state"] == "face_verified"
    assert stack.http.get("/v1/me/consents", headers=me).json() == []
