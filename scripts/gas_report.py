"""Where the contracts' gas goes, and what one block holds: the gas part of ``make bench``.

    .venv/bin/python scripts/gas_report.py         (about a minute: its own anvil, fresh deployment)

1. breakdowns  a consent grant, ``recordPulls`` of 32 signed records, a new agency's
               DocumentStore, each split by what it paid for, from anvil's opcode trace (anvil
               started with ``--steps-tracing``; see ``bench_lib.trace_breakdown``).
2. capacity    (``capacity_table``, fed by the bench's gas rows) how many of each operation fit in
               one block of 30,000,000 gas every 2 s (a Besu QBFT network's defaults), and what
               that is in applications and tenders per day.

``scripts/bench.py`` runs both and puts the tables in its report; this script runs the breakdowns
alone (the quick loop while cutting gas).
"""

from __future__ import annotations

import itertools
import os
import secrets
import sys
import tempfile
from pathlib import Path

from eth_utils import keccak
from rich.console import Console

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_lib import Table, calldata_gas, trace_breakdown  # noqa: E402

from chain.compile import compile_contracts  # noqa: E402
from chain.config import load_node_config  # noqa: E402
from chain.consents import ConsentRegistryClient  # noqa: E402
from chain.deploy import deploy  # noqa: E402
from chain.node import LocalNode  # noqa: E402
from chain.registry import GovRegistryClient, MemberInfo, Role  # noqa: E402
from chain.tx import ChainClient  # noqa: E402
from identity.keys import dev_account, dev_party  # noqa: E402
from identity.parties import dev_issuers, dev_member_specs, governor_info  # noqa: E402
from identity.pull_request import signed_record  # noqa: E402

BLOCK_GAS, BLOCK_SECONDS = 30_000_000, 2  # Besu QBFT: 30 M gas limit (genesis default), 2 s block period
BLOCKS_PER_DAY = 86_400 // BLOCK_SECONDS
PULLS_PER_APPLICATION = 3
CERTIFICATE_BATCH = 1024  # an application's share of one issue(root)
ID_CARD, HOUSEHOLD_REGISTER = 0, 2
console = Console(width=None if sys.stdout.isatty() else 170)


def consent_slot_labels(consent_id: bytes, applicant: str, nonce: int) -> dict[int, str]:
    """Storage slot keys of a consent and of its nonce's bitmap word, labelled for the trace
    breakdown. The mappings' base slots are tried from 0 to 9 (only the real ones are touched)."""
    labels = {}
    owner = bytes.fromhex(applicant[2:]).rjust(32, b"\0")
    for base in range(10):
        at = int.from_bytes(keccak(bytes(consent_id) + base.to_bytes(32)))
        labels[at] = labels[at + 1] = "consent's two slots (SLOAD/SSTORE)"
        inner = keccak(owner + base.to_bytes(32))
        labels[int.from_bytes(keccak((nonce >> 8).to_bytes(32) + inner))] = "nonce bitmap word (SLOAD/SSTORE)"
    return labels


def breakdowns(build=None, grant=None) -> dict[str, dict]:
    """Trace a consent grant, a batch of 32 pulls and a store creation on a fresh anvil.
    ``grant`` is the bench's consent grant (``bench.grant``: same terms, same relayer)."""
    build = build or compile_contracts()
    if grant is None:
        from bench import grant
    config = load_node_config().with_(kind="anvil", port=0, state_dir=None, log_file=None, steps_tracing=True)
    out: dict[str, dict] = {}
    with LocalNode(config) as node:
        client = ChainClient.from_url(node.url)
        deployment = deploy(client, dev_party(config, "governor"), build, Path(tempfile.mkdtemp(prefix="gas-report-")),
                            governor_info=governor_info(config), members=dev_member_specs(config), issuers=dev_issuers(config))  # fmt: skip
        registry_address = deployment.address("GovRegistry")
        calls = {registry_address: "GovRegistry calls (roles, categories)"}

        def explain(operation, receipt, items=1, slots=None, more_calls=None):
            tx = client.w3.eth.get_transaction(receipt.tx_hash)
            parts = trace_breakdown(node.url, receipt.tx_hash, calldata_gas(bytes(tx["input"])), gas_used=receipt.gas_used,
                                    calls={**calls, **(more_calls or {})}, slots=slots)  # fmt: skip
            if parts is None:
                raise RuntimeError("the node gave no opcode trace (anvil needs --steps-tracing)")
            out[operation] = {"items": items, "gas": receipt.gas_used, "parts": parts}

        entry = deployment.contracts["ConsentRegistry"]
        consents = ConsentRegistryClient(client, entry["address"], entry["abi"])
        applicant, agency, holder = dev_account(config, 12), dev_party(config, "agency"), dev_party(config, "holder_psb")
        word = secrets.randbits(56) << 8
        grant(client, consents, config, applicant, nonce=word)  # the first nonce of a bitmap word costs one more slot
        consent_id, receipt, _ = grant(client, consents, config, applicant, nonce=word + 1)
        slots = consent_slot_labels(consent_id, applicant.address, word + 1)
        explain("consent grant (relayer, EIP-712 signature)", receipt, 1, slots)
        counter = itertools.count(1)
        now = client.w3.eth.get_block("latest")["timestamp"]
        records = [signed_record(agency, holder.address, consent_id, next(counter), (ID_CARD, HOUSEHOLD_REGISTER)[i % 2], chain_id=client.chain_id,
                                 verifying_contract=consents.address, issued_at=now, digest=os.urandom(32), attributes=keccak(text="attributes"),
                                 subject=os.urandom(32))
                   for i in range(32)]  # fmt: skip
        explain("recordPulls, batch of 32", consents.record_pulls(holder, records).receipt, 32, slots)

        registry = GovRegistryClient(client, registry_address, deployment.contracts["GovRegistry"]["abi"])
        issuer = dev_account(config, 19)
        registry.register_member(dev_party(config, "governor"), issuer.address, MemberInfo("新设发证机关 New issuing agency"), [Role.ISSUER])
        _, receipt = registry.create_document_store(issuer)
        explain("a new agency's DocumentStore (createDocumentStore)", receipt)
    return out


