"""``govchain demo no-visit`` and ``govchain demo bid-opening``: whole paths against a running
stack, step by step, with every transaction.

A fresh applicant key applies for primary-school teacher qualification as one of the demo
dataset's fake citizens, passes the (simulated) face check, signs the consent; the
education bureau pulls the data; the applicant reads every access, then revokes the
consent, and the bureau's next pull is refused. With the data pulled before that, the
applicant uploads two materials and signs a commitment for the third, submits (the manifest
root is anchored); the bureau approves, and the certificate is issued in a Merkle batch and
verified. Each step prints what happened
and its transaction; the certificate and its PDF are written to ``demo_dir``.
"""

from __future__ import annotations

import json
import os
import random
import time
from pathlib import Path

import httpx
from eth_account import Account
from rich.console import Console
from rich.table import Table

from api.dev import samples
from identity.dev_citizens import demo_citizen
from identity import pseudonym as pseudonyms, siwe, tender712, typed_data
from chain.hexcodec import hx


class DemoFailed(RuntimeError):
    pass


def _check(response: httpx.Response, expected: int) -> dict:
    if response.status_code != expected:
        raise DemoFailed(f"{response.request.method} {response.request.url.path} answered {response.status_code}: {response.text[:400]}")
    return response.json() if response.content else {}


def sign_in(http: httpx.Client, account) -> dict[str, str]:
    message = _check(http.post("/v1/auth/challenge", json={"address": account.address}), 201)["message"]
    token = _check(http.post("/v1/auth/token", json={"message": message, "signature": siwe.sign(message, account.key)}), 200)
    return {"Authorization": f"Bearer {token['access_token']}"}


