"""Face-verification fixtures: the vendor stand-in as its own process (real HTTP), and a
tiny HTTP server that records what it receives (the platform's callback endpoint, or a
fake vendor that answers whatever a test needs)."""

from __future__ import annotations

import ctypes
import os
import platform
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from chain.config import PROJECT_ROOT
from chain.node import free_port
from identity.face import FaceVendorClient, new_webhook_secret

CLAIMED_NAME = "张三丰"
CLAIMED_ID = "11010519491231002X"


@dataclass
class Received:
    method: str
    path: str
    body: bytes
    headers: dict[str, str]


@dataclass
class Recorder:
    """An HTTP server in a thread: records every request, answers ``status`` + ``body``,
    and calls ``hook(received)`` (in the server thread) before answering, if set."""

    status: int = 204
    body: bytes = b""
    content_type: str = "application/json"
    hook: Callable[[Received], None] | None = None
    received: list[Received] = field(default_factory=list)
    hook_errors: list[BaseException] = field(default_factory=list)

    def __post_init__(self):
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                item = Received(self.command, self.path, self.rfile.read(length), dict(self.headers.items()))
                recorder.received.append(item)
                if recorder.hook is not None:
                    try:
                        recorder.hook(item)
                    except BaseException as exc:  # noqa: BLE001 - reported by the fixture, not swallowed
                        recorder.hook_errors.append(exc)
                self.send_response(recorder.status)
                self.send_header("Content-Type", recorder.content_type)
                self.send_header("Content-Length", str(len(recorder.body)))
                self.end_headers()
                self.wfile.write(recorder.body)

            do_GET = do_POST = _handle

            def log_message(self, *args):
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@dataclass(frozen=True)
class Vendor:
    url: str
    secret: str
    api_key: str
    log: Path
    process: subprocess.Popen


def die_with_parent() -> None:  # runs in the child between fork and exec
    if platform.system() == "Linux":
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def vendor_env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACE_VENDOR_")}
    return {**env, **values}


def start_vendor(port: int, env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "api.dev.face_vendor", "--host", "127.0.0.1", "--port", str(port), "--log-level", "info"],
            cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,  # noqa: PLW1509 - as chain.node does
        )  # fmt: skip


@pytest.fixture(scope="session")
def vendor(tmp_path_factory) -> Vendor:
    secret, api_key = new_webhook_secret(), secrets.token_urlsafe(24)
    log = tmp_path_factory.mktemp("vendor") / "vendor.log"
    port = free_port()
    process = start_vendor(port, vendor_env(FACE_VENDOR_WEBHOOK_SECRET=secret, FACE_VENDOR_API_KEY=api_key), log)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60  # as the stack's services: a start on a loaded 2-core machine takes a while
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the vendor exited with {process.returncode}:\n{log.read_text()}")
            try:
                if httpx.get(f"{url}/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the vendor did not answer within 60 s:\n{log.read_text()}")
            time.sleep(0.05)
        yield Vendor(url, secret, api_key, log, process)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@pytest.fixture
def client(vendor) -> FaceVendorClient:
    with FaceVendorClient(vendor.url, vendor.api_key, timeout=10) as made:
        yield made


@pytest.fixture
def receiver():
    recorder = Recorder()
    yield recorder
    recorder.close()
    assert not recorder.hook_errors, recorder.hook_errors


@pytest.fixture
def stub():
    """A fake vendor: set ``status``/``body`` to what it should answer."""
    recorder = Recorder(status=200)
    yield recorder
    recorder.close()
