"""Certificate issuance on a freshly started local node: gas per batch and per certificate,
side by side with OpenAttestation's own DocumentStore, and certificates issued per second
end to end through the platform API.

1. Gas: wrap batches of 1, 64 and 1,024 certificates (identity.oa), issue each root on our
   DocumentStore and on OpenAttestation's (the npm @govtechsg/document-store artifact,
   deployed on the same node in the same run); print gas per issue and per certificate.
2. End to end: seed N submitted applications, approve each over HTTP (C concurrent agency
   clients), and time until every certificate is wrapped, batched, anchored and its proof
   stored. The PDF is rendered on request, not here.

    .venv/bin/python scripts/bench_certificates.py [--node ganache|anvil] [--count 2000] [--clients 16] [--batch 512]
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
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.app import create_app  # noqa: E402
from api.devdata import seed_submitted  # noqa: E402
from api.models import Certificate  # noqa: E402
from api.settings import Settings  # noqa: E402
from api.tenders.client import sign_in  # noqa: E402
from chain import reverts  # noqa: E402
from chain.compile import compile_contracts  # noqa: E402
from chain.config import load_node_config  # noqa: E402
from chain.deploy import deploy  # noqa: E402
from chain.documents import DocumentStoreClient, deploy_openattestation_store  # noqa: E402
from chain.node import LocalNode, free_port  # noqa: E402
from chain.tx import ChainClient  # noqa: E402
from identity import oa  # noqa: E402
from identity.keys import dev_party  # noqa: E402
from identity.parties import dev_member_specs, dev_issuers, governor_info  # noqa: E402

BATCHES = (1, 64, 1024)


def sample(index: int, store: str) -> dict:
    return {
        "id": f"cert_bench_{index:06d}", "name": "教师资格证书 Teacher Qualification Certificate",
        "recipient": {"name": f"测试{index:05d}", "idNumberMasked": "9901**********0000"}, "issuedOn": "2026-11-27",
        "issuers": [{"name": "区教育局", "documentStore": store, "identityProof": {"type": "DNS-TXT", "location": "edu.gov.example"}}],
    }  # fmt: skip


def gas_table(client: ChainClient, ours: DocumentStoreClient, theirs: DocumentStoreClient, issuer) -> list[dict]:
    rows = []
    for size in BATCHES:
        started = time.perf_counter()
        wrapped = oa.wrap([sample(i, ours.address) for i in range(size)])
        wrap_seconds = time.perf_counter() - started
        root = bytes.fromhex(wrapped[0]["signature"]["merkleRoot"].removeprefix("0x"))
        gas_ours = ours.issue(issuer, root).gas_used
        gas_theirs = theirs.issue(issuer, root).gas_used
        rows.append({"batch": size, "wrap_ms": round(wrap_seconds * 1000, 1), "issue_gas": gas_ours, "per_certificate": round(gas_ours / size, 1),
                     "openattestation_issue_gas": gas_theirs, "openattestation_per_certificate": round(gas_theirs / size, 1)})  # fmt: skip
    return rows


def end_to_end(settings: Settings, node_config, count: int, clients: int) -> dict:
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=int(settings.public_domain.split(":")[1]), log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    platform = app.state.platform
    ids = seed_submitted(platform, count)
    agency_key = dev_party(node_config, "agency")
    with httpx.Client(base_url=settings.public_url, timeout=300, limits=httpx.Limits(max_connections=clients)) as http:
        headers = sign_in(http, agency_key)

        def approve(application_id: str) -> None:
            http.post(f"/v1/applications/{application_id}/decision", json={"decision": "approve", "reason": "bench"}, headers=headers).raise_for_status()

        started = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(approve, ids))
        approved = time.perf_counter() - started
        while True:
            with platform.sessions() as session:
                issued = session.scalar(select(func.count()).where(Certificate.state == "issued"))
            if issued >= count:
                break
            time.sleep(0.02)
        elapsed = time.perf_counter() - started
    server.should_exit = True
    return {"certificates": count, "clients": clients, "approvals_seconds": round(approved, 2), "all_issued_seconds": round(elapsed, 2),
            "certificates_per_second": round(count / elapsed, 1)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--node", default=os.environ.get("GOVCHAIN_NODE", "ganache"), choices=["ganache", "anvil"])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--database-url", default="", help="default: SQLite in a temporary folder (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/bench)")
    args = parser.parse_args()
    config = load_node_config().with_(kind=args.node, port=0, state_dir=None, log_file=None)
    build = compile_contracts()
    for artifact in build.artifacts.values():
        reverts.register_abi(artifact.abi)
    state = Path(tempfile.mkdtemp(prefix="bench-certificates-"))
    with LocalNode(config) as node:
        client = ChainClient.from_url(node.url)
        deployment = deploy(client, dev_party(config, "governor"), build, state, governor_info=governor_info(config),
                            members=dev_member_specs(config), issuers=dev_issuers(config))  # fmt: skip
        issuer = dev_party(config, "agency")
        ours = DocumentStoreClient(client, deployment.document_store(issuer.address), build["DocumentStore"].abi)
        theirs = deploy_openattestation_store(client, issuer, "OpenAttestation reference store")
        gas = gas_table(client, ours, theirs, issuer)
        port = free_port()
        settings = Settings(state_dir=state, rpc_url=node.url, public_domain=f"127.0.0.1:{port}", public_url=f"http://127.0.0.1:{port}",
                            database_url=args.database_url, issue_batch_size=args.batch, issue_batch_seconds=0.2)  # fmt: skip
        e2e = end_to_end(settings, config, args.count, args.clients)
    database = args.database_url.split("@")[-1] if args.database_url else "SQLite"
    print(f"certificate issuance on {args.node}, {os.cpu_count()} cores, database {database}")
    print(f"  {'batch':>6} {'wrap ms':>9} {'issue gas':>10} {'gas/cert':>9} {'OA issue gas':>13} {'OA gas/cert':>12}")
    for row in gas:
        print(f"  {row['batch']:>6} {row['wrap_ms']:>9} {row['issue_gas']:>10} {row['per_certificate']:>9} "
              f"{row['openattestation_issue_gas']:>13} {row['openattestation_per_certificate']:>12}")  # fmt: skip
    print(f"  end to end: {e2e['certificates']} approvals over HTTP ({e2e['clients']} clients, batches of {args.batch}): "
          f"all issued in {e2e['all_issued_seconds']} s = {e2e['certificates_per_second']} certificates/s")  # fmt: skip
    print(json.dumps({"node": args.node, "database": database, "gas": gas, "end_to_end": e2e}))


if __name__ == "__main__":
    main()
