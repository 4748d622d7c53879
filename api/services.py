"""Child services of a local stack (the face-vendor stand-in, the data-holder gateways):
separate processes on their own ports, started, awaited and stopped like the node."""

from __future__ import annotations

import subprocess
import sys
import time
from typing import BinaryIO
from pathlib import Path

import httpx

from chain.errors import GovchainError
from chain.node import die_with_parent, free_port, stop_process


class ServiceError(GovchainError, RuntimeError):
    """A child service did not come up."""


class ServiceProcess:
    def __init__(self, name: str, module: str, env: dict[str, str], *, health_path: str, log_file: Path | None = None, port: int = 0,
                 args: tuple[str, ...] = (), start_timeout: float = 60.0):  # fmt: skip
        """``python -m module *args --port PORT``, answering ``health_path`` once up (``with`` waits ``start_timeout``)."""
        self.name, self.module, self.env, self.health_path, self.log_file, self.args = name, module, env, health_path, log_file, args
        self.start_timeout = start_timeout
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None
        self._log: BinaryIO | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> "ServiceProcess":
        if self.log_file:
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
            self._log = open(self.log_file, "ab")
        out = self._log or subprocess.DEVNULL
        self.process = subprocess.Popen(
            [sys.executable, "-m", self.module, *self.args, "--port", str(self.port)],
            env=self.env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, preexec_fn=die_with_parent,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise ServiceError(f"{self.name} exited with code {self.process.returncode}; see {self.log_file or 'its output'}")
            try:
                if httpx.get(self.url + self.health_path, timeout=1).status_code < 500:
                    return self
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise ServiceError(f"{self.name} did not answer at {self.url}{self.health_path} within {timeout:.0f} s")
            time.sleep(0.1)

    def stop(self, timeout: float = 10.0) -> None:
        stop_process(self.process, timeout)
        if self._log:
            self._log.close()
            self._log = None

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> "ServiceProcess":
        return self.start(self.start_timeout)

    def __exit__(self, *exc) -> None:
        self.stop()
