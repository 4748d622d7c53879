"""A data holder's gateway settings: ``GOVCHAIN_GATEWAY_*`` variables, nothing of the platform's."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import SettingsConfigDict

from chain.config import Environment
from chain.errors import ConfigError
from chain.settings import ProgramSettings


class GatewaySettings(ProgramSettings):
    """What every program has (:class:`chain.settings.ProgramSettings`: ``GOVCHAIN_GATEWAY_RPC_URL``,
    ``..._STATE_DIR`` (where deployment.json is), ``..._DATABASE_URL``, ``..._MAX_INFLIGHT`` ...), and
    the holder's own."""

    model_config = SettingsConfigDict(env_prefix="GOVCHAIN_GATEWAY_", extra="ignore", populate_by_name=True)

    # GOVCHAIN_GATEWAY_ENV, else the deployment's GOVCHAIN_ENV: a gateway next to a production
    # platform is not left in dev (with the dev holder key) because its own variable was forgotten
    env: Environment = Field(Environment.DEV, validation_alias=AliasChoices("GOVCHAIN_GATEWAY_ENV", "GOVCHAIN_ENV"))
    holder_party: str = "holder_psb"  # dev: the dev key of this party
    hpke_generation: int = Field(0, ge=0, le=1000)  # the holder's current HPKE key generation; earlier ones still open
    keystore: Path | None = None  # production: the holder's encrypted keystore
    max_batch: int = 32
    batch_interval: float = 0.02  # how long a batch waits for more records, only while another batch is in flight
    batches_in_flight: int = Field(4, ge=1, le=64)  # recordPulls batches sent and not yet mined, at once
    clock_skew_seconds: int = 300
    dataset_size: int = 2000

    @model_validator(mode="after")
    def _production_refuses_dev_defaults(self) -> "GatewaySettings":
        """Production needs the holder's own keystore (no dev key), and says where its node and
        its state are: the defaults point at this machine's dev set-up."""
        if self.env is Environment.PRODUCTION:
            if not self.keystore:
                raise ConfigError("production needs GOVCHAIN_GATEWAY_KEYSTORE: the dev holder keys are refused")
            for name in ("rpc_url", "state_dir"):
                if name not in self.model_fields_set:
                    raise ConfigError(f"production needs GOVCHAIN_GATEWAY_{name.upper()}; the default ({getattr(self, name)}) is the dev set-up")
        return self
