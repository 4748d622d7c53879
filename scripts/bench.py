"""govchain benchmarks: gas against its floor, throughput against the peers, in one run.

    make bench                       (= .venv/bin/python scripts/bench.py)
    .venv/bin/python scripts/bench.py [--nodes anvil,ganache] [--quick] [--out bench/results]

For each node (freshly started, fresh deployment, in a temporary folder):

1. gas     every operation with its floor beside it (see scripts/bench_lib.py for the model):
           consent grant and revoke, recordPulls in batches of 1/8/32/128, evidence anchor,
           issue(root) at batches of 1/64/1,024/8,192 on our DocumentStore and on
           OpenAttestation's own (npm @govtechsg/document-store, deployed on the same node),
           revoke, and every step of a weighted-score tender.
2. certificates end to end through the platform API (its own process): approvals one per
           HTTP request against bulk approvals (POST /v1/agency/decisions), side by side; each
           timed until every certificate is wrapped, batched, anchored and its proof stored.
3. verification of the same issued documents: the CLI-path Verifier in process (one RPC per
           read against one JSON-RPC batch per document), the API (POST /v1/verify) at 1, 8
           and 32 concurrent clients with p50/p99, its status from the audit index against
           from the chain (?source=chain) side by side, and unmodified oa-verify.
4. pulls   end to end through a data-holder gateway (its own process): HTTP, EIP-712 check,
           consent check on chain, HPKE sealing, on-chain log; one pull per transaction
           against group commit.
5. tender  opening of 100 bids through the API: uploads, opening, sign-ins and key releases
           with decryption, reading, result.

Every end-to-end phase runs with py-spy sampling the serving process; the report names the
slowest stage of each path. Peak memory (VmHWM) of the API, the gateway and the node.
Prints tables; writes the same figures to bench/results/<timestamp>.json and .md.
Figures, not assertions: the machine is shared and noisy, so comparisons are side by side.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import itertools
import json
import os
import platform as pyplatform
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
from eth_account import Account
from eth_utils import keccak
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import func, select
from chain.hexcodec import unhex

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_lib import Profile, Table, cpu_seconds, measure as measure_gas, peak_rss_mb, pyspy_binary, summarize  # noqa: E402
from gas_report import breakdown_tables, breakdowns, capacity_table  # noqa: E402

from api.certificates.service import document_of  # noqa: E402
from identity.verify import Verifier  # noqa: E402
from api.context import Platform  # noqa: E402
from api.dev.devdata import seed_submitted  # noqa: E402
from api.dev.demo import wait_for_objection_period  # noqa: E402
from identity.dev_citizens import demo_citizen  # noqa: E402
from api.models import Certificate  # noqa: E402
from api.pulls.service import request_body, signed_body  # noqa: E402
from api.services import ServiceProcess  # noqa: E402
from api.settings import Settings  # noqa: E402
from api.auth.client import sign_in  # noqa: E402
from api.tenders.client import BidderClient  # noqa: E402
from chain import reverts  # noqa: E402
from chain.compile import compile_contracts  # noqa: E402
from chain.config import load_node_config  # noqa: E402
from chain.consents import ConsentRegistryClient  # noqa: E402
from chain.deploy import deploy  # noqa: E402
from chain.documents import DocumentStoreClient, deploy_openattestation_store  # noqa: E402
from chain.evidence import EvidenceLedgerClient  # noqa: E402
from chain.node import NODE_MODULES, LocalNode, free_port, rpc_call  # noqa: E402
from chain.registry import GovRegistryClient, MemberInfo, Role  # noqa: E402
from chain.tenders import Method, Reading, TenderLedgerClient, TenderTerms  # noqa: E402
from chain.tx import ChainClient  # noqa: E402
from chain.db import make_engine, session_factory  # noqa: E402
from chain.outbox import Outbox  # noqa: E402
from chain.writer import ChainWriter, Intent, enqueue, wait_for  # noqa: E402
from api import db as api_db  # noqa: E402
from identity import binding, eip712, oa, tender712  # noqa: E402
from identity.keys import dev_account, dev_party, hpke_key_for, x25519_public_bytes  # noqa: E402
from identity.parties import dev_issuers, dev_member_specs, governor_info  # noqa: E402
from identity.pull_request import signed_record  # noqa: E402

SCOPE = {"id_card": ["id_number", "name"]}
ID_CARD, HOUSEHOLD_REGISTER = 0, 2
PULL_BATCHES = (1, 8, 32, 128)
ISSUE_BATCHES = (1, 64, 1024, 8192)
CONCURRENCY = (1, 8, 32)
console = Console(width=None if sys.stdout.isatty() else 170)

# Stages of each end-to-end path, for the profiles: a sample goes to the first rule that
# matches a frame, innermost frame first (see bench_lib.Profile.stages).
HTTP_SERVER = ("uvicorn/", "starlette/", "fastapi/", "h11/", "anyio/", "pydantic")
DATABASE = ("sqlalchemy/", "sqlite3", "psycopg")
STAGES = {
    "certificates": [
        ("database (SQLAlchemy, SQLite commits)", DATABASE),
        ("chain: issue(root) sent and awaited", ("chain/outbox.py", "chain/tx.py", "web3/")),
        ("Merkle wrapping (identity.oa)", ("identity/oa.py",)),
        ("sealing at rest (AES-GCM)", ("identity/sealing.py",)),
        ("sign-in check per request (token, roles)", ("api/auth/", "api/deps.py", "chain/members.py")),
        ("certificate data (catalog, claimed identity)", ("api/certificates/service.py", "api/applications/")),
        ("HTTP server, validation, JSON (uvicorn, FastAPI, pydantic)", HTTP_SERVER),
    ],
    "verification": [
        ("status from the audit index (database)", ("api/certificates/status.py", *DATABASE)),
        ("chain reads (RPC round trips to the node)", ("httpx/", "httpcore/", "requests/", "urllib3/", "web3/", "chain/")),
        ("integrity (hashing the document, identity.oa)", ("identity/oa.py",)),
        ("JSON parsing", ("json/", "read_body")),
        ("HTTP server, validation, JSON (uvicorn, FastAPI, pydantic)", HTTP_SERVER),
        ("verifier logic", ("identity/verify.py",)),
    ],
    "pulls": [
        ("on-chain log: recordPulls sent and awaited", ("gateway/batcher.py", "Gateway._log ", "Future.result")),
        ("database (SQLAlchemy, SQLite)", DATABASE),
        ("consent check on chain (eth_call)", ("_granted_terms", "_requester_key", "chain/")),
        ("HPKE sealing and opening", ("identity/sealing.py", "hpke")),
        ("EIP-712 signature check", ("eth_account/", "identity/eip712.py", "coincurve")),
        ("HTTP server, validation, JSON (uvicorn, FastAPI, pydantic)", HTTP_SERVER),
    ],
    "tender": [
        ("chain: transactions sent and awaited", ("chain/outbox.py", "chain/tx.py", "web3/")),
        ("database (SQLAlchemy, SQLite)", DATABASE),
        ("bid files: hashing and decryption", ("identity/bids.py", "api/blobs.py")),
        ("sign-in (SIWE) and signature checks", ("api/auth/", "identity/siwe.py", "eth_account/", "identity/tender712.py")),
        ("HTTP server, validation, JSON (uvicorn, FastAPI, pydantic)", HTTP_SERVER),
    ],
}


@dataclass
class Sizes:
    approvals_per_request: int = 400
    approvals_bulk: int = 4096
    bulk_chunk: int = 512
    issue_batch: int = 512
    verify_docs: int = 256
    oa_docs: int = 96
    pulls: int = 240
    pull_clients: int = 16
    bids: int = 100
    bid_clients: int = 8
    writes: int = 300

    @classmethod
    def quick(cls) -> "Sizes":
        return cls(100, 512, 256, 256, 64, 24, 64, 8, 10, 4, 60)


@dataclass
class NodeRun:
    kind: str
    node: LocalNode
    client: ChainClient
    deployment: object
    build: object
    config: object
    state: Path
    pids: dict = field(default_factory=dict)
    results: dict = field(default_factory=dict)


# -- progress ----------------------------------------------------------------------------------


class Phases:
    """One progress bar per phase."""

    def __init__(self, progress: Progress, node: str):
        self.progress, self.node = progress, node

    def start(self, name: str, total: int):
        return self.progress.add_task(f"[{self.node}] {name}", total=total)

    def advance(self, task, n: int = 1) -> None:
        self.progress.advance(task, n)

    def finish(self, task) -> None:
        total = self.progress.tasks[[t.id for t in self.progress.tasks].index(task)].total
        self.progress.update(task, completed=total)


# -- 1. gas ------------------------------------------------------------------------------------


def sample_certificate(index: int, store: str) -> dict:
    return {
        "id": f"cert_bench_{index:06d}", "name": "教师资格证书 Teacher Qualification Certificate",
        "recipient": {"name": f"测试{index:05d}", "idNumberMasked": "9901**********0000"}, "issuedOn": "2026-11-27",
        "issuers": [{"name": "区教育局", "documentStore": store, "identityProof": {"type": "DNS-TXT", "location": "edu.gov.example"}}],
    }  # fmt: skip


def consent_terms(client, consents, config, applicant, max_pulls: int, categories: int, nonce: int):
    person, salt = demo_citizen(12), os.urandom(32)
    now = client.w3.eth.get_block("latest")["timestamp"]
    terms = eip712.ConsentTerms(
        applicant.address, dev_party(config, "agency").address, categories, eip712.scope_hash(SCOPE, salt),
        eip712.purpose_hash("bench", "bench", salt), binding.face_check_ref("req_bench", person["id_number"], salt),
        now, now + 86_400, max_pulls, nonce, now + 900,
    )  # fmt: skip
    return terms, person, salt


def grant(client, consents, config, applicant, max_pulls: int = 60_000, categories: int = 0b101, nonce: int | None = None):
    nonce = secrets.randbits(56) << 8 if nonce is None else nonce
    terms, person, salt = consent_terms(client, consents, config, applicant, max_pulls, categories, nonce)
    signature = eip712.sign_consent(terms, eip712.Domain.of(consents.domain()), applicant.key)
    consent_id, receipt = consents.grant(dev_party(config, "relayer"), terms, signature)
    subject = {"id_number": person["id_number"], "vendor_request_id": "req_bench", "salt": salt.hex()}
    return consent_id, receipt, subject


def gas_phase(run: NodeRun, phases: Phases, wrapped: dict[int, list[dict]], slots_from: dict) -> tuple[list, list]:
    client, config, deployment, build, url = run.client, run.config, run.deployment, run.build, run.node.url
    w3 = client.w3
    trace = run.kind == "anvil"  # ganache has no prestate diff tracer (and struct logs of big batches are slow)

    def measure(w3, url, operation, receipt, items=1, slots=None):
        return measure_gas(w3, url, operation, receipt, items, slots, trace=trace)

    task = phases.start("gas per operation", 4 + 5 + 1 + 2 * len(ISSUE_BATCHES) + 3 + 13)
    rows = []

    def row(operation, receipt, items=1):
        rows.append(measure(w3, url, operation, receipt, items, slots_from.get(operation)))
        phases.advance(task)

    entry = deployment.contracts["ConsentRegistry"]
    consents = ConsentRegistryClient(client, entry["address"], entry["abi"])
    applicant = dev_account(config, 12)
    word = secrets.randbits(56) << 8
    grant(client, consents, config, applicant, nonce=word)  # the first nonce of a bitmap word costs one more slot
    consent_id, receipt, _ = grant(client, consents, config, applicant, nonce=word + 1)
    row("consent grant (relayer, EIP-712 signature)", receipt)
    holder, agency = dev_party(config, "holder_psb"), dev_party(config, "agency")
    counter = itertools.count(1)  # the consent's pull numbers
    for size in PULL_BATCHES:
        now = w3.eth.get_block("latest")["timestamp"]
        records = [signed_record(agency, holder.address, consent_id, next(counter), (ID_CARD, HOUSEHOLD_REGISTER)[i % 2], chain_id=client.chain_id,
                                 verifying_contract=consents.address, issued_at=now, digest=os.urandom(32), attributes=keccak(text="attributes"),
                                 subject=os.urandom(32))
                   for i in range(size)]  # the agency's EIP-712 signature of each, checked on chain  # fmt: skip
        row(f"recordPulls, batch of {size}", consents.record_pulls(holder, records).receipt, size)
    # the batches above are one consent's (its slots warm after the first record, read once for the
    # batch); a gateway's group commit mixes applications: here every record is another consent's
    now = w3.eth.get_block("latest")["timestamp"]
    records = [signed_record(agency, holder.address, grant(client, consents, config, applicant)[0], 1, ID_CARD, chain_id=client.chain_id,
                             verifying_contract=consents.address, issued_at=now, digest=os.urandom(32), attributes=keccak(text="attributes"),
                             subject=os.urandom(32))
               for _ in range(32)]  # fmt: skip
    row("recordPulls, batch of 32 on 32 consents", consents.record_pulls(holder, records).receipt, 32)
    row("consent revoke (by the applicant)", consents.revoke(applicant, consent_id))
    phases.advance(task, 2)
    entry = deployment.contracts["EvidenceLedger"]
    evidence = EvidenceLedgerClient(client, entry["address"], entry["abi"])
    row("evidence anchor (submission manifest)", evidence.anchor(dev_party(config, "relayer"), "SUBMISSION_MANIFEST", os.urandom(32), os.urandom(32)))

    issuer = agency
    ours = DocumentStoreClient(client, deployment.document_store(issuer.address), build["DocumentStore"].abi)
    theirs = deploy_openattestation_store(client, issuer, "OpenAttestation reference store")
    stores = []
    for size in ISSUE_BATCHES:
        root = unhex(wrapped[size][0]["signature"]["merkleRoot"])
        mine = measure(w3, url, f"issue(root), batch of {size}", ours.issue(issuer, root), size, slots_from.get(f"issue(root), batch of {size}"))
        oas = measure(w3, url, f"OpenAttestation issue(root), batch of {size}", theirs.issue(issuer, root), size,
                      slots_from.get(f"OpenAttestation issue(root), batch of {size}"))  # fmt: skip
        rows += [mine, oas]
        stores.append((size, mine, oas))
        phases.advance(task, 2)
    target = unhex(wrapped[64][3]["signature"]["targetHash"])
    row("certificate revoke (one target hash)", ours.revoke(issuer, target))
    row("OpenAttestation revoke (one target hash)", theirs.revoke(issuer, target))
    registry = GovRegistryClient(client, deployment.address("GovRegistry"), deployment.contracts["GovRegistry"]["abi"])
    newcomer = dev_account(config, 19)  # a new issuing agency: its store is an EIP-1167 clone
    registry.register_member(dev_party(config, "governor"), newcomer.address, MemberInfo("新设发证机关 New issuing agency"), [Role.ISSUER])
    row("a new agency's DocumentStore (createDocumentStore)", registry.create_document_store(newcomer)[1])

    # every step of a weighted-score tender, on the ledger directly (chain time moved with evm_increaseTime)
    entry = deployment.contracts["TenderLedger"]
    ledger = TenderLedgerClient(client, entry["address"], entry["abi"])
    domain = tender712.domain(client.chain_id, ledger.address)
    procurement, relayer = dev_party(config, "procurement"), dev_party(config, "relayer")
    bidders = [dev_account(config, i) for i in range(13, 16)]
    experts = [dev_account(config, i) for i in range(16, 19)]
    for n, bidder in enumerate(bidders):  # sign-in takes registered bidders only (BIDDER)
        registry.register_member(dev_party(config, "governor"), bidder.address, MemberInfo(f"测试投标人{n}"), [Role.BIDDER])
    now = w3.eth.get_block("latest")["timestamp"]
    terms = TenderTerms(keccak(text="招标文件 BENCH"), now + 3600, now + 3600, now + 5400, Method.WEIGHTED_SCORE, 3, [e.address for e in experts], (6000, 4000))
    tid = keccak(text=f"bench tender {secrets.token_hex(8)}")
    row("tender: createTender", ledger.create_tender(procurement, tid, terms))
    bids = []
    for n, bidder in enumerate(bidders):
        pseudonym, key, salt = keccak(text=f"pseudonym {tid.hex()} {n}"), os.urandom(32), os.urandom(32)
        commitment = tender712.key_commitment(client.chain_id, ledger.address, tid, bidder.address, key, salt)
        _, receipt = ledger.commit_bid(relayer, tid, pseudonym, keccak(text=f"ciphertext {n}"), commitment)
        bids.append((bidder, pseudonym, key, salt, commitment))
        if n == 0:
            rows.append(measure(w3, url, "tender: commitBid", receipt, 1, slots_from.get("tender: commitBid")))
    _, receipt = ledger.commit_bid(relayer, tid, bids[0][1], keccak(text="ciphertext 0 v2"), bids[0][4])
    row("tender: commitBid (replacement)", receipt)
    spare = keccak(text=f"withdrawn {tid.hex()}")
    ledger.commit_bid(relayer, tid, spare, keccak(text="withdrawn"), keccak(text="c"))
    row("tender: withdrawBid", ledger.withdraw_bid(relayer, tid, spare))

    def move_chain_past(moment: int) -> None:
        rpc_call(url, "evm_increaseTime", [max(moment - w3.eth.get_block("latest")["timestamp"], 0) + 1])
        rpc_call(url, "evm_mine")

    move_chain_past(terms.opening_time)
    row("tender: openTender", ledger.open_tender(procurement, tid).receipt)
    for n, (bidder, pseudonym, key, salt, _) in enumerate(bids):
        signed_in = ledger.sign_in(relayer, tid, pseudonym, bidder.address, tender712.sign_signin(tid, pseudonym, bidder.address, domain, bidder.key))
        revealed = ledger.reveal_key(relayer, tid, pseudonym, key, salt)
        decrypted = ledger.record_decryption(procurement, tid, pseudonym, True, keccak(pseudonym + b"plaintext"))
        if n == 0:
            for name, receipt in (("signIn (EIP-712, relayed)", signed_in), ("revealKey", revealed), ("recordDecryption", decrypted)):
                rows.append(measure(w3, url, f"tender: {name}", receipt, 1, slots_from.get(f"tender: {name}")))
    phases.advance(task, 3)
    readings = [Reading(p, 1000 - 10 * n, keccak(text=f"items {n}")) for n, (_, p, *_rest) in enumerate(bids)]
    _, receipt = ledger.publish_reading(procurement, tid, readings, keccak(text="announcement"))
    row("tender: publishReading (3 bids)", receipt)
    bidder, pseudonym = bids[1][0], bids[1][1]
    _, receipt = ledger.raise_objection(relayer, tid, pseudonym, keccak(text="objection"),
                                        tender712.sign_objection(tid, pseudonym, keccak(text="objection"), domain, bidder.key))  # fmt: skip
    row("tender: raiseObjection (EIP-712, relayed)", receipt)
    row("tender: answerObjection", ledger.answer_objection(procurement, tid, 0, keccak(text="answer")))
    first = None
    for expert in experts:
        for n, (_, pseudonym, *_rest) in enumerate(bids):
            marks = [70 + n, 80 - n]
            receipt = ledger.submit_scores(relayer, tid, expert.address, pseudonym, marks, tender712.sign_scores(tid, pseudonym, marks, domain, expert.key))
            first = first or receipt
    rows.append(measure(w3, url, "tender: submitScores (EIP-712, relayed)", first, 1, slots_from.get("tender: submitScores (EIP-712, relayed)")))
    phases.advance(task)
    winner, _value = ledger.compute_result(tid)
    move_chain_past(ledger.objection_deadline(tid))  # no result during the objection period
    row("tender: publishResult (computed on chain)", ledger.publish_result(procurement, tid, winner, keccak(text="report")).receipt)
    phases.finish(task)
    return rows, stores


# -- services ----------------------------------------------------------------------------------


def api_env(run: NodeRun, port: int, batch: int) -> dict:
    return {**os.environ, "GOVCHAIN_STATE_DIR": str(run.state), "GOVCHAIN_RPC_URL": run.node.url, "GOVCHAIN_PUBLIC_DOMAIN": f"127.0.0.1:{port}",
            "GOVCHAIN_PUBLIC_URL": f"http://127.0.0.1:{port}", "GOVCHAIN_ISSUE_BATCH_SIZE": str(batch), "GOVCHAIN_ISSUE_BATCH_SECONDS": "0.2",
            "GOVCHAIN_MAX_INFLIGHT": "256", "GOVCHAIN_INFLIGHT_WAIT_SECONDS": "30"}  # fmt: skip


def profiled(run: NodeRun, name: str, pid: int):
    return Profile(run.state / f"profile-{name}.txt", pid).start(pyspy_binary())


def issued_count(platform: Platform) -> int:
    with platform.sessions() as session:
        return session.scalar(select(func.count()).where(Certificate.state == "issued"))


# -- 2. certificates end to end ----------------------------------------------------------------


def certificates_phase(run: NodeRun, phases: Phases, api: ServiceProcess, platform: Platform, sizes: Sizes) -> dict:
    agency = dev_party(run.config, "agency")
    out = {}
    with httpx.Client(base_url=api.url, timeout=300, limits=httpx.Limits(max_connections=32)) as http:
        headers = sign_in(http, agency)
        for mode, count in (("one approval per HTTP request", sizes.approvals_per_request), ("bulk approvals (POST /v1/agency/decisions)", sizes.approvals_bulk)):
            ids = seed_submitted(platform, count)
            before = issued_count(platform)
            task = phases.start(f"certificates e2e: {mode}", count)
            profile = profiled(run, "certificates-" + ("bulk" if "bulk" in mode else "single"), api.process.pid)
            started = time.perf_counter()
            if "bulk" in mode:
                chunks = [ids[i : i + sizes.bulk_chunk] for i in range(0, count, sizes.bulk_chunk)]

                def decide(chunk):
                    body = {"decisions": [{"application_id": i, "decision": "approve", "reason": "bench"} for i in chunk]}
                    answer = http.post("/v1/agency/decisions", json=body, headers=headers)
                    answer.raise_for_status()
                    assert answer.json()["decided"] == len(chunk), answer.text[:300]
                    phases.advance(task, len(chunk))

                with ThreadPoolExecutor(2) as pool:
                    list(pool.map(decide, chunks))
            else:

                def decide(application_id):
                    http.post(f"/v1/applications/{application_id}/decision", json={"decision": "approve", "reason": "bench"}, headers=headers).raise_for_status()
                    phases.advance(task)

                with ThreadPoolExecutor(16) as pool:
                    list(pool.map(decide, ids))
            approved = time.perf_counter() - started
            while issued_count(platform) < before + count:
                if time.perf_counter() - started > 300:
                    raise TimeoutError(f"{mode}: not all certificates issued after 300 s")
                time.sleep(0.01)
            elapsed = time.perf_counter() - started
            profile.stop()
            phases.finish(task)
            out[mode] = {"certificates": count, "approvals_seconds": round(approved, 2), "all_issued_seconds": round(elapsed, 2),
                         "approvals_per_second": round(count / approved, 1), "certificates_per_second": round(count / elapsed, 1),
                         "profile": summarize(profile.stages(STAGES["certificates"])), "profile_error": profile.error}  # fmt: skip
    return out


# -- 3. verification ---------------------------------------------------------------------------


def verification_phase(run: NodeRun, phases: Phases, api: ServiceProcess, platform: Platform, sizes: Sizes) -> dict:
    with platform.sessions() as session:
        rows = session.scalars(select(Certificate).where(Certificate.state == "issued").order_by(Certificate.id).limit(sizes.verify_docs)).all()
        documents = [document_of(platform, row) for row in rows]
    out = {"documents": len(documents)}
    registry_entry = run.deployment.contracts["GovRegistry"]
    store_abi = run.deployment.document_store_abi()
    task = phases.start("verification: CLI-path Verifier, oa-verify, API at 1/8/32 clients (index, chain)", 2 + 1 + 2 * len(CONCURRENCY))
    for label, batched in (("Verifier, one RPC per read (before)", False), ("Verifier, one JSON-RPC batch per document (after)", True)):
        client = ChainClient.from_url(run.node.url)
        verifier = Verifier(client, GovRegistryClient(client, registry_entry["address"], registry_entry["abi"]), store_abi, batched=batched)
        assert verifier.verify(documents[0]).valid
        started = time.perf_counter()
        with ThreadPoolExecutor(8) as pool:
            verdicts = list(pool.map(verifier.verify, documents))
        seconds = time.perf_counter() - started
        assert all(v.valid for v in verdicts), [v.to_json() for v in verdicts if not v.valid][:1]
        out[label] = {"documents_per_second": round(len(documents) / seconds, 1), "threads": 8}
        phases.advance(task)

    # unmodified oa-verify on (a slice of) the same documents, timed by the script around the verifications
    # alone (Node's start-up, measured apart, is left out)
    sample = run.state / "oa-docs.json"
    docs = documents[: sizes.oa_docs]
    sample.write_text(json.dumps(docs))
    command = ["node", str(ROOT / "scripts/oa/verify.mjs"), "--rpc", run.node.url, "--registry", registry_entry["address"], "--concurrency", "8", "--many"]
    started = time.perf_counter()
    done = subprocess.run([*command, str(sample)], capture_output=True, text=True, timeout=600, cwd=str(ROOT))
    whole = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"oa-verify failed: {done.stderr[-500:]}")
    verdicts = json.loads(done.stdout)
    assert all(v["valid"] for v in verdicts), verdicts[:1]
    timing = json.loads(next(line for line in done.stderr.splitlines() if line.startswith("timing "))[len("timing ") :])
    out["oa-verify 9.4.0 (8 concurrent)"] = {"documents_per_second": round(len(docs) / timing["seconds"], 1), "documents": len(docs),
                                             "node_start_seconds": round(whole - timing["seconds"], 2)}  # fmt: skip
    phases.advance(task)

    # the API, at 1, 8 and 32 concurrent clients: the status from the audit index (the default), then from the chain
    bodies = [json.dumps(d).encode() for d in documents]
    _await_index(api.url, bodies[0])
    for source, query in (("index", ""), ("chain", "?source=chain")):
        for clients in CONCURRENCY:
            requests = max(64, min(len(bodies) * 2, 24 * clients))
            profile = profiled(run, f"verification-{source}", api.process.pid) if clients == CONCURRENCY[-1] else None
            # where the machine's CPU went: the clients (this process) share it with the API and the node
            pids = {"api": api.process.pid, "node": run.node.process.pid}
            cpu = {name: cpu_seconds(pid) for name, pid in pids.items()} | {"clients": time.process_time()}
            latencies, seconds, failures, sources = asyncio.run(_verify_load(api.url + "/v1/verify" + query, bodies, clients, requests))
            used = {name: cpu_seconds(pid) for name, pid in pids.items()} | {"clients": time.process_time()}
            cpu_share = {name: round((used[name] - cpu[name]) / seconds, 2) for name in cpu if used[name] is not None and cpu[name] is not None}
            latencies.sort()
            out[api_label(source, clients)] = {
                "clients": clients, "requests": requests, "verifications_per_second": round(requests / seconds, 1), "failures": failures,
                "p50_ms": round(latencies[len(latencies) // 2] * 1000, 1), "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 1),
                "answered_from": sources, "cpu_share": cpu_share,
            }  # fmt: skip
            if profile:
                profile.stop()
                out[f"profile, {source}"] = summarize(profile.stages(STAGES["verification"]))
                out[f"profile_error, {source}"] = profile.error
            phases.advance(task)
    phases.finish(task)
    return out


def api_label(source: str, clients: int) -> str:
    return f"API, status from the {source}{' (?source=chain)' if source == 'chain' else ''}, {clients} concurrent"


def _await_index(url: str, body: bytes, timeout: float = 60) -> None:
    """Wait until the API's indexer has caught up with the chain (its answers come from the index)."""
    deadline = time.monotonic() + timeout
    while httpx.post(url + "/v1/verify", content=body, headers={"content-type": "application/json"}, timeout=30).json()["source"] != "index":
        if time.monotonic() > deadline:
            raise TimeoutError(f"the API's audit index did not catch up with the chain within {timeout:.0f} s")
        time.sleep(0.2)


