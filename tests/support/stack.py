"""A whole local stack over real HTTP: the platform API (in a thread of the test process), the
face-verification vendor stand-in and two data-holder gateways (separate processes), on the
suite's node."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from api.dev.stack import LocalServices
from api.settings import IssueSettings
from chain.deploy import write_record
from tests.support.api import ApiServer, Clock, api_settings, bearer, sign_in


@dataclass
class Stack:
    api: ApiServer
    services: LocalServices
    http: httpx.Client
    clock: Clock

    def vendor(self, method: str, path: str, **kwargs) -> httpx.Response:
        key = self.api.settings.secret("face_vendor_api_key")
        return httpx.request(method, self.services.vendor.url + path, headers={"Authorization": f"Bearer {key}"}, timeout=30, **kwargs)

    def sign_in(self, account) -> dict[str, str]:
        """The bearer header of ``account`` signed in to the stack's API."""
        return bearer(sign_in(self.http, account))


@contextmanager
def running_stack(client, deployment, state: Path) -> Iterator[Stack]:
    """The API, the face vendor and two gateways on the suite's node, state in ``state``."""
    write_record(state, deployment)
    base = api_settings(state, f"sqlite:///{state / 'platform.db'}", client.w3.provider.endpoint_uri, issue=IssueSettings(batch_seconds=0.2))
    with LocalServices(base, log_dir=state / "logs") as services:
        settings = base.model_copy(update=services.overrides)
        clock = Clock()
        with ApiServer(settings, clock) as api, httpx.Client(base_url=api.url, timeout=120) as http:
            yield Stack(api, services, http, clock)
    client.nonces.reset()  # the stack's processes sent with shared dev keys
