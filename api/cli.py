"""``govchain``: the command line of the platform (node, compile, deploy, serve, keys, up)."""

from __future__ import annotations

import getpass
import json
import os
from enum import Enum
import socket
from pathlib import Path
from typing import Annotated, NoReturn, cast

import typer
from rich.console import Console
from rich.table import Table

from chain.config import load_node_config
from chain.errors import GovchainError
from chain.registry import Role

app = typer.Typer(help="govchain: permissioned-blockchain trust layer for online government services.", no_args_is_help=True)
keys_app = typer.Typer(help="Encrypted keystores for production keys.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema (Alembic).", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(db_app, name="db")
console = Console()

NodeKind = Annotated[str | None, typer.Option("--node", help="ganache or anvil (default: localnode.toml, or GOVCHAIN_NODE)")]


def _fail(exc: Exception) -> NoReturn:
    console.print(f"[bold red]error:[/] {exc}")
    raise typer.Exit(1)


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex((host, port)) != 0


@app.command("compile")
def compile_cmd():
    """Compile contracts/**/*.sol (cached per source hash in build/)."""
    from chain.compile import compile_contracts

    try:
        build = compile_contracts()
    except GovchainError as exc:
        _fail(exc)
    state = "cached" if build.cached else "compiled"
    console.print(f"{state} {len(build.artifacts)} contracts with solc {build.compiler} (source hash {build.source_hash[:12]})")


@app.command("node")
def node_cmd(node: NodeKind = None):
    """Run the local node from localnode.toml in the foreground (Ctrl-C stops it)."""
    from chain.node import LocalNode

    config = load_node_config()
    config = config.with_(kind=node or config.kind)
    try:
        with LocalNode(config) as running:
            console.print(f"{config.kind} at {running.url} (chain id {config.chain_id}); log: {config.log_file}")
            if running.process is not None:  # started: the context manager started it
                running.process.wait()
    except KeyboardInterrupt:
        pass
    except GovchainError as exc:
        _fail(exc)


def _deploy(rpc_url: str, state_dir: Path, fresh: bool):
    from chain import reverts
    from chain.compile import compile_contracts
    from chain.deploy import deploy
    from chain.tx import ChainClient
    from identity.keys import dev_party
    from identity.parties import dev_issuers, dev_member_specs, governor_info

    config = load_node_config()
    build = compile_contracts()
    for artifact in build.artifacts.values():
        reverts.register_abi(artifact.abi)
    client = ChainClient.from_url(rpc_url, expected_chain_id=config.chain_id)
    governor = _signer("governor")
    dev = governor.address == dev_party(config, "governor").address
    members, issuers = (dev_member_specs(config), dev_issuers(config)) if dev else ([], [])
    return deploy(client, governor, build, state_dir, governor_info=governor_info(config), members=members, issuers=issuers, fresh=fresh)


def _signer(party: str):
    from api.settings import Settings
    from api.keyring import Keyring

    settings = Settings()
    keystore = Keyring.keystore_of(settings, party)
    password = None
    if keystore and not settings.keystore_password.get_secret_value():
        password = getpass.getpass(f"password for {keystore}: ")
    return Keyring.load_signer(settings, party, password)


@app.command("deploy")
def deploy_cmd(
    rpc_url: Annotated[str | None, typer.Option(help="JSON-RPC URL (default GOVCHAIN_RPC_URL)")] = None,
    state_dir: Annotated[Path | None, typer.Option(help="where deployment.json is kept (default GOVCHAIN_STATE_DIR)")] = None,
    fresh: Annotated[bool, typer.Option("--fresh", help="deploy anew; the old record is kept aside")] = False,
):
    """Deploy every contract and register the members, or reuse a matching deployment."""
    from api.settings import Settings

    settings = Settings()
    try:
        deployment = _deploy(rpc_url or settings.rpc_url, state_dir or settings.state_dir, fresh)
    except GovchainError as exc:
        _fail(exc)
    _print_deployment(deployment)


def _print_deployment(deployment) -> None:
    table = Table(title=f"chain {deployment.chain_id} — {'reused' if deployment.reused else 'new'} deployment")
    for column in ("contract", "address", "block"):
        table.add_column(column)
    for name, entry in deployment.contracts.items():
        table.add_row(name, entry["address"], str(entry["block"]))
    console.print(table)


@app.command("serve")
def serve_cmd(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="API processes on the port (replicas; use PostgreSQL for more than one)")] = 1,
):
    """Serve the platform API with uvicorn (settings from GOVCHAIN_* variables).

    Each process runs the background workers too; the issuer and the indexer work in one of them
    at a time (a lease each in the database), the others stand by."""
    from api.settings import Settings

    _serve(Settings(), host, port, workers)