def keep_key(folder: Path, account) -> Path:
    """Write the demo applicant's private key (hex) to ``folder``, readable by its owner only."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"applicant-{account.address}.key"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(hx(account.key) + "\n")
    return path


def load_stack(state_dir: Path) -> dict:
    path = state_dir / "stack.json"
    if not path.exists():
        raise DemoFailed(f"{path} does not exist: start the stack with `make run` first")
    return json.loads(path.read_text())


def run_no_visit(stack: dict, agency, console: Console, *, citizen_index: int | None = None, demo_dir: Path | None = None) -> dict:
    """Run the path; returns a summary (application id, consent id, transactions)."""
    citizen = demo_citizen(citizen_index or random.randint(1, 2000))
    applicant = Account.create()
    summary: dict = {"transactions": []}
    with httpx.Client(base_url=stack["api"], timeout=120) as http:
        me = sign_in(http, applicant)
        console.print(f"[bold]1. sign-in[/]   applicant {applicant.address} (a fresh key, as on a phone)")
        if demo_dir is not None:  # dev only: kept so /me can be opened for this applicant afterwards
            summary["applicant_key_file"] = str(keep_key(demo_dir, applicant))
            console.print(f"              its key (dev only, never a real citizen's): {summary['applicant_key_file']}")
        application = _check(http.post("/v1/applications", json={"code": "teacher-qualification-primary"}, headers=me), 201)
        summary["application_id"] = application["id"]
        console.print(f"[bold]2. apply[/]     {application['id']}: {application['matters'][0]['name_zh']} -> {application['state']}")
        started = _check(http.post(f"/v1/applications/{application['id']}/face-verification",
                                   json={"name": citizen["name"], "id_number": citizen["id_number"], "outcome": "pass"}, headers=me), 201)  # fmt: skip
        vendor = httpx.post(f"{stack['vendor']}/v1/sessions/{started['session_id']}/complete",
                            headers={"Authorization": f"Bearer {stack['vendor_api_key']}"}, timeout=60)  # fmt: skip
        _check(vendor, 202)
        for _ in range(50):
            application = _check(http.get(f"/v1/applications/{application['id']}", headers=me), 200)
            if application["face_decision"]:
                break
            time.sleep(0.1)
        console.print(f"[bold]3. face check[/] {citizen['name']} at the vendor -> {application['face_decision']}; state {application['state']}"
                      f" (face-check ref {application['face_check_ref'][:18]}…, no image kept)")  # fmt: skip
        if application["state"] != "face_verified":
            raise DemoFailed("the face check did not pass")
        derivation = _check(http.get(f"/v1/applications/{application['id']}/consent-terms", headers=me), 200)["pseudonym"]
        pseudonym = pseudonyms.from_derivation(applicant.key, derivation).address
        offer = _check(http.get(f"/v1/applications/{application['id']}/consent-terms", params={"pseudonym": pseudonym}, headers=me), 200)
        granted = _check(http.post(f"/v1/applications/{application['id']}/consent", json=pseudonyms.sign_consent_offer(applicant.key, offer), headers=me), 201)
        summary["consent_id"] = granted["consent_id"]
        summary["transactions"].append(granted["tx_hash"])
        console.print(f"[bold]4. consent[/]   signed (EIP-712) for {', '.join(offer['scope'])} by this consent's pseudonym {pseudonym}"
                      f" (linked to the wallet off chain); relayed in tx {granted['tx_hash']} block {granted['block_number']}")  # fmt: skip
        bureau = sign_in(http, agency)
        pulled = _check(http.post(f"/v1/applications/{application['id']}/pulls", headers=bureau), 200)
        for pull in pulled["pulls"]:
            summary["transactions"].append(pull.get("tx_hash"))
            found = "" if pull.get("found", True) else " (no record held)"
            console.print(f"[bold]5. pull[/]      {pull['category']}: {pull['outcome']}{found}, logged in tx {pull.get('tx_hash')}")
        table = Table(title="6. what the applicant sees: every access to their data")
        for column in ("when", "category", "asked by", "served by", "outcome", "tx"):
            table.add_column(column)
        for access in _check(http.get("/v1/me/data-access", headers=me), 200):
            table.add_row(time.strftime("%H:%M:%S", time.localtime(access["at"])), access["category"], access["requester_name"] or access["requester"],
                          access["holder_name"] or access["holder"], access["outcome"], access["tx_hash"][:12] + "…")  # fmt: skip
        console.print(table)
        revocation = _check(http.get(f"/v1/me/consents/{granted['consent_id']}/revocation", headers=me), 200)
        signature = pseudonyms.sign_revocation_offer(applicant.key, revocation)
        revoked = _check(http.post(f"/v1/me/consents/{granted['consent_id']}/revocation",
                                   json={"deadline": revocation["deadline"], "signature": signature}, headers=me), 200)  # fmt: skip
        summary["transactions"].append(revoked["tx_hash"])
        console.print(f"[bold]7. revoke[/]    signed by the consent's pseudonym (key derived from the wallet), relayed in tx {revoked['tx_hash']}")
        again = _check(http.post(f"/v1/applications/{application['id']}/pulls", headers=bureau), 200)
        reasons = sorted({p.get("reason") for p in again["pulls"]})
        console.print(f"[bold]8. pull again[/] {', '.join(p['outcome'] for p in again['pulls'])} ({', '.join(map(str, reasons))}): nothing released")
        summary["refused_after_revocation"] = all(p["outcome"] == "refused" for p in again["pulls"])
        _submit_and_certify(http, stack, applicant, me, bureau, application["id"], console, summary, demo_dir)
    return summary


def _submit_and_certify(http, stack, applicant, me, bureau, application_id: str, console: Console, summary: dict, demo_dir: Path | None) -> None:
    """Steps 9-12: paperless submission (the data pulled before the revocation stays), approval, batched issuance, verification."""
    url = f"/v1/applications/{application_id}"
    for material, data, name in (("health-exam", samples.png(), "体检合格证明.png"), ("mandarin-certificate", samples.pdf("Putonghua 二级甲等"), "普通话证书.pdf")):
        uploaded = _check(http.post(f"{url}/materials", data={"material": material}, files={"file": (name, data)}, headers=me), 201)
        console.print(f"[bold]9. upload[/]    {material}: {uploaded['mime']}, {uploaded['size']} bytes, sha256 {uploaded['sha256'][:16]}… (sealed to the bureau)")
    offer = _check(http.get(f"{url}/commitments/education-certificate/typed-data", headers=me), 200)
    signature = typed_data.sign(offer["typed_data"], applicant.key)
    body = {"material": "education-certificate", "signed_at": offer["typed_data"]["message"]["signedAt"], "signature": hx(signature)}
    committed = _check(http.post(f"{url}/commitments", json=body, headers=me), 201)
    summary["transactions"].append(committed["tx_hash"])
    console.print(f"[bold]9. commitment[/] 告知承诺 for education-certificate signed; digest anchored in tx {committed['tx_hash']}")
    receipt = _check(http.post(f"{url}/submit", json={"delivery": {"method": "electronic"}}, headers=me), 200)
    summary["transactions"].append(receipt["tx_hash"])
    console.print(f"[bold]10. submit[/]   manifest of {len(receipt['leaves'])} leaves, root {receipt['root'][:18]}… anchored in tx {receipt['tx_hash']}")
    _check(http.post(f"{url}/decision", json={"decision": "approve", "reason": "材料齐全，符合条件"}, headers=bureau), 200)
    _check(http.post("/v1/agency/issuance/flush", headers=bureau), 200)
    certificate = _check(http.get(f"{url}/certificate", headers=me), 200)
    summary["transactions"].append(certificate["issue_tx"])
    summary["certificate_id"] = certificate["id"]
    console.print(f"[bold]11. issue[/]    {certificate['id']} in batch root {certificate['merkle_root'][:18]}…, tx {certificate['issue_tx']}")
    document = _check(http.get(f"/v1/certificates/{certificate['id']}/document", headers=me), 200)
    verdict = _check(http.post("/v1/verify", json=document), 200)
    summary["certificate_valid"] = verdict["valid"]
    checks = ", ".join(f"{c['name']} {'ok' if c['valid'] else 'FAILED'}" for c in verdict["checks"])
    console.print(f"[bold]12. verify[/]   {'VALID' if verdict['valid'] else 'NOT VALID'}: {checks}; QR link {certificate['verify_url']}")
    if demo_dir is not None:
        demo_dir.mkdir(parents=True, exist_ok=True)
        oa_file = demo_dir / f"{certificate['id']}.oa"
        oa_file.write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")
        pdf = http.get(f"/v1/certificates/{certificate['id']}/pdf", headers=me)
        (demo_dir / f"{certificate['id']}.pdf").write_bytes(pdf.content)
        console.print(f"             written to {oa_file} (and .pdf); check it yourself: govchain verify {oa_file} --rpc {stack.get('rpc', '<node>')}")


def wait_for_objection_period(http: httpx.Client, tender_id: str, console: Console | None = None) -> None:
    """No result before the objection period after the reading is over (the contract refuses it)."""
    deadline = _check(http.get(f"/v1/tenders/{tender_id}"), 200)["objection_deadline"]
    if console is not None:
        console.print(f"             objections are open until {deadline} (block time): the result waits {max(0, deadline - int(time.time()))} s")
    while time.time() <= deadline:
        time.sleep(0.2)


def run_bid_opening(stack: dict, procurement, console: Console, *, bidding_seconds: int = 15, objection_seconds: int = 5, governor=None, deployment=None) -> dict:
    """A whole tender against a running stack: four bidder firms registered by the bureau (one's
    key does not open its file), one objection answered, three experts scoring; then the chain
    is re-checked. ``governor`` (a key) and ``deployment`` (the record) register the bidders."""
    from api.tenders.client import BidderClient, score
    from chain.registry import GovRegistryClient, MemberInfo, Role
    from chain.tx import ChainClient

    with httpx.Client(base_url=stack["api"], timeout=120) as http:
        record = _check(http.get("/v1/health"), 200)
        ledger, chain_id = record["contracts"]["TenderLedger"], record["chain"]["chain_id"]
        agency = sign_in(http, procurement)
        experts = [Account.create() for _ in range(3)]
        deadline = int(time.time()) + bidding_seconds
        body = {"reference": f"DEMO-{int(time.time())}", "title": "测试区第一小学改造工程（演示）", "document_hash": hx(os.urandom(32)),
                "bid_deadline": deadline, "decryption_minutes": 5, "objection_seconds": objection_seconds, "method": "weighted_score", "weights": [6000, 4000],
                "experts": [e.address for e in experts], "min_bidders": 3}  # fmt: skip
        tender = _check(http.post("/v1/tenders", json=body, headers=agency), 201)
        tid = tender["tender_id"]
        console.print(f"[bold]1. tender[/]    {body['reference']} created, tx {tender['created_tx']}; bids close in {bidding_seconds} s")
        if governor is None or deployment is None:
            raise DemoFailed("registering the bidders needs the governor's key and the deployment record")
        registry = GovRegistryClient(ChainClient.from_url(record["chain"]["url"], expected_chain_id=chain_id), deployment.address("GovRegistry"), deployment.contracts["GovRegistry"]["abi"])
        firms = [(Account.create(), f"测试建设{n}有限公司") for n in "甲乙丙丁"]
        for account, name in firms:  # only firms the bureau registered (BIDDER on GovRegistry) may bid
            registry.register_member(governor, account.address, MemberInfo(name), [Role.BIDDER])
        console.print(f"[bold]0. bidders[/]   {len(firms)} firms registered by the bureau with the BIDDER role")
        bidders = [BidderClient(http, account, name, chain_id, ledger) for account, name in firms]
        for bidder, price in zip(bidders, (128_000_00, 119_500_00, 131_000_00, 125_000_00), strict=True):
            receipt = _check(bidder.bid(tid, price, {"工期": "90天", "质保": "2年"}, wrong_key=bidder.name.startswith("测试建设丁")), 201)
            console.print(f"[bold]2. bid[/]       {bidder.name} -> pseudonym {receipt['pseudonym'][:12]}…, signed receipt, tx {receipt['tx_hash']}")
        while time.time() <= deadline:
            time.sleep(0.5)
        opened = _check(http.post(f"/v1/tenders/{tid}/open", headers=agency), 200)
        console.print(f"[bold]3. opening[/]   {opened['state']}, tx {opened['tx_hash']}")
        for bidder in bidders:
            _check(bidder.sign_in_to_opening(tid), 200)
            outcome = _check(bidder.release_key(tid), 200)
            state = "decrypted" if outcome["decrypted"] else f"NOT decrypted ({outcome['cause']}: its revealed key does not open it; left out as withdrawn)"
            console.print(f"[bold]4. decrypt[/]   {bidder.name}: signed in, key released, {state}")
        reading = _check(http.post(f"/v1/tenders/{tid}/reading", headers=agency), 200)
        console.print(f"[bold]5. reading[/]   tx {reading['tx_hash']}\n{reading['announcement']}")
        objection = _check(bidders[1].object(tid, "对甲的工期承诺有异议"), 201)
        _check(http.post(f"/v1/tenders/{tid}/objections/{objection['index']}/answer", json={"text": "经核查，工期符合招标文件要求"}, headers=agency), 200)
        console.print(f"[bold]6. objection[/] raised by {bidders[1].name} and answered, tx {objection['tx_hash']}")
        domain = tender712.domain(chain_id, ledger)
        for n, expert in enumerate(experts):
            headers = sign_in(http, expert)
            for bidder, marks in zip(bidders[:3], ([70, 80], [90, 85], [80, 70 + n]), strict=True):
                _check(score(http, expert, headers, tid, bidder.receipt_pseudonym, marks, domain), 201)
        console.print("[bold]7. scores[/]    3 experts scored 3 read bids, each signature checked on chain")
        wait_for_objection_period(http, tid, console)
        result = _check(http.post(f"/v1/tenders/{tid}/result", json={}, headers=agency), 200)
        winner = next(b.name for b in bidders if b.receipt_pseudonym == result["winner"])
        console.print(f"[bold]8. result[/]    {winner} wins with {result['value']} points; report hash {result['report_hash'][:18]}…, tx {result['tx_hash']}")
        steps = _check(http.get(f"/v1/tenders/{tid}/trail"), 200)
        console.print(f"[bold]9. trail[/]     {len(steps)} steps on chain; re-check with: govchain tender verify {tid} --rpc <node> --api {stack['api']}")
    return {"tender_id": tid, "winner": winner, "steps": len(steps)}
