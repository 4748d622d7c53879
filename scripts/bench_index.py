"""Audit index figures: catch-up speed (events/s) and ``GET /v1/records`` latency at 100,000 events.

    .venv/bin/python scripts/bench_index.py [--events 100000] [--per-tx 500] [--database-url URL]

A fresh anvil node, the contracts deployed with the dev parties, then ``--events`` real
``EvidenceAnchored`` events written with ``EvidenceLedger.anchorBatch`` (``--per-tx`` (1,000) records per
transaction; four evidence kinds, one reference per 10 records). The index catches up from
scratch (timed: events per second, pages of 2,000 blocks), then a real API (uvicorn, real
HTTP) answers typical record queries as the auditor; each is timed over ``--runs`` calls.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
import uvicorn  # noqa: E402
from eth_utils import keccak  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from api import db  # noqa: E402
from api.app import create_app  # noqa: E402
from api.audit.indexer import Indexer  # noqa: E402
from api.settings import IndexSettings, Settings  # noqa: E402
from chain import reverts  # noqa: E402
from chain.compile import compile_contracts  # noqa: E402
from chain.config import load_node_config  # noqa: E402
from chain.db import make_engine, session_factory  # noqa: E402
from chain.deploy import deploy, write_record  # noqa: E402
from chain.evidence import KIND_NAMES, EvidenceLedgerClient  # noqa: E402
from chain.node import LocalNode, free_port  # noqa: E402
from chain.tx import ChainClient  # noqa: E402
from identity import siwe  # noqa: E402
from identity.keys import dev_party  # noqa: E402
from identity.parties import dev_issuers, dev_member_specs, governor_info  # noqa: E402

console = Console()


def write_events(client: ChainClient, ledger: EvidenceLedgerClient, sender, total: int, per_tx: int) -> tuple[float, int]:
    """Send every anchorBatch first, then await the receipts (anvil mines each at once)."""
    started = time.perf_counter()
    hashes, n = [], 0
    while n < total:
        size = min(per_tx, total - n)
        rows = [(keccak(text=KIND_NAMES[(n + i) % 4]), keccak(text=f"app_bench_{(n + i) // 10}"), os.urandom(32)) for i in range(size)]
        call = ledger.contract.functions.anchorBatch(rows)
        tx = client.build(sender, call, gas=min(29_000_000, 60_000 + size * 40_000))
        hashes.append(client.send(sender, tx))
        n += size
    gas = sum(client.wait(h, timeout=300).gas_used for h in hashes)
    return time.perf_counter() - started, gas


def timed(http: httpx.Client, headers: dict, params: dict, runs: int) -> tuple[float, float, int]:
    samples, count = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        response = http.get("/v1/records", params=params, headers=headers)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
        count = len(response.json()["records"]) if params.get("format") != "csv" else response.text.count("\n") - 1
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))], count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--per-tx", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--database-url", default="", help="default: a SQLite file in a temporary folder")
    args = parser.parse_args()

    config = load_node_config().with_(kind="anvil", port=0, state_dir=None)
    build = compile_contracts()
    for artifact in build.artifacts.values():
        reverts.register_abi(artifact.abi)
    with LocalNode(config.with_(log_file=Path(tempfile.mkdtemp()) / "anvil.log")) as node, tempfile.TemporaryDirectory() as folder:
        state = Path(folder)
        client = ChainClient.from_url(node.url, expected_chain_id=config.chain_id)
        governor = dev_party(config, "governor")
        deployment = deploy(client, governor, build, state, governor_info=governor_info(config),
                            members=dev_member_specs(config), issuers=dev_issuers(config))  # fmt: skip
        write_record(state, deployment)
        entry = deployment.contracts["EvidenceLedger"]
        ledger = EvidenceLedgerClient(client, entry["address"], entry["abi"])
        write_seconds, gas = write_events(client, ledger, dev_party(config, "relayer"), args.events, args.per_tx)
        blocks = client.block_number()

        url = args.database_url or f"sqlite:///{state / 'index.db'}"
        engine = make_engine(url)
        db.upgrade(engine)
        indexer = Indexer(lambda: client, lambda: deployment, session_factory(engine), IndexSettings())
        started = time.perf_counter()
        indexed = indexer.catch_up()
        index_seconds = time.perf_counter() - started
        engine.dispose()

        port = free_port()
        settings = Settings(state_dir=state, database_url=url, rpc_url=node.url, public_domain=f"127.0.0.1:{port}",
                            public_url=f"http://127.0.0.1:{port}", role_cache_seconds=30)  # fmt: skip
        server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        auditor = dev_party(config, "auditor")
        relayer = dev_party(config, "relayer")
        with httpx.Client(base_url=settings.public_url, timeout=120) as http:
            message = http.post("/v1/auth/challenge", json={"address": auditor.address}).json()["message"]
            token = http.post("/v1/auth/token", json={"message": message, "signature": siwe.sign(message, auditor.key)}).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            deep = http.get("/v1/records", params={"kind": "delivery", "limit": 1000}, headers=headers).json()
            for _ in range(9):
                deep = http.get("/v1/records", params={"kind": "delivery", "limit": 1000, "cursor": deep["next_cursor"]}, headers=headers).json()
            middle = indexer.watched().client.w3.eth.get_block(blocks // 2)["timestamp"]
            queries = [
                ("first page, no filter (100)", {}),
                ("kind=submission (100)", {"kind": "submission"}),
                ("kind=delivery, 10,000 rows deep (100)", {"kind": "delivery", "cursor": deep["next_cursor"]}),
                ("member=relayer, time range (100)", {"member": relayer.address, "since": middle, "until": middle + 3600}),
                ("case_ref=one application (10)", {"case_ref": "0x" + keccak(text="app_bench_4242").hex()}),
                ("limit=1000, contract=EvidenceLedger", {"contract": "EvidenceLedger", "limit": 1000}),
            ]
            results = [(name, *timed(http, headers, params, args.runs)) for name, params in queries]
            csv_started = time.perf_counter()
            exported = http.get("/v1/records", params={"format": "csv"}, headers=headers)
            csv_seconds = time.perf_counter() - csv_started
        server.should_exit = True
        thread.join(10)

    table = Table(title=f"audit index at {indexed:,} indexed events (anvil, {'PostgreSQL' if url.startswith('postgresql') else 'SQLite'})")
    for column in ("figure", "value"):
        table.add_column(column)
    table.add_row("events written", f"{args.events:,} in {args.events // args.per_tx} anchorBatch txs ({write_seconds:.1f} s, {gas / args.events:,.0f} gas/event)")
    table.add_row("chain height", f"{blocks:,} blocks")
    table.add_row("index catch-up", f"{indexed:,} events in {index_seconds:.1f} s = {indexed / index_seconds:,.0f} events/s")
    for name, p50, p99, count in results:
        table.add_row(f"GET /v1/records {name}", f"p50 {p50:.1f} ms, p99 {p99:.1f} ms ({count} rows, {args.runs} runs)")
    table.add_row("GET /v1/records?format=csv (all)", f"{exported.text.count(chr(10)) - 1:,} rows, {len(exported.content) / 1e6:.1f} MB in {csv_seconds:.1f} s")
    console.print(table)


if __name__ == "__main__":
    main()
