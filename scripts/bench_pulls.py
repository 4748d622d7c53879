"""Pulls per second end to end through a data-holder gateway, side by side in one run.

For each configuration the script starts a fresh gateway process against one freshly
started local node, then C concurrent agency clients send N signed pull requests over
HTTP. Each pull is checked against the consent on chain, sealed with HPKE, logged on chain
(group commit: up to ``max_batch`` pulls per ``recordPulls`` transaction) and answered.

    .venv/bin/python scripts/bench_pulls.py [--node ganache|anvil] [--pulls 128] [--clients 16]

Prints a table and the same figures as JSON. Figures, not assertions: the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.gateway.dataset import demo_citizen  # noqa: E402
from api.pulls.service import pull_body  # noqa: E402
from api.services import ServiceProcess  # noqa: E402
from chain import reverts  # noqa: E402
from chain.compile import compile_contracts  # noqa: E402
from chain.config import load_node_config  # noqa: E402
from chain.consents import ConsentRegistryClient  # noqa: E402
from chain.deploy import deploy  # noqa: E402
from chain.node import LocalNode  # noqa: E402
from chain.tx import ChainClient  # noqa: E402
from identity import binding, eip712  # noqa: E402
from identity.keys import dev_account, dev_party, hpke_key_for, x25519_public_bytes  # noqa: E402
from identity.parties import dev_issuers, dev_member_specs, governor_info  # noqa: E402

SCOPE = {"id_card": ["id_number", "name"]}


def grant(client, consents, config, applicant_index: int) -> tuple[str, dict]:
    applicant = dev_account(config, applicant_index)
    person, salt = demo_citizen(applicant_index), os.urandom(32)
    now = client.w3.eth.get_block("latest")["timestamp"]
    terms = eip712.ConsentTerms(
        applicant.address, dev_party(config, "agency").address, 0b001, eip712.scope_hash(SCOPE),
        eip712.purpose_hash("bench", "bench", salt), binding.face_check_ref("req_bench", person["id_number"], salt),
        now, now + 86_400, 60_000, secrets.randbits(64), now + 900,
    )  # fmt: skip
    consent_id, _ = consents.grant(applicant, terms, eip712.sign_consent(terms, eip712.Domain.of(consents.domain()), applicant.key))
    return "0x" + consent_id.hex(), {"id_number": person["id_number"], "vendor_request_id": "req_bench", "salt": salt.hex()}


def run(config_name: str, max_batch: int, url_env: dict, consent_id: str, subject: dict, deployment, config, pulls: int, clients: int) -> dict:
    env = {**os.environ, **url_env, "GOVCHAIN_GATEWAY_MAX_BATCH": str(max_batch)}
    agency, holder = dev_party(config, "agency"), dev_party(config, "holder_psb")
    holder_key = x25519_public_bytes(hpke_key_for(holder))
    with ServiceProcess(f"gateway ({config_name})", "api.gateway", env, health_path="/v1/health") as gateway, httpx.Client(timeout=120) as http:
        def one(_):
            body = pull_body(agency, holder.address, holder_key, "0x" + secrets.token_hex(32), consent_id, "id_card", SCOPE,
                             SCOPE["id_card"], subject, int(time.time()), deployment.chain_id, deployment.address("ConsentRegistry"))  # fmt: skip
            start = time.perf_counter()
            response = http.post(gateway.url + "/v1/pulls", json=body)
            if response.status_code != 200:
                raise RuntimeError(response.text)
            return time.perf_counter() - start

        one(0)  # warm-up
        started = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            latencies = sorted(pool.map(one, range(pulls)))
        elapsed = time.perf_counter() - started
        batches = http.get(gateway.url + "/v1/health").json()["batches_sent"] - 1
    return {
        "config": config_name, "max_batch": max_batch, "pulls": pulls, "clients": clients, "seconds": round(elapsed, 2),
        "pulls_per_second": round(pulls / elapsed, 1), "p50_ms": round(statistics.median(latencies) * 1000),
        "p95_ms": round(latencies[int(len(latencies) * 0.95) - 1] * 1000), "transactions": batches,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--node", default=os.environ.get("GOVCHAIN_NODE", "ganache"), choices=["ganache", "anvil"])
    parser.add_argument("--pulls", type=int, default=128)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    config = load_node_config().with_(kind=args.node, port=0, state_dir=None, log_file=None)
    build = compile_contracts()
    for artifact in build.artifacts.values():
        reverts.register_abi(artifact.abi)
    state = Path(tempfile.mkdtemp(prefix="bench-pulls-"))
    with LocalNode(config) as node:
        client = ChainClient.from_url(node.url)
        deployment = deploy(client, dev_party(config, "governor"), build, state, governor_info=governor_info(config), members=dev_member_specs(config), issuers=dev_issuers(config))
        entry = deployment.contracts["ConsentRegistry"]
        consents = ConsentRegistryClient(client, entry["address"], entry["abi"])
        rows = []
        for index, (name, batch) in enumerate([("one pull per transaction", 1), ("group commit, up to 32", 32)]):
            consent_id, subject = grant(client, consents, config, 12 + index)
            url_env = {"GOVCHAIN_GATEWAY_HOLDER_PARTY": "holder_psb", "GOVCHAIN_GATEWAY_RPC_URL": node.url,
                       "GOVCHAIN_GATEWAY_STATE_DIR": str(state), "GOVCHAIN_GATEWAY_DATABASE_URL": f"sqlite:///{state / f'gw{index}.db'}"}  # fmt: skip
            rows.append(run(name, batch, url_env, consent_id, subject, deployment, config, args.pulls, args.clients))
    print(f"pulls end to end (HTTP + signature + consent check + HPKE + on-chain log), {args.node}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}")  # fmt: skip
    print(f"{'configuration':28} {'pulls/s':>8} {'p50 ms':>7} {'p95 ms':>7} {'txs':>5}")
    for row in rows:
        print(f"{row['config']:28} {row['pulls_per_second']:>8} {row['p50_ms']:>7} {row['p95_ms']:>7} {row['transactions']:>5}")
    print(json.dumps({"node": args.node, "rows": rows}))


if __name__ == "__main__":
    main()
