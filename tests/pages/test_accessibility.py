"""axe-core on the pages that existed before /apply and /agency (those two are checked in their
own journeys): no serious or critical violation, each page checked with its content loaded."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from tests.pages.conftest import Wallet, assert_accessible
from tests.pages.tenders import finished_tender

pytestmark = [pytest.mark.pages, pytest.mark.slow]


def test_verify_is_accessible(page, issued, tmp_path):
    page.goto("/verify")
    assert_accessible(page)
    document = tmp_path / "certificate.oa"
    document.write_text(json.dumps(issued.document, ensure_ascii=False), encoding="utf-8")
    page.set_input_files("#file", str(document))
    expect(page.locator("#verdict")).to_contain_text("证书有效")
    assert_accessible(page)


def test_me_is_accessible(page, issued):
    Wallet(page, issued.applicant)
    page.goto("/me")
    assert_accessible(page)
    page.click("#sign-in")
    expect(page.locator("#consents tr")).to_have_count(1)
    page.get_by_role("button", name="Receipt 凭证").click()
    expect(page.locator("#receipt-section")).to_be_visible()
    assert_accessible(page)


def test_audit_is_accessible(page, parties, issued):
    Wallet(page, parties.auditor)
    page.goto("/audit")
    assert_accessible(page)
    page.click("#sign-in")
    expect(page.locator("#roles")).to_contain_text("AUDITOR")
    page.fill("#case", issued.application["id"])
    page.click("#search")
    expect(page.locator("#trail-section")).to_be_visible()
    expect(page.locator("#timeline li").first).to_be_visible()
    assert_accessible(page)


def test_the_tender_hall_is_accessible(page, stack, client, deployment, parties):
    tender, _ = finished_tender(stack, client, deployment, parties)
    page.goto(f"/tenders/{tender['tender_id']}")
    expect(page.locator("body")).to_have_attribute("data-state", "decided")
    assert_accessible(page)
