"""What every fault drill stands on: a real node with a state directory (restartable on the
same port), a deployment, the platform API as a real uvicorn child process with its own
database, the face vendor and the two gateways as child processes, and checks that read the
chain, not the API's word.

Used by ``tests/drills`` (bounded forms, in CI) and ``scripts/drills.py`` (full forms). A drill
run alone starts all of it; the bounded forms share one node, deployment, vendor and gateways
per test module (:class:`Shared`, passed as ``shared=``) and bring their own API process and
database, and their checks read only the blocks since their start (:attr:`Stack.first_block`).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import func, select

from api import db
from api.context import Platform
from api.dev.devdata import seed_submitted
from api.models import Application, Certificate, CertificateBatch
from api.keys import PlatformKeys
from api.settings import LimitSettings, Quota, Settings
from api.dev.stack import LocalServices
from chain import reverts
from chain.compile import compile_contracts
from chain.config import load_node_config
from chain.db import make_engine, session_factory
from chain.deploy import Deployment, deploy
from chain.node import LocalNode, die_with_parent, free_port
from chain.outbox import OPEN, QUEUED, OutboxEntry
from chain.tx import ChainClient
from identity import oa, siwe
from httpkit import KEEP_ALIVE_SECONDS
from identity.keys import dev_party
from identity.parties import dev_issuers, dev_member_specs, governor_info
from chain.hexcodec import hx, unhex

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class DrillResult:
    name: str
    passed: bool = True
    figures: dict = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def check(self, condition: bool, problem: str) -> bool:
        if not condition:
            self.passed = False
            self.problems.append(problem)
        return condition

    def summary(self) -> str:
        figures = ", ".join(f"{k}={v}" for k, v in self.figures.items())
        return f"{self.name}: {'PASS' if self.passed else 'FAIL'} ({figures})" + "".join(f"\n  - {p}" for p in self.problems[:20])


# -- the chain -------------------------------------------------------------------------------


class Chain:
    """A local node with its own state directory on one fixed port: stop or kill it and start
    it again, and it comes back at the same URL with the same state."""

    def __init__(self, workdir: Path, kind: str | None = None):
        config = load_node_config()
        self.config = config.with_(kind=kind or config.kind, port=free_port(), state_dir=workdir / "chain", log_file=workdir / "node.log")
        self.node = LocalNode(self.config)
        self.deployment: Deployment | None = None
        # Set when the chain is done with: a thread that restarted the node waits on it, since the
        # node dies with the thread that started it (PR_SET_PDEATHSIG).
        self.released = threading.Event()

    @property
    def url(self) -> str:
        return self.node.url

    @property
    def kind(self) -> str:
        return self.config.kind

    def start(self) -> "Chain":
        self.node.start()
        return self

    def stop(self) -> None:
        if self.kind == "anvil":
            time.sleep(1.2)  # anvil dumps its state every --state-interval (1 s); a clean stop dumps too
        self.node.stop()

    def restart(self) -> None:
        self.node.start()

    def running(self) -> bool:
        return self.node.process is not None and self.node.process.poll() is None

    def client(self) -> ChainClient:
        return ChainClient.from_url(self.url, expected_chain_id=self.config.chain_id)

    def deploy(self, state_dir: Path) -> Deployment:
        build = compile_contracts()
        for artifact in build.artifacts.values():
            reverts.register_abi(artifact.abi)
        config = self.config
        self.deployment = deploy(self.client(), dev_party(config, "governor"), build, state_dir, governor_info=governor_info(config),
                                 members=dev_member_specs(config), issuers=dev_issuers(config))  # fmt: skip
        return self.deployment

    def __enter__(self) -> "Chain":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.released.set()
        self.node.stop()


# -- the platform API as a child process -----------------------------------------------------


def drill_limits() -> LimitSettings:
    """Every drill client comes from 127.0.0.1 (with a fresh key, so a distinct address, each
    cycle): the drills turn the per-client limits off and keep the per-address defaults."""
    limits = LimitSettings()
    off = {"client": Quota(count=0, seconds=60)}
    return limits.model_copy(update={name: getattr(limits, name).model_copy(update=off) for name in LimitSettings.model_fields})


def api_settings(state_dir: Path, rpc_url: str, database_url: str = "", **overrides) -> Settings:
    port = free_port()
    return Settings(state_dir=state_dir, rpc_url=rpc_url, database_url=database_url or f"sqlite:///{state_dir / 'platform.db'}",
                    public_domain=f"127.0.0.1:{port}", public_url=f"http://127.0.0.1:{port}", **{"limits": drill_limits(), **overrides})  # fmt: skip


def settings_env(settings: Settings) -> dict[str, str]:
    env = {
        "GOVCHAIN_STATE_DIR": str(settings.state_dir), "GOVCHAIN_RPC_URL": settings.rpc_url, "GOVCHAIN_DATABASE_URL": settings.database_url,
        "GOVCHAIN_PUBLIC_DOMAIN": settings.public_domain, "GOVCHAIN_PUBLIC_URL": settings.public_url,
        "GOVCHAIN_ROLE_CACHE_SECONDS": str(settings.role_cache_seconds), "GOVCHAIN_ISSUE_BATCH_SIZE": str(settings.issue.batch_size),
        "GOVCHAIN_ISSUE_BATCH_SECONDS": str(settings.issue.batch_seconds), "GOVCHAIN_FACE_VENDOR_URL": settings.face.vendor_url,
        "GOVCHAIN_GATEWAYS": json.dumps(settings.gateways), "GOVCHAIN_MAX_INFLIGHT": str(settings.max_inflight),
        "GOVCHAIN_INFLIGHT_WAIT_SECONDS": str(settings.inflight_wait_seconds),
        "GOVCHAIN_RECEIPT_TIMEOUT_SECONDS": str(settings.receipt_timeout_seconds),
    }  # fmt: skip
    for name in LimitSettings.model_fields:
        env[f"GOVCHAIN_LIMIT_{name.upper()}"] = getattr(settings.limits, name).model_dump_json()
    return env


class ApiProcess:
    """The platform API in its own process: ``govchain serve`` (``command="serve"``) or the
    uvicorn CLI with access logs off (``command="uvicorn"``, for load; ``replicas`` > 1: that many
    uvicorn worker processes on the port, children of this one)."""

    def __init__(self, settings: Settings, log_file: Path, command: str = "serve", replicas: int = 1):
        self.settings, self.log_file, self.command, self.replicas = settings, log_file, command, replicas
        self.port = int(settings.public_domain.split(":")[1])
        self.process: subprocess.Popen | None = None
        self.starts = 0
        self.start_seconds: list[float] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def argv(self) -> list[str]:
        if self.command == "serve":
            return [str(Path(sys.executable).parent / "govchain"), "serve", "--port", str(self.port)]
        argv = [sys.executable, "-m", "uvicorn", "--factory", "api.app:create_app", "--host", "127.0.0.1", "--port", str(self.port),
                "--log-level", "warning", "--no-access-log", "--timeout-keep-alive", str(KEEP_ALIVE_SECONDS)]  # fmt: skip
        if self.replicas > 1:  # as `govchain serve --workers N`; info logs say when each replica has started
            argv[argv.index("warning")] = "info"
            argv += ["--workers", str(self.replicas), "--timeout-worker-healthcheck", "60"]
        return argv

    def replicas_started(self) -> int:
        """How many replicas of the latest start have finished starting (uvicorn's log says so)."""
        text = self.log_file.read_text(errors="replace")
        return text[text.rindex("=== start ") :].count("Application startup complete.")

    def start(self, fault: str | None = None, timeout: float = 60.0) -> "ApiProcess":
        env = {**os.environ, **settings_env(self.settings)}
        env.pop("GOVCHAIN_FAULT", None)
        if fault:
            env["GOVCHAIN_FAULT"] = fault
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "ab") as log:
            log.write(f"\n=== start {self.starts} fault={fault} ===\n".encode())
            log.flush()
            self.process = subprocess.Popen(self.argv(), env=env, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                            preexec_fn=die_with_parent)  # fmt: skip
        self.starts += 1
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                return self  # died during start-up (a fault can fire while a pending batch is finished)
            try:
                httpx.get(self.url + "/v1/health", timeout=2)
                self.start_seconds.append(round(time.monotonic() - deadline + timeout, 2))
                return self
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the API did not answer within {timeout:.0f} s; see {self.log_file}")
            time.sleep(0.05)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        if self.alive():
            os.kill(self.process.pid, signal.SIGKILL)
        if self.process is not None:
            self.process.wait()

    def wait_exit(self, timeout: float) -> int | None:
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self) -> None:
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


