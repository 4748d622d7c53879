"""/tenders/{id} in a real browser: the public bid-opening hall stays open while the tender
is opened, each bidder signs in and releases its key, the reading (唱标) and the result are
published; the page follows every step live, without a reload."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.pages.conftest import screenshot
from tests.pages.tenders import BIDS, tender_steps

pytestmark = [pytest.mark.pages, pytest.mark.slow]

LIVE = 10_000  # ms: the page polls every second; the chain and the API need a moment too


def test_the_hall_follows_the_opening_live(page, stack, client, deployment, parties):
    state, bids = page.locator("body"), page.locator("#bids tr")
    for step, tender, bidders, bidder in tender_steps(stack, client, deployment, parties):
        if step == "bidding":
            page.goto(f"/tenders/{tender['tender_id']}")
            expect(state).to_have_attribute("data-state", "bidding")
            expect(page.locator("#title")).to_have_text(tender["title"])
            expect(page.locator("#sealed")).to_be_visible()  # no names, no count before the deadline
            expect(page.locator("#bids-section")).to_be_hidden()
            expect(page.locator('#log tr[data-step="BidCommitted"]')).to_have_count(0)
            page.evaluate("window.__sameDocument = true")  # gone if the page ever reloads
            screenshot(page, "tender-hall-bidding")
        elif step == "opened":
            expect(state).to_have_attribute("data-state", "opened", timeout=LIVE)
            expect(page.locator("#state")).to_have_text("开标中 Opening")
            expect(bids).to_have_count(len(BIDS), timeout=LIVE)
            expect(page.locator('#bids tr[data-signed-in="true"]')).to_have_count(0)
            expect(page.locator('#log tr[data-step="TenderOpened"]')).to_have_count(1)
        elif step == "signed_in":
            row = page.locator(f'#bids tr[data-pseudonym="{bidder.receipt["pseudonym"]}"]')
            expect(row).to_have_attribute("data-signed-in", "true", timeout=LIVE)
            expect(page.locator('#bids tr[data-signed-in="true"]')).to_have_count(bidders.index(bidder) + 1)
            expect(page.locator("#bid-counts")).to_contain_text(f"{bidders.index(bidder) + 1} / {len(BIDS)} signed in")
        elif step == "decrypted":
            row = page.locator(f'#bids tr[data-pseudonym="{bidder.receipt["pseudonym"]}"]')
            # released, not shown decrypted: nothing is opened before every bid can be
            expect(row).to_have_attribute("data-status", "revealed", timeout=LIVE)
            expect(row).to_contain_text("key released")
            if bidder is bidders[1]:
                screenshot(page, "tender-hall-opening")
        elif step == "read":
            expect(state).to_have_attribute("data-state", "read", timeout=LIVE)
            expect(page.locator("#reading tr")).to_have_count(len(BIDS))
            for name, price in BIDS:
                expect(page.locator("#reading")).to_contain_text(name)
                expect(page.locator("#reading")).to_contain_text(f"{price // 100:,}.00")
            assert page.locator("#announcement").inner_text().startswith("0x")
        elif step == "decided":
            expect(state).to_have_attribute("data-state", "decided", timeout=LIVE)
            expect(page.locator("#result")).to_contain_text(BIDS[1][0])  # the lowest price wins
            expect(page.locator("#result")).to_contain_text("119,500.00 元")
            expect(page.locator('#log tr[data-step="ResultPublished"]')).to_have_count(1)
    assert page.evaluate("window.__sameDocument") is True  # every change came without a reload
    assert int(state.get_attribute("data-polls")) > 5
    screenshot(page, "tender-hall")


def test_the_hall_says_when_there_is_no_such_tender(page):
    page.goto("/tenders/0x" + "ab" * 32)
    expect(page.locator("#error")).to_contain_text("No such tender")
    assert page.request.get("/tenders/not-a-tender").status == 422
