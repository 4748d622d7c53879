"""Fair bid opening against dishonest bidders, agencies and outsiders (issue 14), over real HTTP
on a real node. Each test is an attack that worked before its fix. The dishonest agency sends
with its own key straight to the chain, so its tests come last in this module (the stack's
nonce counter for that key is stale after them)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import timedelta
from concurrent.futures import ThreadPoolExecutor

import pytest
from eth_account import Account
from eth_utils import keccak

from chain.tenders import BidStatus, Cause, Reading, TenderLedgerClient
from api.tenders.client import score
from identity import tender712
from identity.keys import dev_account
from identity.pull_request import canonical_json
from tests.support.tenders import ITEMS, Bidder, create_tender, move_past, publish_result

pytestmark = pytest.mark.slow


@pytest.fixture
def ledger(client, deployment) -> TenderLedgerClient:
    entry = deployment.contracts["TenderLedger"]
    return TenderLedgerClient(client, entry["address"], entry["abi"])


def fund(client, node_config, address: str) -> None:
    """Give a bidder's fresh key gas money, so it can send to the contract itself."""
    funder = dev_account(node_config, 19)
    client.wait(client.send(funder, client.build(funder, to=address, value=10**17)))


def tender_of(stack, tender) -> dict:
    response = stack.http.get(f"/v1/tenders/{tender['tender_id']}")
    assert response.status_code == 200, response.text
    return response.json()


def opened(stack, client, parties, tender) -> dict:
    move_past(stack, client, tender["terms"]["opening_time"])
    response = stack.http.post(f"/v1/tenders/{tender['tender_id']}/open", headers=stack.sign_in(parties.procurement))
    assert response.status_code == 200 and response.json()["state"] == "opened", response.text
    return tender_of(stack, tender)


def reveal_on_chain(client, node_config, ledger, tender, bidder: Bidder) -> None:
    """The bidder sends ``revealKey`` itself, not through the platform (the contract allows it)."""
    fund(client, node_config, bidder.account.address)
    tid, pid = bytes.fromhex(tender["tender_id"][2:]), bytes.fromhex(bidder.receipt["pseudonym"][2:])
    ledger.reveal_key(bidder.account, tid, pid, bidder.committed_key, bidder.sealed.salt)


BID_EVENTS = {"BidCommitted", "BidWithdrawn"}


def test_nothing_about_bids_is_served_before_the_opening(stack, client, deployment, parties, ledger):
    """Before the opening, anyone could count the bids, their pseudonyms, versions and times."""
    tender = create_tender(stack, client, parties, [Account.create()], reference="GC-2026-F01", method="lowest_price", min_bidders=1, bidding=300)
    tid = tender["tender_id"]
    first, second = Bidder(stack, "测试保密甲公司", 300_00, deployment), Bidder(stack, "测试保密乙公司", 200_00, deployment)
    first.bid_ok(tender)
    first.bid_ok(tender, price=290_00)  # a replacement near the deadline
    second.bid_ok(tender)
    assert second.withdraw(tid).status_code == 200
    seen = {
        "public trail": [s["step"] for s in stack.http.get(f"/v1/tenders/{tid}/trail").json()],
        "tender": list(stack.http.get(f"/v1/tenders/{tid}").json()),
        "agency's audit trail": [s["event"] for s in stack.http.get(f"/v1/audit/tenders/{tid}/trail", headers=stack.sign_in(parties.procurement)).json()["steps"]],
    }
    governor = stack.sign_in(parties.governor)
    records = stack.http.get("/v1/records", params={"case_ref": tid}, headers=governor)
    assert records.status_code == 200, records.text
    seen["records"] = [r["event"] for r in records.json()["records"]]
    findings = stack.http.get("/v1/audit/findings", params={"rule": "bid_changed_near_deadline"}, headers=governor)
    assert findings.status_code == 200, findings.text
    seen["findings"] = [f for f in findings.json()["findings"] if f["case_ref"] == tid]
    outbox = stack.http.get("/v1/outbox", params={"limit": 500}, headers=governor).json()
    seen["outbox"] = [e["intent_key"] for e in outbox if first.receipt["pseudonym"] in e["intent_key"] or tid in e["intent_key"] and ":bid" in e["intent_key"]]
    assert seen == {"public trail": ["TenderCreated"], "tender": ["tender_id", "reference", "title", "agency", "state", "terms", "created_tx", "ledger"],
                    "agency's audit trail": ["TenderCreated"], "records": ["TenderCreated"], "findings": [], "outbox": []}, seen  # fmt: skip
    # what the chain itself still shows a member that reads the logs: every commitment and withdrawal
    logs = [e.name for e in ledger.trail(bytes.fromhex(tid[2:]))]
    assert [n for n in logs if n in BID_EVENTS] == ["BidCommitted", "BidCommitted", "BidCommitted", "BidWithdrawn"]
    tender = opened(stack, client, parties, tender)  # from the opening on, the trail is whole
    steps = [s["step"] for s in stack.http.get(f"/v1/tenders/{tid}/trail").json()]
    assert steps == ["TenderCreated", "BidCommitted", "BidCommitted", "BidCommitted", "BidWithdrawn", "TenderOpened"]


