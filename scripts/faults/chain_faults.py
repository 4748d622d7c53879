"""Drills 3, 4 and 5: the chain node stopped and restarted during traffic, the chain
unreachable, and load with declared back-pressure. Each runs the real stack (node with a
state directory, ``govchain serve`` or uvicorn child process, vendor, two gateways) and checks
its writes on chain."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import httpx
from eth_account import Account
from sqlalchemy import func, select

from identity.dev_citizens import demo_citizen
from api.models import Application, Certificate
from api.settings import IssueSettings
from chain.consents import ConsentRegistryClient
from chain.db import make_engine, session_factory
from chain.outbox import OPEN, QUEUED, OutboxEntry
from identity import pseudonym as pseudonyms
from identity.keys import dev_party
from scripts.faults.harness import DrillResult, Shared, Stack, check_certificates, drill_stack, issued_count, sign_in, wait_for
from scripts.faults.traffic import Tally, Traffic

NONCE_WORDS = ("nonce too low", "nonce too high", "replacement transaction", "invalid nonce", "incorrect nonce", "can't be replaced")


def issued_targets(stack: Stack, count: int, headers: dict) -> tuple[list[str], list[str]]:
    """``count`` certificates approved over HTTP and issued, for verification traffic:
    (application ids, target hashes)."""
    ids = stack.seed(count)
    with httpx.Client(base_url=stack.api.url, timeout=60) as http:
        for application_id in ids:
            http.post(f"/v1/applications/{application_id}/decision", json={"decision": "approve", "reason": "drill"}, headers=headers).raise_for_status()
    assert wait_for(lambda: issued_count(stack) >= count, 120), "the verification certificates were not issued"
    engine = make_engine(stack.settings.sqlalchemy_url)
    with session_factory(engine)() as session:
        targets = list(session.scalars(select(Certificate.target_hash).where(Certificate.state == "issued")))
    engine.dispose()
    return ids, targets


def open_writes_of(stack: Stack) -> int:
    engine = make_engine(stack.settings.sqlalchemy_url)
    with session_factory(engine)() as session:
        count = session.scalar(select(func.count()).where(OutboxEntry.status.in_((QUEUED, *OPEN))))  # queued for a writer counts too
    engine.dispose()
    return count


def check_traffic_on_chain(stack: Stack, tally: Tally, result: DrillResult) -> None:
    """Every accepted consent is granted on chain; every released pull is a DataPulled event
    of its consent (none missing); nothing is left open in the outbox; no nonce failure."""
    client = stack.chain.client()
    entry = stack.chain.deployment.contracts["ConsentRegistry"]
    consents = ConsentRegistryClient(client, entry["address"], entry["abi"])
    since = max(entry["block"], stack.first_block)
    granted = {"0x" + bytes(e["args"]["consentId"]).hex() for e in consents.contract.events.ConsentGranted.get_logs(from_block=since)}
    logged: dict[str, int] = {}
    for event in consents.contract.events.DataPulled.get_logs(from_block=since):
        consent = "0x" + bytes(event["args"]["consentId"]).hex()
        logged[consent] = logged.get(consent, 0) + 1
    accepted = set(tally.consents.values())
    missing_consents = sorted(accepted - granted)
    missing_pulls = {c: (n, logged.get(c, 0)) for c, n in tally.released.items() if logged.get(c, 0) < n}
    undelivered = sum(max(0, logged.get(c, 0) - tally.released.get(c, 0)) for c in logged)
    left_open = open_writes_of(stack)
    if left_open:
        # writes accepted but not answered (the client got 503 while the receipt was awaited, and
        # did not retry): a retry of the same intent finishes them, and so does the next start
        # (the outbox resumes at start-up). Start the API once more and look again.
        stack.api.start()
        stack.api.stop()
    open_writes = open_writes_of(stack)
    result.figures.update(open_writes_finished_at_restart=left_open - open_writes)
    lost = len(missing_consents) + sum(n - got for n, got in missing_pulls.values())
    result.figures.update(writes_accepted=len(accepted) + sum(tally.released.values()), writes_lost=lost, logged_not_delivered=undelivered)
    result.check(not missing_consents, f"{len(missing_consents)} accepted consents are not on chain, e.g. {missing_consents[:2]}")
    result.check(not missing_pulls, f"released pulls missing on chain: {list(missing_pulls.items())[:3]}")
    result.check(open_writes == 0, f"{open_writes} outbox writes are still open")
    nonce_lines = stack.logs_matching(*NONCE_WORDS)
    result.figures["nonce_failures"] = len(nonce_lines)
    result.check(not nonce_lines, f"nonce failures in the logs: {nonce_lines[:3]}")


def _traffic_and_issuance(stack: Stack, headers: dict, clients: int, seconds: float, approvals: int,
                          retry_cut: bool = False) -> tuple[Traffic, list[str], threading.Thread]:  # fmt: skip
    """Traffic, and ``approvals`` certificate approvals sent one after another alongside. With
    ``retry_cut`` (an API replica killed mid-request) an approval whose connection was cut is
    recorded and sent again; a 409 to that retry says the cut one was applied."""
    verified_ids, targets = issued_targets(stack, 8, headers)
    services = stack.services
    traffic = Traffic(stack.api.url, services.vendor.url, stack.settings.secret("face_vendor_api_key"), headers, targets)
    approval_ids = stack.seed(approvals)

    def approve() -> None:  # certificate approvals alongside, retried through the outage
        with httpx.Client(base_url=stack.api.url, timeout=120) as http:
            for application_id in approval_ids:
                cut = False
                for _ in range(600):
                    try:
                        answer = http.post(f"/v1/applications/{application_id}/decision", json={"decision": "approve", "reason": "drill"}, headers=headers)
                    except httpx.HTTPError as exc:
                        traffic.tally.errors.append(f"approval: {type(exc).__name__}")
                        if retry_cut:
                            cut = True
                            continue
                        break
                    if answer.status_code == 200 or (cut and answer.status_code == 409):
                        break
                    if answer.status_code in (429, 503) and "retry-after" in answer.headers:
                        traffic.tally.held += 1
                        time.sleep(0.5)
                        continue
                    traffic.tally.errors.append(f"approval {application_id}: {answer.status_code} {answer.text[:200]}")
                    break

    approver = threading.Thread(target=approve, daemon=True)
    return traffic, verified_ids + approval_ids, approver


def node_restart(workdir: Path, *, clients: int = 12, seconds: float = 25.0, down_seconds: float = 4.0, approvals: int = 40, node: str | None = None,
                 database_url: str = "", shared: Shared | None = None) -> DrillResult:  # fmt: skip
    """Drill 3: stop the node (same state directory) in the middle of traffic, keep it down,
    start it again; the API and gateways must ride through it on their own."""
    result = DrillResult(f"node-restart ({clients} clients, {seconds:.0f} s, node down {down_seconds:.0f} s)")
    with drill_stack(workdir, node, database_url, "serve", shared, issue=IssueSettings(batch_size=8, batch_seconds=0.3)) as stack:
        chain = stack.chain
        stack.api.start()
        with httpx.Client(base_url=stack.api.url, timeout=60) as http:
            headers = sign_in(http, dev_party(chain.config, "agency"))
        traffic, certified, approver = _traffic_and_issuance(stack, headers, clients, seconds, approvals)
        outage: dict = {}

        def operator() -> None:  # stop the node a third of the way in, start it again later
            time.sleep(seconds / 3)
            outage["cycles_before"] = traffic.tally.cycles
            chain.stop()
            outage["down_at"] = time.perf_counter()
            time.sleep(down_seconds)
            chain.restart()
            outage["up_at"] = time.perf_counter()
            outage["cycles_at_restart"] = traffic.tally.cycles
            chain.released.wait()  # the node dies with the thread that started it (PR_SET_PDEATHSIG): keep it while the chain is in use

        approver.start()
        threading.Thread(target=operator, daemon=True).start()
        tally = asyncio.run(traffic.run(clients, seconds, verify_clients=2))
        approver.join(300)
        result.check("up_at" in outage, "the node was not restarted during the traffic")
        _after_traffic(stack, tally, outage, certified, result)
        result.figures.update(node=chain.kind)
    return result


def _after_traffic(stack: Stack, tally: Tally, outage: dict, certified: list[str], result: DrillResult) -> None:
    if True:
        health = {name: wait_for(lambda url=url: httpx.get(url + "/v1/health", timeout=5).status_code == 200, 60)
                  for name, url in [("api", stack.api.url), *((n, s.url) for n, s in stack.services.gateways.items())]}  # fmt: skip
        result.check(all(health.values()), f"not healthy again after the restart: {health}")
        result.check(stack.api.alive(), "the API process died")
        result.check(all(s.process.poll() is None for s in stack.services.gateways.values()), "a gateway process died")
        cycles_after = tally.cycles - outage.get("cycles_at_restart", tally.cycles)
        result.check(cycles_after > 0, "no client finished a cycle after the node came back")
        all_issued = wait_for(lambda: issued_count(stack) >= len(certified), 180)
        result.check(all_issued, f"{issued_count(stack)} of {len(certified)} certificates issued")
        result.check(not tally.errors, f"{len(tally.errors)} errors (not back-pressure), e.g. {tally.errors[:3]}")
        stack.api.stop()
        check_traffic_on_chain(stack, tally, result)
        check_certificates(stack, certified, result)
        result.figures.update(tally.figures())
        result.figures.update(cycles_after_restart=cycles_after, statuses=dict(sorted(tally.statuses.items())))


def chain_down(workdir: Path, *, node: str | None = None, database_url: str = "", shared: Shared | None = None) -> DrillResult:
    """Drill 4: the node is gone. Health says degraded (503); every write is refused with 503,
    Retry-After and a clear message; nothing is queued that cannot be finished: once the
    node is back, nothing is open, and the refused writes left no trace."""
    result = DrillResult("chain-unreachable")
    with drill_stack(workdir, node, database_url, "serve", shared, issue=IssueSettings(batch_size=4, batch_seconds=0.2)) as stack:
        chain = stack.chain
        stack.api.start()
        api = stack.api.url
        with httpx.Client(base_url=api, timeout=60) as http:
            agency = sign_in(http, dev_party(chain.config, "agency"))
            certified, targets = issued_targets(stack, 2, agency)
            ids = stack.seed(3)
            # an applicant half-way: face verified, consent terms offered
            traffic = Traffic(api, stack.services.vendor.url, stack.settings.secret("face_vendor_api_key"), agency, targets)
            applicant = Account.create()
            me = sign_in(http, applicant)
            application_id = http.post("/v1/applications", json={"code": "teacher-qualification-primary"}, headers=me).json()["id"]
            citizen = demo_citizen(5)
            started = http.post(f"/v1/applications/{application_id}/face-verification", json={"name": citizen["name"], "id_number": citizen["id_number"], "outcome": "pass"}, headers=me)
            completed = httpx.post(f"{stack.services.vendor.url}/v1/sessions/{started.json()['session_id']}/complete",
                                   headers={"Authorization": f"Bearer {traffic.vendor_key}"}, timeout=30)  # fmt: skip
            result.check(completed.json().get("delivered") is True, f"face callback not delivered: {completed.text}")
            derivation = http.get(f"/v1/applications/{application_id}/consent-terms", headers=me).json()["pseudonym"]
            pseudonym = pseudonyms.from_derivation(applicant.key, derivation).address
            offer = http.get(f"/v1/applications/{application_id}/consent-terms", params={"pseudonym": pseudonym}, headers=me).json()
            signed = pseudonyms.sign_consent_offer(applicant.key, offer)

            chain.stop()
            answers = {
                "health": http.get("/v1/health"),
                "approve": http.post(f"/v1/applications/{ids[0]}/decision", json={"decision": "approve", "reason": "drill"}, headers=agency),
                "consent": http.post(f"/v1/applications/{application_id}/consent", json=signed, headers=me),
                "verify": http.get(f"/v1/verify/{targets[0]}"),
                "sign-in": http.post("/v1/auth/challenge", json={"address": applicant.address}),
                "members": http.get("/v1/members", headers=agency),
            }
            for name, url in stack.services.gateways.items():
                answers[f"gateway {name} health"] = httpx.get(url.url + "/v1/health", timeout=30)
            health = answers["health"]
            body = health.json()
            result.check(health.status_code == 503 and body.get("status") == "degraded" and body["chain"]["reachable"] is False,
                         f"health: {health.status_code} {health.text[:200]}")  # fmt: skip
            refused = {}
            for name, answer in answers.items():
                if name == "health":
                    continue
                refused[name] = answer.status_code
                if name == "sign-in" and answer.status_code == 201:
                    continue  # a challenge needs no chain
                if name == "approve" and answer.status_code == 200:
                    continue  # a decision is the database's: accepted, its certificate is issued once the chain is back
                clear = answer.headers.get("content-type", "").startswith("application/problem+json") and "chain" in answer.text.lower()
                result.check(answer.status_code == 503 and "retry-after" in answer.headers and clear,
                             f"{name}: {answer.status_code} {answer.headers.get('retry-after')} {answer.text[:160]}")  # fmt: skip
            result.figures["answers_while_down"] = refused
            time.sleep(2.0)  # the issuer and the gateways keep trying in the background meanwhile
            chain.restart()
            result.check(wait_for(lambda: http.get("/v1/health").status_code == 200, 60), "health did not come back to 200")
            # what the issuer signed while the node was down is finished by its next round (about a
            # second): the claim is that nothing stays open, so it gets a bounded time to finish
            wait_for(lambda: open_writes_of(stack) == 0, 30)
            open_writes = open_writes_of(stack)
            engine = make_engine(stack.settings.sqlalchemy_url)
            with session_factory(engine)() as session:
                state = session.scalar(select(Application.state).where(Application.id == ids[0]))
                consent_state = session.scalar(select(Application.state).where(Application.id == application_id))
                queued = session.scalar(select(func.count()).where(Certificate.application_id == ids[0]))
            engine.dispose()
            result.check(open_writes == 0, f"{open_writes} outbox writes left open")
            approved_while_down = answers["approve"].status_code == 200
            if approved_while_down:
                result.check(state in ("approved", "issued") and queued == 1, f"the accepted approval: state {state}, {queued} certificates")
            else:
                result.check(state == "submitted" and queued == 0, f"the refused approval left a trace: state {state}, {queued} certificates")
            result.check(consent_state == "face_verified", f"the refused consent left the application {consent_state}")
            # the refused writes, retried now, go through and land on chain
            again = http.post(f"/v1/applications/{application_id}/consent", json=signed, headers=me)
            result.check(again.status_code == 201, f"consent after recovery: {again.status_code} {again.text[:200]}")
            if not approved_while_down:
                approve = http.post(f"/v1/applications/{ids[0]}/decision", json={"decision": "approve", "reason": "drill"}, headers=agency)
                result.check(approve.status_code == 200, f"approval after recovery: {approve.status_code}")
            result.check(wait_for(lambda: issued_count(stack) >= 3, 60), "the approval was not issued after recovery")
            result.figures["approval_while_down"] = "accepted, issued after recovery" if approved_while_down else "refused 503"
        if again.status_code == 201:
            client = chain.client()
            entry = chain.deployment.contracts["ConsentRegistry"]
            consents = ConsentRegistryClient(client, entry["address"], entry["abi"])
            cid = again.json()["consent_id"]
            granted = {"0x" + bytes(e["args"]["consentId"]).hex()
                       for e in consents.contract.events.ConsentGranted.get_logs(from_block=max(entry["block"], stack.first_block))}  # fmt: skip
            result.check(cid in granted, "the consent accepted after recovery is not on chain")
        result.figures["node"] = chain.kind
    return result


def load(workdir: Path, *, clients: int = 200, seconds: float = 60.0, verify_share: float = 0.25, node: str | None = None,
         database_url: str = "", max_inflight: int = 48, shared: Shared | None = None) -> DrillResult:  # fmt: skip
    """Drill 5: ``clients`` concurrent clients for ``seconds`` (a quarter of them verify only,
    the rest walk consent + pulls): only declared back-pressure, no nonce failure, every
    accepted write on chain."""
    result = DrillResult(f"load ({clients} clients, {seconds:.0f} s)")
    with drill_stack(workdir, node, database_url, "uvicorn", shared, max_inflight=max_inflight, issue=IssueSettings(batch_seconds=0.5)) as stack:
        chain = stack.chain
        stack.api.start()
        with httpx.Client(base_url=stack.api.url, timeout=60) as http:
            headers = sign_in(http, dev_party(chain.config, "agency"))
        _, targets = issued_targets(stack, 8, headers)
        traffic = Traffic(stack.api.url, stack.services.vendor.url, stack.settings.secret("face_vendor_api_key"), headers, targets)
        verifiers = int(clients * verify_share)
        tally = asyncio.run(traffic.run(clients - verifiers, seconds, verify_clients=verifiers))
        result.check(stack.api.alive(), "the API process died")
        result.check(not tally.errors, f"{len(tally.errors)} errors (not back-pressure), e.g. {tally.errors[:3]}")
        result.check(tally.cycles > 0, "no client finished a cycle")
        stack.api.stop()
        check_traffic_on_chain(stack, tally, result)
        result.figures.update(tally.figures())
        result.figures.update(node=chain.kind, statuses=dict(sorted(tally.statuses.items())))
    return result
