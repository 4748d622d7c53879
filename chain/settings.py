"""What every govchain program is configured with: the platform API (``GOVCHAIN_*``,
:mod:`api.settings`) and a data holder's gateway (``GOVCHAIN_GATEWAY_*``, :mod:`gateway.settings`)
each read these under their own prefix, and add their own settings."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings

from chain.config import PROJECT_ROOT, Environment


class ProgramSettings(BaseSettings):
    """The environment, the node, the state folder, the database and the back-pressure of one
    program; a subclass names its variables' prefix (``model_config``)."""

    env: Environment = Environment.DEV
    rpc_url: str = "http://127.0.0.1:8545"
    chain_id: int = 1337  # checked against the node at connect
    state_dir: Path = PROJECT_ROOT / ".govchain"  # the deployment record, the SQLite file, dev secrets
    database_url: str = ""  # any SQLAlchemy URL; empty: a SQLite file in the state folder
    keystore_password: SecretStr = SecretStr("")  # opens the program's keystores
    max_inflight: int = Field(64, ge=0, description="requests handled at once; beyond it 503 + Retry-After (httpkit.inflight); 0: no limit")
    inflight_wait_seconds: float = Field(0.5, ge=0, le=60, description="how long a request waits for a free slot before that 503")

    @field_validator("state_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    def database_or_sqlite(self, file_name: str) -> str:
        """The database URL, else the SQLite file ``file_name`` in the state folder."""
        return self.database_url or f"sqlite:///{self.state_dir / file_name}"
