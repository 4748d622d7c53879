"""The services around the platform API in a local stack: the face-verification vendor
stand-in and one gateway per dev data holder, each its own process on its own port."""

from __future__ import annotations

import json
import os
from contextlib import ExitStack
from pathlib import Path

from api.services import ServiceProcess
from api.settings import Settings
from chain.registry import Role
from identity.parties import DEV_MEMBERS

DEV_HOLDERS = [party for party, (*_, roles, _categories) in DEV_MEMBERS.items() if Role.DATA_HOLDER in roles]


class LocalServices:
    """Start the vendor and the gateways for ``settings`` (its state dir holds the deployment
    record and the dev secrets); :attr:`overrides` are the API settings that point at them."""

    def __init__(self, settings: Settings, log_dir: Path | None = None, node_config: Path | None = None):
        self.settings, self.log_dir = settings, log_dir
        base = {**os.environ}
        if node_config:
            base["GOVCHAIN_NODE_CONFIG"] = str(node_config)
        self.vendor = ServiceProcess(
            "face-verification vendor", "api.dev.face_vendor",
            {**base, "FACE_VENDOR_WEBHOOK_SECRET": settings.secret("face_webhook_secret"),
             "FACE_VENDOR_API_KEY": settings.secret("face_vendor_api_key")},
            health_path="/v1/health", log_file=self._log("face-vendor"),
        )  # fmt: skip
        self.gateways = {
            party: ServiceProcess(
                f"gateway {party}",
                "gateway",
                {
                    **base,
                    "GOVCHAIN_GATEWAY_HOLDER_PARTY": party,
                    "GOVCHAIN_GATEWAY_RPC_URL": settings.rpc_url,
                    "GOVCHAIN_GATEWAY_STATE_DIR": str(settings.state_dir),
                    "GOVCHAIN_GATEWAY_CHAIN_ID": str(settings.chain_id),
                },
                health_path="/v1/health",
                log_file=self._log(f"gateway-{party}"),
            )  # fmt: skip
            for party in DEV_HOLDERS
        }
        self._stack = ExitStack()

    def _log(self, name: str) -> Path | None:
        return self.log_dir / f"{name}.log" if self.log_dir else None

    @property
    def gateway_urls(self) -> dict[str, str]:
        """Data holder domain -> its gateway's URL (the setting ``gateways``)."""
        return {DEV_MEMBERS[party][2]: service.url for party, service in self.gateways.items()}

    @property
    def overrides(self) -> dict:
        return {"face": self.settings.face.model_copy(update={"vendor_url": self.vendor.url}), "gateways": self.gateway_urls}

    def write_stack_file(self, path: Path, api_url: str) -> None:
        """Where everything runs, for `govchain demo` (the file is private: it holds a dev key)."""
        info = {"api": api_url, "rpc": self.settings.rpc_url, "vendor": self.vendor.url, "face_vendor_url": self.vendor.url,
                "vendor_api_key": self.settings.secret("face_vendor_api_key"), "gateways": self.gateway_urls}  # fmt: skip
        path.write_text(json.dumps(info, indent=2))
        path.chmod(0o600)

    def __enter__(self) -> "LocalServices":
        try:
            self._stack.enter_context(self.vendor)
            for service in self.gateways.values():
                self._stack.enter_context(service)
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self._stack.close()
