"""Electronic bid opening over real HTTP on a real node: a normal tender with a bid that is
never decrypted, an objection and three experts; and every way it can go wrong."""

from __future__ import annotations


import pytest
from eth_account import Account

from chain.node import rpc_call
from identity import tender712
from api.tenders.client import score

from tests.support.tenders import Bidder, create_tender, move_past, past_objection_period, publish_result

pytestmark = pytest.mark.slow


@pytest.mark.node  # a smoke run of the flow on every node
def test_a_whole_tender(stack, client, deployment, parties):
    experts = [Account.create() for _ in range(3)]
    tender = create_tender(stack, client, parties, experts, reference="GC-2026-001")
    bidders = [Bidder(stack, f"测试建设{n}有限公司", price, deployment) for n, price in zip("甲乙丙丁", (128_000_00, 119_500_00, 131_000_00, 125_000_00), strict=True)]
    for bidder in bidders:
        bidder.bid_ok(tender)
    before = stack.http.get(f"/v1/tenders/{tender['tender_id']}").json()
    assert before["state"] == "bidding" and "bids" not in before  # no names, no count before the deadline
    procurement = stack.sign_in(parties.procurement)
    early = stack.http.post(f"/v1/tenders/{tender['tender_id']}/open", headers=procurement)
    assert early.status_code == 409  # the contract refuses an opening before its time

    move_past(stack, client, tender["terms"]["opening_time"])
    opened = stack.http.post(f"/v1/tenders/{tender['tender_id']}/open", headers=procurement)
    assert opened.status_code == 200 and opened.json()["state"] == "opened", opened.text
    for bidder in bidders[:3]:
        bidder.signed_in(tender)
        assert bidder.released(tender)["decrypted"] is True
    decryption_end = stack.http.get(f"/v1/tenders/{tender['tender_id']}").json()["terms"]["decryption_end"]  # counted from the opening block
    assert decryption_end >= tender["terms"]["decryption_end"]
    move_past(stack, client, decryption_end)  # 丁 never signs in nor releases its key
    procurement = stack.sign_in(parties.procurement)  # half an hour later: fresh tokens
    bidders[1].refresh()
    closed = stack.http.post(f"/v1/tenders/{tender['tender_id']}/close-decryption", headers=procurement)
    assert closed.status_code == 200, closed.text
    closed = closed.json()
    assert sorted(c["cause"] for c in closed) == ["decrypted"] * 3 + ["no_key"]  # outcomes go on chain only now
    reading = stack.http.post(f"/v1/tenders/{tender['tender_id']}/reading", headers=procurement)
    assert reading.status_code == 200, reading.text
    assert reading.json()["read"] == 3 and "测试建设乙有限公司" in reading.json()["announcement"] and "119500.00 元" in reading.json()["announcement"]

    objection_text = "对甲的工期承诺有异议"
    objection = bidders[1].object(tender["tender_id"], objection_text)
    assert objection.status_code == 201, objection.text
    answer = stack.http.post(f"/v1/tenders/{tender['tender_id']}/objections/{objection.json()['index']}/answer", json={"text": "经核查，工期符合招标文件要求"}, headers=procurement)
    assert answer.status_code == 200, answer.text

    domain = tender712.domain(deployment.chain_id, deployment.address("TenderLedger"))
    marks = {0: [70, 80], 1: [90, 85], 2: [80, 70]}
    for expert in experts:
        headers = stack.sign_in(expert)
        for index, bidder in enumerate(bidders[:3]):
            scored = score(stack.http, expert, headers, tender["tender_id"], bidder.receipt["pseudonym"], marks[index], domain)
            assert scored.status_code == 201, scored.text

    early = stack.http.post(f"/v1/tenders/{tender['tender_id']}/result", json={}, headers=procurement)
    assert early.status_code == 409 and "objections" in early.json()["detail"], early.text  # the objection period runs its course
    past_objection_period(stack, client, tender)
    procurement = stack.sign_in(parties.procurement)
    wrong = stack.http.post(f"/v1/tenders/{tender['tender_id']}/result", json={"winner": bidders[0].receipt["pseudonym"]}, headers=procurement)
    assert wrong.status_code == 409 and "Refused by contract" == wrong.json()["title"]  # a result that does not match the scores
    result = stack.http.post(f"/v1/tenders/{tender['tender_id']}/result", json={}, headers=procurement)
    assert result.status_code == 200, result.text
    assert result.json()["winner"] == bidders[1].receipt["pseudonym"]

    steps = [s["step"] for s in stack.http.get(f"/v1/tenders/{tender['tender_id']}/trail").json()]
    for step in ("TenderCreated", "BidCommitted", "TenderOpened", "BidderSignedIn", "KeyRevealed", "BidDecrypted", "BidNotDecrypted",
                 "BidRead", "ReadingPublished", "ObjectionRaised", "ObjectionAnswered", "ScoresSubmitted", "ResultPublished"):  # fmt: skip
        assert step in steps, step
    final = stack.http.get(f"/v1/tenders/{tender['tender_id']}").json()
    assert final["state"] == "decided" and len(final["bids"]) == 4


