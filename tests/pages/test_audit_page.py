"""/audit in a real browser: an auditor signs in through the wallet, searches a finished
no-visit application and a finished tender, and sees each trail as a timeline with every
step verified against the chain (GET /v1/audit/{applications|tenders}/{id}/trail?verify=true)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.pages.conftest import Wallet, screenshot
from tests.pages.tenders import finished_tender

pytestmark = [pytest.mark.pages, pytest.mark.slow]


def search(page, case: str) -> None:
    page.fill("#case", case)
    page.click("#search")
    expect(page.locator("#trail-section")).to_be_visible()
    expect(page.locator("#case-id")).to_have_text(case)


def api_trail(stack, parties, kind: str, case: str) -> dict:
    response = stack.http.get(f"/v1/audit/{kind}/{case}/trail", params={"verify": "true"}, headers=stack.sign_in(parties.auditor))
    assert response.status_code == 200, response.text
    return response.json()


def assert_timeline_matches(page, trail: dict) -> None:
    steps = page.locator("#timeline li")
    expect(steps).to_have_count(len(trail["steps"]))
    assert trail["verified"] is True and all(s["verified"] is True for s in trail["steps"]), trail
    expect(page.locator("#trail-section")).to_have_attribute("data-verified", "true")
    expect(page.locator("#verdict")).to_contain_text("Every step")
    expect(page.locator('#timeline li[data-verified="true"]')).to_have_count(len(trail["steps"]))
    assert [steps.nth(i).get_attribute("data-tx") for i in range(len(trail["steps"]))] == [s["tx_hash"] for s in trail["steps"]]
    expect(steps.first.locator(".badge")).to_contain_text("verified against the chain")


def test_audit_shows_a_finished_application_and_a_finished_tender_verified(page, stack, client, deployment, parties, issued):
    consent = stack.http.get("/v1/me/consents", headers=issued.headers).json()[0]
    # the tender first: it moves the platform's clock to the chain's, which may be hours ahead
    # after earlier tests, and a session signed in before that move would have expired
    tender, _ = finished_tender(stack, client, deployment, parties)
    wallet = Wallet(page, parties.auditor)
    page.goto("/audit")
    page.click("#sign-in")
    expect(page.locator("#roles")).to_contain_text("AUDITOR")
    assert wallet.methods() == ["eth_requestAccounts", "personal_sign"]

    application_id = issued.application["id"]
    search(page, application_id)
    trail = api_trail(stack, parties, "applications", application_id)
    assert_timeline_matches(page, trail)
    timeline = page.locator("#timeline")
    for tx in (consent["granted_tx"], issued.receipt["tx_hash"]):  # the consent on chain, the anchored submission manifest
        expect(timeline.locator(f'li[data-tx="{tx}"]').first).to_be_visible()
    assert page.url.endswith(f"/audit?application={application_id}")
    screenshot(page, "audit-application")

    search(page, tender["tender_id"])
    trail = api_trail(stack, parties, "tenders", tender["tender_id"])
    assert_timeline_matches(page, trail)
    for event in ("TenderCreated", "BidCommitted", "TenderOpened", "BidderSignedIn", "KeyRevealed", "BidDecrypted", "BidRead",
                  "ReadingPublished", "ResultPublished"):  # fmt: skip
        expect(timeline.locator(f'li[data-event="{event}"]').first).to_be_visible()
    screenshot(page, "audit-tender")

    page.reload()  # the deep link and the stored session show the trail again, without a new signature
    expect(page.locator("#timeline li")).to_have_count(len(trail["steps"]))
    assert wallet.methods() == ["eth_requestAccounts", "personal_sign"]


def test_audit_says_what_is_wrong_with_a_search(page, stack, parties):
    Wallet(page, parties.auditor)
    page.goto("/audit")
    page.click("#sign-in")
    expect(page.locator("#roles")).to_contain_text("AUDITOR")
    page.fill("#case", "app_nothing_here")
    page.click("#search")
    expect(page.locator("#error")).to_contain_text("no application")
    page.fill("#case", "GC-2026-001")  # a reference, not an id: the page asks which kind
    page.click("#search")
    expect(page.locator("#error")).to_contain_text("application or a tender")
    expect(page.locator("#trail-section")).to_be_hidden()