def _serve(settings, host: str, port: int, replicas: int) -> None:
    """uvicorn on ``host:port``: one process with the app built here from ``settings``, or
    ``replicas`` processes, each building it from the factory (so from GOVCHAIN_* variables)."""
    import uvicorn

    from api.app import create_app
    from api.settings import DEV_SECRETS
    from httpkit import KEEP_ALIVE_SECONDS

    if replicas == 1:
        uvicorn.run(create_app(settings), host=host, port=port, log_level="info", timeout_keep_alive=KEEP_ALIVE_SECONDS)
        return
    for name in DEV_SECRETS:  # dev secrets made once here: replicas making them at once could read a file not yet written
        settings.secret(name)
    # A replica's start (imports, the app, its workers) took 6-12 s on the loaded 2-core machine:
    # uvicorn's default 5 s health check killed and restarted every replica without end.
    uvicorn.run("api.app:create_app", factory=True, workers=replicas, host=host, port=port, log_level="info",
                timeout_keep_alive=KEEP_ALIVE_SECONDS, timeout_worker_healthcheck=60)  # fmt: skip


class WorkerName(str, Enum):
    outbox = "outbox"
    writer = "writer"
    issuer = "issuer"
    indexer = "indexer"
    all = "all"


@app.command("worker")
def worker_cmd(name: Annotated[WorkerName, typer.Argument(help="which background worker to run, or all of them")]):
    """Run background workers without serving HTTP, until interrupted (Ctrl-C or SIGTERM).

    The writer of each key, the issuer and the indexer work only while this process holds their
    lease (one process at a time among all that share GOVCHAIN_DATABASE_URL); otherwise they stand
    by and take over when the holder dies."""
    import signal
    import threading

    from api import db
    from api.app import WORKER_NAMES, add_workers
    from api.context import Platform
    from api.settings import Settings

    settings = Settings()
    platform = Platform.build(settings)
    if settings.auto_migrate:
        db.upgrade(platform.engine)
    add_workers(platform, WORKER_NAMES if name is WorkerName.all else (name.value,))
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    platform.workers.start()
    console.print(f"worker {name.value}: running (Ctrl-C stops it)")
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        platform.close()


