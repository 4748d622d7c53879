"""The dev wallet (/static/devwallet.js): in dev only, a built-in EIP-1193 wallet whose keys are
derived in the browser from the public dev mnemonic or made and kept in localStorage. It must
give exactly the dev parties' addresses, sign exactly what eth-account signs, ask before signing
(a refusal is said on the page), and not exist outside dev."""

from __future__ import annotations

import json
import re

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from playwright.sync_api import expect

from chain.config import Environment
from tests.pages.conftest import assert_accessible, screenshot

pytestmark = [pytest.mark.pages, pytest.mark.slow]

TYPED = {
    "types": {
        "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"}, {"name": "chainId", "type": "uint256"},
                         {"name": "verifyingContract", "type": "address"}],
        "Outer": [{"name": "who", "type": "address"}, {"name": "inner", "type": "Inner"}, {"name": "tags", "type": "string[]"},
                  {"name": "flag", "type": "bool"}, {"name": "blob", "type": "bytes"}, {"name": "delta", "type": "int64"}],
        "Inner": [{"name": "id", "type": "bytes32"}, {"name": "count", "type": "uint16"}, {"name": "note", "type": "string"}],
    },
    "primaryType": "Outer",
    "domain": {"name": "govchain test", "version": "1", "chainId": 1337, "verifyingContract": "0x" + "ab" * 20},
    "message": {"who": "0x" + "12" * 20, "inner": {"id": "0x" + "0f" * 32, "count": 7, "note": "授权 consent"},
                "tags": ["a", "乙"], "flag": True, "blob": "0xdeadbeef", "delta": -5},
}  # fmt: skip


def dev_wallet(page, path: str = "/me", ask: bool = False):
    page.add_init_script(f"localStorage.setItem('govchain.devwallet.ask', '{'yes' if ask else 'no'}')")
    page.goto(path)
    expect(page.locator("#devwallet[data-ready=true]")).to_be_visible()
    assert page.evaluate("window.ethereum.isGovchainDevWallet") is True


def test_the_dev_wallet_derives_the_dev_parties_and_signs_as_eth_account_does(page, stack, parties):
    dev_wallet(page)
    accounts = {a["party"]: a["address"] for a in page.evaluate("window.ethereum.accounts()")}
    for party in ("governor", "relayer", "agency", "holder_psb", "holder_rp", "procurement", "auditor", "agency_culture"):
        assert accounts[party] == getattr(parties, party).address, party  # BIP-39/BIP-32 in the browser = eth-account's derivation
    own_key = page.evaluate("localStorage.getItem('govchain.devwallet.key')")
    own = Account.from_key(own_key)
    assert accounts["own"] == own.address
    assert own.address not in {getattr(parties, p).address for p in ("governor", "agency", "auditor")}  # a fresh key, not a dev one

    assert page.evaluate("window.ethereum.select('agency')") == [parties.agency.address]
    message = "govchain: 登录 sign-in test\nline two"
    signed = page.evaluate("([m, a]) => window.ethereum.request({ method: 'personal_sign', params: ['0x' + Array.from(new TextEncoder().encode(m), (b) => b.toString(16).padStart(2, '0')).join(''), a] })",
                           [message, parties.agency.address])  # fmt: skip
    assert signed == "0x" + bytes(Account.sign_message(encode_defunct(text=message), parties.agency.key).signature).hex()
    typed = page.evaluate("([t, a]) => window.ethereum.request({ method: 'eth_signTypedData_v4', params: [a, t] })", [json.dumps(TYPED), parties.agency.address])
    assert typed == "0x" + bytes(Account.sign_typed_data(parties.agency.key, full_message=TYPED).signature).hex()

    # it signs only for the account it holds, and says what it does not support
    wrong = page.evaluate("(a) => window.ethereum.request({ method: 'personal_sign', params: ['0x00', a] }).then(() => 'signed', (e) => `${e.code} ${e.message}`)", parties.auditor.address)
    assert wrong.startswith("4100 ") and parties.auditor.address in wrong
    unsupported = page.evaluate("window.ethereum.request({ method: 'eth_sendTransaction', params: [] }).then(() => 'sent', (e) => e.code)")
    assert unsupported == 4200