class Shared:
    """A deployment on a running node with the vendor and both gateways started: what
    consecutive drills share (each brings its own API process and database)."""

    def __init__(self, chain: Chain, workdir: Path):
        self.chain, self.workdir = chain, workdir
        self.state = workdir / "state"
        self.state.mkdir(parents=True, exist_ok=True)
        chain.deploy(self.state)
        self.services = LocalServices(api_settings(self.state, chain.url), log_dir=workdir / "logs")

    def __enter__(self) -> "Shared":
        self.services.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.services.__exit__(*exc)


class Stack:
    """Node (running), vendor + gateways, and the API process; ``settings`` point at all of them.
    With ``shared``, the node, deployment, vendor and gateways are the shared ones, and the API
    gets a database of its own in ``workdir`` (unless ``database_url`` names one)."""

    def __init__(self, chain: Chain, workdir: Path, database_url: str = "", command: str = "serve", shared: Shared | None = None, **overrides):
        self.chain, self.workdir, self.shared = chain, workdir, shared
        if shared is None:
            state = workdir / "state"
            state.mkdir(parents=True, exist_ok=True)
            chain.deploy(state)
            self.first_block = 0
        else:
            state = shared.state
            workdir.mkdir(parents=True, exist_ok=True)
            database_url = database_url or f"sqlite:///{workdir / 'platform.db'}"
            self.first_block = chain.client().w3.eth.block_number + 1  # what this drill writes comes after
        base = api_settings(state, chain.url, database_url, **overrides)
        self.services = LocalServices(base, log_dir=workdir / "logs") if shared is None else shared.services
        self.settings = base.model_copy(update=self.services.overrides)
        self.api = ApiProcess(self.settings, workdir / "logs" / "api.log", command)

    def __enter__(self) -> "Stack":
        if self.shared is None:
            self.services.__enter__()
        platform = Platform.build(self.settings)
        db.upgrade(platform.engine)  # the schema before anything is seeded
        platform.close()
        return self

    def __exit__(self, *exc) -> None:
        self.api.stop()
        if self.shared is None:
            self.services.__exit__(*exc)

    def platform(self) -> Platform:
        return Platform.build(self.settings)

    def seed(self, count: int) -> list[str]:
        platform = self.platform()
        try:
            return seed_submitted(platform, count)
        finally:
            platform.close()

    def logs_matching(self, *needles: str) -> list[str]:
        hits = []
        folders = [self.workdir / "logs"] + ([self.shared.workdir / "logs"] if self.shared else [])
        for path in (p for folder in folders for p in folder.glob("*.log")):
            for line in path.read_text(errors="replace").splitlines():
                if any(n in line.lower() for n in needles):
                    hits.append(f"{path.name}: {line[:200]}")
        return hits


