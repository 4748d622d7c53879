"""Platform API settings (environment variables with the ``GOVCHAIN_`` prefix)."""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from api.catalog import DEFAULT_CATALOG
from chain.config import PROJECT_ROOT, Environment
from chain.errors import ConfigError

PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "change_me", "secret", "placeholder", "dev", "test", "xxx", "todo"}
MIN_SECRET_LENGTH = 32
SECRET_FILE = "token_secret"


def _b64_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def _whsec() -> str:
    return "whsec_" + base64.b64encode(os.urandom(32)).decode()


# secret name -> how a dev value is generated (into the state directory, once)
DEV_SECRETS: dict[str, Callable[[], str]] = {
    "token_secret": lambda: secrets.token_urlsafe(48),
    "data_key": _b64_key,
    "face_vendor_api_key": lambda: secrets.token_urlsafe(32),
    "face_webhook_secret": _whsec,
}


class Quota(BaseModel):
    """At most ``count`` requests in any ``seconds``-long window; ``count`` 0 turns it off."""

    count: int = Field(ge=0, le=1_000_000)
    seconds: int = Field(ge=1, le=86_400)


class RateLimit(BaseModel):
    """One action's quotas: per address (the account acting) and per client (the HTTP peer as
    uvicorn sees it; behind a proxy, uvicorn must be told to trust the proxy's X-Forwarded-For)."""

    address: Quota
    client: Quota