def test_a_new_user_signs_in_with_the_dev_wallet_and_a_refusal_is_said(page, stack):
    dev_wallet(page, "/me", ask=True)
    own = page.evaluate("window.ethereum.request({ method: 'eth_accounts' })")[0]
    assert_accessible(page)

    # refused in the wallet's own dialog: the page says so in both languages and stays signed out
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click("#sign-in")
    expect(page.locator("#error")).to_contain_text("钱包拒绝签名")
    expect(page.locator("#error")).to_contain_text("refused to sign")
    expect(page.locator("#signed-out")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('govchain.session')") is None
    screenshot(page, "devwallet-refused")

    # approved: signed in as the key made in this browser
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.click("#sign-in")
    expect(page.locator("#address")).to_have_text(own)
    assert "wants you to sign in with your Ethereum account" in asked[0] and own in asked[0]  # the wallet showed what it signs
    screenshot(page, "devwallet-signed-in")


def test_outside_dev_there_is_no_dev_wallet(page, stack):
    settings = stack.api.platform.settings
    assert settings.env is Environment.DEV and stack.http.get("/static/devwallet.js").status_code == 200
    assert stack.http.get("/dev/wallet.json").json()["mnemonic"]
    settings.env = Environment.PRODUCTION  # the running API, as it serves outside dev
    try:
        assert stack.http.get("/static/devwallet.js").status_code == 404
        assert stack.http.get("/dev/wallet.json").status_code == 404
        tender = "/tenders/0x" + "00" * 32
        for path in ("/apply", "/agency", "/me", "/audit", tender, "/procurement", tender + "/bid", tender + "/score"):
            html = stack.http.get(path).text
            assert "devwallet" not in html and "/static/govchain.js" in html
        page.goto("/apply")
        expect(page.locator("#sign-in")).to_be_visible()
        assert page.evaluate("typeof window.ethereum") == "undefined"
        assert page.locator("#devwallet").count() == 0
        assert page.locator("#face-outcome").is_hidden()
    finally:
        settings.env = Environment.DEV


def test_a_new_user_walks_apply_and_agency_with_the_dev_wallet_alone(page, stack, parties):
    """No extension, no test wallet: the applicant's tab uses the key made in the browser, the
    agency's tab the dev agency key; the consent and the pulls are signed by the dev wallet."""
    from identity.dev_citizens import demo_citizen

    citizen = demo_citizen(11)
    dev_wallet(page, "/apply")
    own = page.evaluate("window.ethereum.request({ method: 'eth_accounts' })")[0]
    page.click("#sign-in")
    expect(page.locator("#address")).to_have_text(own)
    page.locator('#catalog li[data-code="teacher-qualification-primary"]').get_by_role("button", name="申请此事项 Apply for this").click()
    expect(page.locator("#application-section")).to_have_attribute("data-state", "draft")
    application_id = page.locator("#application-id").inner_text()
    page.fill("#face-name", citizen["name"])
    page.fill("#face-id", citizen["id_number"])
    page.click("#face-start")
    page.get_by_role("button", name=re.compile("Complete the check")).click()
    expect(page.locator("#application-section")).to_have_attribute("data-state", "face_verified")
    page.click("#consent-load")
    expect(page.locator("#consent-sign")).to_be_visible()
    page.click("#consent-sign")
    expect(page.locator("#application-section")).to_have_attribute("data-state", "consented")

    agency_tab = page.context.new_page()  # same browser, its own tab: its own account and session
    agency_tab.goto("/agency")
    expect(agency_tab.locator("#devwallet[data-ready=true]")).to_be_visible()
    agency_tab.select_option("#devwallet-account", "agency")
    expect(agency_tab.locator("#devwallet-address")).to_have_text(parties.agency.address)
    agency_tab.click("#sign-in")
    expect(agency_tab.locator("#address")).to_have_text(parties.agency.address)
    agency_tab.select_option("#queue-state", "consented")
    agency_tab.get_by_role("button", name="Show 显示").click()
    agency_tab.locator(f'#queue tr[data-application="{application_id}"]').get_by_role("button", name="打开 Open").click()
    agency_tab.click("#pull")
    expect(agency_tab.locator("#detail-section")).to_have_attribute("data-state", "data_pulled")
    screenshot(agency_tab, "devwallet-agency-pulled")

    page.reload()  # the applicant's tab kept its own account
    expect(page.locator("#application-section")).to_have_attribute("data-state", "data_pulled")
    assert page.evaluate("window.ethereum.request({ method: 'eth_accounts' })")[0] == own
    accesses = stack.http.get("/v1/me/data-access", headers=stack.sign_in(Account.from_key(page.evaluate("localStorage.getItem('govchain.devwallet.key')")))).json()
    assert len(accesses) == 3 and {a["requester"] for a in accesses} == {parties.agency.address}