@contextmanager
def drill_stack(workdir: Path, node: str | None = None, database_url: str = "", command: str = "serve", shared: Shared | None = None,
                **overrides) -> Iterator[Stack]:  # fmt: skip
    """A drill's stack: its own node, deployment and services, or ``shared``'s (the node started
    again first if an earlier drill left it down)."""
    if shared is None:
        with Chain(workdir, node) as chain, Stack(chain, workdir, database_url, command, **overrides) as stack:
            yield stack
        return
    if not shared.chain.running():
        shared.chain.restart()
    with Stack(shared.chain, workdir, database_url, command, shared=shared, **overrides) as stack:
        yield stack


def sign_in(http: httpx.Client, account) -> dict[str, str]:
    message = http.post("/v1/auth/challenge", json={"address": account.address}).json()["message"]
    token = http.post("/v1/auth/token", json={"message": message, "signature": siwe.sign(message, account.key)})
    token.raise_for_status()
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


# -- checks against the chain -----------------------------------------------------------------


def check_certificates(stack: Stack, application_ids: list[str], result: DrillResult) -> None:
    """Every application has exactly one certificate; each certificate's document is intact,
    names its application, and its Merkle root is issued on chain (DocumentIssued, isIssued);
    the chain holds no issued root the platform does not know; no outbox write is left open."""
    settings = stack.settings
    engine = make_engine(settings.sqlalchemy_url)
    sessions = session_factory(engine)
    keys = PlatformKeys(settings.resolved_data_key())
    client = stack.chain.client()
    agency = dev_party(stack.chain.config, "agency")
    store_address = stack.chain.deployment.document_store(agency.address)
    store = client.w3.eth.contract(address=store_address, abi=stack.chain.deployment.document_store_abi())
    issued_events = store.events.DocumentIssued.get_logs(from_block=stack.first_block)
    on_chain_roots = ["0x" + bytes(e["args"]["document"]).hex() for e in issued_events]
    wanted = set(application_ids)
    with sessions() as session:
        certificates = list(session.scalars(select(Certificate)))
        batches = {b.id: b for b in session.scalars(select(CertificateBatch))}
        open_writes = session.scalar(select(func.count()).where(OutboxEntry.status.in_((QUEUED, *OPEN))))  # queued for a writer counts too
        states = dict(session.execute(select(Application.id, Application.state)).all())
    per_application: dict[str, int] = {}
    in_documents: dict[str, int] = {}
    roots_used: set[str] = set()
    bad = 0
    for certificate in certificates:
        per_application[certificate.application_id] = per_application.get(certificate.application_id, 0) + 1
        if certificate.state != "issued" or certificate.batch_id is None:
            bad += 1
            continue
        document = json.loads(keys.open(certificate.document, f"certificates/{certificate.id}".encode()))
        ok, why = oa.check_integrity(document)
        signature = document["signature"]
        root = hx(unhex(signature["merkleRoot"]))
        named = oa.unsalt(document["data"]).get("applicationRef")
        in_documents[named] = in_documents.get(named, 0) + 1
        roots_used.add(root)
        if not ok or named != certificate.application_id or hx(unhex(signature["targetHash"])) != certificate.target_hash:
            bad += 1
            result.check(False, f"{certificate.id}: document does not verify ({why}) or names {named}")
        if batches[certificate.batch_id].merkle_root != root:
            result.check(False, f"{certificate.id}: batch root differs from its document's root")
    issued_root_set = set(on_chain_roots)
    chain_ok = {root: bool(store.functions.isIssued(unhex(root)).call()) for root in roots_used}
    missing = sorted(a for a in wanted if per_application.get(a, 0) == 0)
    twice = sorted(a for a, n in per_application.items() if n > 1) + sorted(a for a, n in in_documents.items() if n > 1)
    result.figures.update(approved=len(wanted), certificates=len(certificates), batches=len(batches), roots_on_chain=len(on_chain_roots),
                          lost=len(missing), twice=len(twice))  # fmt: skip
    result.check(not missing, f"{len(missing)} approved applications have no certificate, e.g. {missing[:3]}")
    result.check(not twice, f"{len(twice)} applications have more than one certificate, e.g. {twice[:3]}")
    result.check(bad == 0, f"{bad} certificates are not issued or do not verify")
    result.check(set(in_documents) == wanted, "the certificates name other applications than the approved ones")
    result.check(all(chain_ok.values()), f"roots not issued on chain: {[r for r, v in chain_ok.items() if not v][:3]}")
    result.check(roots_used <= issued_root_set, "a certificate's root has no DocumentIssued event")
    result.check(len(on_chain_roots) == len(issued_root_set), "a root was issued twice on chain")
    result.check(issued_root_set == roots_used, f"roots issued on chain that no certificate proves into: {sorted(issued_root_set - roots_used)[:3]}")
    result.check(sum(b.size for b in batches.values()) == len(certificates), "batch sizes do not add up to the certificates")
    result.check(open_writes == 0, f"{open_writes} outbox writes are still open")
    result.check(all(states.get(a) == "issued" for a in wanted), "some approved applications are not in state issued")
    engine.dispose()


def wait_for(predicate, timeout: float, interval: float = 0.25) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return True
        except Exception:  # noqa: BLE001 - a process may be between lives
            pass
        time.sleep(interval)
    return False


def issued_count(stack: Stack) -> int:
    engine = make_engine(stack.settings.sqlalchemy_url)
    try:
        with session_factory(engine)() as session:
            return session.scalar(select(func.count()).where(Certificate.state == "issued"))
    finally:
        engine.dispose()