@app.command("up")
def up_cmd(
    node: NodeKind = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    fresh: Annotated[bool, typer.Option("--fresh", help="deploy anew (after changing contracts)")] = False,
    replicas: Annotated[int, typer.Option(min=1, max=16, help="API processes on the port; more than one needs PostgreSQL")] = 1,
    database_url: Annotated[str | None, typer.Option(help="the platform's database (default GOVCHAIN_DATABASE_URL, else SQLite in the state dir)")] = None,
):
    """Everything for a local stack: node, compile, deploy, API. Ctrl-C stops it all."""
    from sqlalchemy.engine import make_url

    from api.settings import Settings
    from api.dev.stack import LocalServices
    from chain.config import DEFAULT_CONFIG
    from chain.node import LocalNode

    config_path = Path(os.environ.get("GOVCHAIN_NODE_CONFIG") or DEFAULT_CONFIG)
    config = load_node_config(config_path)
    config = config.with_(kind=node or config.kind)
    if config.port and not _port_free(config.host, config.port):
        console.print(f"[yellow]port {config.port} is taken; the node takes a free one[/]")
        config = config.with_(port=0)
    if not _port_free(host, port):
        _fail(GovchainError(f"port {port} on {host} is taken; is another govchain running? choose one with --port"))
    if database_url:
        os.environ["GOVCHAIN_DATABASE_URL"] = database_url
    if replicas > 1 and make_url(Settings().sqlalchemy_url).get_backend_name() != "postgresql":
        raise typer.BadParameter("more than one replica shares one PostgreSQL database: give --database-url postgresql+psycopg://... "
                                 "(or GOVCHAIN_DATABASE_URL); SQLite is the single-process form", param_hint="--replicas")  # fmt: skip
    try:
        with LocalNode(config) as running:
            state_dir = Settings().state_dir / config.kind
            os.environ["GOVCHAIN_RPC_URL"] = running.url
            os.environ["GOVCHAIN_STATE_DIR"] = str(state_dir)
            os.environ.setdefault("GOVCHAIN_PUBLIC_DOMAIN", f"{host}:{port}")
            os.environ.setdefault("GOVCHAIN_PUBLIC_URL", f"http://{host}:{port}")
            deployment = _deploy(running.url, state_dir, fresh=fresh)
            _print_deployment(deployment)
            with LocalServices(Settings(), log_dir=state_dir / "logs", node_config=config_path) as services:
                settings = Settings(**services.overrides)
                services.write_stack_file(state_dir / "stack.json", f"http://{host}:{port}")
                gateways = "\n".join(f"          {domain} at {url}" for domain, url in settings.gateways.items())
                console.print(
                    f"node      {config.kind} at {running.url} (chain id {config.chain_id}), log {config.log_file}\n"
                    f"chain     state in {config.state_dir or 'memory'}\n"
                    f"database  {make_url(settings.sqlalchemy_url).render_as_string(hide_password=True)}\n"
                    f"record    {state_dir / 'deployment.json'}\n"
                    f"vendor    face-verification stand-in at {settings.face.vendor_url}\n"
                    f"gateways  data holders (logs in {state_dir / 'logs'}):\n{gateways}\n"
                    f"API       http://{host}:{port}   docs http://{host}:{port}/docs   health http://{host}:{port}/v1/health"
                    f"{f'   ({replicas} replicas)' if replicas > 1 else ''}\n"
                    "Ctrl-C stops the API, the services and the node."
                )
                # replicas build the app from GOVCHAIN_* variables: the services' addresses go there too
                os.environ["GOVCHAIN_FACE_VENDOR_URL"] = settings.face.vendor_url
                os.environ["GOVCHAIN_GATEWAYS"] = json.dumps(settings.gateways)
                _serve(settings, host, port, replicas)
    except KeyboardInterrupt:
        pass
    except GovchainError as exc:
        _fail(exc)
    console.print("stopped: API, services and node are down.")


demo_app = typer.Typer(help="Run a scenario against the stack `make run` started.", no_args_is_help=True)
app.add_typer(demo_app, name="demo")


@demo_app.command("no-visit")
def demo_no_visit(
    node: NodeKind = None,
    citizen: Annotated[int | None, typer.Option(min=1, max=2000, help="which fake citizen of the demo dataset")] = None,
):
    """Face check -> consent -> pulls -> data tracker -> materials -> submission -> certificate -> verification
    -> revocation -> refused pull, with every transaction."""
    from api.dev.demo import run_no_visit
    from api.settings import state_folder

    folder = state_folder(node) / "demo"
    _run_demo(node, "agency", run_no_visit, citizen_index=citizen, demo_dir=folder)


def _run_demo(node: str | None, party: str, run, **options) -> None:
    """Run a demo against the stack `govchain up` described in its stack.json, acting as ``party``."""
    from api.dev.demo import DemoFailed, load_stack
    from api.settings import state_folder
    from identity.keys import dev_party

    config = load_node_config()
    try:
        run(load_stack(state_folder(node)), dev_party(config, party), console, **options)
    except (DemoFailed, GovchainError, OSError) as exc:
        _fail(exc)


