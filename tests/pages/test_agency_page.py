"""/agency in a real browser against the real stack: the handling agency signs in with its own
wallet, finds a consented application in its queue, signs the pull requests in the wallet (EIP-712,
one per data category) and sees the pulled data; reviews submitted applications with their
materials, refuses a decision without a reason (failure path: nothing decided), decides two at
once, records the mail steps, revokes a certificate and then a batch, and records the outcome
of a commitment's after-the-fact check."""

from __future__ import annotations

import re

import pytest
from eth_account import Account
from playwright.sync_api import expect

from api.dev import samples
from identity.dev_citizens import demo_citizen
from tests.pages.conftest import Wallet, assert_accessible, screenshot
from tests.support.flows import MAIL, apply_and_verify_face, consent, sign_commitment, submitted_application, upload, wait_issued

pytestmark = [pytest.mark.pages, pytest.mark.slow]


def queue(page, state: str):
    page.select_option("#queue-state", state)
    page.get_by_role("button", name="Show 显示").click()
    expect(page.locator("#queue-section")).to_have_attribute("data-loaded", re.compile(f"^{state}:"))


def row(page, application_id: str):
    return page.locator(f'#queue tr[data-application="{application_id}"]')


def opened(page, application_id: str, state: str):
    expect(page.locator("#detail-id")).to_have_text(application_id)
    # after a pull the page redraws once three signed pulls are logged on chain: seconds on a loaded machine
    expect(page.locator("#detail-section")).to_have_attribute("data-state", state, timeout=30_000)


def test_the_agencys_workbench(page, stack, parties):
    # one applicant has consented (the agency pulls from the page); another has submitted already
    first = Account.create()
    me, application = apply_and_verify_face(stack, first, demo_citizen(8))
    consent(stack, first, me, application["id"])
    second = Account.create()
    _, other, _ = submitted_application(stack, parties, second, citizen=9, delivery=MAIL)
    agency = stack.sign_in(parties.agency)

    wallet = Wallet(page, parties.agency)
    page.goto("/agency")
    page.click("#sign-in")
    expect(page.locator("#address")).to_have_text(parties.agency.address)

    # the pull: each category's request signed in the agency's own wallet
    queue(page, "consented")
    row(page, application["id"]).get_by_role("button", name="打开 Open").click()
    opened(page, application["id"], "consented")
    signed_before = wallet.methods().count("eth_signTypedData_v4")
    page.click("#pull")
    opened(page, application["id"], "data_pulled")
    assert wallet.methods().count("eth_signTypedData_v4") - signed_before == 3  # id card, household register, residence permit
    typed = [params[1] for method, params in wallet.requests if method == "eth_signTypedData_v4"]
    assert all('"primaryType": "PullRequest"' in t or '"primaryType":"PullRequest"' in t for t in typed)
    expect(page.locator("#pulled tr")).to_have_count(3)
    expect(page.locator('#pulled tr[data-category="id_card"]')).to_contain_text(demo_citizen(8)["name"])
    pulls = stack.http.get("/v1/me/data-access", headers=me).json()
    assert {p["requester"] for p in pulls} == {parties.agency.address} and {p["outcome"] for p in pulls} == {"released"}
    assert_accessible(page)
    screenshot(page, "agency-pulled")

    # the applicant finishes (materials, a commitment) and submits
    for response in (
        upload(stack, me, application["id"], "health-exam", samples.png(seed=8), "体检.png"),
        upload(stack, me, application["id"], "mandarin-certificate", samples.pdf("putonghua 8"), "mandarin.pdf"),
        sign_commitment(stack, first, me, application["id"], "education-certificate"),
    ):
        assert response.status_code == 201, response.text
    submitted = stack.http.post(f"/v1/applications/{application['id']}/submit", json={"delivery": MAIL}, headers=me)
    assert submitted.status_code == 200, submitted.text

    # review: the materials, opened for the agency
    queue(page, "submitted")
    expect(row(page, application["id"])).to_be_visible()
    expect(row(page, other["id"])).to_be_visible()
    row(page, application["id"]).get_by_role("button", name="打开 Open").click()
    opened(page, application["id"], "submitted")
    expect(page.locator('#detail-materials tr[data-material="health-exam"]')).to_contain_text("体检.png")
    expect(page.locator('#detail-materials tr[data-material="education-certificate"]')).to_contain_text("告知承诺 commitment")
    link = page.locator('#detail-materials a[data-material="health-exam"]')
    expect(link).to_be_visible()
    with page.expect_download() as download:
        link.click()
    assert open(download.value.path(), "rb").read() == samples.png(seed=8)

    # failure path: a decision without a reason is refused on the page, and nothing is decided
    page.click("#approve")
    expect(page.locator("#error")).to_contain_text("请填写理由")
    expect(page.locator("#error")).to_contain_text("Please give a reason")
    assert stack.http.get(f"/v1/applications/{application['id']}", headers=agency).json()["state"] == "submitted"
    screenshot(page, "agency-no-reason")

    # two decided at once
    for application_id in (application["id"], other["id"]):
        row(page, application_id).locator("input.pick").check()
    page.fill("#bulk-reason", "材料齐全 complete")
    page.click("#bulk-approve")
    expect(page.locator("#bulk-results li[data-status='200']")).to_have_count(2)
    expect(page.locator("#error")).to_be_hidden()
    first_certificate = wait_issued(stack, agency, application["id"])
    second_certificate = wait_issued(stack, agency, other["id"])

    # delivery steps, each anchored
    queue(page, "issued")
    row(page, application["id"]).get_by_role("button", name="打开 Open").click()
    opened(page, application["id"], "issued")
    expect(page.locator("#delivery-address")).to_contain_text("示例路 1 号")
    page.click("#step-printed")
    expect(page.locator('#agency-delivery-events li[data-status="printed"]')).to_be_visible()
    page.click("#step-mailed")  # no tracking number: said, nothing recorded
    expect(page.locator("#error")).to_contain_text("运单号")
    page.fill("#tracking", "SF9876543210")
    page.click("#step-mailed")
    expect(page.locator('#agency-delivery-events li[data-status="mailed"]')).to_contain_text("SF9876543210")
    steps = stack.http.get(f"/v1/applications/{application['id']}/delivery", headers=agency).json()["events"]
    assert [s["status"] for s in steps] == ["printed", "mailed"] and all(s["tx_hash"] for s in steps)

    # revoke one certificate
    expect(page.locator("#certificate-panel")).to_have_attribute("data-state", "issued")
    page.fill("#revoke-reason", "申请材料不实 false statement")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#revoke-one")
    expect(page.locator("#certificate-panel")).to_have_attribute("data-state", "revoked")
    verified = stack.http.get(f"/v1/verify/{first_certificate['target_hash']}").json()
    assert "revoked" in str(verified).lower()
    assert_accessible(page)
    screenshot(page, "agency-revoked")

    # revoke the other's whole batch
    queue(page, "issued")
    row(page, other["id"]).get_by_role("button", name="打开 Open").click()
    opened(page, other["id"], "issued")
    expect(page.locator("#certificate-panel")).to_have_attribute("data-root", second_certificate["merkle_root"])
    page.fill("#revoke-reason", "批次签发有误 batch issued in error")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#revoke-batch")
    expect(page.locator("#certificate-panel")).to_have_attribute("data-state", "revoked")
    assert stack.http.get(f"/v1/certificates/{second_certificate['id']}", headers=agency).json()["state"] == "revoked"

    # the commitments due for their after-the-fact check
    due = page.locator(f'#commitments tr[data-application="{application["id"]}"][data-material="education-certificate"]')
    page.reload()
    expect(due).to_be_visible()
    due.get_by_role("textbox").fill("学信网核验属实 checked with the registry")
    due.get_by_role("button", name="属实 Confirmed").click()
    expect(due).to_have_count(0)
    checked = stack.http.get("/v1/agency/commitments?checked=true", headers=agency).json()
    mine = [c for c in checked if c["application_id"] == application["id"]]
    assert mine and mine[0]["check_outcome"] == "confirmed" and mine[0]["check_tx"]
    screenshot(page, "agency-commitments")


