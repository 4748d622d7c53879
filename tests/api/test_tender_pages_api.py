"""The tender API the procurement, bidder and expert pages need: the procurement agency's own
tenders, the objections with their texts for the agency that answers them, and the TenderLedger
(chain id, address) a bidder's key commitment and every EIP-712 signature are bound to."""

from __future__ import annotations

import uuid

from eth_account import Account
from typer.testing import CliRunner

from api.cli import app as cli
from api.tenders.client import BidderClient
from tests.e2e.test_audit import cli_env
from tests.support.tenders import ITEMS, Bidder, create_tender, move_past


def tender_view(stack, tender_id: str) -> dict:
    return stack.http.get(f"/v1/tenders/{tender_id}").json()


def test_the_api_lists_an_agencys_own_tenders_and_objections_only_to_it(stack, client, deployment, parties):
    tender = create_tender(stack, client, parties, [Account.create()], reference=f"GC-PB-API-{uuid.uuid4().hex[:8]}", method="lowest_price", min_bidders=1)
    procurement = stack.sign_in(parties.procurement)
    mine = stack.http.get("/v1/tenders", headers=procurement)
    assert mine.status_code == 200
    assert {"tender_id": tender["tender_id"], "reference": tender["reference"], "title": tender["title"], "state": "bidding"} in mine.json()
    assert stack.http.get("/v1/tenders", headers=stack.sign_in(parties.agency)).status_code == 403  # no PROCUREMENT role
    assert stack.http.get(f"/v1/tenders/{tender['tender_id']}/objections", headers=procurement).json() == []
    assert stack.http.get(f"/v1/tenders/{tender['tender_id']}/objections", headers=stack.sign_in(parties.outsider)).status_code == 403
    # what a bidder's and an expert's page sign for: the EIP-712 domain of the deployed TenderLedger
    assert tender_view(stack, tender["tender_id"])["ledger"] == {"chain_id": deployment.chain_id, "address": deployment.address("TenderLedger")}


def test_the_agency_reads_each_objections_text_and_its_answer(stack, client, deployment, parties):
    tender = create_tender(stack, client, parties, [Account.create()], reference=f"GC-PB-OBJ-{uuid.uuid4().hex[:8]}", method="lowest_price", min_bidders=1)
    tid = tender["tender_id"]
    bidder = Bidder(stack, "异议列表测试公司", 100_000_00, deployment)
    bidder.bid_ok(tender)
    move_past(stack, client, tender["terms"]["opening_time"])
    procurement = stack.sign_in(parties.procurement)
    assert stack.http.post(f"/v1/tenders/{tid}/open", headers=procurement).json()["state"] == "opened"
    bidder.signed_in(tender)
    raised = bidder.object(tid, "开标时间与公告不符。")
    assert raised.status_code == 201, raised.text
    listed = stack.http.get(f"/v1/tenders/{tid}/objections", headers=procurement)
    assert listed.json() == [{"index": 0, "pseudonym": bidder.receipt["pseudonym"], "text": "开标时间与公告不符。",
                              "objection_hash": raised.json()["objection_hash"], "answer": None}]  # fmt: skip
    assert stack.http.get(f"/v1/tenders/{tid}/objections", headers=bidder.headers).status_code == 403  # the agency's, not the bidders'
    answered = stack.http.post(f"/v1/tenders/{tid}/objections/0/answer", json={"text": "开标时间以公告为准。"}, headers=procurement)
    assert answered.status_code == 200, answered.text
    assert stack.http.get(f"/v1/tenders/{tid}/objections", headers=procurement).json()[0]["answer"] == "开标时间以公告为准。"
    assert stack.http.get(f"/v1/tenders/0x{'00' * 32}/objections", headers=procurement).status_code == 404


def test_the_governor_registers_a_bidder_firm_from_the_cli_and_it_may_bid(stack, client, deployment, parties):
    """`govchain registry register-bidder`: how a person walking the bidder page with `make run` gets a registered firm."""
    firm, runner = Account.create(), CliRunner()
    tender = create_tender(stack, client, parties, [Account.create()], reference=f"GC-PB-CLI-{uuid.uuid4().hex[:8]}", method="lowest_price", min_bidders=1)
    bidder = BidderClient(stack.http, firm, "命令行登记建设有限公司", deployment.chain_id, deployment.address("TenderLedger"))
    assert bidder.bid(tender["tender_id"], 100_000_00, ITEMS).status_code == 403  # not registered yet: nothing stored
    try:
        done = runner.invoke(cli, ["registry", "register-bidder", firm.address, "命令行登记建设有限公司"], env=cli_env(stack))
        assert done.exit_code == 0, done.output
        assert "sent by the governor" in done.output
        again = runner.invoke(cli, ["registry", "register-bidder", firm.address, "命令行登记建设有限公司"], env=cli_env(stack))
        assert again.exit_code == 1 and "GovRegistry" in again.output  # a member already: refused by the registry, said
        bad = runner.invoke(cli, ["registry", "register-bidder", "0x1234", "某公司"], env=cli_env(stack))
        assert bad.exit_code == 2 and "is not an address" in bad.output
    finally:
        client.nonces.reset()  # the CLI sent with the governor's key, which the stack and the suite use too
        stack.api.app.state.platform.contracts.chain().nonces.reset()
    member = stack.http.get(f"/v1/members/{firm.address}").json()
    assert member["name"] == "命令行登记建设有限公司" and "BIDDER" in member["roles"]
    bidder.refresh()  # roles are read at sign-in
    assert bidder.bid(tender["tender_id"], 100_000_00, ITEMS).status_code == 201