@demo_app.command("bid-opening")
def demo_bid_opening(
    node: NodeKind = None,
    bidding_seconds: Annotated[int, typer.Option(min=5, max=600)] = 15,
    objection_seconds: Annotated[int, typer.Option(min=1, max=600, help="the objection period after the reading; no result before its end")] = 5,
):
    """A whole tender: 4 bidders (one fails to decrypt), one objection, 3 experts, the result."""
    from api.dev.demo import run_bid_opening

    from api.settings import Settings
    from chain.deploy import load_record
    from identity.keys import dev_party

    config = load_node_config()
    deployment = load_record(Settings().state_dir / (node or config.kind))
    _run_demo(node, "procurement", run_bid_opening, bidding_seconds=bidding_seconds, objection_seconds=objection_seconds, governor=dev_party(config, "governor"), deployment=deployment)


from api.audit.cli import audit_app  # noqa: E402  (the `govchain audit` commands)

app.add_typer(audit_app, name="audit")

tender_app = typer.Typer(help="Electronic bid opening: check a tender's trail.", no_args_is_help=True)
app.add_typer(tender_app, name="tender")


@tender_app.command("verify")
def tender_verify(
    tender_id: Annotated[str, typer.Argument(help="the tender id (0x + 64 hex)")],
    rpc: Annotated[str, typer.Option("--rpc", help="JSON-RPC URL of any node of the chain")],
    record: Annotated[Path | None, typer.Option(help="deployment.json naming the TenderLedger (default: the state dir's)")] = None,
    api: Annotated[str | None, typer.Option(help="where to fetch bid files to re-check them (e.g. http://127.0.0.1:8000)")] = None,
):
    """Re-read a tender's trail from the chain, re-check each revealed bid file and recompute the result."""
    import re

    import httpx

    from api.tenders.verify import verify_tender
    from chain.tenders import TenderLedgerClient
    from chain.tx import ChainClient

    if not re.fullmatch(r"0x[0-9a-fA-F]{64}", tender_id):
        raise typer.BadParameter("a tender id is 0x followed by 64 hex digits", param_hint="TENDER_ID")
    deployment = _record(record, "TenderLedger")
    entry = deployment.contracts["TenderLedger"]
    try:
        ledger = TenderLedgerClient(ChainClient.from_url(rpc, expected_chain_id=deployment.chain_id), entry["address"], entry["abi"])
    except GovchainError as exc:
        _fail(exc)

    def fetch(pseudonym: bytes) -> bytes | None:
        if not api:
            return None
        response = httpx.get(f"{api}/v1/tenders/{tender_id.lower()}/bids/0x{pseudonym.hex()}/ciphertext", timeout=30)
        return response.content if response.status_code == 200 else None

    verdict = verify_tender(ledger, bytes.fromhex(tender_id[2:]), fetch)
    table = Table(title=f"tender {tender_id[:12]}…: {'consistent' if verdict.consistent else 'NOT consistent'}")
    for column in ("check", "holds", "detail"):
        table.add_column(column)
    for check in verdict.checks:
        table.add_row(check.what, "yes" if check.ok else "[bold red]no[/]", check.detail)
    console.print(table)
    raise typer.Exit(0 if verdict.consistent else 1)


def _record(record: Path | None, contract: str):
    """The deployment record (``--record``, else the state dir's) that names ``contract``; its ABIs registered for reverts."""
    from api.settings import state_folder
    from chain import reverts
    from chain.deploy import load_record

    folder = record.parent if record else state_folder()
    deployment = load_record(folder)
    if deployment is None or contract not in deployment.contracts:
        _fail(GovchainError(f"no deployment record with a {contract} in {folder}; pass --record"))
    for entry in deployment.contracts.values():
        reverts.register_abi(entry["abi"])
    return deployment


