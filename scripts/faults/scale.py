"""Drill 6, scale (issue 18): the load drill's client mix against 1, 2 and 3 API replicas on
PostgreSQL, side by side, then replicas killed with ``kill -9`` under load.

Each step is uvicorn with N worker processes on one port (what ``govchain serve --workers N`` and
``govchain up --replicas N`` run) on a fresh PostgreSQL database of its own, against one node,
deployment, vendor and pair of gateways shared by every step. Per step: requests/s, p50, p99, the
share held back (503/429 with Retry-After), errors, and the CPU seconds each process spent during
the load (``/proc/<pid>/stat``: every replica, the node, the gateways, the vendor, the database's
backends and the load generator itself); from the CPU seconds per request, what three hosts with
one replica each would reach.

Then, with the most replicas under load and certificate approvals alongside: one replica that
leads nothing is killed (uvicorn starts another), then the leader, found in PostgreSQL's
``pg_locks``: the holder of the advisory lock of the lease ``writer:<relayer address>``
(:mod:`chain.leases`) once the writer per key runs in the API processes, else (as long as the
handlers send through the outbox in the request) the ``issuer``'s. Handover: from the kill until
another replica holds that lease. Checked on chain: every accepted consent and released pull,
every approved certificate exactly once; nothing written twice; no nonce error in any log.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import signal
import threading
import time
import uuid
from pathlib import Path

import httpx
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL, make_url

from api.settings import IssueSettings
from chain.consents import ConsentRegistryClient
from chain.leases import lock_key
from identity.keys import dev_party
from scripts.faults.chain_faults import _traffic_and_issuance, check_traffic_on_chain, issued_targets
from scripts.faults.harness import Chain, DrillResult, Shared, Stack, check_certificates, issued_count, sign_in, wait_for
from scripts.faults.traffic import Tally, Traffic

DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
TICK = os.sysconf("SC_CLK_TCK")
# The outbox's line when another process's transaction took its nonce (replicas sending with one key
# from per-process counters): not an error, signed again, but each one a round trip lost.
COLLISION = "was taken by another sender"
# How traffic.Traffic records a transport error (an answer's is ": <status> ..."), and the vendor's
# callback into a replica killed under it (no status).
CUT = re.compile(r": [A-Z]\w*(Error|Timeout)\b|'status_code': None")


# -- processes and their CPU --------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` so far (0 once it is gone)."""
    try:
        data = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = data[data.rindex(")") + 2 :].split()  # after "pid (comm) ": state is field 3, utime 14, stime 15
    return (int(fields[11]) + int(fields[12])) / TICK


