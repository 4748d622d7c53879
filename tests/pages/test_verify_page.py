"""/verify in a real browser: a certificate file dropped in verifies valid; once revoked, its
QR link (pasted, or opened) shows the status check failing with the reason."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from tests.pages.conftest import screenshot

pytestmark = [pytest.mark.pages, pytest.mark.slow]


def check_row(page, name):
    return page.locator(f'#checks tr[data-check="{name}"]')


def test_verify_page_shows_a_valid_then_a_revoked_certificate(page, stack, parties, issued, tmp_path):
    certificate_file = tmp_path / f"{issued.certificate['id']}.oa"
    certificate_file.write_text(json.dumps(issued.document, ensure_ascii=False), encoding="utf-8")

    page.goto("/verify")
    expect(page.locator("h1")).to_contain_text("证书核验")
    page.set_input_files("#file", str(certificate_file))
    expect(page.locator("#verdict")).to_have_text("✔ Valid certificate 证书有效")
    for name in ("integrity", "status", "identity"):
        expect(check_row(page, name)).to_have_class("valid")
        expect(check_row(page, name).locator("td").nth(1)).to_have_text("yes")
    expect(check_row(page, "identity")).to_contain_text("edu.gov.example")
    screenshot(page, "verify-valid")

    agency = stack.sign_in(parties.agency)
    revoked = stack.http.post(f"/v1/certificates/{issued.certificate['id']}/revoke", json={"reason": "issued in error 误发"}, headers=agency)
    assert revoked.status_code == 200, revoked.text

    page.fill("#link", issued.certificate["verify_url"])  # the QR link, pasted
    page.click("#link-form button")
    expect(page.locator("#verdict")).to_have_text("✘ Not valid 证书无效")
    expect(check_row(page, "status")).to_have_class("invalid")
    expect(check_row(page, "status")).to_contain_text("revoked")
    expect(check_row(page, "integrity")).to_have_class("valid")

    page.goto(issued.certificate["verify_url"])  # the QR link, opened: checks at once
    expect(page.locator("#verdict")).to_have_text("✘ Not valid 证书无效")
    expect(check_row(page, "status")).to_contain_text("revoked")
    screenshot(page, "verify")


def test_verify_page_says_why_a_link_is_not_one(page):
    page.goto("/verify")
    page.fill("#link", "https://example.invalid/verify?targetHash=nothing")
    page.click("#link-form button")
    expect(page.locator("#error")).to_contain_text("no target hash")
    expect(page.locator("#result")).to_be_hidden()