def test_no_price_is_shown_before_every_bid_can_be_opened_and_holding_back_a_key_forfeits(stack, client, deployment, parties, ledger):
    """A ring bid two prices, waited for the honest bidder to reveal, read its price and released only
    the key that beat it."""
    tender = create_tender(stack, client, parties, [Account.create()], reference="GC-2026-F02", method="lowest_price", min_bidders=1)
    tid = tender["tender_id"]
    honest = Bidder(stack, "测试诚信公司", 300_00, deployment)
    ring_high, ring_low = Bidder(stack, "测试围标甲公司", 320_00, deployment), Bidder(stack, "测试围标乙公司", 290_00, deployment)
    for bidder in (honest, ring_high, ring_low):
        bidder.bid_ok(tender)
    tender = opened(stack, client, parties, tender)
    for bidder in (honest, ring_high, ring_low):
        bidder.signed_in(tender)
    assert honest.released(tender)["decrypted"] is True
    # the ring looks, during the window, at everything the platform serves
    during = tender_of(stack, tender)
    assert {b["pseudonym"] for b in during["bids"]} == {b.receipt["pseudonym"] for b in (honest, ring_high, ring_low)}
    assert [b for b in during["bids"] if b.get("bid") is not None or b.get("decryption") is not None] == [], during["bids"]
    ciphertext = stack.http.get(f"/v1/tenders/{tid}/bids/{honest.receipt['pseudonym']}/ciphertext")  # its key is on chain already
    assert ciphertext.status_code == 403, ciphertext.text
    steps = [s["step"] for s in stack.http.get(f"/v1/tenders/{tid}/trail").json()]
    assert "BidDecrypted" not in steps  # a plaintext hash on chain would let anyone try prices against it
    ring_low.released(tender)  # blind: the ring has seen no price
    move_past(stack, client, tender["terms"]["decryption_end"])
    procurement = stack.sign_in(parties.procurement)
    closed = stack.http.post(f"/v1/tenders/{tid}/close-decryption", headers=procurement)
    assert closed.status_code == 200, closed.text
    assert {c["pseudonym"]: c["cause"] for c in closed.json()}[ring_high.receipt["pseudonym"]] == "no_key"
    trail = stack.http.get(f"/v1/tenders/{tid}/trail").json()
    forfeited = [s["args"] for s in trail if s["step"] == "BidSecurityForfeited"]
    assert forfeited == [{"pseudonym": ring_high.receipt["pseudonym"], "bidder": ring_high.account.address}]
    assert stack.http.post(f"/v1/tenders/{tid}/reading", headers=procurement).status_code == 200
    after = {b["pseudonym"]: b for b in tender_of(stack, tender)["bids"]}
    assert after[honest.receipt["pseudonym"]]["bid"]["price_fen"] == 300_00
    assert stack.http.get(f"/v1/tenders/{tid}/bids/{honest.receipt['pseudonym']}/ciphertext").status_code == 200


def one_through_the_platform_one_straight_on_chain(stack, client, deployment, parties, node_config, ledger, reference, first, second):
    """A lowest-price tender with two bids, opened and signed in: the first bidder releases its key
    through the platform, the second reveals it straight to the contract."""
    tender = create_tender(stack, client, parties, [Account.create()], reference=reference, method="lowest_price", min_bidders=1)
    through, direct = Bidder(stack, *first, deployment), Bidder(stack, *second, deployment)
    for bidder in (through, direct):
        bidder.bid_ok(tender)
    tender = opened(stack, client, parties, tender)
    for bidder in (through, direct):
        bidder.signed_in(tender)
    assert through.released(tender)["decrypted"] is True
    reveal_on_chain(client, node_config, ledger, tender, direct)
    return tender, through, direct