def breakdown_tables(found: dict[str, dict]) -> list[Table]:
    tables = []
    for operation, b in found.items():
        items = b["items"]
        table = Table(f"Where the gas goes: {operation} (anvil opcode trace)", ["part", "gas" if items == 1 else f"gas per item (/{items})", "share %"],
                      note="each top-frame opcode is charged what it consumed, a call with everything done inside it; "
                           "'code' is the rest (ABI decoding and encoding, memory, jumps, checks) and absorbs refunds")  # fmt: skip
        for part, gas in sorted(b["parts"].items(), key=lambda kv: -kv[1]):
            table.add(part, round(gas / items), round(100 * gas / b["gas"], 1))
        table.add("total", round(b["gas"] / items), 100.0)
        tables.append(table)
    return tables


def capacity_table(rows: list[dict]) -> Table | None:
    """Operations per 30 M gas block every 2 s, and applications and tenders per day, from the
    bench's gas rows (``bench_lib.GasRow.as_json``) of one node."""
    gas = {r["operation"]: r for r in rows}
    needed = ("consent grant (relayer, EIP-712 signature)", "recordPulls, batch of 32", "evidence anchor (submission manifest)",
              f"issue(root), batch of {CERTIFICATE_BATCH}")  # fmt: skip
    if any(n not in gas for n in needed):
        return None
    table = Table(f"Capacity: one block of {BLOCK_GAS:,} gas every {BLOCK_SECONDS} s (Besu QBFT defaults), {BLOCKS_PER_DAY:,} blocks a day",
                  ["operation", "gas each", "per block", "per second", "per day"],
                  note=f"an application end to end = a consent grant + {PULLS_PER_APPLICATION} pulls (in batches of 32) + a submission anchor + "
                       f"its share of a certificate batch of {CERTIFICATE_BATCH}; a tender = every step of the bench's 3-bid weighted-score tender. "
                       "Gas only: the chain, not the services, is the limit counted here.")  # fmt: skip

    def add(name, each):
        per_block = BLOCK_GAS // max(int(each), 1)
        table.add(name, round(each), per_block, round(per_block / BLOCK_SECONDS, 1), per_block * BLOCKS_PER_DAY)

    for operation, each in zip(needed, ("", ": per pull", "", ": per certificate"), strict=True):
        add(operation + each, gas[operation]["per_item"])
    application = gas[needed[0]]["gas"] + PULLS_PER_APPLICATION * gas[needed[1]]["per_item"] + gas[needed[2]]["gas"] + gas[needed[3]]["per_item"]
    add("application end to end", application)
    tender_rows = [r for r in rows if r["operation"].startswith("tender: ")]
    if tender_rows:
        add(f"tender, 3 bids, weighted score ({len(tender_rows)} steps)", tender_tx_gas(tender_rows))
    if "a new agency's DocumentStore (createDocumentStore)" in gas:
        add("a new agency's DocumentStore", gas["a new agency's DocumentStore (createDocumentStore)"]["gas"])
    return table


def tender_tx_gas(tender_rows: list[dict]) -> int:
    """The whole 3-bid tender: the bench measured one of each repeated step (per bid, per bid and expert)."""
    per = {r["operation"]: r["gas"] for r in tender_rows}
    bids, experts = 3, 3
    repeats = {"tender: commitBid": bids, "tender: signIn (EIP-712, relayed)": bids, "tender: revealKey": bids,
               "tender: recordDecryption": bids, "tender: submitScores (EIP-712, relayed)": bids * experts}  # fmt: skip
    return sum(gas * repeats.get(op, 1) for op, gas in per.items())


def main() -> None:
    for table in breakdown_tables(breakdowns()):
        console.print(table.rich())


if __name__ == "__main__":
    main()
