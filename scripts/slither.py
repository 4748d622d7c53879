#!/usr/bin/env python3
"""Run Slither on contracts/ through crytic-compile's SolcStandardJson platform and the
solcjs shim (chain/solc_shim.js), print every finding, and check each one is fixed or
justified in contracts/SLITHER.md.

Slither's own CLI calls ``solc --combined-json``, which solcjs does not speak; the standard
JSON platform sends source paths and the shim's import callback reads them (and the
OpenZeppelin imports, remapped into node_modules). Slither lives in its own virtualenv
(``make slither`` creates .venv-slither): slither-analyzer pins web3 7, govchain needs web3 8.

    .venv-slither/bin/python scripts/slither.py [--json FILE]

Exit 0: every finding justified; 1: unjustified findings (listed); 2: Slither could not run.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

# this file is named slither.py: keep its folder off the import path, or it shadows the package
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
ROOT = Path(__file__).resolve().parent.parent
CONTRACTS = ROOT / "contracts"
SHIM = ROOT / "chain" / "solc_shim.js"
JUSTIFIED = CONTRACTS / "SLITHER.md"
# the settings chain/compile.py uses (shanghai: ganache's newest hardfork; viaIR: recordPulls is stack-too-deep without it)
SETTINGS = {"evmVersion": "shanghai", "optimizer": {"enabled": True, "runs": 10_000}, "viaIR": True, "remappings": ["@openzeppelin/=node_modules/@openzeppelin/"]}


def sources() -> list[Path]:
    return sorted(p for p in CONTRACTS.rglob("*.sol") if "test" not in p.relative_to(CONTRACTS).parts)


def run_slither():
    from crytic_compile import CryticCompile
    from crytic_compile.platform.solc_standard_json import SolcStandardJson
    from slither import Slither
    from slither.detectors import all_detectors
    from slither.detectors.abstract_detector import AbstractDetector

    platform = SolcStandardJson({"language": "Solidity", "sources": {}, "settings": SETTINGS})
    for path in sources():
        platform.add_source_file(str(path.relative_to(ROOT)))
    compiled = CryticCompile(platform, solc=str(SHIM), solc_working_dir=str(ROOT))
    slither = Slither(compiled, filter_paths=["node_modules"])
    for detector in vars(all_detectors).values():
        if isinstance(detector, type) and issubclass(detector, AbstractDetector) and detector is not AbstractDetector:
            slither.register_detector(detector)
    return [result for found in slither.run_detectors() for result in found]


def key_of(result: dict) -> str:
    """``check Contract.function`` (or ``check Contract``): how a finding is named in SLITHER.md."""
    first = next((e for e in result.get("elements", []) if e.get("type") in ("function", "contract", "variable", "node")), None)
    if first is None:
        return result["check"]
    parent = first.get("type_specific_fields", {}).get("parent", {})
    if first["type"] == "node":
        parent = parent.get("type_specific_fields", {}).get("parent", {}) if parent.get("type") == "function" else parent
        function = first.get("type_specific_fields", {}).get("parent", {}).get("name")
        return f"{result['check']} {parent.get('name', '?')}.{function}"
    if first["type"] == "contract":
        return f"{result['check']} {first['name']}"
    if parent.get("type") == "function":  # a local variable or parameter: Contract.function.name
        contract = parent.get("type_specific_fields", {}).get("parent", {}).get("name", "?")
        return f"{result['check']} {contract}.{parent.get('name', '?')}.{first['name']}"
    return f"{result['check']} {parent.get('name', '?')}.{first['name']}"


def justified() -> dict[str, str]:
    """``- `check Contract.member`: reason`` lines of contracts/SLITHER.md."""
    if not JUSTIFIED.exists():
        return {}
    lines = re.findall(r"^- `([^`]+)`: (.+)$", JUSTIFIED.read_text(encoding="utf-8"), flags=re.M)
    return dict(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the raw findings here")
    args = parser.parse_args()
    try:
        results = run_slither()
    except Exception as exc:  # compile or analysis failure: say why, distinctly from findings
        print(f"slither could not run: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    reasons = justified()
    open_findings = 0
    for result in sorted(results, key=lambda r: (r["impact"], key_of(r))):
        key = key_of(result)
        reason = reasons.get(key)
        open_findings += reason is None
        mark = "justified" if reason else "OPEN"
        print(f"[{result['impact']}/{result['confidence']}] {key} ({mark})")
        print("    " + result["description"].strip().splitlines()[0])
        if reason:
            print(f"    -> {reason}")
    stale = sorted(set(reasons) - {key_of(r) for r in results})
    for key in stale:
        print(f"note: {key} is justified in SLITHER.md but no longer found")
    print(f"{len(results)} findings, {len(results) - open_findings} justified, {open_findings} open, {len(sources())} source files")
    return 1 if open_findings else 0


if __name__ == "__main__":
    sys.exit(main())
