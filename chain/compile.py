"""Compile ``contracts/**/*.sol`` with py-solc-x, cached per source hash.

No solc binary can be downloaded on these machines, so by default py-solc-x drives the
npm ``solc`` package (solcjs) through ``chain/solc_shim.js``. Set ``GOVCHAIN_SOLC`` to the
absolute path of a native solc to use that instead. Imports of ``@openzeppelin/...``
resolve from ``node_modules``.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import solcx
from solcx.wrapper import get_solc_version
from solcx.exceptions import SolcError

from chain.config import PROJECT_ROOT
from chain.errors import CompileError
from chain.node import NODE_MODULES

CONTRACTS_DIR = PROJECT_ROOT / "contracts"
BUILD_DIR = Path(os.environ.get("GOVCHAIN_BUILD_DIR", PROJECT_ROOT / "build"))
SHIM = Path(__file__).resolve().parent / "solc_shim.js"
EVM_VERSION = "shanghai"  # ganache's newest hardfork; runs on anvil and Besu as well
SETTINGS = {
    "evmVersion": EVM_VERSION,
    # tuned for calls over deployment (issue 15: recordPulls); viaIR keeps fields in registers, not memory
    "optimizer": {"enabled": True, "runs": 10_000},
    "viaIR": True,
    "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}},
}


@dataclass(frozen=True)
class Artifact:
    name: str
    source: str
    abi: list
    bytecode: str
    deployed_bytecode: str


@dataclass(frozen=True)
class Build:
    source_hash: str
    compiler: str
    artifacts: dict[str, Artifact]
    cached: bool

    def __getitem__(self, name: str) -> Artifact:
        return self.artifacts[name]


def solc_binary() -> Path:
    chosen = os.environ.get("GOVCHAIN_SOLC")
    path = Path(chosen) if chosen else SHIM
    if not path.is_absolute():
        raise CompileError([(str(path), 0, "GOVCHAIN_SOLC must be an absolute path")])
    return path


def _dependency_versions(node_modules: Path) -> dict[str, str]:
    versions = {}
    for package in ("@openzeppelin/contracts", "solc"):
        manifest = node_modules / package / "package.json"
        versions[package] = json.loads(manifest.read_text())["version"] if manifest.exists() else "missing"
    return versions


def collect_sources(contracts_dir: Path) -> dict[str, str]:
    """Source unit name (relative to the project root) -> content, in a stable order."""
    root = contracts_dir.parent
    return {path.relative_to(root).as_posix(): path.read_text(encoding="utf-8") for path in sorted(contracts_dir.rglob("*.sol"))}


def source_hash(sources: dict[str, str], compiler: str, node_modules: Path) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps([compiler, SETTINGS, _dependency_versions(node_modules)], sort_keys=True).encode())
    for name, content in sources.items():
        digest.update(name.encode() + b"\0" + content.encode() + b"\0")
    return digest.hexdigest()


def compile_contracts(contracts_dir: Path = CONTRACTS_DIR, build_dir: Path = BUILD_DIR, node_modules: Path = NODE_MODULES) -> Build:
    """Compile every contract, or load the cached artifacts when nothing changed."""
    binary = solc_binary()
    compiler = str(get_solc_version(binary, with_commit_hash=True))
    sources = collect_sources(contracts_dir)
    if not sources:
        raise CompileError([(str(contracts_dir), 0, "no .sol files found")])
    key = source_hash(sources, compiler, node_modules)
    cache = build_dir / f"{key}.json"
    if cache.exists():
        return _load(cache, cached=True)
    # Processes starting together (test workers, `make run` beside a test run) compile once:
    # the first takes the lock and compiles, the others wait and load what it wrote.
    with _build_lock(build_dir):
        if cache.exists():
            return _load(cache, cached=True)
        return _compile(sources, compiler, key, cache, contracts_dir, node_modules, binary)


@contextmanager
def _build_lock(build_dir: Path) -> Iterator[None]:
    build_dir.mkdir(parents=True, exist_ok=True)
    with open(build_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, also if the process dies
        yield


def _compile(sources: dict[str, str], compiler: str, key: str, cache: Path, contracts_dir: Path, node_modules: Path, binary: Path) -> Build:
    build_dir = cache.parent
    root = contracts_dir.parent
    standard_input = {
        "language": "Solidity",
        "sources": {name: {"content": content} for name, content in sources.items()},
        "settings": SETTINGS,
    }
    try:
        output = solcx.compile_standard(standard_input, base_path=str(root), allow_paths=[str(node_modules)], solc_binary=binary)
    except SolcError as exc:
        raise CompileError(_errors(cast(list[dict], exc.error_dict or []), sources, exc.message)) from None  # solc reports a list

    artifacts = {}
    for unit, contracts in output["contracts"].items():
        if not unit.startswith(contracts_dir.relative_to(root).as_posix() + "/"):
            continue  # OpenZeppelin's own units are not ours to deploy
        for name, out in contracts.items():
            artifacts[name] = {
                "name": name,
                "source": unit,
                "abi": out["abi"],
                "bytecode": out["evm"]["bytecode"]["object"],
                "deployed_bytecode": out["evm"]["deployedBytecode"]["object"],
            }
    record = {"source_hash": key, "compiler": compiler, "artifacts": artifacts}
    # write-then-rename: a crash never leaves a half-written cache entry behind
    with tempfile.NamedTemporaryFile("w", dir=build_dir, suffix=".tmp", delete=False) as tmp:
        json.dump(record, tmp)
    os.replace(tmp.name, cache)
    return _load(cache, cached=False)


def _load(path: Path, cached: bool) -> Build:
    record = json.loads(path.read_text())
    return Build(
        source_hash=record["source_hash"],
        compiler=record["compiler"],
        artifacts={name: Artifact(**a) for name, a in record["artifacts"].items()},
        cached=cached,
    )


def _errors(error_dict: list[dict], sources: dict[str, str], fallback: str) -> list[tuple[str, int, str]]:
    found = []
    for error in error_dict:
        if error.get("severity") != "error":
            continue
        location = error.get("sourceLocation") or {}
        file = location.get("file", "<input>")
        start = location.get("start", -1)
        content = sources.get(file)
        line = content[: max(start, 0)].count("\n") + 1 if content is not None and start >= 0 else 0
        found.append((file, line, f"{error.get('type', 'Error')}: {error.get('message', '').strip()}"))
    return found or [("<solc>", 0, fallback.strip())]