async def _verify_load(url: str, bodies: list[bytes], clients: int, requests: int) -> tuple[list[float], float, int, dict[str, int]]:
    """``requests`` verifications by ``clients`` at once: latencies, seconds, failures and how many
    answers came from each source (index or chain)."""
    latencies: list[float] = []
    failures = 0
    sources: dict[str, int] = {}
    counter = itertools.count()
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=clients)) as http:
        for body in bodies[: min(4, len(bodies))]:  # warm-up: connections, caches
            await http.post(url, content=body, headers={"content-type": "application/json"})

        async def worker():
            nonlocal failures
            while (i := next(counter)) < requests:
                started = time.perf_counter()
                answer = await http.post(url, content=bodies[i % len(bodies)], headers={"content-type": "application/json"})
                latencies.append(time.perf_counter() - started)
                verdict = answer.json() if answer.status_code == 200 else {}
                sources[str(verdict.get("source"))] = sources.get(str(verdict.get("source")), 0) + 1
                if not verdict.get("valid"):
                    failures += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        return latencies, time.perf_counter() - started, failures, sources


# -- 4. pulls end to end -----------------------------------------------------------------------


def pulls_phase(run: NodeRun, phases: Phases, sizes: Sizes) -> dict:
    config, deployment = run.config, run.deployment
    entry = deployment.contracts["ConsentRegistry"]
    consents = ConsentRegistryClient(run.client, entry["address"], entry["abi"])
    agency, holder = dev_party(config, "agency"), dev_party(config, "holder_psb")
    holder_key = x25519_public_bytes(hpke_key_for(holder))
    out = {}
    for index, (name, batch) in enumerate([("one pull per transaction", 1), ("group commit, up to 32 per transaction", 32)]):
        # one consent per client: pulls under one consent are numbered (its pull count is the replay guard),
        # so each client pulls its own consent's numbers in order, the clients in parallel
        granted = [grant(run.client, consents, config, dev_account(config, 12 + index), categories=0b001, nonce=secrets.randbits(56) << 8 | n)
                   for n in range(sizes.pull_clients)]  # fmt: skip
        lanes = [(threading.Lock(), [0], consent_id, subject) for consent_id, _, subject in granted]
        env = {**os.environ, "GOVCHAIN_GATEWAY_HOLDER_PARTY": "holder_psb", "GOVCHAIN_GATEWAY_RPC_URL": run.node.url,
               "GOVCHAIN_GATEWAY_STATE_DIR": str(run.state), "GOVCHAIN_GATEWAY_DATABASE_URL": f"sqlite:///{run.state / f'gw{index}.db'}",
               "GOVCHAIN_GATEWAY_MAX_BATCH": str(batch), "GOVCHAIN_GATEWAY_MAX_INFLIGHT": "256", "GOVCHAIN_GATEWAY_INFLIGHT_WAIT_SECONDS": "30"}  # fmt: skip
        task = phases.start(f"pulls e2e: {name}", sizes.pulls)
        with ServiceProcess(f"gateway ({name})", "gateway", env, health_path="/v1/health") as gateway, httpx.Client(timeout=120) as http:

            def one(i):
                lock, pulled, consent_id, subject = lanes[i % len(lanes)]
                with lock:
                    pulled[0] += 1
                    asked = request_body(agency.address, holder.address, holder_key, pulled[0], "0x" + consent_id.hex(), "id_card", SCOPE,
                                         bytes.fromhex(subject["salt"]), SCOPE["id_card"], subject, int(time.time()))  # fmt: skip
                    body = signed_body(agency, asked, deployment.chain_id, deployment.address("ConsentRegistry"))
                    started = time.perf_counter()
                    response = http.post(gateway.url + "/v1/pulls", json=body)
                if response.status_code != 200:
                    raise RuntimeError(response.text)
                phases.advance(task)
                return time.perf_counter() - started

            one(0)  # warm-up
            profile = profiled(run, f"pulls-{batch}", gateway.process.pid)
            started = time.perf_counter()
            with ThreadPoolExecutor(sizes.pull_clients) as pool:
                latencies = sorted(pool.map(one, range(sizes.pulls)))
            elapsed = time.perf_counter() - started
            profile.stop()
            transactions = http.get(gateway.url + "/v1/health").json().get("batches_sent", 0) - 1
            run.pids.setdefault("gateway_rss", []).append(peak_rss_mb(gateway.process.pid))
        phases.finish(task)
        out[name] = {"pulls": sizes.pulls, "clients": sizes.pull_clients, "seconds": round(elapsed, 2), "pulls_per_second": round(sizes.pulls / elapsed, 1),
                     "p50_ms": round(statistics.median(latencies) * 1000, 1), "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 1),
                     "transactions": transactions, "profile": summarize(profile.stages(STAGES["pulls"])), "profile_error": profile.error}  # fmt: skip
    return out


