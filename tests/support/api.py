"""A real platform API in a thread of the test process: uvicorn on a free loopback port, with a
clock the tests move, and the sign-in every API test does."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import uvicorn

from api.app import create_app
from httpkit import get_now
from api.settings import Settings, VerifySettings
from chain.node import free_port
from identity import siwe


@dataclass
class Clock:
    """The API's notion of now; tests move it."""

    offset: timedelta = field(default_factory=timedelta)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


class ApiServer:
    def __init__(self, settings: Settings, clock: Clock):
        self.settings = settings
        self.app = create_app(settings)
        self.app.dependency_overrides[get_now] = clock.now
        host, port = settings.public_domain.split(":")
        self.server = uvicorn.Server(uvicorn.Config(self.app, host=host, port=int(port), log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = settings.public_url

    def __enter__(self) -> "ApiServer":
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the API did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)

    @property
    def platform(self):
        """The running API's Platform (same process): tests read chain clients and tune the issuer through it."""
        return self.app.state.platform


def api_settings(tmp_path, database_url, rpc_url, **overrides) -> Settings:
    port = free_port()
    return Settings(
        state_dir=tmp_path,
        database_url=database_url,
        rpc_url=rpc_url,
        public_domain=f"127.0.0.1:{port}",
        public_url=f"http://127.0.0.1:{port}",
        role_cache_seconds=0,
        # tests verify right after their writes: the index answers only when it holds the head
        **{"verify": VerifySettings(head_seconds=0, max_index_lag=0), **overrides},
    )


def sign_in(http: httpx.Client, account) -> str:
    challenge = http.post("/v1/auth/challenge", json={"address": account.address})
    assert challenge.status_code == 201, challenge.text
    message = challenge.json()["message"]
    token = http.post("/v1/auth/token", json={"message": message, "signature": siwe.sign(message, account.key)})
    assert token.status_code == 200, token.text
    return token.json()["access_token"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
