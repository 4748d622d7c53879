"""The platform API's settings tree (environment variables with the ``GOVCHAIN_`` prefix)."""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Callable

from operator import attrgetter
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from api.catalog import DEFAULT_CATALOG
from chain.config import Environment
from chain.errors import ConfigError
from chain.settings import ProgramSettings

PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "change_me", "secret", "placeholder", "dev", "test", "xxx", "todo"}
MIN_SECRET_LENGTH = 32
SECRET_FILE = "token_secret"


def _b64_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def _whsec() -> str:
    return "whsec_" + base64.b64encode(os.urandom(32)).decode()


# secret name (its variable GOVCHAIN_<NAME>, its dev file in the state directory) -> where it is in
# the settings tree, and how a dev value is generated (into the state directory, once)
DEV_SECRETS: dict[str, tuple[str, Callable[[], str]]] = {
    "token_secret": ("token_secret", lambda: secrets.token_urlsafe(48)),
    "data_key": ("data_key", _b64_key),
    "face_vendor_api_key": ("face.vendor_api_key", lambda: secrets.token_urlsafe(32)),
    "face_webhook_secret": ("face.webhook_secret", _whsec),
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


# -- the sections: each reads its own GOVCHAIN_<SECTION>_* variables ------------------------------
# A new section: a class here, and one line under "the sections" in Settings.


def section(prefix: str, nested: bool = False) -> SettingsConfigDict:
    """The ``model_config`` of a section read from the variables ``prefix + <FIELD>``; a bad value's
    error is titled with the prefix, e.g. ``1 validation error for GOVCHAIN_ISSUE_* batch_size``.
    ``nested``: one value of a field's own fields as ``prefix + <FIELD>__<NAME>``, the others kept."""
    if nested:
        return SettingsConfigDict(env_prefix=prefix, extra="ignore", title=f"{prefix}*", env_nested_delimiter="__", nested_model_default_partial_update=True)
    return SettingsConfigDict(env_prefix=prefix, extra="ignore", title=f"{prefix}*")


class FaceSettings(BaseSettings):
    """``GOVCHAIN_FACE_*``: the face-verification vendor."""

    model_config = section("GOVCHAIN_FACE_")

    vendor_url: str = "http://127.0.0.1:8100"
    vendor_api_key: SecretStr = SecretStr("")
    webhook_secret: SecretStr = SecretStr("")  # whsec_...
    score_threshold: float = Field(0.8, ge=0, le=1)


class IssueSettings(BaseSettings):
    """``GOVCHAIN_ISSUE_*``: the certificate batcher (api.certificates.service.Issuer)."""

    model_config = section("GOVCHAIN_ISSUE_")

    batch_size: int = Field(256, ge=1, le=65_536, description="certificates per Merkle batch (one issue(root) each)")
    batch_seconds: float = Field(2.0, ge=0, le=3_600, description="longest a queued certificate waits for its batch")


class LimitSettings(BaseSettings):
    """``GOVCHAIN_LIMIT_*``: the rate limits (api.limits.RateLimiter, counted in the database so API
    replicas share them), one action each, as JSON or one value as ``GOVCHAIN_LIMIT_SIGN_IN__CLIENT__COUNT``.
    Per client they are generous: one office or carrier NAT is one client address."""

    model_config = section("GOVCHAIN_LIMIT_", nested=True)

    sign_in: RateLimit = Field(_limit((20, 60), (300, 60)), description="sign-in challenges per address / per client")
    applications: RateLimit = Field(_limit((20, 3_600), (120, 60)), description="applications created per applicant / per client")
    face_sessions: RateLimit = Field(_limit((10, 3_600), (60, 60)), description="face sessions (each a paid vendor session) per applicant / per client")
    bid_uploads: RateLimit = Field(_limit((10, 600), (120, 60)), description="bid uploads per bidder (all tenders) / per client")


class IndexSettings(BaseSettings):
    """``GOVCHAIN_INDEX_*``: the audit indexer (api.audit.indexer.Indexer)."""

    model_config = section("GOVCHAIN_INDEX_")

    enabled: bool = True
    confirmations: int = Field(0, ge=0, le=10_000, description="blocks at the head left unindexed")
    poll_seconds: float = Field(1.0, gt=0, le=3_600)
    page_blocks: int = Field(2_000, ge=1, le=5_000, description="blocks per eth_getLogs (Besu caps at 5,000)")


class AuditSettings(BaseSettings):
    """``GOVCHAIN_AUDIT_*``: the audit rules' default windows and thresholds (api.audit.service.findings)."""

    model_config = section("GOVCHAIN_AUDIT_")

    expiry_window_seconds: int = Field(86_400, ge=0, description="a pull this close to its consent's expiry is a finding")
    burst_pulls: int = Field(20, ge=2, description="this many pulls by one agency ...")
    burst_minutes: float = Field(5.0, gt=0, description="... within this many minutes are a burst")
    revoked_within_seconds: int = Field(7 * 86_400, ge=0, description="a certificate revoked this soon after issue is a finding")
    bid_change_minutes: float = Field(10.0, ge=0, description="a bid replaced or withdrawn this close to the deadline is a finding")


class VerifySettings(BaseSettings):
    """``GOVCHAIN_VERIFY_*``: verification (api.certificates.status), answered from the audit index
    unless it lags the chain's head."""

    model_config = section("GOVCHAIN_VERIFY_")

    max_index_lag: int = Field(1, ge=0, le=1_000, description="blocks the index may lag the head before verification reads the chain")
    head_seconds: float = Field(0.25, ge=0, le=10, description="how long the head block number read from the node is reused")


class WriteSettings(BaseSettings):
    """``GOVCHAIN_WRITE_*``: the platform's chain writes (api.writes), queued with the business change
    and sent by the writer of their key."""

    model_config = section("GOVCHAIN_WRITE_")

    wait_seconds: float = Field(10.0, ge=0, le=300, description="how long a request waits for its chain write's receipt before 202 + a status URL")
    max_in_flight: int = Field(16, ge=1, le=1_024, description="transactions of one key sent and not yet mined, at most")


# -- the tree --------------------------------------------------------------------------------------


class Settings(ProgramSettings):
    """The platform's one settings tree, built once at start-up (``create_app``, the CLI) and handed
    to the parts: what every program has (:class:`chain.settings.ProgramSettings`: ``GOVCHAIN_ENV``,
    ``GOVCHAIN_RPC_URL``, ``GOVCHAIN_STATE_DIR``, ``GOVCHAIN_DATABASE_URL``, ``GOVCHAIN_MAX_INFLIGHT``
    ...), the platform's own ``GOVCHAIN_*``, and the sections (``settings.face.vendor_url`` is
    ``GOVCHAIN_FACE_VENDOR_URL``). A test or a script gives a section whole:
    ``Settings(issue=IssueSettings(batch_size=4))`` (the section's other fields from the environment)."""

    model_config = SettingsConfigDict(env_prefix="GOVCHAIN_", extra="ignore")

    node_config: Path | None = None  # localnode.toml; dev keys come from its mnemonic
    governor_keystore: Path | None = None
    relayer_keystore: Path | None = None
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
    gateways: dict[str, str] = Field(default_factory=dict, description="data holder domain -> gateway base URL")

    # the sections, one line each
    face: FaceSettings = Field(default_factory=FaceSettings)
    issue: IssueSettings = Field(default_factory=IssueSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    index: IndexSettings = Field(default_factory=IndexSettings)
    audit: AuditSettings = Field(default_factory=AuditSettings)
    verify: VerifySettings = Field(default_factory=VerifySettings)
    write: WriteSettings = Field(default_factory=WriteSettings)

    @model_validator(mode="after")
    def _production_needs_real_secrets(self) -> "Settings":
        if self.env is Environment.PRODUCTION:
            check_secret(self.token_secret.get_secret_value())
            for name in ("data_key", "face_vendor_api_key", "face_webhook_secret"):
                if not self._given(name):
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
            # the dev defaults point at this machine
            here = {"PUBLIC_DOMAIN": self.public_domain, "PUBLIC_URL": self.public_url, "FACE_VENDOR_URL": self.face.vendor_url}
            for name, value in here.items():
                if _loopback(value):
                    raise ConfigError(f"production needs a real GOVCHAIN_{name}, got {value!r} (a loopback address)")
            for domain, url in self.gateways.items():  # the dev stack's gateways, with the dev holder keys
                if _loopback(url):
                    raise ConfigError(f"production needs the real gateway of {domain} in GOVCHAIN_GATEWAYS, got {url!r} (a loopback address)")
        return self

    @property
    def sqlalchemy_url(self) -> str:
        return self.database_or_sqlite("govchain.db")

    def _given(self, name: str) -> str:
        """The secret ``name`` (its variable ``GOVCHAIN_<NAME>``) as given, or empty."""
        where, _ = DEV_SECRETS[name]
        return attrgetter(where)(self).get_secret_value()

    def secret(self, name: str) -> str:
        """A secret setting; in dev, generated into the state directory on first use.

        Production must give every secret (``GOVCHAIN_<NAME>``); empty ones are refused.
        """
        given = self._given(name)
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
                    handle.write(DEV_SECRETS[name][1]())
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