# -- 4b. chain writes: the outbox in the request against the writer per key --------------------


def writer_phase(run: NodeRun, phases: Phases, sizes: Sizes) -> dict:
    """The same chain writes (a member rotating its HPKE key) three ways, on one node, one run:
    the outbox as handlers use it today (sign, send, await the receipt, one after another), and
    the writer per key (chain/writer.py) with 1 and 16 transactions in flight; intents queued in
    one database transaction (SQLite), timed from the commit to the last one mined."""
    agency = dev_party(run.config, "agency")
    registry = run.deployment.contracts["GovRegistry"]
    contract = run.client.w3.eth.contract(address=registry["address"], abi=registry["abi"])
    gas = run.client.build(agency, contract.functions.rotateHpkeKey(bytes(32)))["gas"]
    n = sizes.writes
    out = {}
    for name, in_flight in (("outbox in the request, receipt awaited", 0), ("writer, 1 in flight", 1), ("writer, 16 in flight", 16)):
        engine = make_engine(f"sqlite:///{run.state / f'writer-{in_flight}.db'}")
        api_db.upgrade(engine)
        sessions = session_factory(engine)
        client = ChainClient.from_url(run.node.url)
        calls = [bytes.fromhex(contract.encode_abi("rotateHpkeKey", [secrets.token_bytes(32)])[2:]) for _ in range(n)]
        task = phases.start(f"chain writes: {name}", n)
        if not in_flight:
            started = time.perf_counter()
            outbox = Outbox(client, sessions)
            for i, data in enumerate(calls):
                outbox.submit(f"bench:{i}", agency, to=registry["address"], data="0x" + data.hex(), gas=gas)
                phases.advance(task)
        else:
            with sessions() as session:
                for i, data in enumerate(calls):
                    enqueue(session, Intent(f"bench:{i}", agency.address, registry["address"], data, gas))
                session.commit()
            started = time.perf_counter()  # from the commit that queued them
            writer = ChainWriter(client, engine, agency, max_in_flight=in_flight, idle_wait=0.05)
            writer.start()
            try:
                for i in range(n):
                    done = wait_for(sessions, f"bench:{i}", 120)
                    if done is None or not done.ok:
                        raise RuntimeError(f"write {i}: {done}")
                    phases.advance(task)
            finally:
                writer.stop()
        elapsed = time.perf_counter() - started
        phases.finish(task)
        engine.dispose()
        out[name] = {"writes": n, "seconds": round(elapsed, 2), "writes_per_second": round(n / elapsed, 1)}
    return out


