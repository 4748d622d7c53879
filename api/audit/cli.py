"""``govchain audit``: catch the index up, reconcile it with the chain, verify a case's trail from the chain."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from chain.errors import GovchainError
from chain.registry import Role

audit_app = typer.Typer(help="Audit: the index of every govchain event, its reconciliation, and trails.", no_args_is_help=True)
console = Console()
HEX32 = re.compile(r"^0x[0-9a-fA-F]{64}$")
Rpc = Annotated[str | None, typer.Option("--rpc", help="JSON-RPC URL (default GOVCHAIN_RPC_URL)")]
Record = Annotated[Path | None, typer.Option("--record", help="deployment.json (default: the one in GOVCHAIN_STATE_DIR)")]


# Identifiers are never cut short, however narrow the output (a pipe or a CI log is 80 columns):
# an auditor copies them whole. The other columns give way.
_WHOLE = {"tx": 66, "contract": 42}


def _add_column(table: Table, name: str) -> None:
    table.add_column(name, no_wrap=name in _WHOLE, min_width=_WHOLE.get(name))


def _fail(message: str, code: int = 1) -> NoReturn:
    console.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


def _deployment(record: Path | None):
    from api.settings import Settings, state_folder
    from chain import reverts
    from chain.deploy import load_record

    folder = record.parent if record else state_folder()
    settings = Settings(state_dir=folder)  # the database beside the record, as the API that `govchain up` starts keeps it
    deployment = load_record(folder)
    if deployment is None:
        _fail(f"no deployment record in {folder}; pass --record")
    for entry in deployment.contracts.values():
        reverts.register_abi(entry["abi"])
    return settings, deployment


def _client(rpc: str, chain_id: int):
    from chain.tx import ChainClient

    try:
        return ChainClient.from_url(rpc, expected_chain_id=chain_id)
    except GovchainError as exc:
        _fail(str(exc))


def _sessions(settings):
    from api import db
    from chain.db import make_engine, session_factory

    engine = make_engine(settings.sqlalchemy_url)
    if settings.auto_migrate:
        db.upgrade(engine)
    return session_factory(engine)


@audit_app.command("index")
def index_cmd(rpc: Rpc = None, record: Record = None):
    """Catch the audit index up with the chain once (what the API's indexer does continuously)."""
    import time

    from api.audit.indexer import Indexer

    settings, deployment = _deployment(record)
    client = _client(rpc or settings.rpc_url, deployment.chain_id)
    indexer = Indexer(lambda: client, lambda: deployment, _sessions(settings))
    started = time.perf_counter()
    try:
        written = indexer.catch_up()
    except GovchainError as exc:
        _fail(str(exc))
    seconds = time.perf_counter() - started
    console.print(f"indexed {written} events up to block {indexer.indexed_block()} in {seconds:.2f} s "
                  f"({written / seconds if seconds else 0:.0f} events/s; {settings.sqlalchemy_url.split('@')[-1]})")  # fmt: skip


@audit_app.command("reconcile")
def reconcile_cmd(rpc: Rpc = None, record: Record = None, limit: Annotated[int, typer.Option(help="rows listed per section")] = 20):
    """Compare the index with the chain over the indexed range: rows missing, extra or different. Exit 1 if any."""
    from api.audit.indexer import reconcile

    settings, deployment = _deployment(record)
    client = _client(rpc or settings.rpc_url, deployment.chain_id)
    result = reconcile(client, deployment, _sessions(settings))
    state = "[green]consistent[/]" if result.consistent else "[bold red]NOT consistent[/]"
    console.print(f"GovRegistry {deployment.address('GovRegistry')} on chain {deployment.chain_id}, blocks {result.from_block}..{result.to_block}: "
                  f"{result.chain_events} events on chain, {result.indexed_rows} rows indexed: {state}")  # fmt: skip
    for refusal in result.refusals:
        console.print(f"[bold red]refused:[/] {refusal}")
    for title, rows in (("missing from the index", result.missing), ("in the index but not on chain", result.extra)):
        if rows:
            table = Table(title=f"{len(rows)} {title}")
            for column in ("block", "tx", "log", "event", "contract"):
                _add_column(table, column)
            for row in rows[:limit]:
                table.add_row(str(row["block_number"]), row["tx_hash"], str(row["log_index"]), row["event"], row["contract"])
            console.print(table)
    if result.different:
        table = Table(title=f"{len(result.different)} different from the chain")
        for column in ("block", "tx", "log", "event", "field", "index", "chain"):
            _add_column(table, column)
        for row in result.different[:limit]:
            for name, (indexed, chain) in row["fields"].items():
                table.add_row(str(row["block_number"]), row["tx_hash"], str(row["log_index"]), row["event"], name, str(indexed), str(chain))
        console.print(table)
    raise typer.Exit(0 if result.consistent else 1)


def _from_platform_db(settings, application_id: str) -> tuple[str | None, list[str], str | None]:
    """The consent id, certificate hashes and handling agency of an application, from the platform database if there is one."""
    try:
        from api.audit.service import application_refs
        from api.models import Application
        from chain.db import make_engine, session_factory

        sessions = session_factory(make_engine(settings.sqlalchemy_url))
        with sessions() as session:
            application = session.get(Application, application_id)
            if application is None:
                return None, [], None
            refs, notes = application_refs(session, application)
            return application.consent_id, [v for k, v in notes.items() if k in ("target_hash", "batch_root")], application.agency
    except Exception:
        return None, [], None


def _selection(registry, rows: list[dict], agency: str | None) -> dict:
    """The case's own contracts and actors (:func:`api.audit.trails.application_selection`), from the
    chain: the handling agency is the one the applicant's consent names (or the platform database's),
    the relayers are GovRegistry's RELAYER members."""
    from api.audit import trails

    granted = next((r for r in rows if r["event"] == "ConsentGranted"), None)
    agency = granted["args"]["agency"] if granted else agency
    relayers = {m.address for m in registry.members() if Role.RELAYER in m.roles}
    return trails.application_selection(registry, agency=agency, relayers=relayers)


@audit_app.command("trail")
def trail_cmd(
    kind: Annotated[str, typer.Argument(help="application or tender")],
    case_id: Annotated[str, typer.Argument(help="the application id, or the tender id (0x + 64 hex)")],
    rpc: Annotated[str, typer.Option("--rpc", help="JSON-RPC URL of any node of the chain")],
    record: Record = None,
    consent: Annotated[str | None, typer.Option(help="the application's consent id (else from the platform database, if any)")] = None,
    certificate: Annotated[list[str] | None, typer.Option(help="a certificate target hash or batch root (repeatable)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the trail as JSON")] = False,
):
    """Build a case's trail straight from the chain and verify every step against its receipt. Exit 1 if any fails."""
    from api.audit import trails
    from api.audit.indexer import Watched
    from chain.registry import GovRegistryClient

    if kind not in ("application", "tender"):
        raise typer.BadParameter("application or tender", param_hint="KIND")
    if kind == "tender" and not HEX32.match(case_id):
        raise typer.BadParameter("a tender id is 0x followed by 64 hex digits", param_hint="CASE_ID")
    for value in [consent, *(certificate or [])]:
        if value is not None and not HEX32.match(value):
            raise typer.BadParameter(f"{value} is not 0x + 64 hex digits")
    settings, deployment = _deployment(record)
    client = _client(rpc, deployment.chain_id)
    watched = Watched.of(client, deployment)
    entry = deployment.contracts["GovRegistry"]
    registry = GovRegistryClient(client, entry["address"], entry["abi"])
    documents = [c.lower() for c in certificate or []]
    agency = None
    if kind == "application" and consent is None and not documents:
        consent, documents, agency = _from_platform_db(settings, case_id)
        if consent or documents:
            note = "references (consent id, certificate hashes) taken from the platform database; every step below is read from the chain"
            (Console(stderr=True) if as_json else console).print(f"[dim]{note}[/]")  # --json: stdout is the JSON alone
    if kind == "tender":
        rows = trails.chain_rows(watched, registry, tender_id=case_id.lower())
    else:
        rows = trails.chain_rows(watched, registry, application_id=case_id, consent_id=consent.lower() if consent else None, documents=tuple(documents))
        rows = trails.own_rows(rows, **_selection(registry, rows, agency))
    names: dict[str, str | None] = {}

    def name(address: str) -> str | None:
        if address not in names:
            member = registry.member(address, with_roles=False)
            names[address] = member.info.name or None
        return names[address]

    notes = {}
    if len(documents) == 2:
        notes = {"target_hash": documents[0], "batch_root": documents[1]}
    trail = trails.verify(trails.trail_of(kind, case_id, rows, name, notes), rows, trails.ChainChecker(client, watched))
    if as_json:
        typer.echo(json.dumps(trail, ensure_ascii=False, indent=2))
    else:
        from datetime import UTC, datetime

        verdict = "[green]verified[/]" if trail["verified"] else "[bold red]NOT verified[/]"
        table = Table(title=f"{kind} {case_id}: {len(trail['steps'])} steps, {verdict}")
        for column in ("#", "time (UTC)", "event", "what", "block", "tx", "log", "signer", "ok"):
            table.add_column(column)
        for step in trail["steps"]:
            table.add_row(str(step["index"]), datetime.fromtimestamp(step["time"], UTC).strftime("%Y-%m-%d %H:%M:%S"), step["event"],
                          step["summary"], str(step["block_number"]), step["tx_hash"][:12] + "…", str(step["log_index"]),
                          step["signer"][:10] + "…", "[green]✓[/]" if step["verified"] else f"[bold red]✗ {step['verification']}[/]")  # fmt: skip
        console.print(table)
    raise typer.Exit(0 if trail["verified"] else 1)
