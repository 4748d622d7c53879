"""Compiling through the solcjs shim: artifacts, the cache per source hash, and errors."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from chain.compile import compile_contracts, solc_binary
from chain.errors import CompileError

pytestmark = pytest.mark.proc  # each test runs the compiler (node + solcjs)

# A small project of the same shape as contracts/ (an OpenZeppelin import included): the whole
# project is compiled once per run by the session's `build` fixture, so these tests need not.
SMALL = """// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;
import "@openzeppelin/contracts/access/AccessControl.sol";

contract Small is AccessControl {
    constructor() { _grantRole(DEFAULT_ADMIN_ROLE, msg.sender); }
}
"""


@pytest.fixture
def project(tmp_path):
    contracts = tmp_path / "contracts"
    contracts.mkdir()
    (contracts / "Small.sol").write_text(SMALL)
    return contracts, tmp_path / "build"


def test_the_project_compiles(build):
    deployable = ("GovRegistry", "ConsentRegistry", "DocumentStore", "EvidenceLedger", "TenderLedger")
    assert all(build[name].bytecode for name in deployable)


def test_compiles_once_for_processes_starting_together_and_caches_by_source_hash(project):
    contracts, build_dir = project
    with ThreadPoolExecutor(3) as pool:  # the first to take the build lock compiles; the others load its output
        builds = list(pool.map(lambda _: compile_contracts(contracts, build_dir), range(3)))
    assert sorted(build.cached for build in builds) == [False, True, True]
    first = next(build for build in builds if not build.cached)
    assert "Small" in first.artifacts and first["Small"].bytecode
    assert "AccessControl" not in first.artifacts  # OpenZeppelin's own units are not ours to deploy
    assert first.compiler.startswith("0.8.")
    assert len(list(build_dir.glob("*.json"))) == 1
    again = compile_contracts(contracts, build_dir)
    assert again.cached is True and again.source_hash == first.source_hash
    assert again["Small"].bytecode == first["Small"].bytecode
    # a changed source gives a new hash and a new cache entry
    (contracts / "Extra.sol").write_text("// SPDX-License-Identifier: Apache-2.0\npragma solidity ^0.8.24;\ncontract Extra {}\n")
    changed = compile_contracts(contracts, build_dir)
    assert changed.cached is False and changed.source_hash != first.source_hash
    assert "Extra" in changed.artifacts
    assert len(list(build_dir.glob("*.json"))) == 2


def test_compile_error_names_file_and_line(project):
    contracts, build_dir = project
    (contracts / "Broken.sol").write_text("// SPDX-License-Identifier: Apache-2.0\npragma solidity ^0.8.24;\n\ncontract Broken {\n    uint256 x = ;\n}\n")
    with pytest.raises(CompileError) as failed:
        compile_contracts(contracts, build_dir)
    (file, line, message) = failed.value.errors[0]
    assert (file, line) == ("contracts/Broken.sol", 5)
    assert "ParserError" in message
    assert "contracts/Broken.sol:5:" in str(failed.value)
    assert not list(build_dir.glob("*.json"))  # nothing cached for a failed build


def test_missing_import_is_reported(project):
    contracts, build_dir = project
    (contracts / "Imports.sol").write_text('// SPDX-License-Identifier: Apache-2.0\npragma solidity ^0.8.24;\nimport "@openzeppelin/contracts/NoSuchFile.sol";\n')
    with pytest.raises(CompileError) as failed:
        compile_contracts(contracts, build_dir)
    assert failed.value.errors[0][0] == "contracts/Imports.sol"
    assert "NoSuchFile.sol" in str(failed.value)


def test_native_solc_path_must_be_absolute(monkeypatch):
    monkeypatch.setenv("GOVCHAIN_SOLC", "solc")
    with pytest.raises(CompileError, match="absolute"):
        solc_binary()
