"""Time to run a tender of N bids end to end, over HTTP, on a freshly started local node.

Bidders seal and upload N bids through the platform (each a relayed commitment on chain),
then, once bidding closes: the opening, N sign-ins and key releases (each decrypted and
recorded), the reading of all N bids and the result. Prints the time of each phase.

    .venv/bin/python scripts/bench_tender.py [--node ganache|anvil] [--bids 100] [--clients 8]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import uvicorn
from eth_account import Account

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.app import create_app  # noqa: E402
from api.settings import Settings  # noqa: E402
from api.tenders.client import BidderClient, sign_in  # noqa: E402
from chain import reverts  # noqa: E402
from chain.compile import compile_contracts  # noqa: E402
from chain.config import load_node_config  # noqa: E402
from chain.deploy import deploy  # noqa: E402
from chain.node import LocalNode, free_port  # noqa: E402
from chain.tx import ChainClient  # noqa: E402
from identity.keys import dev_party  # noqa: E402
from identity.parties import dev_issuers, dev_member_specs, governor_info  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--node", default=os.environ.get("GOVCHAIN_NODE", "ganache"), choices=["ganache", "anvil"])
    parser.add_argument("--bids", type=int, default=100)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    config = load_node_config().with_(kind=args.node, port=0, state_dir=None, log_file=None)
    build = compile_contracts()
    for artifact in build.artifacts.values():
        reverts.register_abi(artifact.abi)
    state = Path(tempfile.mkdtemp(prefix="bench-tender-"))
    with LocalNode(config) as node:
        client = ChainClient.from_url(node.url)
        deployment = deploy(client, dev_party(config, "governor"), build, state, governor_info=governor_info(config), members=dev_member_specs(config), issuers=dev_issuers(config))
        port = free_port()
        settings = Settings(state_dir=state, rpc_url=node.url, public_domain=f"127.0.0.1:{port}", public_url=f"http://127.0.0.1:{port}")
        server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.05)
        ledger = deployment.address("TenderLedger")
        with httpx.Client(base_url=settings.public_url, timeout=300) as http:
            agency = sign_in(http, dev_party(config, "procurement"))
            bidders = [BidderClient(http, Account.create(), f"测试投标人{i:03d}", deployment.chain_id, ledger) for i in range(args.bids)]
            bidding = 20 + args.bids // 2  # seconds: enough for the uploads on this machine
            deadline = max(int(time.time()), client.w3.eth.get_block("latest")["timestamp"]) + bidding
            body = {"reference": f"BENCH-{args.bids}", "title": "bench", "document_hash": "0x" + "11" * 32, "bid_deadline": deadline,
                    "decryption_minutes": 60, "method": "lowest_price", "experts": [Account.create().address], "min_bidders": 3}  # fmt: skip
            tid = http.post("/v1/tenders", json=body, headers=agency).json()["tender_id"]
            phases = {}
            started = time.perf_counter()
            with ThreadPoolExecutor(args.clients) as pool:
                list(pool.map(lambda b: b.bid(tid, 100_000_00 + hash(b.name) % 10_000_00).raise_for_status(), bidders))
            phases["upload and commit N bids"] = time.perf_counter() - started
            while time.time() <= deadline:
                time.sleep(0.2)
            started = time.perf_counter()
            assert http.post(f"/v1/tenders/{tid}/open", headers=agency).json()["state"] == "opened"
            phases["open"] = time.perf_counter() - started
            started = time.perf_counter()

            def reveal(bidder):
                bidder.refresh()
                bidder.sign_in_to_opening(tid).raise_for_status()
                assert bidder.release_key(tid).json()["decrypted"]

            with ThreadPoolExecutor(args.clients) as pool:
                list(pool.map(reveal, bidders))
            phases["N sign-ins, key releases, decryptions"] = time.perf_counter() - started
            started = time.perf_counter()
            agency = sign_in(http, dev_party(config, "procurement"))
            reading = http.post(f"/v1/tenders/{tid}/reading", headers=agency)
            reading.raise_for_status()
            phases["reading of N bids"] = time.perf_counter() - started
            started = time.perf_counter()
            http.post(f"/v1/tenders/{tid}/result", json={}, headers=agency).raise_for_status()
            phases["result"] = time.perf_counter() - started
        server.should_exit = True
    opening_total = sum(v for k, v in phases.items() if k != "upload and commit N bids")
    print(f"tender of {args.bids} bids on {args.node}, {args.clients} concurrent clients, {os.cpu_count()} cores")
    for name, seconds in phases.items():
        print(f"  {name.replace('N', str(args.bids)):45} {seconds:8.2f} s")
    print(f"  {'opening to result (after the deadline)':45} {opening_total:8.2f} s")
    print(json.dumps({"node": args.node, "bids": args.bids, "phases": {k: round(v, 2) for k, v in phases.items()}, "opening_to_result": round(opening_total, 2)}))


if __name__ == "__main__":
    main()
