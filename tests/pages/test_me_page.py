"""/me in a real browser: the applicant signs in through their wallet (EIP-4361), sees their
consent and every access to their data after a real no-visit flow, revokes the consent from
the page (EIP-712, signed in the wallet), and then sees the refused pulls."""

from __future__ import annotations

import pytest
from eth_account import Account
from playwright.sync_api import expect

from chain.config import Environment
from identity.dev_citizens import demo_citizen
from tests.support.flows import apply_and_verify_face, consent
from tests.pages.conftest import Wallet, screenshot

pytestmark = [pytest.mark.pages, pytest.mark.slow]

CATEGORIES = 3  # id card, household register, residence permit


@pytest.fixture(scope="module")
def consented(stack, parties):
    """An applicant whose consent the agency has used: three pulls, all released."""
    applicant = Account.create()
    me, application = apply_and_verify_face(stack, applicant, demo_citizen(4))
    _, granted = consent(stack, applicant, me, application["id"])
    pulled = stack.http.post(f"/v1/applications/{application['id']}/pulls", headers=stack.sign_in(parties.agency))
    assert pulled.status_code == 200, pulled.text
    assert {p["outcome"] for p in pulled.json()["pulls"]} == {"released"}
    return applicant, application, granted["consent_id"], [p["tx_hash"] for p in pulled.json()["pulls"]]


def signed_in(page, stack, applicant) -> Wallet:
    wallet = Wallet(page, applicant)
    page.goto("/me")
    expect(page.locator("#signed-out")).to_be_visible()
    page.click("#sign-in")
    expect(page.locator("#address")).to_have_text(applicant.address)
    return wallet


def test_me_shows_consents_and_every_access_then_the_revocation(page, stack, parties, consented):
    applicant, application, consent_id, pull_txs = consented
    wallet = signed_in(page, stack, applicant)

    # sign-in went through the wallet: an EIP-4361 message for this site, signed by the wallet only
    assert wallet.methods() == ["eth_requestAccounts", "personal_sign"]
    message = bytes.fromhex(wallet.requests[1][1][0][2:]).decode()
    assert message.startswith(f"{stack.api.settings.public_domain} wants you to sign in with your Ethereum account:\n{applicant.address}\n")
    stored = page.evaluate("JSON.parse(sessionStorage.getItem('govchain.session'))")
    assert set(stored) == {"token", "address", "roles", "expires_at"} and stored["address"] == applicant.address  # a token, no key

    row = page.locator(f'#consents tr[data-consent="{consent_id}"]')
    expect(row).to_have_attribute("data-state", "active")
    expect(row).to_contain_text("有效 active")
    expect(row).to_contain_text("小学教师资格认定")
    expect(row).to_contain_text("区教育局")
    expect(row).to_contain_text(f"{CATEGORIES} / ")
    released = page.locator('#access tr[data-outcome="released"]')
    expect(released).to_have_count(CATEGORIES)
    assert {released.nth(i).get_attribute("data-tx") for i in range(CATEGORIES)} == set(pull_txs)
    first = released.first
    for text in ("小学教师资格认定", "区教育局", "your consent", "已提供 released"):  # purpose, who asked, legal basis, outcome
        expect(first).to_contain_text(text)
    holders = page.locator("#access tr td:nth-child(5)").all_inner_texts()
    assert len(set(holders)) == 2, holders  # two data holders served
    screenshot(page, "me")

    # revoke from the page: the wallet signs the EIP-712 revocation, the relayer records it
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Revoke 撤回").click()
    expect(row).to_have_attribute("data-state", "revoked")
    expect(row).to_contain_text("已撤回 revoked")
    assert wallet.methods()[-1] == "personal_sign"  # the root of the pseudonym key, derived in the page
    assert bytes.fromhex(wallet.requests[-1][1][0][2:]).decode().startswith("govchain: derive my consent pseudonyms.")
    assert stack.http.get("/v1/me/consents", headers=stack.sign_in(applicant)).json()[0]["state"] == "revoked"

    # the agency tries again: every pull is refused, and the page shows why
    again = stack.http.post(f"/v1/applications/{application['id']}/pulls", headers=stack.sign_in(parties.agency))
    assert again.status_code == 200 and {p["outcome"] for p in again.json()["pulls"]} == {"refused"}, again.text
    page.click("#refresh")
    refused = page.locator('#access tr[data-outcome="refused"]')
    expect(refused).to_have_count(CATEGORIES)
    expect(refused.first).to_contain_text("已拒绝 refused")
    expect(refused.first).to_contain_text("revoked")
    expect(page.locator('#access tr[data-outcome="released"]')).to_have_count(CATEGORIES)
    screenshot(page, "me-revoked")

    # the token lives in sessionStorage: a reload needs no new signature; signing out forgets it
    calls = len(wallet.requests)
    page.reload()
    expect(page.locator('#access tr[data-outcome="refused"]')).to_have_count(CATEGORIES)
    assert len(wallet.requests) == calls
    page.click("#sign-out")
    expect(page.locator("#consents-section")).to_be_hidden()
    assert page.evaluate("sessionStorage.getItem('govchain.session')") is None


def test_me_opens_a_consents_receipt(page, stack, consented):
    applicant, _, consent_id, _ = consented
    signed_in(page, stack, applicant)
    page.locator(f'#consents tr[data-consent="{consent_id}"]').get_by_role("button", name="Receipt 凭证").click()
    expect(page.locator("#receipt-section")).to_be_visible()
    expect(page.locator("#receipt-section")).to_have_attribute("data-consent", consent_id)
    expect(page.locator("#receipt")).to_contain_text(consent_id)
    assert page.locator("#receipt-download").get_attribute("href").startswith("blob:")
    screenshot(page, "me-receipt")


def test_me_without_a_wallet_says_so(page, stack):
    settings = stack.api.platform.settings
    settings.env = Environment.PRODUCTION  # in dev the page carries the dev wallet (tests/pages/test_dev_wallet.py)
    try:
        page.goto("/me")
        page.click("#sign-in")
        expect(page.locator("#error")).to_contain_text("No wallet found")
        expect(page.locator("#consents-section")).to_be_hidden()
    finally:
        settings.env = Environment.DEV