def test_a_key_revealed_straight_to_the_contract_is_decrypted_at_close(stack, client, deployment, parties, node_config, ledger):
    tender, honest, direct = one_through_the_platform_one_straight_on_chain(
        stack, client, deployment, parties, node_config, ledger, "GC-2026-F05", ("测试直揭甲公司", 300_00), ("测试直揭乙公司", 200_00)
    )
    move_past(stack, client, tender["terms"]["decryption_end"])
    procurement = stack.sign_in(parties.procurement)
    closed = stack.http.post(f"/v1/tenders/{tender['tender_id']}/close-decryption", headers=procurement)
    assert closed.status_code == 200, closed.text
    assert sorted((c["pseudonym"], c["cause"]) for c in closed.json()) == sorted((b.receipt["pseudonym"], "decrypted") for b in (honest, direct))
    tid, pid = bytes.fromhex(tender["tender_id"][2:]), bytes.fromhex(direct.receipt["pseudonym"][2:])
    assert ledger.get_bid(tid, pid).status is BidStatus.DECRYPTED
    reading = stack.http.post(f"/v1/tenders/{tender['tender_id']}/reading", headers=procurement)
    assert reading.status_code == 200, reading.text
    assert reading.json()["read"] == 2 and "200.00 元" in reading.json()["announcement"]


def test_concurrent_objections_each_reach_the_chain(stack, client, deployment, parties, ledger):
    """Two objections raised at once shared the intent key tender:objection:{count}: one was never sent."""
    tender = create_tender(stack, client, parties, [Account.create()], reference="GC-2026-F06", method="lowest_price", min_bidders=1)
    bidders = [Bidder(stack, f"测试异议{n}公司", price, deployment) for n, price in (("甲", 300_00), ("乙", 200_00), ("丙", 250_00))]
    for bidder in bidders:
        bidder.bid_ok(tender)
    tender = opened(stack, client, parties, tender)
    for bidder in bidders:
        bidder.signed_in(tender)
        bidder.released(tender)
    procurement = stack.sign_in(parties.procurement)
    assert stack.http.post(f"/v1/tenders/{tender['tender_id']}/reading", headers=procurement).status_code == 200
    barrier = threading.Barrier(len(bidders))

    def object_at_once(bidder):
        barrier.wait()
        return bidder.object(tender["tender_id"], f"{bidder.name}对开标记录有异议")

    with ThreadPoolExecutor(len(bidders)) as pool:
        responses = list(pool.map(object_at_once, bidders))
    assert [r.status_code for r in responses] == [201] * len(bidders), [r.text for r in responses]
    assert sorted(r.json()["index"] for r in responses) == list(range(len(bidders)))
    assert len({r.json()["tx_hash"] for r in responses}) == len(bidders)
    assert ledger.objection_count(bytes.fromhex(tender["tender_id"][2:])) == len(bidders)
    again = bidders[0].object(tender["tender_id"], f"{bidders[0].name}对开标记录有异议")  # the same objection twice
    assert again.status_code == 409, again.text


