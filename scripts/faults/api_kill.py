"""Drill 1: kill -9 the platform API in the middle of a batch of certificate approvals and
restart it; every certificate is issued exactly once, none lost, none twice (on chain).

The API is a real ``govchain serve`` process with its own database on a real node. It is
killed at the worst moments, through ``GOVCHAIN_FAULT`` checkpoints (a batch cut and
committed with its queued issue(root) but not yet signed: ``issuer.after_cut``; the issue
transaction signed and stored by the agency key's writer but not sent: ``writer.after_sign``;
sent but its receipt not recorded: ``writer.after_send``), and with a plain SIGKILL at a random moment. Agency clients keep
approving throughout, retrying over the outage; a 409 on a retry means the first try was
already committed (the final check tells).
"""

from __future__ import annotations

import queue
import random
import threading
import time
from pathlib import Path

import httpx

from identity.keys import dev_party
from api.settings import IssueSettings
from scripts.faults.harness import DrillResult, Shared, check_certificates, drill_stack, issued_count, sign_in, wait_for

CHECKPOINTS = ("issuer.after_cut", "writer.after_sign", "writer.after_send")


def run(workdir: Path, *, count: int = 200, batch_size: int = 25, random_kills: int = 1, clients: int = 8, node: str | None = None,
        database_url: str = "", seed: int | None = None, shared: Shared | None = None) -> DrillResult:  # fmt: skip
    rng = random.Random(seed)
    result = DrillResult(f"api-kill-9 ({count} approvals)")
    phases = [*CHECKPOINTS, *(["random"] * random_kills)]
    with drill_stack(workdir, node, database_url, "serve", shared, issue=IssueSettings(batch_size=batch_size, batch_seconds=0.3), role_cache_seconds=1.0) as stack:
        chain = stack.chain
        ids = stack.seed(count)
        api = stack.api
        api.start(fault=phases[0] if phases[0] in CHECKPOINTS else None)
        with httpx.Client(base_url=api.url, timeout=30) as http:
            headers = sign_in(http, dev_party(chain.config, "agency"))
        todo: queue.Queue[str] = queue.Queue()
        for application_id in ids:
            todo.put(application_id)
        done = []
        unexpected: list[str] = []
        stop = threading.Event()

        def approver() -> None:
            with httpx.Client(base_url=api.url, timeout=60) as http:
                while not stop.is_set():
                    try:
                        application_id = todo.get_nowait()
                    except queue.Empty:
                        return
                    retried = False
                    while not stop.is_set():
                        try:
                            answer = http.post(f"/v1/applications/{application_id}/decision", json={"decision": "approve", "reason": "drill"}, headers=headers)
                        except httpx.TransportError:  # the API is down: wait for it to come back
                            retried = True
                            time.sleep(0.1)
                            continue
                        if answer.status_code in (200, 201) or (answer.status_code == 409 and retried):
                            done.append(application_id)
                            break
                        if answer.status_code in (429, 503) and "retry-after" in answer.headers:
                            retried = True
                            time.sleep(0.2)
                            continue
                        unexpected.append(f"{application_id}: {answer.status_code} {answer.text[:200]}")
                        break

        workers = [threading.Thread(target=approver, daemon=True) for _ in range(clients)]
        started = time.perf_counter()
        for worker in workers:
            worker.start()
        kills = []
        try:
            for index, phase in enumerate(phases):
                if phase == "random":  # after a random share of what is left has been approved, at a random instant
                    left = phases[index:].count("random")
                    target = min(count, len(done) + rng.randint(1, max(1, (count - len(done)) // (left + 1))))  # all approved: kill now
                    wait_for(lambda: len(done) >= target or not api.alive(), 120, interval=0.02)
                    time.sleep(rng.uniform(0.0, 0.3))
                    progress = (len(done), issued_count(stack))
                    if not api.alive():
                        result.check(False, "the API was not running when the random kill was due")
                    api.kill()
                    kills.append(f"random@{progress[0]}approved/{progress[1]}issued")
                else:
                    code = api.wait_exit(120)
                    reached = code == -9
                    result.check(reached, f"checkpoint {phase} was not reached (exit code {code})")
                    if not reached:
                        api.kill()
                    else:
                        kills.append(phase)
                result.figures.setdefault("timeline", []).append(f"{phase}@{time.perf_counter() - started:.1f}s/{len(done)}")
                next_phase = phases[index + 1] if index + 1 < len(phases) else None
                api.start(fault=next_phase if next_phase in CHECKPOINTS else None)
            for worker in workers:
                worker.join(600)
            all_issued = wait_for(lambda: issued_count(stack) >= count, 600)
            elapsed = time.perf_counter() - started
            result.check(all_issued, f"only {issued_count(stack)} of {count} certificates issued after the drill")
        finally:
            stop.set()
        api.stop()  # a clean stop: the final state is read with no process writing
        result.check(not unexpected, f"{len(unexpected)} unexpected answers, e.g. {unexpected[:3]}")
        check_certificates(stack, ids, result)
        result.figures["start_seconds"] = api.start_seconds
        result.figures.update(kills=len(kills), seconds=round(elapsed, 1), node=chain.kind)
        result.figures["faults"] = " ".join(kills)
    return result