# -- 5. tender end to end ----------------------------------------------------------------------


def tender_phase(run: NodeRun, phases: Phases, api: ServiceProcess, sizes: Sizes) -> dict:
    config, deployment, client = run.config, run.deployment, run.client
    ledger = deployment.address("TenderLedger")
    n = sizes.bids
    task = phases.start(f"tender of {n} bids e2e (uploads, wait for the deadline, opening to result)", 3 * n + 3)
    with httpx.Client(base_url=api.url, timeout=300, limits=httpx.Limits(max_connections=sizes.bid_clients * 2)) as http:
        agency = sign_in(http, dev_party(config, "procurement"))
        registry = GovRegistryClient(client, deployment.address("GovRegistry"), deployment.contracts["GovRegistry"]["abi"])
        firms = [Account.create() for _ in range(n)]
        for i, firm in enumerate(firms):  # only registered bidder firms (BIDDER) may bid
            registry.register_member(dev_party(config, "governor"), firm.address, MemberInfo(f"测试投标人{i:03d}"), [Role.BIDDER])
        with ThreadPoolExecutor(sizes.bid_clients) as pool:
            bidders = list(pool.map(lambda i: BidderClient(http, firms[i], f"测试投标人{i:03d}", deployment.chain_id, ledger), range(n)))
        phases.advance(task, n)
        bidding = 12 + n * 0.2  # seconds: enough for the uploads here, with room to spare
        deadline = max(int(time.time()), client.w3.eth.get_block("latest")["timestamp"]) + int(bidding)
        body = {"reference": f"BENCH-{n}-{secrets.token_hex(3)}", "title": "bench", "document_hash": "0x" + "11" * 32, "bid_deadline": deadline,
                "decryption_minutes": 60, "objection_seconds": 1, "method": "lowest_price", "experts": [Account.create().address], "min_bidders": 3}  # fmt: skip
        created = http.post("/v1/tenders", json=body, headers=agency)
        created.raise_for_status()
        tid = created.json()["tender_id"]
        phases_s = {}
        started = time.perf_counter()

        def upload(bidder):
            bidder.bid(tid, 100_000_00 + secrets.randbelow(10_000_00)).raise_for_status()
            phases.advance(task)

        with ThreadPoolExecutor(sizes.bid_clients) as pool:
            list(pool.map(upload, bidders))
        phases_s["upload and commit the bids"] = time.perf_counter() - started
        while time.time() <= deadline:
            time.sleep(0.1)
        profile = profiled(run, "tender", api.process.pid)
        opening = time.perf_counter()
        started = time.perf_counter()
        opened = http.post(f"/v1/tenders/{tid}/open", headers=agency)
        opened.raise_for_status()
        phases_s["open"] = time.perf_counter() - started
        phases.advance(task)
        started = time.perf_counter()

        def reveal(bidder):
            bidder.refresh()
            bidder.sign_in_to_opening(tid).raise_for_status()
            released = bidder.release_key(tid)
            released.raise_for_status()
            assert released.json()["decrypted"]
            phases.advance(task)

        with ThreadPoolExecutor(sizes.bid_clients) as pool:
            list(pool.map(reveal, bidders))
        phases_s["sign-ins and key releases (each checked off chain)"] = time.perf_counter() - started
        started = time.perf_counter()
        agency = sign_in(http, dev_party(config, "procurement"))
        http.post(f"/v1/tenders/{tid}/reading", headers=agency).raise_for_status()
        phases_s["decryption outcomes recorded and the reading"] = time.perf_counter() - started
        phases.advance(task)
        wait_for_objection_period(http, tid)  # its one second: no result before it
        started = time.perf_counter()
        http.post(f"/v1/tenders/{tid}/result", json={}, headers=agency).raise_for_status()
        phases_s["result"] = time.perf_counter() - started
        total = time.perf_counter() - opening
        profile.stop()
        phases.finish(task)
    return {"bids": n, "clients": sizes.bid_clients, "bidding_window_seconds": int(bidding), "phases_seconds": {k: round(v, 2) for k, v in phases_s.items()},
            "opening_to_result_seconds": round(total, 2), "profile": summarize(profile.stages(STAGES["tender"])), "profile_error": profile.error}  # fmt: skip