def test_fewer_than_three_bids_fail_the_opening(stack, client, deployment, parties):
    tender = create_tender(stack, client, parties, [Account.create()], reference="GC-2026-002", method="lowest_price")
    for name in ("甲", "乙"):
        Bidder(stack, f"测试{name}公司", 100_00, deployment).bid_ok(tender)
    move_past(stack, client, tender["terms"]["opening_time"])
    opened = stack.http.post(f"/v1/tenders/{tender['tender_id']}/open", headers=stack.sign_in(parties.procurement))
    assert opened.status_code == 200 and opened.json()["state"] == "failed"
    assert "TenderFailed" in [s["step"] for s in stack.http.get(f"/v1/tenders/{tender['tender_id']}/trail").json()]


def test_late_bids_are_refused_and_nothing_is_committed(stack, client, deployment, parties):
    tender = create_tender(stack, client, parties, [Account.create()], reference="GC-2026-003", method="lowest_price")
    move_past(stack, client, tender["terms"]["bid_deadline"])
    late = Bidder(stack, "测试迟到公司", 100_00, deployment)
    refused = late.bid(tender["tender_id"], 100_00)
    assert refused.status_code == 409 and "closed" in refused.json()["detail"]
    blobs = stack.api.settings.state_dir / "blobs"
    assert not any(p.name == late.sealed.ciphertext_hash.hex() for p in blobs.rglob("*"))  # no file left behind
    assert [s["step"] for s in stack.http.get(f"/v1/tenders/{tender['tender_id']}/trail").json()] == ["TenderCreated"]


def test_replace_and_withdraw_before_the_deadline_stay_in_the_trail(stack, client, deployment, parties):
    tender = create_tender(stack, client, parties, [Account.create()], reference="GC-2026-004", method="lowest_price")
    first = Bidder(stack, "测试反复公司", 200_00, deployment)
    assert first.bid_ok(tender)["version"] == 1
    assert first.bid_ok(tender, price=150_00)["version"] == 2
    withdrawn = stack.http.delete(f"/v1/tenders/{tender['tender_id']}/bids/mine", headers=first.headers)
    assert withdrawn.status_code == 200, withdrawn.text
    trail = f"/v1/tenders/{tender['tender_id']}/trail"
    assert [s["step"] for s in stack.http.get(trail).json()] == ["TenderCreated"]  # nothing about bids before the opening
    move_past(stack, client, tender["terms"]["opening_time"])
    assert stack.http.post(f"/v1/tenders/{tender['tender_id']}/open", headers=stack.sign_in(parties.procurement)).json()["state"] == "failed"
    steps = [s["step"] for s in stack.http.get(trail).json()]
    assert steps == ["TenderCreated", "BidCommitted", "BidCommitted", "BidWithdrawn", "TenderFailed"]


def test_undecryptable_and_tampered_bids_are_caught(stack, client, deployment, parties):
    tender = create_tender(stack, client, parties, [Account.create()], reference="GC-2026-005", method="lowest_price", min_bidders=1)
    honest, careless, tampered = Bidder(stack, "测试甲公司", 300_00, deployment), Bidder(stack, "测试乙公司", 100_00, deployment), Bidder(stack, "测试丙公司", 200_00, deployment)
    honest.bid_ok(tender)
    careless.bid_ok(tender, wrong_key=True)  # committed to a key that does not open its file
    receipt = tampered.bid_ok(tender)
    blob = stack.api.settings.state_dir / "blobs"
    path = next(p for p in blob.rglob("*") if p.is_file() and p.name == tampered.sealed.ciphertext_hash.hex())
    path.write_bytes(b"\x00" + path.read_bytes()[1:])  # someone edits the stored file behind the platform's back
    move_past(stack, client, tender["terms"]["opening_time"])
    procurement = stack.sign_in(parties.procurement)
    assert stack.http.post(f"/v1/tenders/{tender['tender_id']}/open", headers=procurement).json()["state"] == "opened"
    for bidder in (honest, careless, tampered):
        bidder.signed_in(tender)
    assert honest.released(tender)["decrypted"] is True
    assert careless.released(tender)["cause"] == "unreadable"
    assert tampered.released(tender)["cause"] == "file_mismatch"
    assert receipt["ciphertext_hash"] == "0x" + tampered.sealed.ciphertext_hash.hex()  # the receipt proves what was uploaded
    reading = stack.http.post(f"/v1/tenders/{tender['tender_id']}/reading", headers=procurement)  # every key revealed: outcomes recorded
    assert reading.status_code == 200 and reading.json()["read"] == 1, reading.text
    statuses = {b["pseudonym"]: b["status"] for b in stack.http.get(f"/v1/tenders/{tender['tender_id']}").json()["bids"]}
    # a revealed key is never "the bidder's fault" on chain (the key is public: anyone re-opens the file)
    assert statuses[careless.receipt["pseudonym"]] == "not_decrypted_withdrawn" and statuses[tampered.receipt["pseudonym"]] == "not_decrypted_withdrawn"


