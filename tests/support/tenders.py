"""Electronic bid opening through the real API: moving both clocks, registered bidders that
seal, upload, sign in and release their keys (:class:`Bidder`), and creating a tender."""

from __future__ import annotations

import os
from datetime import timedelta

from eth_account import Account

from api.tenders.client import BidderClient
from chain.node import rpc_call
from chain.registry import MemberInfo


def now_of(stack, client) -> int:
    return max(int(stack.clock.now().timestamp()), client.w3.eth.get_block("latest")["timestamp"])


def move_past(stack, client, moment: int) -> None:
    """Move both clocks (the platform's and the chain's) just past ``moment``."""
    chain_now = client.w3.eth.get_block("latest")["timestamp"]
    if chain_now <= moment:
        rpc_call(client.w3.provider.endpoint_uri, "evm_increaseTime", [moment - chain_now + 1])
        rpc_call(client.w3.provider.endpoint_uri, "evm_mine")
    ahead = moment + 1 - int(stack.clock.now().timestamp())
    if ahead > 0:
        stack.clock.offset += timedelta(seconds=ahead)


def past_objection_period(stack, client, tender) -> None:
    """Move both clocks past the tender's objection period (after the reading): the result may be
    published from then on. Tokens signed in before may have expired: sign in again after it."""
    deadline = stack.http.get(f"/v1/tenders/{tender['tender_id']}").json()["objection_deadline"]
    move_past(stack, client, deadline)


def publish_result(stack, client, parties, tender, winner: str | None = None):
    """The agency publishes the result once the objection period is over (a fresh sign-in after
    the clocks moved); returns the response."""
    past_objection_period(stack, client, tender)
    body = {"winner": winner} if winner else {}
    return stack.http.post(f"/v1/tenders/{tender['tender_id']}/result", json=body, headers=stack.sign_in(parties.procurement))


ITEMS = {"工期": "90天", "质保": "2年"}


def register_bidder(stack, address: str, name: str) -> None:
    """The bureau registers a bidder firm on GovRegistry with the BIDDER role, sent through the
    stack's own chain client (its nonce counter for the governor's key stays right)."""
    platform = stack.api.app.state.platform
    platform.contracts.registry().register_member(platform.keyring.signer("governor"), address, MemberInfo(name), ["BIDDER"])


class Bidder(BidderClient):
    """The bidder's client software, with the tests' expectations."""

    def __init__(self, stack, name: str, price_fen: int, deployment, *, registered: bool = True):
        account = Account.create()
        if registered:
            register_bidder(stack, account.address, name)
        super().__init__(stack.http, account, name, deployment.chain_id, deployment.address("TenderLedger"))
        self.price = price_fen

    def bid_ok(self, tender, *, price=None, wrong_key=False) -> dict:
        response = self.bid(tender["tender_id"], price or self.price, ITEMS, wrong_key=wrong_key)
        assert response.status_code == 201, response.text
        return response.json()

    def signed_in(self, tender) -> None:
        response = self.sign_in_to_opening(tender["tender_id"])
        assert response.status_code == 200, response.text

    def released(self, tender) -> dict:
        response = self.release_key(tender["tender_id"])
        assert response.status_code == 200, response.text
        return response.json()


def create_tender(stack, client, parties, experts, *, reference, method="weighted_score", weights=(6000, 4000), min_bidders=3, bidding=120):
    # the platform's clock catches up with the chain's first (earlier tests may have moved the
    # chain hours ahead): the tender's later steps then move it by minutes, not hours, and the
    # bidders' sign-in tokens stay valid through them
    move_past(stack, client, now_of(stack, client) - 1)
    deadline = now_of(stack, client) + bidding
    body = {"reference": reference, "title": "测试区第一小学改造工程", "document_hash": "0x" + os.urandom(32).hex(), "bid_deadline": deadline,
            "decryption_minutes": 30, "method": method, "weights": list(weights) if method == "weighted_score" else [],
            "experts": [e.address for e in experts], "min_bidders": min_bidders}  # fmt: skip
    response = stack.http.post("/v1/tenders", json=body, headers=stack.sign_in(parties.procurement))
    assert response.status_code == 201, response.text
    return response.json()