# -- one node ----------------------------------------------------------------------------------


PHASES = ("certificates", "verification", "pulls", "writer", "tender", "gas")


def run_node(kind: str, progress: Progress, build, wrapped: dict, slots_from: dict, sizes: Sizes, logs: Path, only: tuple[str, ...] = PHASES) -> dict:
    phases = Phases(progress, kind)
    config = load_node_config().with_(kind=kind, port=0, state_dir=None, log_file=None)
    state = Path(tempfile.mkdtemp(prefix=f"bench-{kind}-"))
    task = phases.start("start the node and deploy", 1)
    with LocalNode(config) as node:
        client = ChainClient.from_url(node.url)
        deployment = deploy(client, dev_party(config, "governor"), build, state, governor_info=governor_info(config),
                            members=dev_member_specs(config), issuers=dev_issuers(config))  # fmt: skip
        phases.finish(task)
        run = NodeRun(kind, node, client, deployment, build, config, state)
        run.results["client_version"] = client.w3.client_version
        port = free_port()
        env = api_env(run, port, sizes.issue_batch)
        settings = Settings(state_dir=state, rpc_url=node.url, public_domain=f"127.0.0.1:{port}", public_url=f"http://127.0.0.1:{port}")
        with ServiceProcess("platform API", "api.cli", env, args=("serve",), health_path="/v1/health", port=port, log_file=logs / f"api-{kind}.log",
                            start_timeout=180) as api:  # fmt: skip
            platform = Platform.build(settings)
            try:
                for name, phase in (("certificates", lambda: certificates_phase(run, phases, api, platform, sizes)),
                                    ("verification", lambda: verification_phase(run, phases, api, platform, sizes)),
                                    ("pulls", lambda: pulls_phase(run, phases, sizes)), ("writer", lambda: writer_phase(run, phases, sizes)),
                                    ("tender", lambda: tender_phase(run, phases, api, sizes))):  # fmt: skip
                    if name not in only:
                        continue
                    try:
                        run.results[name] = phase()
                    except Exception as exc:  # one failed phase is reported; the others still run
                        console.print(f"[red]{kind}: {name} failed: {type(exc).__name__}: {exc}")
                        run.results[name] = {"error": f"{type(exc).__name__}: {exc}"}
                # gas last: its tender moves the chain's clock an hour ahead (evm_increaseTime); a fresh
                # client, since the API sent from the same keys meanwhile (nonces)
                run.client = ChainClient.from_url(node.url)
                if "gas" not in only:
                    return run.results
                gas_rows, stores = gas_phase(run, phases, wrapped, slots_from)
                run.results["gas"] = [r.as_json() for r in gas_rows]
                run.results["documentstore"] = [{"batch": size, "ours_gas": mine.gas, "ours_per_certificate": round(mine.gas / size, 1),
                                                 "openattestation_gas": oas.gas, "openattestation_per_certificate": round(oas.gas / size, 1)}
                                                for size, mine, oas in stores]  # fmt: skip
            finally:
                run.results["memory_mb"] = {"api": peak_rss_mb(api.process.pid), "gateway": max([r for r in run.pids.get("gateway_rss", []) if r] or [0]) or None,
                                            "node": peak_rss_mb(node.process.pid), "bench (this process)": peak_rss_mb(os.getpid())}  # fmt: skip
                platform.engine.dispose()
    return run.results


