"""Helpers of ``scripts/bench.py``: the gas floor model, peak memory, py-spy profiles and report tables.

Gas floor of one transaction (a lower bound any implementation of the same operation pays):

    21,000                                  base cost of a transaction
  + 16 per non-zero, 4 per zero calldata byte
  + 20,000 per storage slot written from zero to non-zero (SSTORE set)
  +  2,900 per storage slot changed from one non-zero value to another (SSTORE reset,
           the warm price; the 2,100 cold-access surcharge is left out: the floor stays a
           lower bound), 0 for a slot cleared to zero (it earns a refund)
  +    375 per log, 375 per topic, 8 per byte of log data

Which slots a transaction wrote, and from what to what, comes from the node itself
(``debug_traceTransaction`` with the ``prestateTracer`` in diff mode, which anvil answers;
ganache has no such tracer, so its rows reuse the slot counts anvil traced for the same
operation). Hashing, memory, calls, reads and the signature check are not in the floor:
what remains between gas and floor is the price of the contract's own checks.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from chain.node import rpc_call

TX_BASE, NEW_SLOT, UPDATED_SLOT, LOG, LOG_TOPIC, LOG_BYTE = 21_000, 20_000, 2_900, 375, 375, 8


def calldata_gas(data: bytes) -> int:
    zeros = data.count(0)
    return 4 * zeros + 16 * (len(data) - zeros)


def log_gas(logs) -> int:
    return sum(LOG + LOG_TOPIC * len(entry["topics"]) + LOG_BYTE * len(bytes(entry["data"])) for entry in logs)


def storage_writes(url: str, tx_hash: str) -> tuple[int, int] | None:
    """(new, updated) storage slots written by ``tx_hash``, from the node's prestate diff; None if unsupported."""
    try:
        diff = rpc_call(url, "debug_traceTransaction", [tx_hash, {"tracer": "prestateTracer", "tracerConfig": {"diffMode": True}}])
    except Exception:
        return None
    if not isinstance(diff, dict) or "pre" not in diff:
        return None
    new = updated = 0
    for address, post in diff.get("post", {}).items():
        pre_storage = diff["pre"].get(address, {}).get("storage", {})
        for slot, value in post.get("storage", {}).items():
            before, after = int(pre_storage.get(slot, "0x0"), 16), int(value, 16)
            if before == after or after == 0:
                continue
            if before == 0:
                new += 1
            else:
                updated += 1
    return new, updated


@dataclass
class GasRow:
    operation: str
    gas: int
    calldata: int
    logs: int
    slots: tuple[int, int] | None  # (new, updated)
    items: int = 1  # certificates, pulls, ... the operation covers

    @property
    def floor(self) -> int | None:
        if self.slots is None:
            return None
        return TX_BASE + self.calldata + NEW_SLOT * self.slots[0] + UPDATED_SLOT * self.slots[1] + self.logs

    def as_json(self) -> dict:
        return {"operation": self.operation, "gas": self.gas, "floor": self.floor, "items": self.items,
                "per_item": round(self.gas / self.items, 1), "calldata_gas": self.calldata, "log_gas": self.logs,
                "new_slots": self.slots[0] if self.slots else None, "updated_slots": self.slots[1] if self.slots else None,
                "gas_over_floor": round(self.gas / self.floor, 3) if self.floor else None}  # fmt: skip


def measure(w3, url: str, operation: str, receipt, items: int = 1, slots: tuple[int, int] | None = None, *, trace: bool = True) -> GasRow:
    """A gas row for the mined ``receipt`` (a chain.tx.Receipt); ``slots`` when the node cannot trace them."""
    tx = w3.eth.get_transaction(receipt.tx_hash)
    raw = w3.eth.get_transaction_receipt(receipt.tx_hash)
    traced = storage_writes(url, receipt.tx_hash) if trace else None
    return GasRow(operation, receipt.gas_used, calldata_gas(bytes(tx["input"])), log_gas(raw["logs"]), traced or slots, items)


# -- where the gas goes ------------------------------------------------------------------------

PRECOMPILES = {1: "ecrecover (precompile)", 2: "sha256 (precompile)", 4: "identity (precompile)"}
CALLS = ("CALL", "STATICCALL", "DELEGATECALL", "CALLCODE")