@app.command("verify")
def verify_cmd(
    file: Annotated[Path, typer.Argument(help="a wrapped OpenAttestation certificate (.oa / .json)")],
    rpc: Annotated[str, typer.Option("--rpc", help="JSON-RPC URL of any node of the chain")],
    record: Annotated[Path | None, typer.Option(help="deployment.json naming the trusted GovRegistry (default: the state dir's)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the verdict as JSON")] = False,
):
    """Verify a certificate straight against the chain, without the platform: integrity, status, issuer identity."""
    from identity.verify import Verifier
    from chain.registry import GovRegistryClient
    from chain.tx import ChainClient

    try:
        document = json.loads(file.read_bytes())
    except FileNotFoundError:
        raise typer.BadParameter(f"{file} does not exist", param_hint="FILE") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise typer.BadParameter(f"{file} is not a JSON document: {exc}", param_hint="FILE") from None
    deployment = _record(record, "GovRegistry")
    entry = deployment.contracts["GovRegistry"]
    try:
        client = ChainClient.from_url(rpc, expected_chain_id=deployment.chain_id)
    except GovchainError as exc:
        _fail(exc)
    verifier = Verifier(client, GovRegistryClient(client, entry["address"], entry["abi"]), deployment.document_store_abi())
    verdict = verifier.verify(document)
    if as_json:
        console.print_json(data=verdict.to_json())
    else:
        table = Table(title=f"{file.name}: {'VALID' if verdict.valid else 'NOT VALID'}")
        for column in ("check", "holds", "reason"):
            table.add_column(column)
        for check in (verdict.integrity, verdict.status, verdict.identity):
            table.add_row(check.name, "yes" if check.valid else "[bold red]no[/]", check.reason)
        console.print(table)
    raise typer.Exit(0 if verdict.valid else 1)


registry_app = typer.Typer(help="GovRegistry by a governor's own key (GOVCHAIN_GOVERNOR_KEYSTORE; in dev its dev key): "
                           "register bidder firms, suspend and reinstate members; for a suspended issuer, rotate its issuing key and revoke in its store.",
                           no_args_is_help=True)  # fmt: skip
app.add_typer(registry_app, name="registry")
Address = Annotated[str, typer.Argument(help="a member's address (0x + 40 hex)")]
Rpc = Annotated[str | None, typer.Option("--rpc", help="JSON-RPC URL (default: GOVCHAIN_RPC_URL)")]
Reason = Annotated[str, typer.Option("--reason", help="why (its keccak256 goes on chain, the text stays with you)")]


def _governed(rpc: str | None, send):
    """Send ``send(registry, governor)`` with the governor's key; print the transaction, or the refusal (exit 1)."""
    from api.settings import Settings
    from chain.registry import GovRegistryClient
    from chain.tx import ChainClient

    deployment = _record(None, "GovRegistry")
    try:
        client = ChainClient.from_url(rpc or Settings().rpc_url, expected_chain_id=deployment.chain_id)
        entry = deployment.contracts["GovRegistry"]
        receipt = send(GovRegistryClient(client, entry["address"], entry["abi"]), _signer("governor"))
    except (GovchainError, ValueError) as exc:
        _fail(exc)
    console.print(f"sent by the governor: tx {receipt.tx_hash}, block {receipt.block_number}")


def _checked(address: str) -> str:
    from web3 import Web3

    if not Web3.is_address(address):
        raise typer.BadParameter(f"{address} is not an address")
    return Web3.to_checksum_address(address)


def _reason(text: str) -> bytes:
    from eth_utils import keccak

    return keccak(text=text)


@registry_app.command("suspend")
def suspend_cmd(account: Address, reason: Reason, rpc: Rpc = None):
    """Suspend a member: its roles stop counting; an issuer's store closes to writes."""
    _governed(rpc, lambda registry, governor: registry.suspend_member(governor, _checked(account), _reason(reason)))


