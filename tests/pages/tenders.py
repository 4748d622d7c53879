"""A whole lowest-price tender driven over HTTP, one step at a time, for the page tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

from eth_account import Account

from tests.support.tenders import Bidder, create_tender, move_past, publish_result

BIDS = (("测试页面甲建设有限公司", 128_000_00), ("测试页面乙建设有限公司", 119_500_00), ("测试页面丙建设有限公司", 131_000_00))


def tender_steps(stack, client, deployment, parties) -> Iterator[tuple[str, dict, list[Bidder], Bidder | None]]:
    """Create a tender with three bids, then open it, sign each bidder in and release its key,
    publish the reading and the result; yields (step, tender, bidders, bidder acting) after each."""
    tender = create_tender(stack, client, parties, [Account.create()], reference=f"GC-PAGES-{uuid.uuid4().hex[:8]}", method="lowest_price", min_bidders=2)
    tid = tender["tender_id"]
    bidders = [Bidder(stack, name, price, deployment) for name, price in BIDS]
    for bidder in bidders:
        bidder.bid_ok(tender)
    yield "bidding", tender, bidders, None
    move_past(stack, client, tender["terms"]["opening_time"])
    procurement = stack.sign_in(parties.procurement)
    opened = stack.http.post(f"/v1/tenders/{tid}/open", headers=procurement)
    assert opened.status_code == 200 and opened.json()["state"] == "opened", opened.text
    yield "opened", tender, bidders, None
    for bidder in bidders:
        bidder.signed_in(tender)
        yield "signed_in", tender, bidders, bidder
        assert bidder.released(tender)["decrypted"] is True
        yield "decrypted", tender, bidders, bidder
    reading = stack.http.post(f"/v1/tenders/{tid}/reading", headers=procurement)
    assert reading.status_code == 200 and reading.json()["read"] == len(bidders), reading.text
    yield "read", tender, bidders, None
    result = publish_result(stack, client, parties, tender)
    assert result.status_code == 200, result.text
    assert result.json()["winner"] == bidders[1].receipt["pseudonym"]  # the lowest price
    yield "decided", tender, bidders, None


def finished_tender(stack, client, deployment, parties) -> tuple[dict, list[Bidder]]:
    for step, tender, bidders, _ in tender_steps(stack, client, deployment, parties):
        pass
    assert step == "decided"
    return tender, bidders
