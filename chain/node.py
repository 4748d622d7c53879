"""Start and stop a local EVM node (ganache or anvil) from a :class:`NodeConfig`.

The node runs as a child process on a free port, logs to a file, and dies with its
parent (Linux ``PR_SET_PDEATHSIG``), so no node is ever left behind.
"""

from __future__ import annotations

import ctypes
import json
import os
import platform
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from typing import BinaryIO
from pathlib import Path

from chain.config import PROJECT_ROOT, NodeConfig
from chain.errors import ChainMismatch, NodeError

NODE_MODULES = Path(os.environ.get("GOVCHAIN_NODE_MODULES", PROJECT_ROOT / "node_modules"))


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies (run between fork and exec)."""
    if platform.system() == "Linux":
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def anvil_binary(node_modules: Path = NODE_MODULES) -> Path:
    """The platform binary that `@foundry-rs/anvil` ships in its optional package."""
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}[platform.machine().lower()]
    binary = node_modules / "@foundry-rs" / f"anvil-{platform.system().lower()}-{arch}" / "bin" / "anvil"
    if not binary.exists():
        raise NodeError(f"anvil binary not found at {binary}; run `npm ci`")
    return binary


def node_command(config: NodeConfig, port: int, node_modules: Path = NODE_MODULES) -> list[str]:
    """The argv that starts the configured node on ``port``."""
    if config.kind == "ganache":
        cli = node_modules / "ganache" / "dist" / "node" / "cli.js"
        if not cli.exists():
            raise NodeError(f"ganache not found at {cli}; run `npm ci`")
        argv = [
            "node", str(cli),
            "--chain.chainId", str(config.chain_id),
            "--chain.hardfork", "shanghai",
            "--server.host", config.host,
            "--server.port", str(port),
            "--wallet.mnemonic", config.mnemonic,
            "--wallet.totalAccounts", str(config.accounts),
            "--wallet.defaultBalance", str(config.balance_ether),
            "--miner.blockGasLimit", hex(config.block_gas_limit),
            "--miner.blockTime", str(config.block_time),
        ]  # fmt: skip
        if config.state_dir:
            argv += ["--database.dbPath", str(config.state_dir / "ganache")]
        return argv
    argv = [
        str(anvil_binary(node_modules)),
        "--chain-id", str(config.chain_id),
        "--host", config.host,
        "--port", str(port),
        "--mnemonic", config.mnemonic,
        "--accounts", str(config.accounts),
        "--balance", str(config.balance_ether),
        "--gas-limit", str(config.block_gas_limit),
    ]  # fmt: skip
    if config.block_time:
        argv += ["--block-time", str(config.block_time)]
    if config.gas_price_wei == 0:
        argv += ["--base-fee", "0", "--gas-price", "0"]
    else:
        argv += ["--gas-price", str(config.gas_price_wei)]
    if config.state_dir:
        argv += ["--state", str(config.state_dir / "anvil-state.json"), "--state-interval", "1"]
    if config.steps_tracing:
        argv += ["--steps-tracing"]
    return argv


def rpc_call(url: str, method: str, params: list | None = None, timeout: float = 2.0):
    """One raw JSON-RPC call (used before web3 is wired, e.g. while waiting for start-up)."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        reply = json.loads(response.read())
    if "error" in reply:
        raise NodeError(f"{method} failed: {reply['error']}")
    return reply["result"]


def stop_process(process: subprocess.Popen | None, timeout: float = 10.0) -> None:
    """SIGTERM, then SIGKILL after ``timeout`` seconds; nothing if it already ended."""
    if process and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class LocalNode:
    """A running local node. Use as a context manager, or call :meth:`start`/:meth:`stop`."""

    def __init__(self, config: NodeConfig, node_modules: Path = NODE_MODULES):
        self.config = config
        self.node_modules = node_modules
        self.port = config.port
        self.process: subprocess.Popen | None = None
        self._log: BinaryIO | None = None

    @property
    def url(self) -> str:
        return f"http://{self.config.host}:{self.port}"

    @property
    def log_path(self) -> Path | None:
        return self.config.log_file

    def start(self, timeout: float = 30.0) -> "LocalNode":
        if self.process and self.process.poll() is None:
            raise NodeError(f"node already running at {self.url} (pid {self.process.pid})")
        if not self.config.port:
            self.port = free_port(self.config.host)
        if self.config.state_dir:
            self.config.state_dir.mkdir(parents=True, exist_ok=True)
        argv = node_command(self.config, self.port, self.node_modules)
        if self.config.log_file:
            self.config.log_file.parent.mkdir(parents=True, exist_ok=True)
            self._log = open(self.config.log_file, "ab")
        out = self._log or subprocess.DEVNULL
        self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, preexec_fn=die_with_parent)
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        process = self.process
        if process is None:
            raise NodeError(f"{self.config.kind} was not started")
        while True:
            if process.poll() is not None:
                self._close_log()
                raise NodeError(f"{self.config.kind} exited with code {process.returncode} during start-up; see {self.config.log_file or 'its output'}{self._log_tail()}")
            try:
                chain_id = int(rpc_call(self.url, "eth_chainId", timeout=1.0), 16)
                break
            except (OSError, urllib.error.URLError, NodeError, ValueError):
                if time.monotonic() > deadline:
                    self.stop()
                    raise NodeError(f"{self.config.kind} did not answer eth_chainId at {self.url} within {timeout:.0f} s") from None
                time.sleep(0.05)
        if chain_id != self.config.chain_id:
            self.stop()
            raise ChainMismatch(f"node at {self.url} reports chain id {chain_id}, expected {self.config.chain_id}")

    def _log_tail(self, lines: int = 15) -> str:
        if not self.config.log_file or not self.config.log_file.exists():
            return ""
        tail = self.config.log_file.read_text(errors="replace").splitlines()[-lines:]
        return "\n" + "\n".join(tail)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop cleanly (SIGTERM, then SIGKILL after ``timeout``)."""
        stop_process(self.process, timeout)
        self._close_log()

    def kill(self) -> None:
        """SIGKILL, as a crash would (tests use it to prove persistence)."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._close_log()

    def _close_log(self) -> None:
        if self._log:
            self._log.close()
            self._log = None

    def __enter__(self) -> "LocalNode":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
