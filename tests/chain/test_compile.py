"""Compiling through the solcjs shim: artifacts, the cache per source hash, and errors."""

from __future__ import annotations

import shutil

import pytest

from chain.compile import CONTRACTS_DIR, compile_contracts, solc_binary
from chain.errors import CompileError


@pytest.fixture
def project(tmp_path):
    contracts = tmp_path / "contracts"
    shutil.copytree(CONTRACTS_DIR, contracts)
    return contracts, tmp_path / "build"


def test_compiles_for_shanghai_and_caches_by_source_hash(project):
    contracts, build_dir = project
    first = compile_contracts(contracts, build_dir)
    assert first.cached is False
    assert "GovRegistry" in first.artifacts and first["GovRegistry"].bytecode
    assert first.compiler.startswith("0.8.")
    assert len(list(build_dir.glob("*.json"))) == 1
    again = compile_contracts(contracts, build_dir)
    assert again.cached is True and again.source_hash == first.source_hash
    assert again["GovRegistry"].bytecode == first["GovRegistry"].bytecode
    # a changed source gives a new hash and a new cache entry
    (contracts / "Extra.sol").write_text("// SPDX-License-Identifier: Apache-2.0\npragma solidity ^0.8.24;\ncontract Extra {}\n")
    changed = compile_contracts(contracts, build_dir)
    assert changed.cached is False and changed.source_hash != first.source_hash
    assert "Extra" in changed.artifacts
    assert len(list(build_dir.glob("*.json"))) == 2


def test_compile_error_names_file_and_line(project):
    contracts, build_dir = project
    (contracts / "Broken.sol").write_text(
        "// SPDX-License-Identifier: Apache-2.0\npragma solidity ^0.8.24;\n\ncontract Broken {\n    uint256 x = ;\n}\n"
    )
    with pytest.raises(CompileError) as failed:
        compile_contracts(contracts, build_dir)
    (file, line, message) = failed.value.errors[0]
    assert (file, line) == ("contracts/Broken.sol", 5)
    assert "ParserError" in message
    assert "contracts/Broken.sol:5:" in str(failed.value)
    assert not list(build_dir.glob("*.json"))  # nothing cached for a failed build


def test_missing_import_is_reported(project):
    contracts, build_dir = project
    (contracts / "Imports.sol").write_text(
        '// SPDX-License-Identifier: Apache-2.0\npragma solidity ^0.8.24;\nimport "@openzeppelin/contracts/NoSuchFile.sol";\n'
    )
    with pytest.raises(CompileError) as failed:
        compile_contracts(contracts, build_dir)
    assert failed.value.errors[0][0] == "contracts/Imports.sol"
    assert "NoSuchFile.sol" in str(failed.value)


def test_native_solc_path_must_be_absolute(monkeypatch):
    monkeypatch.setenv("GOVCHAIN_SOLC", "solc")
    with pytest.raises(CompileError, match="absolute"):
        solc_binary()