def test_an_expert_who_never_scores_is_replaced_through_the_api(stack, client, deployment, parties, ledger):
    """One expert who never scored blocked the result for good."""
    experts = [Account.create(), Account.create()]
    tender = create_tender(stack, client, parties, experts, reference="GC-2026-F07", min_bidders=1, weights=(10000,))
    bidder = Bidder(stack, "测试换专家公司", 100_00, deployment)
    bidder.bid_ok(tender)
    tender = opened(stack, client, parties, tender)
    bidder.signed_in(tender)
    bidder.released(tender)
    procurement = stack.sign_in(parties.procurement)
    assert stack.http.post(f"/v1/tenders/{tender['tender_id']}/reading", headers=procurement).status_code == 200
    domain = tender712.domain(deployment.chain_id, deployment.address("TenderLedger"))
    assert score(stack.http, experts[0], stack.sign_in(experts[0]), tender["tender_id"], bidder.receipt["pseudonym"], [80], domain).status_code == 201
    substitute = Account.create()
    body = {"expert": experts[1].address, "replacement": substitute.address}
    early = stack.http.post(f"/v1/tenders/{tender['tender_id']}/experts/replace", json=body, headers=procurement)
    assert early.status_code == 409 and early.json()["error"] == "TenderLedgerScoringOpen", early.text
    move_past(stack, client, ledger.scoring_deadline(bytes.fromhex(tender["tender_id"][2:]), experts[1].address))
    procurement = stack.sign_in(parties.procurement)
    replaced = stack.http.post(f"/v1/tenders/{tender['tender_id']}/experts/replace", json=body, headers=procurement)
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["dropped_scores"] == 0
    assert score(stack.http, substitute, stack.sign_in(substitute), tender["tender_id"], bidder.receipt["pseudonym"], [90], domain).status_code == 201
    result = stack.http.post(f"/v1/tenders/{tender['tender_id']}/result", json={}, headers=procurement)
    assert result.status_code == 200 and result.json()["value"] == 80 * 10000 + 90 * 10000, result.text
    steps = [s["step"] for s in stack.http.get(f"/v1/tenders/{tender['tender_id']}/trail").json()]
    assert "ExpertReplaced" in steps


def test_answering_the_objections_raised_so_far_does_not_end_the_objection_period(stack, client, deployment, parties, ledger):
    """The agency answered the one objection raised and published the result at once, cutting the
    other bidders' objection period short."""
    tender = create_tender(stack, client, parties, [Account.create()], reference="GC-2026-F10", method="lowest_price", min_bidders=1)
    first, second = Bidder(stack, "测试异议甲公司", 100_00, deployment), Bidder(stack, "测试异议乙公司", 120_00, deployment)
    for bidder in (first, second):
        bidder.bid_ok(tender)
    tender = opened(stack, client, parties, tender)
    for bidder in (first, second):
        bidder.signed_in(tender)
        bidder.released(tender)
    procurement = stack.sign_in(parties.procurement)
    assert stack.http.post(f"/v1/tenders/{tender['tender_id']}/reading", headers=procurement).status_code == 200
    objection = first.object(tender["tender_id"], "对唱标价格有异议")
    assert objection.status_code == 201, objection.text
    url = f"/v1/tenders/{tender['tender_id']}"
    assert stack.http.post(f"{url}/objections/{objection.json()['index']}/answer", json={"text": "已核对"}, headers=procurement).status_code == 200
    early = stack.http.post(f"{url}/result", json={}, headers=procurement)
    assert early.status_code == 409 and str(tender_of(stack, tender)["objection_deadline"]) in early.json()["detail"], early.text
    assert tender_of(stack, tender)["state"] == "read"
    late_objection = second.object(tender["tender_id"], "对评标程序有异议")  # the period is still open for the others
    assert late_objection.status_code == 201, late_objection.text
    assert stack.http.post(f"{url}/objections/{late_objection.json()['index']}/answer", json={"text": "程序合规"}, headers=procurement).status_code == 200
    result = publish_result(stack, client, parties, tender)
    assert result.status_code == 200 and result.json()["winner"] == first.receipt["pseudonym"], result.text


def test_a_throwaway_key_cannot_bid(stack, client, deployment, parties):
    """Anyone signed in with a throw-away key committed bids (the relayer paid): 500 of them filled a
    tender and counted toward its minimum of 3."""
    tender = create_tender(stack, client, parties, [Account.create()], reference="GC-2026-F09", method="lowest_price", min_bidders=1)
    junk = Bidder(stack, "测试一次性密钥", 1_00, deployment, registered=False)
    refused = junk.bid(tender["tender_id"], 1_00)
    assert refused.status_code == 403 and "BIDDER" in refused.json()["detail"], refused.text
    assert junk.sealed.ciphertext_hash.hex() not in blob_files(stack)
    Bidder(stack, "测试注册投标公司", 100_00, deployment).bid_ok(tender)  # registered by the bureau
    tender = opened(stack, client, parties, tender)
    assert tender["bids"] and len(tender["bids"]) == 1  # the junk never reached the chain


def blob_files(stack) -> set[str]:
    return {p.name for p in (stack.api.settings.state_dir / "blobs").rglob("*") if p.is_file()}