@registry_app.command("register-bidder")
def register_bidder_cmd(account: Address, name: Annotated[str, typer.Argument(help="the firm's registered name")], rpc: Rpc = None):
    """Register a bidder firm (the BIDDER role): only registered firms may bid in a tender."""
    from chain.registry import MemberInfo

    if not name.strip():
        raise typer.BadParameter("the firm's name is empty")
    _governed(rpc, lambda registry, governor: registry.register_member(governor, _checked(account), MemberInfo(name.strip()), [Role.BIDDER]))


@registry_app.command("reinstate")
def reinstate_cmd(account: Address, rpc: Rpc = None):
    """Reinstate a suspended member (an issuer's store opens again, to its current issuing key only)."""
    _governed(rpc, lambda registry, governor: registry.reinstate_member(governor, _checked(account)))


@registry_app.command("rotate-issuing-key")
def rotate_issuing_key_cmd(issuer: Address, new_key: Annotated[str, typer.Argument(help="the new issuing key's address")], rpc: Rpc = None):
    """Give a suspended issuer's store a new issuing key; the old key is refused from then on."""
    _governed(rpc, lambda registry, governor: registry.rotate_issuing_key(governor, _checked(issuer), _checked(new_key)))


@registry_app.command("revoke")
def revoke_cmd(issuer: Address, document: Annotated[str, typer.Argument(help="a target hash or Merkle root (0x + 64 hex)")], reason: Reason,
               rpc: Rpc = None):  # fmt: skip
    """Revoke a document in a suspended issuer's store (recorded on chain with the governor's name)."""
    from chain.documents import hash32

    try:
        hashed = hash32(document)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    _governed(rpc, lambda registry, governor: registry.revoke_document(governor, _checked(issuer), hashed, _reason(reason)))


agency_app = typer.Typer(help="An agency's own client: sign pull requests and chain writes with its own key, open what it pulled.", no_args_is_help=True)
app.add_typer(agency_app, name="agency")


@agency_app.command("pull")
def agency_pull(
    application_id: Annotated[str, typer.Argument(help="the application to pull data for")],
    keystore: Annotated[Path, typer.Option(help="the agency's encrypted keystore (password: GOVCHAIN_KEYSTORE_PASSWORD or a prompt)")],
    api: Annotated[str, typer.Option(help="the platform API")] = "http://127.0.0.1:8000",
    hpke_generation: Annotated[int, typer.Option(min=0, help="the agency's current HPKE key generation")] = 0,
):
    """Pull an application's consented data as the agency: the requests are signed here with the
    agency's own key, and the answers opened here with its own HPKE keys (printed as JSON)."""
    import httpx

    from api.pulls.client import AgencyClient
    from identity.keys import load_keystore

    password = os.environ.get("GOVCHAIN_KEYSTORE_PASSWORD") or getpass.getpass("keystore password: ")
    try:
        account = load_keystore(keystore, password)
        with httpx.Client(base_url=api, timeout=180) as http:
            client = AgencyClient(http, account, hpke_generation)
            pulled = client.pull(application_id)
            print(json.dumps({"pulls": pulled["pulls"], "state": pulled["state"], "data": client.data(application_id)}, ensure_ascii=False, indent=2))
    except httpx.HTTPStatusError as exc:
        _fail(GovchainError(f"{exc.request.method} {exc.request.url} answered {exc.response.status_code}: {exc.response.text[:300]}"))
    except GovchainError as exc:
        _fail(exc)