def test_a_non_agency_account_is_told_so(page, stack):
    Wallet(page, Account.create())
    page.goto("/agency")
    page.click("#sign-in")
    expect(page.locator("#error")).to_contain_text("不是办理机构")
    expect(page.locator("#error")).to_contain_text("not a handling agency")
    expect(page.locator("#queue-section")).to_be_hidden()


def test_with_agency_held_keys_the_page_opens_nothing_and_the_agency_signs_its_own_writes(page, stack, parties):
    """GOVCHAIN_AGENCY_KEYS=agency-held (outside dev): the pulls are still signed in the agency's
    wallet, the pulled data stays sealed to the agency's own key (the page says so, the platform
    opened nothing), and a revocation waits for the agency's own signed transaction (202)."""
    from tests.support.flows import issued_application

    applicant = Account.create()
    me, application = apply_and_verify_face(stack, applicant, demo_citizen(12))
    consent(stack, applicant, me, application["id"])
    _, done, _, certificate = issued_application(stack, parties, Account.create(), citizen=13, delivery={"method": "electronic"})
    agency = stack.sign_in(parties.agency)
    settings = stack.api.platform.settings
    settings.agency_keys = "agency-held"
    try:
        wallet = Wallet(page, parties.agency)
        page.goto("/agency")
        page.click("#sign-in")
        queue(page, "consented")
        row(page, application["id"]).get_by_role("button", name="打开 Open").click()
        page.click("#pull")
        opened(page, application["id"], "data_pulled")
        assert wallet.methods().count("eth_signTypedData_v4") == 3
        expect(page.locator("#pulled tr")).to_have_count(3)
        expect(page.locator("#pulled")).to_contain_text("Sealed to your agency's own key")
        expect(page.locator("#pulled")).not_to_contain_text(demo_citizen(12)["name"])
        assert all("sealed_to_agency" in p for p in stack.http.get(f"/v1/applications/{application['id']}/data", headers=agency).json())

        queue(page, "issued")
        row(page, done["id"]).get_by_role("button", name="打开 Open").click()
        opened(page, done["id"], "issued")
        page.fill("#revoke-reason", "测试 test")
        page.once("dialog", lambda dialog: dialog.accept())
        page.click("#revoke-one")
        # the answer comes after the revocation is estimated on chain (CI's loaded machine took over 5 s)
        expect(page.locator("#notice")).to_contain_text("govchain agency sign", timeout=20_000)
        expect(page.locator("#certificate-panel")).to_have_attribute("data-state", "issued")  # nothing done before the agency signs
        assert stack.http.get(f"/v1/certificates/{certificate['id']}", headers=agency).json()["state"] == "issued"
        screenshot(page, "agency-held")
    finally:
        settings.agency_keys = "dev-derived"