def _limit(address: tuple[int, int], client: tuple[int, int]) -> RateLimit:
    return RateLimit(address=Quota(count=address[0], seconds=address[1]), client=Quota(count=client[0], seconds=client[1]))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GOVCHAIN_", extra="ignore", env_nested_delimiter="__")

    env: Environment = Environment.DEV
    rpc_url: str = "http://127.0.0.1:8545"
    chain_id: int = 1337
    state_dir: Path = PROJECT_ROOT / ".govchain"
    database_url: str = ""  # empty: SQLite file in the state directory
    node_config: Path | None = None  # localnode.toml; dev keys come from its mnemonic
    governor_keystore: Path | None = None
    relayer_keystore: Path | None = None
    keystore_password: SecretStr = SecretStr("")
    token_secret: SecretStr = SecretStr("")
    token_ttl_seconds: int = Field(900, ge=60, le=86_400)
    challenge_ttl_seconds: int = Field(300, ge=30, le=3_600)
    public_domain: str = "127.0.0.1:8000"  # the EIP-4361 domain users sign in to
    public_url: str = "http://127.0.0.1:8000"
    role_cache_seconds: float = Field(1.0, ge=0)
    auto_migrate: bool = True
    receipt_timeout_seconds: float = Field(60.0, gt=0)
    data_key: SecretStr = SecretStr("")  # base64url, 32 bytes: AES-256-GCM key for data at rest
    keystore_dir: Path | None = None  # dev-derived only: agency keys in <dir>/<address>.json instead of the dev ones
    agency_keys: Literal["dev-derived", "agency-held"] = Field(
        "dev-derived",
        description="dev-derived: the platform signs an agency's pull requests and chain writes with the agency's dev key and "
        "opens the answers with the HPKE key derived from it (dev only). agency-held: the platform holds no agency key; the "
        "agency signs its pull requests (GET .../pull-requests, POST .../pulls) and its chain writes (GET/POST "
        "/v1/agency/signature-requests) in its own client, and the answers stay sealed to its own HPKE key",
    )  # fmt: skip
    catalog_path: Path = DEFAULT_CATALOG
    face_vendor_url: str = "http://127.0.0.1:8100"
    face_vendor_api_key: SecretStr = SecretStr("")
    face_webhook_secret: SecretStr = SecretStr("")  # whsec_...
    face_score_threshold: float = Field(0.8, ge=0, le=1)
    issue_batch_size: int = Field(256, ge=1, le=65_536, description="certificates per Merkle batch (one issue(root) each)")
    issue_batch_seconds: float = Field(2.0, ge=0, le=3_600, description="longest a queued certificate waits for its batch")
    gateways: dict[str, str] = Field(default_factory=dict, description="data holder domain -> gateway base URL")
    max_inflight: int = Field(64, ge=0, description="requests handled at once; beyond it 503 + Retry-After (api.limits); 0: no limit")
    inflight_wait_seconds: float = Field(0.5, ge=0, le=60, description="how long a request waits for a free slot before that 503")
    # Rate limits (api.limits.RateLimiter, counted in the database so API replicas share them).
    # Per client they are generous: one office or carrier NAT is one client address.
    limit_sign_in: RateLimit = Field(_limit((20, 60), (300, 60)), description="sign-in challenges per address / per client")
    limit_applications: RateLimit = Field(_limit((20, 3_600), (120, 60)), description="applications created per applicant / per client")
    limit_face_sessions: RateLimit = Field(_limit((10, 3_600), (60, 60)), description="face sessions (each a paid vendor session) per applicant / per client")
    limit_bid_uploads: RateLimit = Field(_limit((10, 600), (120, 60)), description="bid uploads per bidder (all tenders) / per client")
    # Chain writes (api.writes): queued with the business change, sent by the writer of their key.
    write_wait_seconds: float = Field(10.0, ge=0, le=300, description="how long a request waits for its chain write's receipt before 202 + a status URL")
    writer_max_in_flight: int = Field(16, ge=1, le=1_024, description="transactions of one key sent and not yet mined, at most")

    @field_validator("state_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @model_validator(mode="after")
    def _production_needs_real_secrets(self) -> "Settings":
        if self.env is Environment.PRODUCTION:
            check_secret(self.token_secret.get_secret_value())
            for name in ("data_key", "face_vendor_api_key", "face_webhook_secret"):
                if not getattr(self, name).get_secret_value():
                    raise ConfigError(f"production needs GOVCHAIN_{name.upper()}")
            if not self.governor_keystore or not self.relayer_keystore:
                raise ConfigError("production needs GOVCHAIN_GOVERNOR_KEYSTORE and GOVCHAIN_RELAYER_KEYSTORE")
        elif self.token_secret.get_secret_value():
            check_secret(self.token_secret.get_secret_value())
        if self.env is not Environment.DEV and self.agency_keys == "dev-derived":
            raise ConfigError("outside dev the platform holds no agency key: set GOVCHAIN_AGENCY_KEYS=agency-held")
        if self.agency_keys == "agency-held" and self.keystore_dir is not None:
            raise ConfigError("agency-held keys: the platform holds no agency key, so GOVCHAIN_KEYSTORE_DIR (agency keystores) must not be set")
        if self.env is Environment.PRODUCTION:
            for name in ("public_domain", "public_url", "face_vendor_url"):  # the dev defaults point at this machine
                value = getattr(self, name)
                if _loopback(value):
                    raise ConfigError(f"production needs a real GOVCHAIN_{name.upper()}, got {value!r} (a loopback address)")
            for domain, url in self.gateways.items():  # the dev stack's gateways, with the dev holder keys
                if _loopback(url):
                    raise ConfigError(f"production needs the real gateway of {domain} in GOVCHAIN_GATEWAYS, got {url!r} (a loopback address)")
        return self

    @property
    def sqlalchemy_url(self) -> str:
        return self.database_url or f"sqlite:///{self.state_dir / 'govchain.db'}"

    def secret(self, name: str) -> str:
        """A secret setting; in dev, generated into the state directory on first use.

        Production must give every secret (``GOVCHAIN_<NAME>``); empty ones are refused.
        """
        given = getattr(self, name).get_secret_value()
        if given:
            return given
        if self.env is not Environment.DEV:
            raise ConfigError(f"GOVCHAIN_{name.upper()} must be set in production")
        path = self.state_dir / name
        if not path.exists():
            self.state_dir.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass  # another worker made it first
            else:
                with os.fdopen(fd, "w") as handle:
                    handle.write(DEV_SECRETS[name]())
        return path.read_text().strip()

    def resolved_token_secret(self) -> str:
        """The token-signing secret; in dev, generated into the state directory on first run."""
        secret = self.secret("token_secret")
        check_secret(secret)
        return secret

    def resolved_data_key(self) -> bytes:
        try:
            key = base64.urlsafe_b64decode(self.secret("data_key"))
        except ValueError:
            raise ConfigError("GOVCHAIN_DATA_KEY is not base64url") from None
        if len(key) != 32:
            raise ConfigError(f"GOVCHAIN_DATA_KEY decodes to {len(key)} bytes, expected 32")
        return key


def _loopback(value: str) -> bool:
    """Whether a URL or a host[:port] names this machine (localhost, 127.0.0.0/8, ::1)."""
    import ipaddress
    from urllib.parse import urlsplit

    host = urlsplit(value if "://" in value else f"//{value}").hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_secret(secret: str) -> None:
    if secret.strip().lower() in PLACEHOLDER_SECRETS or len(set(secret)) < 8:
        raise ConfigError("the token-signing secret is empty or a placeholder; refusing to start")
    if len(secret) < MIN_SECRET_LENGTH:
        raise ConfigError(f"the token-signing secret has {len(secret)} characters; at least {MIN_SECRET_LENGTH} are needed")


def state_folder(node: str | None = None) -> Path:
    """The one state folder every command uses: ``GOVCHAIN_STATE_DIR`` itself when it holds a
    deployment record (the API and services that ``govchain up`` starts are pointed there), else
    ``<GOVCHAIN_STATE_DIR>/<node kind>``, where ``govchain up`` keeps the record, the database
    and the logs of each node."""
    from chain.config import load_node_config
    from chain.deploy import RECORD_NAME

    base = Settings().state_dir
    if (base / RECORD_NAME).exists():
        return base
    return base / (node or load_node_config().kind)
