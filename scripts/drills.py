"""Fault and load drills, full forms (``make drills``): prints one row per drill with PASS or
FAIL and its figures, then the totals (requests held under load, faults survived, records
lost). Exit code 0 only if every drill passed.

    .venv/bin/python scripts/drills.py [--node ganache|anvil] [--only api-kill,gateway-kill,node-restart,chain-down,load,scale]
        [--approvals 1000] [--clients 200] [--seconds 60] [--replicas 1,2,3] [--database-url postgresql+psycopg://...]

1. api-kill: kill -9 ``govchain serve`` mid-way through N certificate approvals, at each
   GOVCHAIN_FAULT checkpoint (issuer.after_cut, writer.after_sign, writer.after_send) and
   at random moments; every certificate issued exactly once, checked on chain.
2. gateway-kill: tests/e2e/test_gateway.py's kill between logging a pull and answering
   (run as is, through pytest): delivered on retry, one log entry on chain.
3. node-restart: the node stopped and started again (same state directory) during traffic.
4. chain-down: the node unreachable: 503 + Retry-After, health degraded, nothing left open.
5. load: C concurrent clients (consents, pulls, verifications) for S seconds.
6. scale: the load's mix against 1, 2 and 3 API replicas on PostgreSQL (a fresh database each on
   the --database-url server, else GOVCHAIN_TEST_DATABASE_URL's, else 127.0.0.1:5432), side by
   side with per-process CPU; then kill -9 a replica and the writer's (else the issuer's) leader.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.faults import api_kill, chain_faults, scale  # noqa: E402
from scripts.faults.harness import DrillResult  # noqa: E402

GATEWAY_TEST = "tests/e2e/test_gateway.py::test_gateway_killed_between_log_and_answer_delivers_on_retry_with_one_log_entry"
DRILLS = ("api-kill", "gateway-kill", "node-restart", "chain-down", "load", "scale")


def gateway_kill(node: str) -> DrillResult:
    result = DrillResult("gateway-kill-9 (between log and answer)")
    started = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", GATEWAY_TEST], cwd=ROOT,
                         env={**os.environ, "GOVCHAIN_NODE": node}, capture_output=True, text=True)  # fmt: skip
    result.check(run.returncode == 0, "the test failed:\n" + run.stdout[-2000:])
    result.figures.update(kills=1 if run.returncode == 0 else 0, lost=0 if run.returncode == 0 else "?", seconds=round(time.perf_counter() - started, 1))
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--node", default=os.environ.get("GOVCHAIN_NODE", "ganache"), choices=["ganache", "anvil"])
    parser.add_argument("--only", default=",".join(DRILLS))
    parser.add_argument("--approvals", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=100, help="certificates per batch in the API kill drill")
    parser.add_argument("--random-kills", type=int, default=3)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--max-inflight", type=int, default=48, help="GOVCHAIN_MAX_INFLIGHT of the API under load")
    parser.add_argument("--replicas", default="1,2,3", help="the scale drill's steps: API processes per step")
    parser.add_argument("--database-url", default="", help="default: SQLite in the drill's folder (scale: a PostgreSQL server)")
    args = parser.parse_args()
    chosen = [d.strip() for d in args.only.split(",") if d.strip()]
    if unknown := [d for d in chosen if d not in DRILLS]:
        parser.error(f"unknown drill {', '.join(unknown)}; choose from {', '.join(DRILLS)}")
    base = Path(tempfile.mkdtemp(prefix="govchain-drills-"))
    print(f"drills on {args.node}, {os.cpu_count()} cores, work folder {base}", flush=True)
    results: list[DrillResult] = []
    for drill in chosen:
        workdir = base / drill
        workdir.mkdir()
        started = time.perf_counter()
        try:
            if drill == "api-kill":
                result = api_kill.run(workdir, count=args.approvals, batch_size=args.batch, random_kills=args.random_kills, clients=16,
                                      node=args.node, database_url=args.database_url)  # fmt: skip
            elif drill == "gateway-kill":
                result = gateway_kill(args.node)
            elif drill == "node-restart":
                result = chain_faults.node_restart(workdir, clients=min(args.clients, 40), seconds=max(30.0, args.seconds / 2), down_seconds=5,
                                                   approvals=200, node=args.node, database_url=args.database_url)  # fmt: skip
            elif drill == "chain-down":
                result = chain_faults.chain_down(workdir, node=args.node, database_url=args.database_url)
            elif drill == "load":
                result = chain_faults.load(workdir, clients=args.clients, seconds=args.seconds, node=args.node, database_url=args.database_url,
                                           max_inflight=args.max_inflight)  # fmt: skip
            elif drill == "scale":
                replicas = tuple(int(n) for n in args.replicas.split(","))
                result = scale.scale(workdir, clients=args.clients, seconds=args.seconds, replica_counts=replicas, node=args.node,
                                     database_url=args.database_url, max_inflight=args.max_inflight)  # fmt: skip
            else:
                raise SystemExit(f"unknown drill {drill}; choose from {', '.join(DRILLS)}")
        except Exception as exc:  # noqa: BLE001 - a drill that crashes is a failed drill
            result = DrillResult(drill, passed=False, problems=[f"{type(exc).__name__}: {exc}"])
        result.figures.setdefault("seconds", round(time.perf_counter() - started, 1))
        results.append(result)
        print(result.summary(), flush=True)
    print()
    print(f"{'drill':<48} {'result':<6} figures")
    for result in results:
        figures = {k: v for k, v in result.figures.items() if k not in ("timeline", "statuses", "steps", "failover")}
        print(f"{result.name:<48} {'PASS' if result.passed else 'FAIL':<6} {json.dumps(figures, ensure_ascii=False)}")
    faults = sum(int(r.figures.get("kills", 0)) for r in results if r.passed) + sum(1 for r in results if r.passed and r.name.startswith(("node-restart", "chain-unreachable")))
    lost = sum(int(r.figures.get("lost", 0) or 0) + int(r.figures.get("twice", 0) or 0) + int(r.figures.get("writes_lost", 0) or 0) for r in results)
    load = next((r for r in results if r.name.startswith("load")), None)
    if load:
        f = load.figures
        print(f"requests held under load: {f.get('requests')} requests in {args.seconds:.0f} s ({f.get('rate_per_s')}/s, p50 {f.get('p50_ms')} ms, "
              f"p99 {f.get('p99_ms')} ms), {f.get('held_503_429')} answered with declared back-pressure, {f.get('errors')} errors")  # fmt: skip
    if scaled := next((r for r in results if r.name.startswith("scale")), None):
        print(scale.report(scaled))
    print(f"faults survived: {faults}; records lost: {lost}")
    print("ALL PASS" if all(r.passed for r in results) else "SOME DRILLS FAILED")
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