def trace_breakdown(url: str, tx_hash: str, calldata: int, *, gas_used: int, calls: dict[str, str] | None = None, slots: dict[int, str] | None = None) -> dict[str, int] | None:
    """Gas of one mined transaction split by what it paid for, from the node's opcode trace
    (``debug_traceTransaction``, struct logs: anvil answers it; None when the node does not).

    Each top-frame opcode is charged what it consumed (the gas left before it minus the gas left
    at the next opcode of the same frame), so a call is charged with everything done inside it.
    Parts: the transaction base cost and calldata (priced from the input bytes), every precompile
    call by name (``ecrecover``), calls to the addresses in ``calls`` by their label (e.g. the
    registry), other external calls, ``KECCAK256``, ``LOG*`` (events), ``SLOAD``/``SSTORE`` (by
    ``slots``' label for a known slot key, else "storage"), and the rest as "code" (ABI decoding
    and encoding, memory, jumps, checks; it also absorbs any refund so the parts add up to
    ``gas_used`` exactly).
    """
    try:
        trace = rpc_call(url, "debug_traceTransaction", [tx_hash, {"disableStorage": True, "disableMemory": True, "enableMemory": False}])
    except Exception:
        return None
    steps = trace.get("structLogs") if isinstance(trace, dict) else None
    if not steps:
        return None
    calls = {k.lower(): v for k, v in (calls or {}).items()}
    parts: Counter = Counter({"transaction base cost": TX_BASE, "calldata": calldata})
    top = steps[0]["depth"]
    frame = [i for i, step in enumerate(steps) if step["depth"] == top]
    for here, nxt in zip(frame, [*frame[1:], None]):
        step = steps[here]
        op = step["op"]
        used = step["gas"] - steps[nxt]["gas"] if nxt is not None else step["gasCost"]
        if op in CALLS:
            target = int(step["stack"][-2], 16)
            label = PRECOMPILES.get(target) or calls.get(f"0x{target:040x}") or "other external calls"
        elif op in ("SLOAD", "SSTORE"):
            label = (slots or {}).get(int(step["stack"][-1], 16), "storage (" + op + ")")
        elif op in ("CREATE", "CREATE2"):
            label = "contract creation (" + op + ", code deposit)"
        elif op in ("EXTCODESIZE", "EXTCODEHASH", "EXTCODECOPY"):
            label = "account code reads (" + op + ")"
        elif op.startswith("LOG"):
            label = "events (LOG)"
        elif op in ("KECCAK256", "SHA3"):
            label = "keccak256"
        else:
            label = "code"
        parts[label] += used
    parts["code"] += gas_used - sum(parts.values())  # refunds, and rounding of the top frame's end
    return dict(parts)


# -- memory ------------------------------------------------------------------------------------


def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU seconds ``pid`` has used so far (/proc/<pid>/stat), None if unreadable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except (OSError, TypeError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int | None) -> float | None:
    """The process's peak resident set (VmHWM in /proc), in MB; None once it is gone."""
    if not pid:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


# -- profiles ----------------------------------------------------------------------------------

PROJECT = re.compile(r"\((?:.*/)?(api|chain|identity)/[^/]+(?:/[^/]+)?\.py:\d+\)")
IDLE_LEAVES = ("wait (threading.py", "select (selectors.py", "_worker (concurrent/futures/thread.py", "get (queue.py",
               "acquire (", "poll (selectors.py", "accept (socket.py", "sleep (", "run_forever", "_run_once")  # fmt: skip


@dataclass
class Profile:
    """py-spy sampling one process (by pid) for the length of one phase."""

    path: Path
    pid: int
    process: subprocess.Popen | None = None
    error: str | None = None

    def start(self, pyspy: str | None, rate: int = 97) -> "Profile":
        if not pyspy:
            self.error = "py-spy not installed (make bench installs it: pip install -e '.[bench]')"
            return self
        argv = [pyspy, "record", "--pid", str(self.pid), "--rate", str(rate), "--format", "raw", "--idle", "--nonblocking", "-o", str(self.path)]
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        return self

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            _, err = self.process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, err = self.process.communicate()
        if not self.path.exists():
            self.error = f"py-spy wrote nothing: {err.decode(errors='replace').strip()[-300:]}"

    def stages(self, rules: list[tuple[str, tuple[str, ...]]]) -> dict[str, int]:
        """Busy samples per stage: a sample goes to the first rule matching a frame, from the
        innermost frame outwards; a sample in no project code whose innermost frame waits
        (an idle worker, the event loop's select) is dropped."""
        counts: Counter = Counter()
        if self.error or not self.path.exists():
            return {}
        for line in self.path.read_text(errors="replace").splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit():
                continue
            frames = stack.split(";")
            if not any(PROJECT.search(f) for f in frames) and any(frames[-1].startswith(idle) or idle in frames[-1] for idle in IDLE_LEAVES):
                continue
            for frame in reversed(frames):
                stage = next((name for name, needles in rules if any(n in frame for n in needles)), None)
                if stage:
                    counts[stage] += int(count)
                    break
            else:
                counts["other (interpreter, libraries)"] += int(count)
        return dict(counts.most_common())


def pyspy_binary() -> str | None:
    candidate = Path(os.sys.executable).parent / "py-spy"
    if candidate.exists():
        return str(candidate)
    from shutil import which

    return which("py-spy")


def summarize(counts: dict[str, int]) -> dict:
    total = sum(counts.values())
    if not total:
        return {"slowest": None, "stages": {}}
    shares = {k: round(100 * v / total, 1) for k, v in counts.items()}
    return {"slowest": next(iter(shares)), "stages": shares, "samples": total}


# -- tables ------------------------------------------------------------------------------------


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)
    note: str = ""

    def add(self, *cells) -> None:
        self.rows.append([_cell(c) for c in cells])

    def rich(self):
        from rich.table import Table as RichTable

        table = RichTable(title=self.title, title_justify="left", caption=self.note or None, caption_justify="left")
        for index, column in enumerate(self.columns):
            table.add_column(column, justify="left" if index == 0 else "right")
        for row in self.rows:
            table.add_row(*row)
        return table

    def markdown(self) -> str:
        lines = [f"### {self.title}", "", "| " + " | ".join(self.columns) + " |", "|" + "---|" * len(self.columns)]
        lines += ["| " + " | ".join(r) + " |" for r in self.rows]
        if self.note:
            lines += ["", self.note]
        return "\n".join(lines) + "\n"

    def as_json(self) -> dict:
        return {"title": self.title, "columns": self.columns, "rows": self.rows, "note": self.note}


def _cell(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 10 else f"{value:,.2f}"
    return str(value)
