"""Load ``localnode.toml``: the settings every local node is started from."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path

from chain.errors import ConfigError


class Environment(str, Enum):
    """Where a govchain program runs: ``production`` refuses dev keys and dev defaults (the platform
    and every gateway read it)."""

    DEV = "dev"
    PRODUCTION = "production"


NODE_KINDS = ("ganache", "anvil")
PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = PROJECT_ROOT / "localnode.toml"


@dataclass(frozen=True)
class NodeConfig:
    kind: str = "ganache"
    chain_id: int = 1337
    host: str = "127.0.0.1"
    port: int = 0
    block_gas_limit: int = 30_000_000
    block_time: int = 0
    gas_price_wei: int = 0
    state_dir: Path | None = None
    log_file: Path | None = None
    mnemonic: str = ""
    accounts: int = 20
    balance_ether: int = 1_000_000
    parties: dict[str, int] = field(default_factory=dict)
    # anvil only: record every opcode so debug_traceTransaction returns struct logs (the gas
    # breakdowns of scripts/gas_report.py); off by default, it slows the node down.
    steps_tracing: bool = False

    def __post_init__(self) -> None:
        if self.kind not in NODE_KINDS:
            raise ConfigError(f"node kind {self.kind!r} is not one of {', '.join(NODE_KINDS)}")
        if self.block_time < 0:
            raise ConfigError(f"block_time {self.block_time} must be 0 (instant) or a positive number of seconds")
        if self.gas_price_wei < 0:
            raise ConfigError(f"gas_price_wei {self.gas_price_wei} must be 0 or more")
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"port {self.port} must be 0 (any free port) to 65535")
        if len(self.mnemonic.split()) not in (12, 15, 18, 21, 24):
            raise ConfigError("dev.mnemonic must be a BIP-39 mnemonic of 12 to 24 words")

    def with_(self, **changes) -> "NodeConfig":
        return replace(self, **changes)

    def party_index(self, party: str) -> int:
        try:
            return self.parties[party]
        except KeyError:
            raise ConfigError(f"no dev key for party {party!r}; known: {', '.join(sorted(self.parties))}") from None


def load_node_config(path: Path | str | None = None, *, env: Mapping[str, str] | None = None) -> NodeConfig:
    """Read the node settings; ``GOVCHAIN_NODE`` in ``env`` overrides ``node.kind``."""
    path = Path(path or os.environ.get("GOVCHAIN_NODE_CONFIG") or DEFAULT_CONFIG)
    environment: Mapping[str, str] = os.environ if env is None else env
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"node config {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"node config {path} is not valid TOML: {exc}") from None
    node, dev = data.get("node", {}), data.get("dev", {})
    base = path.parent

    def local(value: str | None) -> Path | None:
        return (base / value).resolve() if value else None

    try:
        return NodeConfig(
            kind=environment.get("GOVCHAIN_NODE") or node.get("kind", "ganache"),
            chain_id=int(node.get("chain_id", 1337)),
            host=node.get("host", "127.0.0.1"),
            port=int(node.get("port", 0)),
            block_gas_limit=int(node.get("block_gas_limit", 30_000_000)),
            block_time=int(node.get("block_time", 0)),
            gas_price_wei=int(node.get("gas_price_wei", 0)),
            state_dir=local(node.get("state_dir")),
            log_file=local(node.get("log_file")),
            mnemonic=dev.get("mnemonic", ""),
            accounts=int(dev.get("accounts", 20)),
            balance_ether=int(dev.get("balance_ether", 1_000_000)),
            parties={k: int(v) for k, v in dev.get("parties", {}).items()},
        )
    except (TypeError, ValueError) as exc:
        if isinstance(exc, ConfigError):
            raise
        raise ConfigError(f"node config {path}: {exc}") from None