def test_superseded_bid_files_are_deleted(stack, client, deployment, parties):
    """Every version of every bid stayed in the blob store for good (20 MiB an upload)."""
    tender = create_tender(stack, client, parties, [Account.create()], reference="GC-2026-F03", method="lowest_price", min_bidders=1)
    bidder = Bidder(stack, "测试换标公司", 300_00, deployment)
    bidder.bid_ok(tender)
    first = bidder.sealed.ciphertext_hash.hex()
    assert first in blob_files(stack)
    bidder.bid_ok(tender, price=280_00)  # a replacement: the chain keeps the first version's hash
    second = bidder.sealed.ciphertext_hash.hex()
    assert first not in blob_files(stack) and second in blob_files(stack)
    assert bidder.withdraw(tender["tender_id"]).status_code == 200  # a withdrawn bid is never opened
    assert second not in blob_files(stack)
    bidder.bid_ok(tender, price=270_00)  # back again, with a file of its own
    assert bidder.sealed.ciphertext_hash.hex() in blob_files(stack)


def test_bid_uploads_are_rate_limited_per_bidder(stack, client, deployment, parties):
    """One bidder could upload without end (each upload a chain transaction and up to 20 MiB)."""
    tender = create_tender(stack, client, parties, [Account.create()], reference="GC-2026-F08", method="lowest_price", min_bidders=1, bidding=3600)
    eager, other = Bidder(stack, "测试频繁公司", 300_00, deployment), Bidder(stack, "测试正常公司", 310_00, deployment)
    limit = stack.api.settings.limits.bid_uploads.address.count
    for n in range(limit):
        eager.bid_ok(tender, price=300_00 - n)
    refused = eager.bid(tender["tender_id"], 1_00)
    assert refused.status_code == 429, refused.text
    assert int(refused.headers["Retry-After"]) > 0 and refused.json()["status"] == 429
    assert eager.sealed.ciphertext_hash.hex() not in blob_files(stack)  # nothing kept, nothing committed
    other.bid_ok(tender)  # per bidder: the others are not held back
    stack.clock.offset += timedelta(seconds=stack.api.settings.limits.bid_uploads.address.seconds)
    eager.refresh()
    assert eager.bid_ok(tender, price=250_00)["version"] == limit + 1  # the window moved on


# -- the dishonest agency (sends with its own key: keep these last) ---------------------------------


def test_verify_fails_when_the_agency_drops_a_bid_whose_revealed_key_opens_it(stack, client, deployment, parties, node_config, ledger):
    # the lowest bid's key goes straight on chain: the platform has not decrypted it yet
    tender, high, low = one_through_the_platform_one_straight_on_chain(stack, client, deployment, parties, node_config, ledger, "GC-2026-F04", ("测试弃标甲公司", 300_00), ("测试弃标乙公司", 100_00))
    tid, pid = bytes.fromhex(tender["tender_id"][2:]), bytes.fromhex(low.receipt["pseudonym"][2:])
    client.nonces.reset()  # the stack sent with the agency's key too
    from chain.reverts import revert_class

    with pytest.raises(revert_class("TenderLedgerKeyWasRevealed")):  # "the bidder's fault": refused by the contract
        ledger.record_decryption(parties.procurement, tid, pid, False, cause=Cause.BIDDER_FAULT)
    ledger.record_decryption(parties.procurement, tid, pid, False, cause=Cause.NOT_BIDDER_FAULT)  # "the file is lost"
    high_pid = bytes.fromhex(high.receipt["pseudonym"][2:])
    opened_high = {"bidder": high.name, "price_fen": 300_00, "items": ITEMS}
    ledger.record_decryption(parties.procurement, tid, high_pid, True, keccak(canonical_json(opened_high)))
    ledger.publish_reading(parties.procurement, tid, [Reading(high_pid, 300_00, keccak(canonical_json(ITEMS)))], keccak(text="唱标"))

    record = stack.api.settings.state_dir / "deployment.json"
    assert record.exists()
    verified = subprocess.run(
        [sys.executable, "-m", "api.cli", "tender", "verify", tender["tender_id"], "--rpc", client.w3.provider.endpoint_uri,
         "--record", str(record), "--api", stack.api.url], capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "250"},
    )  # fmt: skip
    assert verified.returncode == 1, verified.stdout + verified.stderr
    assert "NOT consistent" in verified.stdout and "recorded as not decrypted" in verified.stdout, verified.stdout