def test_an_expert_signing_for_someone_else_is_refused(stack, client, deployment, parties):
    experts = [Account.create(), Account.create()]
    tender = create_tender(stack, client, parties, experts, reference="GC-2026-006", min_bidders=1, weights=(10000,))
    bidder = Bidder(stack, "测试评分公司", 100_00, deployment)
    bidder.bid_ok(tender)
    move_past(stack, client, tender["terms"]["opening_time"])
    procurement = stack.sign_in(parties.procurement)
    stack.http.post(f"/v1/tenders/{tender['tender_id']}/open", headers=procurement)
    bidder.signed_in(tender)
    bidder.released(tender)
    assert stack.http.post(f"/v1/tenders/{tender['tender_id']}/reading", headers=procurement).status_code == 200
    domain = tender712.domain(deployment.chain_id, deployment.address("TenderLedger"))
    pid = bytes.fromhex(bidder.receipt["pseudonym"][2:])
    forged = tender712.sign_scores(bytes.fromhex(tender["tender_id"][2:]), pid, [99], domain, experts[0].key)
    response = stack.http.post(f"/v1/tenders/{tender['tender_id']}/scores",
                               json={"pseudonym": bidder.receipt["pseudonym"], "scores": [99], "signature": "0x" + forged.hex()},
                               headers=stack.sign_in(experts[1]))  # expert 2 submits expert 1's signature as its own  # fmt: skip
    assert response.status_code == 409 and response.json()["title"] == "Refused by contract"
    outsider = Account.create()
    own = tender712.sign_scores(bytes.fromhex(tender["tender_id"][2:]), pid, [99], domain, outsider.key)
    response = stack.http.post(f"/v1/tenders/{tender['tender_id']}/scores",
                               json={"pseudonym": bidder.receipt["pseudonym"], "scores": [99], "signature": "0x" + own.hex()},
                               headers=stack.sign_in(outsider))  # not on the panel  # fmt: skip
    assert response.status_code == 409


def test_tender_verify_recomputes_from_the_chain_and_catches_a_swapped_file(stack, client, deployment, parties):
    import httpx as _httpx

    from api.tenders.verify import verify_tender
    from chain.tenders import TenderLedgerClient

    tender = create_tender(stack, client, parties, [Account.create()], reference="GC-2026-007", method="lowest_price", min_bidders=1)
    bidders = [Bidder(stack, f"测试核验{n}公司", price, deployment) for n, price in (("甲", 500_00), ("乙", 400_00))]
    for bidder in bidders:
        bidder.bid_ok(tender)
    move_past(stack, client, tender["terms"]["opening_time"])
    procurement = stack.sign_in(parties.procurement)
    stack.http.post(f"/v1/tenders/{tender['tender_id']}/open", headers=procurement)
    for bidder in bidders:
        bidder.signed_in(tender)
        bidder.released(tender)
    stack.http.post(f"/v1/tenders/{tender['tender_id']}/reading", headers=procurement)
    assert publish_result(stack, client, parties, tender).status_code == 200

    entry = deployment.contracts["TenderLedger"]
    ledger = TenderLedgerClient(client, entry["address"], entry["abi"])
    tid = bytes.fromhex(tender["tender_id"][2:])

    def from_platform(pseudonym: bytes) -> bytes:
        return _httpx.get(f"{stack.api.url}/v1/tenders/{tender['tender_id']}/bids/0x{pseudonym.hex()}/ciphertext").content

    verdict = verify_tender(ledger, tid, from_platform)
    assert verdict.consistent, [c for c in verdict.checks if not c.ok]
    assert len(verdict.checks) == 2 * 6 + 2  # six per bid, the result, and the objection period before it
    swapped = verify_tender(ledger, tid, lambda p: from_platform(p)[:-1] + b"\x00")  # a copy someone altered
    assert not swapped.consistent
    assert {c.what.split(" ", 1)[1] for c in swapped.checks if not c.ok} == {"bid file matches its on-chain hash"}


def test_a_bid_the_chain_finds_late_leaves_no_file_behind(stack, client, deployment, parties):
    tender = create_tender(stack, client, parties, [Account.create()], reference="GC-2026-008", method="lowest_price")
    chain_now = client.w3.eth.get_block("latest")["timestamp"]
    rpc_call(client.w3.provider.endpoint_uri, "evm_increaseTime", [tender["terms"]["bid_deadline"] - chain_now + 1])
    rpc_call(client.w3.provider.endpoint_uri, "evm_mine")  # the chain's clock is past the deadline, the platform's not yet
    late = Bidder(stack, "测试临界公司", 100_00, deployment)
    refused = late.bid(tender["tender_id"], 100_00)
    assert refused.status_code == 409 and refused.json()["error"] == "TenderLedgerBiddingClosed", refused.text
    blobs = stack.api.settings.state_dir / "blobs"
    assert not any(p.name == late.sealed.ciphertext_hash.hex() for p in blobs.rglob("*"))
