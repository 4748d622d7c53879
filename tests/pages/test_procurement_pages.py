"""/procurement, /tenders/{id}/bid and /tenders/{id}/score in a real browser against the real
stack (issue 20, part B): the procurement agency creates a tender and takes it through the opening,
the reading, an objection and the result; a bidder seals its bid in the browser (WebCrypto), replaces
it, keeps the key and the signed receipt, signs in at the opening and releases the key; an expert
signs its scores in the wallet. Each journey has a failure a person can meet, said on the page in
both languages with nothing left half-done. axe-core checks every page for serious or critical
accessibility violations."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from eth_account import Account
from playwright.sync_api import Page, expect

from api.tenders.service import blobs
from identity import tender712
from identity.bids import open_bid
from tests.pages.conftest import Wallet, assert_accessible, screenshot
from tests.support.tenders import Bidder, create_tender, move_past, now_of, past_objection_period, publish_result, register_bidder

pytestmark = [pytest.mark.pages, pytest.mark.slow]

LIVE = 15_000  # ms: the bid page polls every 3 s; the chain and the API need a moment too


class RefusingWallet(Wallet):
    """The test wallet, whose holder can refuse to sign typed data (as a person clicking "Reject")."""

    refuse = False

    def _request(self, method: str, params: list):
        if method == "eth_signTypedData_v4" and self.refuse:
            self.requests.append((method, params))
            raise RuntimeError("User rejected the request. (EIP-1193 4001)")
        return super()._request(method, params)


def signed_in(page: Page, path: str, account, wallet_class=Wallet) -> Wallet:
    wallet = wallet_class(page, account)
    page.goto(path)
    page.click("#sign-in")
    expect(page.locator("#address")).to_have_text(account.address)
    return wallet


def local(moment: int) -> str:
    """``moment`` as a datetime-local value in the browser's zone (the page context's Asia/Shanghai)."""
    return datetime.fromtimestamp(moment, ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%dT%H:%M:%S")


def stored_bid(page: Page, tender_id: str, address: str) -> dict | None:
    return page.evaluate(f"JSON.parse(localStorage.getItem('govchain.bid.{tender_id}.{address.lower()}'))")


def tender_view(stack, tender_id: str) -> dict:
    return stack.http.get(f"/v1/tenders/{tender_id}").json()


def steps(stack, tender_id: str, name: str) -> list[dict]:
    return [s for s in stack.http.get(f"/v1/tenders/{tender_id}/trail").json() if s["step"] == name]


# -- served like the other pages -------------------------------------------------------------------


@pytest.mark.parametrize("path, script", [("/procurement", "procurement.js"), ("/tenders/0x" + "00" * 32 + "/bid", "bid.js"),
                                          ("/tenders/0x" + "00" * 32 + "/score", "score.js")])  # fmt: skip
def test_each_page_is_served_with_the_strict_csp_and_only_its_own_files(stack, path, script):
    page = stack.http.get(path)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"] and "frame-ancestors 'none'" in page.headers["content-security-policy"]
    # the suite's stack runs in dev, where the page carries the dev wallet (its tag dropped outside dev: test_dev_wallet.py)
    assert re.findall(r'<script (?:type="module" )?src="/static/([^"]+)"></script>', page.text) == ["govchain.js", script, "devwallet.js"]
    assert "<script>" not in page.text and " style=" not in page.text and "on" + "click=" not in page.text
    for name in ["govchain.css", "procurement.css", script, "procurement-kit.js"]:
        asset = stack.http.get(f"/static/{name}")
        assert asset.status_code == 200, name
        assert not re.search(r"https?://", asset.text), f"{name} names an outside address"
    assert not re.search(r"https?://", page.text)
    assert stack.http.get("/tenders/not-a-tender/bid").status_code == 422


# -- the bidder ----------------------------------------------------------------------------------------


def test_a_bidder_seals_replaces_and_releases_its_key_in_the_browser(page, stack, client, deployment, parties):
    tender = create_tender(stack, client, parties, [Account.create()], reference=f"GC-PB-BID-{uuid.uuid4().hex[:8]}", method="lowest_price",
                           min_bidders=2, bidding=300)  # fmt: skip
    tid = tender["tender_id"]
    bidder = Account.create()
    register_bidder(stack, bidder.address, "浏览器投标有限公司")
    wallet = signed_in(page, f"/tenders/{tid}/bid", bidder)
    expect(page.locator("#pseudonym")).to_have_text(re.compile(r"^0x[0-9a-f]{64}$"))
    pseudonym = page.locator("#pseudonym").inner_text()
    assert_accessible(page)

    page.fill("#bidder-name", "浏览器投标有限公司")
    page.fill("#price", "120000.50")
    page.fill("#items", "工期：90天\n质保：2年")
    page.click("#seal")
    expect(page.locator("body")).to_have_attribute("data-bid", "submitted")
    expect(page.locator("#notice")).to_contain_text("Bid submitted (version 1)")
    expect(page.locator("#key-warning")).to_be_visible()
    first = stored_bid(page, tid, bidder.address)
    receipt = first["receipt"]
    assert receipt["pseudonym"] == pseudonym and receipt["version"] == 1
    # the commitment the browser made is the one the contract checks (identity.tender712, as the API's own clients make it)
    ledger = deployment.address("TenderLedger")
    expected = tender712.key_commitment(deployment.chain_id, ledger, bytes.fromhex(tid[2:]), bidder.address, bytes.fromhex(first["key"][2:]), bytes.fromhex(first["salt"][2:]))
    assert receipt["key_commitment"] == "0x" + expected.hex() == first["key_commitment"]
    # only ciphertext left the browser: the platform's copy opens with the browser's key, bound to tender and pseudonym
    ciphertext = blobs(stack.api.app.state.platform).get(receipt["ciphertext_hash"][2:])
    assert first["key"][2:] not in ciphertext.hex()
    assert open_bid(ciphertext, bytes.fromhex(first["key"][2:]), bytes.fromhex(tid[2:]), bytes.fromhex(pseudonym[2:])) == {
        "bidder": "浏览器投标有限公司",
        "items": {"工期": "90天", "质保": "2年"},
        "price_fen": 12_000_050,
    }
    assert "eth_signTypedData_v4" not in wallet.methods()  # uploading needs no signature beyond the sign-in
    with page.expect_download() as receipt_download:
        page.click("#receipt-download")
    assert json.loads(receipt_download.value.path().read_text())["signature"] == receipt["signature"]
    screenshot(page, "bid-submitted")

    # replace before the deadline: a new key, a new version; the old key is gone once the new file is accepted
    page.fill("#price", "118000")
    page.click("#seal")
    expect(page.locator("#notice")).to_contain_text("Bid submitted (version 2)")
    expect(page.locator("#my-status")).to_contain_text("version 版本 2")
    second = stored_bid(page, tid, bidder.address)
    assert second["receipt"]["version"] == 2 and second["key"] != first["key"] and "pending" not in second
    with page.expect_download() as key_download:
        page.click("#key-download")
    backup = json.loads(key_download.value.path().read_text())
    assert backup["key"] == second["key"] and backup["key_commitment"] == second["receipt"]["key_commitment"]

    rival = Bidder(stack, "另一投标有限公司", 125_000_00, deployment)
    rival.bid_ok(tender)

    # failure: too late. After the deadline the page says so in both languages and keeps the accepted bid and its key
    move_past(stack, client, tender["terms"]["bid_deadline"])
    page.fill("#price", "99000")
    page.click("#seal")
    expect(page.locator("#error")).to_contain_text("投标已截止")
    expect(page.locator("#error")).to_contain_text("Bidding has closed")
    assert stored_bid(page, tid, bidder.address) == second
    screenshot(page, "bid-too-late")

    # the opening: the agency opens; the bidder signs in through its wallet (EIP-712 SignIn)
    move_past(stack, client, tender["terms"]["opening_time"])
    opened = stack.http.post(f"/v1/tenders/{tid}/open", headers=stack.sign_in(parties.procurement))
    assert opened.status_code == 200 and opened.json()["state"] == "opened", opened.text
    expect(page.locator("#opening-section")).to_be_visible(timeout=LIVE)
    page.click("#opening-sign-in")
    expect(page.locator("#opening-result")).to_contain_text("Signed in to the opening")
    method, (address, typed) = wallet.requests[-1]
    assert method == "eth_signTypedData_v4" and address == bidder.address
    assert json.loads(typed)["primaryType"] == "SignIn" and json.loads(typed)["message"]["pseudonym"] == pseudonym
    expect(page.locator("#release")).to_be_visible()

    # failure: a wrong key (the browser's copy damaged). Said on the page; nothing is sent, the bid stays sealed
    page.evaluate(f"""() => {{ const k = 'govchain.bid.{tid}.{bidder.address.lower()}';
        const r = JSON.parse(localStorage.getItem(k)); r.key = '0x' + '11'.repeat(32); localStorage.setItem(k, JSON.stringify(r)); }}""")
    page.click("#release")
    expect(page.locator("#error")).to_contain_text("密钥错误")
    expect(page.locator("#error")).to_contain_text("Wrong key")
    assert steps(stack, tid, "KeyRevealed") == []
    screenshot(page, "bid-wrong-key")
    # ... restored from the downloaded backup
    page.set_input_files("#restore", str(key_download.value.path()))
    expect(page.locator("#notice")).to_contain_text("Key restored from the backup")
    assert stored_bid(page, tid, bidder.address)["key"] == second["key"]
    # a browser that stopped after the platform accepted the replacement but before it saved the receipt holds the
    # old key in front and the new one pending: the chain refuses the old one (nothing sent), the pending one opens the bid
    crashed = {**first, "pending": {k: second[k] for k in ("key", "salt", "key_commitment")}}
    page.evaluate("([k, r]) => localStorage.setItem(k, JSON.stringify(r))", [f"govchain.bid.{tid}.{bidder.address.lower()}", crashed])
    page.click("#release")
    expect(page.locator("#opening-result")).to_have_attribute("data-decrypted", "true")
    expect(page.locator("#opening-result")).to_contain_text("it opens your bid file")
    assert [(s["args"]["pseudonym"], s["args"]["key"]) for s in steps(stack, tid, "KeyRevealed")] == [(pseudonym, second["key"])]
    assert stored_bid(page, tid, bidder.address)["key"] == second["key"] and "pending" not in stored_bid(page, tid, bidder.address)
    assert_accessible(page)
    screenshot(page, "bid-key-released")

    # the reading names the browser's bid as sealed there
    rival.signed_in(tender)
    rival.released(tender)
    reading = stack.http.post(f"/v1/tenders/{tid}/reading", headers=stack.sign_in(parties.procurement))
    assert reading.status_code == 200, reading.text
    read = {b["pseudonym"]: b["bid"] for b in tender_view(stack, tid)["bids"]}
    assert read[pseudonym]["bidder_name"] == "浏览器投标有限公司" and read[pseudonym]["price_fen"] == 11_800_000

    # during the objection period the bidder objects from its page, signed in its wallet (EIP-712 Objection)
    expect(page.locator("#objection-section")).to_be_visible(timeout=LIVE)
    page.fill("#objection", "对另一投标人的报价有异议。")
    page.click("#object")
    expect(page.locator("#notice")).to_contain_text("Objection raised (number 1)")
    assert json.loads(wallet.requests[-1][1][1])["primaryType"] == "Objection"
    listed = stack.http.get(f"/v1/tenders/{tid}/objections", headers=stack.sign_in(parties.procurement)).json()
    assert [(o["pseudonym"], o["text"]) for o in listed] == [(pseudonym, "对另一投标人的报价有异议。")]


def test_a_bidder_withdraws_before_the_deadline_and_a_refused_upload_keeps_nothing(page, stack, client, deployment, parties):
    tender = create_tender(stack, client, parties, [Account.create()], reference=f"GC-PB-WD-{uuid.uuid4().hex[:8]}", method="lowest_price", min_bidders=1)
    tid = tender["tender_id"]
    unregistered = Account.create()  # not a registered bidder: the platform refuses its upload (403)
    wallet = signed_in(page, f"/tenders/{tid}/bid", unregistered)
    page.fill("#bidder-name", "未登记公司")
    page.fill("#price", "1000")
    page.click("#seal")
    expect(page.locator("#error")).to_contain_text("无权执行此操作")
    expect(page.locator("#error")).to_contain_text("BIDDER role")
    assert stored_bid(page, tid, unregistered.address) is None  # no key kept for a bid that does not exist

    bidder = Account.create()
    register_bidder(stack, bidder.address, "撤回测试有限公司")
    page.click("#sign-out")
    wallet.account = bidder  # the person switches to the registered firm's account in the wallet
    page.click("#sign-in")
    expect(page.locator("#address")).to_have_text(bidder.address)
    page.fill("#bidder-name", "撤回测试有限公司")
    page.fill("#price", "1000")
    page.click("#seal")
    expect(page.locator("body")).to_have_attribute("data-bid", "submitted")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#withdraw")
    expect(page.locator("body")).to_have_attribute("data-bid", "withdrawn")
    expect(page.locator("#my-status")).to_contain_text("Withdrawn")
    assert "key" not in stored_bid(page, tid, bidder.address)
    move_past(stack, client, tender["terms"]["opening_time"])
    opened = stack.http.post(f"/v1/tenders/{tid}/open", headers=stack.sign_in(parties.procurement))
    assert opened.json()["state"] == "failed"  # the only bid was withdrawn: no bid counts toward the minimum


# -- the procurement agency --------------------------------------------------------------------------


def test_the_agency_runs_a_tender_from_creation_to_result(page, stack, client, deployment, parties, tmp_path):
    move_past(stack, client, now_of(stack, client) - 1)  # the platform's clock catches up with the chain's (before the sign-in)
    wallet = signed_in(page, "/procurement", parties.procurement)
    expect(page.locator("#create-section")).to_be_visible()
    assert_accessible(page)
    reference = f"GC-PB-PROC-{uuid.uuid4().hex[:8]}"
    document = tmp_path / "招标文件.pdf"
    document.write_bytes(b"%PDF-1.4 tender document " + uuid.uuid4().bytes)
    deadline = now_of(stack, client) + 300
    page.fill("#reference", reference)
    page.fill("#tender-title", "浏览器采购测试项目")
    page.set_input_files("#document", str(document))
    page.fill("#deadline", local(deadline))
    page.fill("#decryption", "5")
    page.fill("#objection-minutes", "1")
    page.fill("#experts", Account.create().address)
    page.fill("#min-bidders", "2")
    page.click("#create-button")
    expect(page.locator("#notice")).to_contain_text(f"Tender published: {reference}")
    expect(page.locator("body")).to_have_attribute("data-state", "bidding")
    tid = re.search(r"tender=(0x[0-9a-f]{64})", page.url).group(1)
    tender = tender_view(stack, tid)
    assert tender["reference"] == reference and tender["agency"] == parties.procurement.address
    assert tender["terms"]["document_hash"] == "0x" + hashlib.sha256(document.read_bytes()).hexdigest()  # hashed in the browser
    assert tender["terms"]["bid_deadline"] == deadline and tender["terms"]["objection_seconds"] == 60
    expect(page.locator(f'#tenders tr[data-tender="{tid}"]')).to_have_attribute("data-state", "bidding")
    assert wallet.methods() == ["eth_requestAccounts", "personal_sign"]  # the agency's steps need its sign-in only (dev-derived keys)
    screenshot(page, "procurement-created")

    bidders = [Bidder(stack, name, price, deployment) for name, price in (("采购页甲公司", 210_000_00), ("采购页乙公司", 199_000_00))]
    for bidder in bidders:
        bidder.bid_ok(tender)

    # failure: opening before the opening time is refused and said; the tender stays in bidding
    page.click("#open")
    expect(page.locator("#error")).to_contain_text("尚未到开标时间")
    expect(page.locator("#error")).to_contain_text("not yet the opening time")
    assert tender_view(stack, tid)["state"] == "bidding"

    move_past(stack, client, tender["terms"]["opening_time"])
    page.click("#open")
    expect(page.locator("body")).to_have_attribute("data-state", "opened")
    expect(page.locator("#notice")).to_contain_text("Opened")
    expect(page.locator("#m-bids tr")).to_have_count(2)
    for bidder in bidders:
        bidder.signed_in(tender)
        assert bidder.released(tender)["decrypted"] is True
    objection = bidders[0].object(tid, "乙公司的资质证书已过期。")
    assert objection.status_code == 201, objection.text

    page.click("#reading")
    expect(page.locator("body")).to_have_attribute("data-state", "read")
    expect(page.locator("#announcement")).to_contain_text("采购页乙公司")
    expect(page.locator("#announcement")).to_contain_text("199000.00 元")
    expect(page.locator("#m-bids")).to_contain_text("199,000.00")
    item = page.locator('#objections li[data-index="0"]')
    expect(item).to_contain_text("乙公司的资质证书已过期。")
    expect(item).to_have_attribute("data-answered", "false")
    assert_accessible(page)

    # failure: the result before the objection period is over, said in both languages; nothing published
    page.click("#result")
    expect(page.locator("#error")).to_contain_text("异议期尚未结束")
    expect(page.locator("#error")).to_contain_text("objection period is not over")
    assert steps(stack, tid, "ResultPublished") == []
    screenshot(page, "procurement-result-refused")

    item.locator("textarea").fill("经核查，证书在有效期内。")
    item.get_by_role("button", name="Answer 答复").click()
    expect(item).to_have_attribute("data-answered", "true")
    expect(item).to_contain_text("经核查，证书在有效期内。")
    assert [s["args"]["index"] for s in steps(stack, tid, "ObjectionAnswered")] == [0]

    past_objection_period(stack, client, tender_view(stack, tid))
    page.click("#result")
    expect(page.locator("body")).to_have_attribute("data-state", "decided")
    expect(page.locator("#m-result")).to_contain_text("采购页乙公司")  # the lowest price
    expect(page.locator("#m-result")).to_contain_text("199,000.00 元")
    assert steps(stack, tid, "ResultPublished")[0]["args"]["winner"] == bidders[1].receipt["pseudonym"]
    assert_accessible(page)
    screenshot(page, "procurement-decided")


def test_the_agency_replaces_an_expert_who_did_not_score_in_time(page, stack, client, deployment, parties):
    experts, replacement = [Account.create(), Account.create()], Account.create()
    move_past(stack, client, now_of(stack, client) - 1)
    body = {"reference": f"GC-PB-REPL-{uuid.uuid4().hex[:8]}", "title": "更换专家测试项目", "document_hash": "0x" + "ab" * 32,
            "bid_deadline": now_of(stack, client) + 60, "decryption_minutes": 1, "objection_seconds": 60, "method": "weighted_score",
            "weights": [5000, 5000], "experts": [e.address for e in experts], "min_bidders": 1}  # fmt: skip
    procurement = stack.sign_in(parties.procurement)
    created = stack.http.post("/v1/tenders", json=body, headers=procurement)
    assert created.status_code == 201, created.text
    tender = created.json()
    tid = tender["tender_id"]
    bidder = Bidder(stack, "更换专家测试公司", 50_000_00, deployment)
    bidder.bid_ok(tender)
    move_past(stack, client, tender["terms"]["opening_time"])
    assert stack.http.post(f"/v1/tenders/{tid}/open", headers=procurement).status_code == 200
    bidder.signed_in(tender)
    bidder.released(tender)
    assert stack.http.post(f"/v1/tenders/{tid}/reading", headers=procurement).status_code == 200

    signed_in(page, f"/procurement?tender={tid}", parties.procurement)
    expect(page.locator("#replace-part")).to_be_visible()
    page.select_option("#replace-expert", experts[0].address)
    page.fill("#replacement", replacement.address)
    # failure: the expert's scoring deadline has not passed; said, and the panel is unchanged
    page.click("#replace-button")
    expect(page.locator("#error")).to_contain_text("评分期限未到")
    expect(page.locator("#error")).to_contain_text("scoring deadline has not passed")
    assert tender_view(stack, tid)["terms"]["experts"] == [e.address for e in experts]

    past_objection_period(stack, client, tender_view(stack, tid))  # the reading + 60 s: the scoring deadline too (the same window)
    page.select_option("#replace-expert", experts[0].address)
    page.fill("#replacement", replacement.address)
    page.click("#replace-button")
    expect(page.locator("#notice")).to_contain_text("Expert replaced")
    assert tender_view(stack, tid)["terms"]["experts"] == [replacement.address, experts[1].address]
    assert [(s["args"]["expert"], s["args"]["replacement"]) for s in steps(stack, tid, "ExpertReplaced")] == [(experts[0].address, replacement.address)]
    expect(page.locator("#m-terms")).to_contain_text(replacement.address)
    screenshot(page, "procurement-expert-replaced")


def test_an_expired_sign_in_is_said_and_the_page_asks_for_a_new_one(page, stack, client, parties, tmp_path):
    move_past(stack, client, now_of(stack, client) - 1)
    signed_in(page, "/procurement", parties.procurement)
    expect(page.locator("#list-section")).to_be_visible()
    move_past(stack, client, now_of(stack, client) + stack.api.settings.token_ttl_seconds)  # the token the page holds expires
    document = tmp_path / "doc.txt"
    document.write_text("招标文件")
    reference = f"GC-PB-EXP-{uuid.uuid4().hex[:8]}"
    page.fill("#reference", reference)
    page.fill("#tender-title", "过期登录测试")
    page.set_input_files("#document", str(document))
    page.fill("#deadline", local(now_of(stack, client) + 600))
    page.fill("#experts", Account.create().address)
    page.click("#create-button")
    expect(page.locator("#error")).to_contain_text("登录已失效")
    expect(page.locator("#error")).to_contain_text("Your sign-in expired")
    expect(page.locator("#sign-in")).to_be_visible()  # signed out: the page asks for a new sign-in
    expect(page.locator("#create-section")).to_be_hidden()
    assert page.evaluate("sessionStorage.getItem('govchain.session')") is None
    mine = stack.http.get("/v1/tenders", headers=stack.sign_in(parties.procurement)).json()
    assert reference not in [t["reference"] for t in mine]  # nothing was created


def test_a_wallet_without_the_procurement_role_is_told_so(page, parties):
    signed_in(page, "/procurement", parties.outsider)
    expect(page.locator("#error")).to_contain_text("PROCUREMENT")
    expect(page.locator("#error")).to_contain_text("没有采购人角色")
    expect(page.locator("#create-section")).to_be_hidden()


# -- the expert ----------------------------------------------------------------------------------------


def test_an_expert_signs_scores_in_the_wallet(page, stack, client, deployment, parties):
    expert = Account.create()
    tender = create_tender(stack, client, parties, [expert], reference=f"GC-PB-SCORE-{uuid.uuid4().hex[:8]}", min_bidders=2, bidding=120)
    tid = tender["tender_id"]
    bidders = [Bidder(stack, name, price, deployment) for name, price in (("评分页甲公司", 300_000_00), ("评分页乙公司", 280_000_00))]
    for bidder in bidders:
        bidder.bid_ok(tender)
    move_past(stack, client, tender["terms"]["opening_time"])
    procurement = stack.sign_in(parties.procurement)
    assert stack.http.post(f"/v1/tenders/{tid}/open", headers=procurement).status_code == 200
    for bidder in bidders:
        bidder.signed_in(tender)
        bidder.released(tender)
    assert stack.http.post(f"/v1/tenders/{tid}/reading", headers=procurement).status_code == 200

    wallet = signed_in(page, f"/tenders/{tid}/score", expert, RefusingWallet)
    rows = page.locator("#bids tr")
    expect(rows).to_have_count(2)
    assert_accessible(page)
    first = page.locator(f'#bids tr[data-pseudonym="{bidders[0].receipt["pseudonym"]}"]')
    expect(first).to_contain_text("评分页甲公司")

    # failure: the expert's wallet refuses to sign; said on the page, nothing goes on chain
    wallet.refuse = True
    first.locator("input").nth(0).fill("80")
    first.locator("input").nth(1).fill("70")
    first.get_by_role("button").click()
    expect(page.locator("#error")).to_contain_text("钱包拒绝了签名")
    expect(page.locator("#error")).to_contain_text("The wallet refused to sign")
    assert steps(stack, tid, "ScoresSubmitted") == []
    expect(first).to_have_attribute("data-scored", "false")
    screenshot(page, "score-refused")

    # a score out of range is refused before the wallet is asked
    wallet.refuse = False
    asked = len(wallet.requests)
    first.locator("input").nth(0).fill("101")
    first.get_by_role("button").click()
    expect(page.locator("#error")).to_contain_text("0–100")
    assert len(wallet.requests) == asked

    marks = {bidders[0].receipt["pseudonym"]: [80, 70], bidders[1].receipt["pseudonym"]: [90, 60]}
    for pseudonym, scores in marks.items():
        row = page.locator(f'#bids tr[data-pseudonym="{pseudonym}"]')
        for i, score in enumerate(scores):
            row.locator("input").nth(i).fill(str(score))
        row.get_by_role("button").click()
        expect(row).to_have_attribute("data-scored", "true")
    submitted = {s["args"]["pseudonym"]: s["args"]["scores"] for s in steps(stack, tid, "ScoresSubmitted")}
    assert submitted == marks
    assert {s["args"]["expert"] for s in steps(stack, tid, "ScoresSubmitted")} == {expert.address}
    typed = json.loads(wallet.requests[-1][1][1])
    assert typed["primaryType"] == "Score" and typed["domain"]["verifyingContract"] == deployment.address("TenderLedger")
    assert_accessible(page)
    screenshot(page, "score-submitted")

    result = publish_result(stack, client, parties, tender)  # the scores count: 0.6*90+0.4*60 = 78 against 0.6*80+0.4*70 = 76
    assert result.status_code == 200, result.text
    assert result.json()["winner"] == bidders[1].receipt["pseudonym"]


def test_someone_off_the_panel_cannot_score(page, stack, client, deployment, parties):
    tender = create_tender(stack, client, parties, [Account.create()], reference=f"GC-PB-NOEXP-{uuid.uuid4().hex[:8]}", min_bidders=1)
    wallet = Wallet(page, Account.create())
    page.goto(f"/tenders/{tender['tender_id']}")  # from the public hall, the expert follows its link
    expect(page.locator("#bid-link")).to_have_attribute("href", f"/tenders/{tender['tender_id']}/bid")
    page.click("#score-link")
    expect(page).to_have_url(re.compile(f"/tenders/{tender['tender_id']}/score$"))
    page.wait_for_load_state("load")  # the page's module has run: its sign-in button answers
    page.click("#sign-in")
    expect(page.locator("#address")).to_have_text(wallet.account.address)
    expect(page.locator("#error")).to_contain_text("您不是本项目的评标专家")
    expect(page.locator("#error")).to_contain_text("not on this tender's expert panel")
    expect(page.locator("#scores-section")).to_be_hidden()