def replicas_of(parent: int) -> list[int]:
    """The uvicorn worker processes of ``parent`` (multiprocessing's spawned children; not its
    resource tracker)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                data = (entry / "stat").read_text()
                spawned = b"spawn_main" in (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if spawned and int(data[data.rindex(")") + 2 :].split()[1]) == parent:
                found.append(int(entry.name))
    return sorted(found)


def database_backends(engine: Engine) -> list[int]:
    """The server processes serving this database's sessions (PostgreSQL runs one per connection)."""
    with engine.connect() as connection:
        return list(connection.scalars(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")))


class CpuMeter:
    """CPU seconds per named group of processes between :meth:`start` and :meth:`stop`."""

    def __init__(self, stack: Stack, engine: Engine):
        self.stack, self.engine = stack, engine
        self.before: dict[int, float] = {}

    def groups(self) -> dict[str, list[int]]:
        services = self.stack.services
        api = self.stack.api.process
        assert api is not None
        replicas = replicas_of(api.pid) if self.stack.api.replicas > 1 else [api.pid]
        return {
            **{f"replica {n + 1}": [pid] for n, pid in enumerate(replicas)},
            "node": [self.stack.chain.node.process.pid] if self.stack.chain.node.process else [],
            "gateways": [s.process.pid for s in services.gateways.values() if s.process],
            "vendor": [services.vendor.process.pid] if services.vendor.process else [],
            "postgres": database_backends(self.engine),
            "load generator": [os.getpid()],
        }

    def start(self) -> None:
        self.before = {pid: cpu_seconds(pid) for pids in self.groups().values() for pid in pids}

    def stop(self) -> dict[str, float]:
        return {name: round(sum(cpu_seconds(pid) - self.before.get(pid, 0.0) for pid in pids), 1) for name, pids in self.groups().items()}


# -- the lease holders --------------------------------------------------------------------------


def lease_holder(engine: Engine, name: str, candidates: list[int]) -> int | None:
    """Which of ``candidates`` (process ids) holds lease ``name``: PostgreSQL's ``pg_locks`` names
    the server session holding the advisory lock, ``pg_stat_activity`` its client's TCP port, and
    the client process is the candidate with a socket on that port."""
    key = lock_key(name) & 0xFFFF_FFFF_FFFF_FFFF  # pg_locks shows a bigint key as two unsigned halves
    query = text(
        "SELECT a.client_port FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 AND l.classid = :high AND l.objid = :low "
        "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    )
    with engine.connect() as connection:
        port = connection.scalar(query, {"high": key >> 32, "low": key & 0xFFFF_FFFF})
    if port is None or port < 0:
        return None
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{fields[9]}]")
    for pid in candidates:
        try:
            if any(os.readlink(fd) in inodes for fd in Path(f"/proc/{pid}/fd").iterdir()):
                return pid
        except OSError:
            continue
    return None


def writer_lease(stack: Stack) -> str:
    return f"writer:{dev_party(stack.chain.config, 'relayer').address}"


# -- one step -------------------------------------------------------------------------------------


def fresh_database(server: URL, label: str) -> str:
    name = f"govchain_{label}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return server.set(database=name).render_as_string(hide_password=False)


def drop_database(server: URL, url: str) -> None:
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def start_replicas(stack: Stack, replicas: int, result: DrillResult, targets: bool = True) -> dict:
    """Start ``replicas`` API processes on one port; the agency signed in; (``targets``) 8 certificates issued to verify."""
    stack.api.replicas = replicas
    started = time.perf_counter()
    stack.api.start(timeout=300)
    all_up = replicas == 1 or wait_for(lambda: stack.api.replicas_started() >= replicas, 300, interval=0.5)  # one: up when it answers
    result.check(all_up, f"{stack.api.replicas_started()} of {replicas} replicas started; see {stack.api.log_file}")
    with httpx.Client(base_url=stack.api.url, timeout=60) as http:
        headers = sign_in(http, dev_party(stack.chain.config, "agency"))
    return {"headers": headers, "targets": issued_targets(stack, 8, headers)[1] if targets else [], "start_s": round(time.perf_counter() - started, 1)}


def step_figures(tally: Tally, cpu: dict[str, float]) -> dict:
    figures = tally.figures()
    requests = max(1, figures["requests"])
    api_cpu = sum(v for k, v in cpu.items() if k.startswith("replica"))
    shared_cpu = sum(cpu[k] for k in ("node", "gateways", "vendor", "postgres"))
    figures.update(
        slow_over_2s=dict(sorted(tally.slow.items(), key=lambda item: -item[1])[:5]),
        held_pct=round(100 * figures["held_503_429"] / requests, 1),
        cpu_s=cpu,
        api_cpu_ms_per_request=round(1000 * api_cpu / requests, 2),
        shared_cpu_ms_per_request=round(1000 * shared_cpu / requests, 2),
    )
    return figures


def load_step(stack: Stack, replicas: int, clients: int, seconds: float, result: DrillResult) -> dict:
    """The load drill's mix for ``seconds`` against ``replicas`` processes; its figures."""
    ready = start_replicas(stack, replicas, result)
    engine = create_engine(stack.settings.database_url)
    traffic = Traffic(stack.api.url, stack.services.vendor.url, stack.settings.secret("face_vendor_api_key"), ready["headers"], ready["targets"])
    meter = CpuMeter(stack, engine)
    meter.start()
    verifiers = clients // 4
    tally = asyncio.run(traffic.run(clients - verifiers, seconds, verify_clients=verifiers))
    figures = step_figures(tally, meter.stop())
    engine.dispose()
    figures["start_s"] = ready["start_s"]
    sub = DrillResult(f"{replicas} replicas")
    sub.check(not tally.errors, f"{len(tally.errors)} errors (not back-pressure), e.g. {tally.errors[:3]}")
    sub.check(tally.cycles > 0, "no client finished a cycle")
    stack.api.stop()
    check_traffic_on_chain(stack, tally, sub)
    figures.update({k: sub.figures[k] for k in ("writes_lost", "nonce_failures")})
    figures["nonce_collisions_signed_again"] = len(stack.logs_matching(COLLISION))
    figures["twice"] = written_twice(stack)
    sub.check(figures["twice"] == 0, f"{figures['twice']} writes on chain twice")
    for problem in sub.problems:
        result.check(False, f"{replicas} replicas: {problem}")
    return figures


def written_twice(stack: Stack) -> int:
    """Consents granted twice and pulls (consent, pull number) logged twice since the step began."""
    entry = stack.chain.deployment.contracts["ConsentRegistry"]
    consents = ConsentRegistryClient(stack.chain.client(), entry["address"], entry["abi"]).contract
    since = stack.first_block
    granted = [bytes(e["args"]["consentId"]) for e in consents.events.ConsentGranted.get_logs(from_block=since)]
    pulls = [(bytes(e["args"]["consentId"]), e["args"]["pullNumber"]) for e in consents.events.DataPulled.get_logs(from_block=since)]
    return (len(granted) - len(set(granted))) + (len(pulls) - len(set(pulls)))


# -- the kills --------------------------------------------------------------------------------------


def kill_step(stack: Stack, replicas: int, clients: int, seconds: float, result: DrillResult) -> dict:
    """``replicas`` under load with approvals alongside: kill -9 a replica that leads nothing at a
    third of the way, the leader at two thirds; the handover times and the checks on chain."""
    ready = start_replicas(stack, replicas, result, targets=False)  # the traffic issues its own
    engine = create_engine(stack.settings.database_url)
    traffic, certified, approver = _traffic_and_issuance(stack, ready["headers"], clients, seconds, approvals=40, retry_cut=True)
    lease = writer_lease(stack)
    events: dict = {}

    def operator() -> None:
        api = stack.api.process
        assert api is not None
        time.sleep(seconds / 3)
        pids = replicas_of(api.pid)
        holders = {lease_holder(engine, name, pids) for name in (lease, "issuer", "indexer")}
        plain = [pid for pid in pids if pid not in holders] or pids
        victim = random.choice(plain)
        os.kill(victim, signal.SIGKILL)
        killed = time.perf_counter()
        replaced = wait_for(lambda: stack.api.replicas_started() > replicas, 120, interval=0.1)  # uvicorn starts another
        events["replica_killed"] = {"pid": victim, "replaced_s": round(time.perf_counter() - killed, 1) if replaced else None}
        time.sleep(max(0.0, killed + seconds / 3 - time.perf_counter()))
        pids = replicas_of(api.pid)
        name = lease if lease_holder(engine, lease, pids) else "issuer"
        leader = lease_holder(engine, name, pids)
        if leader is None:
            events["leader_killed"] = {"lease": name, "holder": None}
            return
        os.kill(leader, signal.SIGKILL)
        killed = time.perf_counter()
        moved = wait_for(lambda: lease_holder(engine, name, replicas_of(api.pid)) not in (None, leader), 30, interval=0.1)
        events["leader_killed"] = {"lease": name, "pid": leader, "handover_s": round(time.perf_counter() - killed, 2) if moved else None}

    approver.start()
    killer = threading.Thread(target=operator, daemon=True)
    killer.start()
    tally = asyncio.run(traffic.run(clients - clients // 4, seconds, verify_clients=clients // 4))
    killer.join(120)
    approver.join(300)
    engine.dispose()
    figures = tally.figures()
    figures.update(events)
    cut = [e for e in tally.errors if CUT.search(e)]  # transport errors: requests in flight in a killed replica
    figures["requests_cut_by_kills"] = len(cut)
    other = [e for e in tally.errors if e not in cut]
    result.check(not other, f"kills: {len(other)} errors other than requests cut by the kills, e.g. {other[:3]}")
    leader = events.get("leader_killed", {})
    result.check(leader.get("handover_s") is not None and leader["handover_s"] <= 5, f"the {leader.get('lease')} lease was not taken over within 5 s: {leader}")
    result.check(wait_for(lambda: issued_count(stack) >= len(certified), 180), f"{issued_count(stack)} of {len(certified)} certificates issued")
    stack.api.stop()
    sub = DrillResult("kills")
    check_traffic_on_chain(stack, tally, sub)
    check_certificates(stack, certified, sub)
    figures.update({k: sub.figures[k] for k in ("writes_lost", "nonce_failures", "lost", "twice")})
    figures["nonce_collisions_signed_again"] = len(stack.logs_matching(COLLISION))
    figures["twice"] += written_twice(stack)
    result.check(figures["twice"] == 0, f"kills: {figures['twice']} written twice")
    for problem in sub.problems:
        result.check(False, f"kills: {problem}")
    return figures


# -- the drill --------------------------------------------------------------------------------------


def projection(steps: dict[int, dict]) -> dict:
    """What three hosts with one replica each would reach, from the CPU seconds per request: a
    replica is one Python process, so at most one core (the handlers hold the GIL); the node,
    gateways, vendor and database on a 2-core host of their own."""
    most = steps[max(steps)]
    api_ms, shared_ms = most["api_cpu_ms_per_request"], most["shared_cpu_ms_per_request"]
    per_replica = 1000 / api_ms if api_ms else 0.0
    shared = 2 * 1000 / shared_ms if shared_ms else float("inf")
    return {"per_replica_core_rps": round(per_replica, 1), "shared_host_rps": round(shared, 1), "three_hosts_rps": round(min(3 * per_replica, shared), 1)}


def scale(workdir: Path, *, clients: int = 200, seconds: float = 60.0, replica_counts: tuple[int, ...] = (1, 2, 3), node: str | None = None,
          database_url: str = "", max_inflight: int = 48, kills: bool = True) -> DrillResult:  # fmt: skip
    """Drill 6: the same load against each of ``replica_counts`` on PostgreSQL, then the kills."""
    result = DrillResult(f"scale ({clients} clients, {seconds:.0f} s per step, replicas {'/'.join(map(str, replica_counts))})")
    server = make_url(database_url or os.environ.get("GOVCHAIN_TEST_DATABASE_URL") or DEFAULT_SERVER)
    if server.get_backend_name() != "postgresql":
        result.check(False, f"replicas share a PostgreSQL database; {server.get_backend_name()} given (--database-url postgresql+psycopg://...)")
        return result
    steps: dict[int, dict] = {}
    made: list[str] = []
    try:
        with Chain(workdir, node) as chain, Shared(chain, workdir) as shared:
            plan = [(n, "load") for n in replica_counts] + ([(max(replica_counts), "kills")] if kills else [])
            for replicas, what in plan:
                url = fresh_database(server, f"scale{replicas}{what[0]}")
                made.append(url)
                with Stack(chain, workdir / f"{what}-{replicas}", url, "uvicorn", shared=shared, max_inflight=max_inflight, issue=IssueSettings(batch_seconds=0.5)) as stack:
                    if what == "load":
                        steps[replicas] = load_step(stack, replicas, clients, seconds, result)
                        print(f"  {replicas} replicas: {_line(steps[replicas])}", flush=True)
                    else:
                        result.figures["failover"] = kill_step(stack, replicas, clients, seconds, result)
            result.figures["node"] = chain.kind
    finally:
        for url in made:
            drop_database(server, url)
    result.figures["steps"] = steps
    kills = result.figures.get("failover", {})
    result.figures["kills"] = sum(1 for event in ("replica_killed", "leader_killed") if kills.get(event, {}).get("pid"))
    result.figures["writes_lost"] = sum(f.get("writes_lost", 0) for f in (*steps.values(), kills)) + kills.get("lost", 0)
    result.figures["twice"] = sum(f.get("twice", 0) for f in (*steps.values(), kills))
    if steps:
        one, most = steps[min(steps)], steps[max(steps)]
        result.figures["speedup"] = round(most["rate_per_s"] / one["rate_per_s"], 2) if one["rate_per_s"] else 0
        result.figures["projection"] = projection(steps)
    return result


def _line(figures: dict) -> str:
    return (f"{figures['rate_per_s']} req/s, p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms, held {figures['held_pct']} %, "
            f"errors {figures['errors']}, CPU s {figures['cpu_s']}")  # fmt: skip


def report(result: DrillResult) -> str:
    """The steps side by side, the kills and the projection, for the drills' summary."""
    steps, kills = result.figures.get("steps", {}), result.figures.get("failover")
    lines = [f"{'replicas':>8} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'held %':>7} {'errors':>6} {'API CPU ms/req':>14} {'shared ms/req':>13}  CPU s"]
    for replicas, f in sorted(steps.items()):
        lines.append(f"{replicas:>8} {f['rate_per_s']:>7} {f['p50_ms']:>8} {f['p99_ms']:>8} {f['held_pct']:>7} {f['errors']:>6} "
                     f"{f['api_cpu_ms_per_request']:>14} {f['shared_cpu_ms_per_request']:>13}  {f['cpu_s']}")  # fmt: skip
    if "speedup" in result.figures:
        lines.append(f"throughput {max(steps)} replicas / {min(steps)}: {result.figures['speedup']}x; projection: {result.figures['projection']}")
    if kills:
        lines.append(f"kills: {json.dumps({k: v for k, v in kills.items()}, ensure_ascii=False)}")
    return "\n".join(lines)