@agency_app.command("sign")
def agency_sign(
    keystore: Annotated[Path | None, typer.Option(help="the agency's encrypted keystore (password: GOVCHAIN_KEYSTORE_PASSWORD or a prompt)")] = None,
    dev_party: Annotated[str | None, typer.Option(help="dev only, instead of a keystore: the dev party to sign as (agency, procurement ...)")] = None,
    api: Annotated[str, typer.Option(help="the platform API")] = "http://127.0.0.1:8000",
    rpc_url: Annotated[str | None, typer.Option(help="the agency's own chain node (default GOVCHAIN_RPC_URL)")] = None,
    deployment_dir: Annotated[Path | None, typer.Option(help="the folder of the deployment record (its addresses and ABIs)")] = None,
    list_only: Annotated[bool, typer.Option("--list", help="only show what is awaiting, decoded; sign nothing")] = False,
):
    """Sign the agency's awaiting chain writes in its own client (agency-held keys): each call is decoded
    here with the deployment's ABI and shown, checked (a certificate batch: its Merkle root recomputed
    from its target hashes; a mismatch is refused), signed with the agency's own key and nonce, and
    submitted to the platform, which relays it only if it is exactly what it asked for."""
    import httpx

    from api.agency_signing.client import AgencySigner
    from api.settings import Settings, state_folder
    from chain.deploy import load_record
    from chain.tx import ChainClient

    try:
        account = _agency_account(keystore, dev_party)
        record = load_record(deployment_dir or state_folder())
        if record is None:
            raise GovchainError(f"no deployment record in {deployment_dir or state_folder()}")
        chain = ChainClient.from_url(rpc_url or Settings().rpc_url, expected_chain_id=record.chain_id)
        with httpx.Client(base_url=api, timeout=180) as http:
            signer = AgencySigner(http, account, chain, record)
            if list_only:
                reviewed = [signer.review(request) for request in signer.awaiting()]
                rows = [(r.request["id"], r.decoded or r.request["description"], "refused: " + r.refusal if r.refusal else "to sign") for r in reviewed]
            else:
                rows = [(o.request_id, o.decoded, o.state + (f": {o.detail}" if o.detail else "") + (f" {o.tx_hash}" if o.tx_hash else "")) for o in signer.run()]
    except httpx.HTTPStatusError as exc:
        _fail(GovchainError(f"{exc.request.method} {exc.request.url} answered {exc.response.status_code}: {exc.response.text[:300]}"))
    except GovchainError as exc:
        _fail(exc)
    table = Table("request", "call (decoded here)", "outcome", title=f"signature requests of {account.address}")
    for row in rows:
        table.add_row(*row)
    console.print(table)
    if any(row[2].startswith(("refused", "rejected", "failed")) for row in rows):
        raise typer.Exit(1)


def _agency_account(keystore: Path | None, dev_party: str | None):
    """The agency's key: its own keystore, or (dev only) its dev key."""
    from api.settings import Settings
    from chain.config import Environment
    from identity.keys import dev_party as dev_key
    from identity.keys import load_keystore

    if (keystore is None) == (dev_party is None):
        raise GovchainError("give the agency's --keystore, or (dev only) --dev-party")
    if keystore is not None:
        return load_keystore(keystore, os.environ.get("GOVCHAIN_KEYSTORE_PASSWORD") or getpass.getpass("keystore password: "))
    if Settings().env is not Environment.DEV:
        raise GovchainError("dev keys are refused outside dev: give the agency's --keystore")
    return dev_key(load_node_config(), cast(str, dev_party))  # exactly one of the two was given


@keys_app.command("new")
def keys_new(path: Annotated[Path, typer.Argument(help="where to write the encrypted keystore (must not exist)")]):
    """Create a key in an encrypted keystore; the password comes from GOVCHAIN_KEYSTORE_PASSWORD or a prompt."""
    from identity.keys import new_keystore

    password = os.environ.get("GOVCHAIN_KEYSTORE_PASSWORD")
    if not password:
        password = getpass.getpass("keystore password: ")
        if getpass.getpass("again: ") != password:
            _fail(GovchainError("the passwords differ"))
    try:
        account = new_keystore(path, password)
    except GovchainError as exc:
        _fail(exc)
    console.print(f"{account.address} written to {path}")


@db_app.command("upgrade")
def db_upgrade():
    """Bring the database schema to the newest revision."""
    from api import db
    from api.settings import Settings
    from chain.db import make_engine

    engine = make_engine(Settings().sqlalchemy_url)
    db.upgrade(engine)
    console.print(f"database at revision {db.current_revision(engine)}")


if __name__ == "__main__":
    app()