# -- report ------------------------------------------------------------------------------------


def versions(build) -> dict:
    def npm(name):
        try:
            return json.loads((NODE_MODULES / name / "package.json").read_text())["version"]
        except OSError:
            return None

    packages = {p: _dist(p) for p in ("web3", "fastapi", "uvicorn", "sqlalchemy", "cryptography", "eth-account", "coincurve", "httpx", "rich", "py-spy")}
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")), pyplatform.processor())
    memory = next((int(line.split()[1]) // 1024 for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")), None)
    return {
        "machine": {"platform": pyplatform.platform(), "cpu": cpu, "cpu_count": os.cpu_count(), "memory_mb": memory},
        "python": pyplatform.python_version(), "node": node, "solc": npm("solc"), "ganache": npm("ganache"), "anvil": npm("@foundry-rs/anvil"),
        "openzeppelin": npm("@openzeppelin/contracts"), "oa-verify": npm("@govtechsg/oa-verify"), "document-store": npm("@govtechsg/document-store"),
        "python_packages": packages,
    }  # fmt: skip


def _dist(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def tables(results: dict, nodes: list[str]) -> list[Table]:
    out = []
    gas = Table("Gas per operation against its floor", ["operation", *[f"{n} gas" for n in nodes], "floor", "gas / floor", "per item", "slots new/updated"],
                note="floor = 21,000 + calldata (16/4 per byte) + 20,000 per new slot + 2,900 per updated slot + logs (375 + 375/topic + 8/byte); "
                     "slots traced on anvil (prestateTracer diff). 'per item': gas / certificates or pulls in the transaction.")  # fmt: skip
    by_node = {n: {r["operation"]: r for r in results[n].get("gas", [])} for n in nodes}
    for operation, first in by_node[nodes[0]].items():
        floor = first["floor"]
        slots = f"{first['new_slots']}/{first['updated_slots']}" if first["new_slots"] is not None else None
        gas.add(operation, *[by_node[n].get(operation, {}).get("gas") for n in nodes], floor,
                round(first["gas"] / floor, 2) if floor else None, first["per_item"] if first["items"] > 1 else None, slots)  # fmt: skip
    if gas.rows:
        out.append(gas)
    store = Table("DocumentStore: ours against OpenAttestation's own, same node, same run",
                  ["node", "batch", "ours issue(root)", "ours / certificate", "OA issue(root)", "OA / certificate", "ours <= OA"])  # fmt: skip
    for n in nodes:
        for r in results[n].get("documentstore", []):
            store.add(n, r["batch"], r["ours_gas"], r["ours_per_certificate"], r["openattestation_gas"], r["openattestation_per_certificate"], r["ours_gas"] <= r["openattestation_gas"])
    if store.rows:
        out.append(store)
    e2e = Table("End to end through the real services", ["path", *nodes])

    def cell(n, *keys, fmt="{}"):
        value = results[n]
        for key in keys:
            if not isinstance(value, dict) or key not in value:
                return None
            value = value[key]
        return fmt.format(value)

    certs = results[nodes[0]].get("certificates", {})
    for mode in certs:
        e2e.add(f"certificates/s, {mode} (N={certs[mode]['certificates']})", *[cell(n, "certificates", mode, "certificates_per_second") for n in nodes])
        e2e.add(f"  approvals/s, {mode}", *[cell(n, "certificates", mode, "approvals_per_second") for n in nodes])
    for mode in results[nodes[0]].get("pulls", {}):
        e2e.add(f"pulls/s, {mode}", *[cell(n, "pulls", mode, "pulls_per_second") for n in nodes])
        e2e.add(f"  p50 / p99 ms, {mode}", *[f"{cell(n, 'pulls', mode, 'p50_ms')} / {cell(n, 'pulls', mode, 'p99_ms')}" for n in nodes])
    for mode in results[nodes[0]].get("writer", {}):
        e2e.add(f"chain writes/s, {mode}", *[cell(n, "writer", mode, "writes_per_second") for n in nodes])
    tender = results[nodes[0]].get("tender", {})
    e2e.add(f"tender of {tender.get('bids')} bids: uploads and commitments, s", *[cell(n, "tender", "phases_seconds", "upload and commit the bids") for n in nodes])
    for step in tender.get("phases_seconds", {}):
        if step != "upload and commit the bids":
            e2e.add(f"  {step}, s", *[cell(n, "tender", "phases_seconds", step) for n in nodes])
    e2e.add("  opening to result, s", *[cell(n, "tender", "opening_to_result_seconds") for n in nodes])
    out.append(e2e)
    verify = Table("Verification of the same documents", ["who", *[f"{n} docs/s" for n in nodes], *[f"{n} p50 / p99 ms" for n in nodes]])
    whos = dict.fromkeys(k for n in nodes for k, v in results[n].get("verification", {}).items()
                         if isinstance(v, dict) and ("documents_per_second" in v or "verifications_per_second" in v))  # fmt: skip
    for n in nodes:
        if "error" in results[n].get("verification", {}):
            verify.note = (verify.note + "; " if verify.note else "") + f"{n}: {results[n]['verification']['error']}"
    for who in whos:
        rates = [cell(n, "verification", who, "documents_per_second") or cell(n, "verification", who, "verifications_per_second") for n in nodes]
        lat = [f"{cell(n, 'verification', who, 'p50_ms')} / {cell(n, 'verification', who, 'p99_ms')}" if cell(n, "verification", who, "p50_ms") else None for n in nodes]
        verify.add(who, *rates, *lat)
    out.append(verify)
    shares = Table("Verification through the API: CPU used, in cores (of 2), while the clients ran", ["run", "node", "api", "chain node", "clients (bench)"])
    for n in nodes:
        for who, v in results[n].get("verification", {}).items():
            if isinstance(v, dict) and v.get("cpu_share"):
                shares.add(who, n, v["cpu_share"].get("api"), v["cpu_share"].get("node"), v["cpu_share"].get("clients"))
    if shares.rows:
        out.append(shares)
    memory = Table("Peak memory (VmHWM), MB", ["process", *nodes])
    for proc in results[nodes[0]].get("memory_mb", {}):
        memory.add(proc, *[results[n].get("memory_mb", {}).get(proc) for n in nodes])
    out.append(memory)
    profiles = Table("Slowest stage of each end-to-end path (py-spy, share of busy thread samples)", ["path", "node", "slowest stage", "share %", "next"])
    for n in nodes:
        r = results[n]
        paths = [(f"certificates, {m}", r.get("certificates", {}).get(m, {})) for m in r.get("certificates", {})]
        paths += [(f"verification, API at 32 clients, status from the {source}", {"profile": r.get("verification", {}).get(f"profile, {source}"),
                   "profile_error": r.get("verification", {}).get(f"profile_error, {source}")}) for source in ("index", "chain")]  # fmt: skip
        paths += [(f"pulls, {m}", r.get("pulls", {}).get(m, {})) for m in r.get("pulls", {})]
        paths += [("tender, opening to result", r.get("tender", {}))]
        for name, data in paths:
            prof = data.get("profile") or {}
            stages = list((prof.get("stages") or {}).items())
            if not stages:
                profiles.add(name, n, data.get("profile_error") or "no samples", None, None)
                continue
            nxt = ", ".join(f"{k} {v}%" for k, v in stages[1:3])
            profiles.add(name, n, stages[0][0], stages[0][1], nxt)
    out.append(profiles)
    out.append(targets_table(results, nodes))
    return out


def targets_table(results: dict, nodes: list[str]) -> Table:
    table = Table("Targets (issue 7): where each stands", ["target", *nodes, "met"])

    def get(n, *keys):
        value = results[n]
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        return value

    def gas_of(n, operation):
        return next((r for r in results[n]["gas"] if r["operation"] == operation), {})

    def add(name, values, ok):
        table.add(name, *values, ok)

    if all(results[n].get("gas") for n in nodes):  # the gas targets, when the gas phase ran
        vals = [(gas_of(n, "issue(root), batch of 1")["gas"], gas_of(n, "OpenAttestation issue(root), batch of 1")["gas"]) for n in nodes]
        add("issue(root) gas <= OpenAttestation's (same run)", [f"{a:,} vs {b:,}" for a, b in vals], all(a <= b for a, b in vals))
        vals = [gas_of(n, "issue(root), batch of 1024")["per_item"] for n in nodes]
        add("< 50 gas per certificate at batch 1024", vals, all(v < 50 for v in vals))
        vals = [gas_of(n, "consent grant (relayer, EIP-712 signature)") for n in nodes]
        ratios = [round(v["gas"] / v["floor"], 2) if v.get("floor") else None for v in vals]
        add("consent grant within 1.3x its floor", [f"{r}x" if r else None for r in ratios], all(r and r <= 1.3 for r in ratios))
        vals = [gas_of(n, "recordPulls, batch of 32")["per_item"] for n in nodes]
        add("a pull in a batch of 32, signature checked, at most 12,000 gas", vals, all(v <= 12_000 for v in vals))
        vals = [gas_of(n, "a new agency's DocumentStore (createDocumentStore)").get("gas") for n in nodes]
        add("a new agency's store under 100,000 gas (issue 19: EIP-1167 clone)", vals, all(v and v < 100_000 for v in vals))
    ratios = []
    for n in nodes:
        ours = get(n, "verification", "Verifier, one JSON-RPC batch per document (after)", "documents_per_second")
        api = get(n, "verification", api_label("index", 8), "verifications_per_second")
        theirs = get(n, "verification", "oa-verify 9.4.0 (8 concurrent)", "documents_per_second")
        ratios.append((round(ours / theirs, 1) if ours and theirs else None, round(api / theirs, 1) if api and theirs else None))
    add(">= 10x oa-verify's documents/s (Verifier; API at 8 clients)", [f"{a}x; {b}x" for a, b in ratios], all(a and b and a >= 10 and b >= 10 for a, b in ratios))
    vals = [get(n, "verification", api_label("index", 32), "p99_ms") for n in nodes]
    add("verification p99 < 25 ms at 32 clients", [f"{v} ms" if v is not None else None for v in vals], all(v is not None and v < 25 for v in vals))
    bulk = "bulk approvals (POST /v1/agency/decisions)"
    vals = {n: get(n, "certificates", bulk, "certificates_per_second") for n in nodes}
    add(">= 2,000 certificates/s end to end on anvil (bulk approvals)", [vals[n] for n in nodes], bool(vals.get("anvil")) and vals["anvil"] >= 2000)
    vals = [get(n, "pulls", "group commit, up to 32 per transaction", "pulls_per_second") for n in nodes]
    add(">= 150 pulls/s end to end (group commit)", vals, all(v and v >= 150 for v in vals))
    return table


def markdown(info: dict, results: dict, nodes: list[str], rendered: list[Table], started: datetime, seconds: float) -> str:
    machine = info["machine"]
    lines = [f"# govchain benchmark, {started:%Y-%m-%d %H:%M} UTC", "",
             f"- machine: {machine['platform']}; {machine['cpu']}; {machine['cpu_count']} CPUs; {machine['memory_mb']} MB",
             "- nodes: " + "; ".join(f"{n} ({results[n].get('client_version')})" for n in nodes),
             f"- versions: Python {info['python']}, Node {info['node']}, solc {info['solc']}, ganache {info['ganache']}, anvil {info['anvil']}, "
             f"OpenZeppelin {info['openzeppelin']}, oa-verify {info['oa-verify']}, document-store {info['document-store']}",
             "- Python packages: " + ", ".join(f"{k} {v}" for k, v in info["python_packages"].items() if v),
             f"- whole run: {seconds:.0f} s", ""]  # fmt: skip
    lines += [t.markdown() for t in rendered]
    lines += ["## Gas floor model", "", (Path(__file__).parent / "bench_lib.py").read_text().split('"""')[1].strip(), ""]
    return "\n".join(lines)


def pdf_phase(progress: Progress, count: int = 100) -> dict:
    """Printed certificates (api.certificates.pdf): render ``count`` A4 pages with their QR codes."""
    from datetime import date

    from api.certificates.pdf import CertificateView, render

    target = "0x" + "3c" * 16 + "a7" * 16
    task = progress.add_task(f"render {count} certificate PDFs", total=count)
    times, sizes = [], []
    for i in range(count):
        view = CertificateView(certificate_id=f"GC-2025-{i:06d}", title_zh="教师资格证书", title_en="Teacher Qualification Certificate",
                               holder_name="张三", id_number_masked="1101********1234", matter_zh="小学教师资格认定",
                               matter_en="Primary school teacher qualification", agency_name="北京市海淀区教育委员会", issued_on=date(2025, 3, 1),
                               document_store="0x5FbDB2315678afecb367f032d93F642f64180aa3", target_hash=target)  # fmt: skip
        started = time.perf_counter()
        sizes.append(len(render(view, "https://zwfw.example.gov.cn/verify", target)))
        times.append(time.perf_counter() - started)
        progress.advance(task)
    return {"count": count, "seconds": round(sum(times), 2), "ms_p50": round(statistics.median(times) * 1000, 1),
            "ms_max": round(max(times) * 1000, 1), "kib_each": round(sum(sizes) / len(sizes) / 1024, 1)}  # fmt: skip


def pdf_table(figures: dict) -> Table:
    table = Table("Certificate PDFs (one A4 page, text and QR code), in this process", ["certificates", "seconds", "ms p50", "ms max", "KiB each"])
    table.add(figures["count"], figures["seconds"], figures["ms_p50"], figures["ms_max"], figures["kib_each"])
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", default="anvil,ganache", help="comma-separated, run in this order (anvil first: it traces the slots for the floors)")
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    parser.add_argument("--phases", default=",".join(PHASES), help=f"comma-separated subset of {','.join(PHASES)} (verification needs certificates); the report covers what ran")
    args = parser.parse_args()
    only = tuple(p.strip() for p in args.phases.split(",") if p.strip())
    if unknown := set(only) - set(PHASES):
        parser.error(f"unknown phases {', '.join(sorted(unknown))}; choose from {', '.join(PHASES)}")
    if "verification" in only and "certificates" not in only:
        parser.error("verification verifies the certificates the certificates phase issues: add certificates")
    sizes = Sizes.quick() if args.quick else Sizes()
    nodes = [n.strip() for n in args.nodes.split(",") if n.strip()]
    started_at, started = datetime.now(UTC), time.perf_counter()
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = started_at.strftime("%Y%m%dT%H%M%SZ")
    logs = out_dir / f"{stamp}-logs"
    logs.mkdir(exist_ok=True)
    build = compile_contracts()
    for artifact in build.artifacts.values():
        reverts.register_abi(artifact.abi)
    info = versions(build)
    results: dict = {}
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("wrap certificate batches (identity.oa) of " + "/".join(map(str, ISSUE_BATCHES)), total=len(ISSUE_BATCHES))
        wrapped = {}
        for size in ISSUE_BATCHES:
            wrapped[size] = oa.wrap([sample_certificate(i, "0x" + "00" * 20) for i in range(size)])
            progress.advance(task)
        pdfs = pdf_phase(progress, 20 if args.quick else 100)
        slots_from: dict = {}
        for kind in nodes:
            results[kind] = run_node(kind, progress, build, wrapped, slots_from, sizes, logs, only)
            for row in results[kind].get("gas", []):
                if row["new_slots"] is not None:
                    slots_from.setdefault(row["operation"], (row["new_slots"], row["updated_slots"]))
        if "gas" in only:  # where the gas goes: its own anvil, started with --steps-tracing
            task = progress.add_task("gas breakdowns (anvil opcode traces)", total=1)
            results["breakdown"] = breakdowns(build, grant)
            progress.advance(task)
    seconds = time.perf_counter() - started
    rendered = [*tables(results, nodes), pdf_table(pdfs)]
    if "gas" in only:
        rendered[-1:-1] = breakdown_tables(results["breakdown"])
        capacity = capacity_table(results[nodes[0]].get("gas", []))
        if capacity is not None:
            rendered.insert(len(rendered) - 1, capacity)
    results["pdf"] = pdfs
    for table in rendered:
        console.print(table.rich())
    report = {"started": started_at.isoformat(), "seconds": round(seconds, 1), "nodes": nodes, "sizes": sizes.__dict__, "versions": info,
              "results": results, "tables": [t.as_json() for t in rendered]}  # fmt: skip
    json_path, md_path = out_dir / f"{stamp}.json", out_dir / f"{stamp}.md"
    json_path.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str))
    md_path.write_text(markdown(info, results, nodes, rendered, started_at, seconds))
    console.print(f"whole run {seconds:.0f} s; report: {md_path}  figures: {json_path}")


if __name__ == "__main__":
    main()
