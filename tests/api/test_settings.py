"""Settings: the token secret is generated in dev and refused when it is a placeholder.

Refusals surface as pydantic ValidationError (a ValueError) carrying our message."""

from __future__ import annotations

import stat

import pytest

from api.settings import Settings

GOOD = "k7Qx9vR2mT4pL8sW1nZ6bY3cF5hJ0dG2aE9uI7oP"


def test_dev_generates_the_secret_once_with_private_permissions(tmp_path):
    first = Settings(state_dir=tmp_path).resolved_token_secret()
    assert len(first) >= 32
    path = tmp_path / "token_secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Settings(state_dir=tmp_path).resolved_token_secret() == first


@pytest.mark.parametrize("secret", ["changeme", "secret", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "short-but-random-Q1"])
def test_placeholder_or_weak_secrets_are_refused(tmp_path, secret):
    with pytest.raises(ValueError, match="secret"):
        Settings(state_dir=tmp_path, token_secret=secret)


def test_production_refuses_an_empty_secret_and_dev_keys(tmp_path):
    with pytest.raises(ValueError, match="placeholder"):
        Settings(env="production", state_dir=tmp_path)
    with pytest.raises(ValueError, match="GOVCHAIN_DATA_KEY"):
        Settings(env="production", state_dir=tmp_path, token_secret=GOOD)
    face = dict(vendor_api_key="k" * 32, webhook_secret="whsec_" + "A" * 44)
    with pytest.raises(ValueError, match="GOVCHAIN_FACE_VENDOR_API_KEY"):
        Settings(env="production", state_dir=tmp_path, token_secret=GOOD, data_key="A" * 43 + "=", face=dict(face, vendor_api_key=""))
    secrets = dict(data_key="A" * 43 + "=", face=face)
    with pytest.raises(ValueError, match="KEYSTORE"):
        Settings(env="production", state_dir=tmp_path, token_secret=GOOD, **secrets)
    keystores = dict(governor_keystore=tmp_path / "g", relayer_keystore=tmp_path / "r")
    with pytest.raises(ValueError, match="GOVCHAIN_AGENCY_KEYS=agency-held"):  # issue 15: no agency key on the platform for pulls
        Settings(env="production", state_dir=tmp_path, token_secret=GOOD, **keystores, **secrets)
    held = dict(keystores, agency_keys="agency-held")
    public = dict(public_domain="gov.example", public_url="https://gov.example")
    secrets["face"] = dict(face, vendor_url="https://face.vendor.example")
    for name, value in (("public_domain", "127.0.0.1:8000"), ("public_url", "http://localhost:8000")):
        with pytest.raises(ValueError, match=f"GOVCHAIN_{name.upper()}"):  # issue 16: production kept the localhost defaults
            Settings(env="production", state_dir=tmp_path, token_secret=GOOD, **held, **secrets, **{**public, name: value})
    with pytest.raises(ValueError, match="GOVCHAIN_FACE_VENDOR_URL"):
        Settings(env="production", state_dir=tmp_path, token_secret=GOOD, **held, **public, data_key="A" * 43 + "=", face=dict(face, vendor_url="http://[::1]:8100"))
    with pytest.raises(ValueError, match="GOVCHAIN_KEYSTORE_DIR"):  # issue 15: agency keystores on the platform are refused too
        Settings(env="production", state_dir=tmp_path, token_secret=GOOD, **held, **secrets, **public, keystore_dir=tmp_path)
    ok = Settings(env="production", state_dir=tmp_path, token_secret=GOOD, **held, **secrets, **public)
    assert ok.resolved_token_secret() == GOOD
    assert ok.resolved_data_key() == bytes(32)
    assert not (tmp_path / "token_secret").exists()


def test_dev_secrets_are_generated_per_name(tmp_path):
    settings = Settings(state_dir=tmp_path)
    assert len(settings.resolved_data_key()) == 32
    assert settings.secret("face_webhook_secret").startswith("whsec_")
    assert settings.secret("face_vendor_api_key") == Settings(state_dir=tmp_path).secret("face_vendor_api_key")


def test_sqlite_in_the_state_dir_is_the_default(tmp_path):
    assert Settings(state_dir=tmp_path).sqlalchemy_url == f"sqlite:///{tmp_path / 'govchain.db'}"


# -- the gateway (issue 16 item 7: its environment defaulted to dev on its own) -------------------

GATEWAY_VARIABLES = ("GOVCHAIN_ENV", "GOVCHAIN_GATEWAY_ENV", "GOVCHAIN_GATEWAY_KEYSTORE", "GOVCHAIN_GATEWAY_RPC_URL", "GOVCHAIN_GATEWAY_STATE_DIR")


@pytest.fixture
def gateway_env(monkeypatch):
    for name in GATEWAY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_the_gateway_follows_a_production_platform_and_refuses_dev_defaults(gateway_env, tmp_path):
    from gateway.settings import GatewaySettings

    assert GatewaySettings().env.value == "dev"  # a dev machine: nothing set
    gateway_env.setenv("GOVCHAIN_ENV", "production")  # the deployment's environment; the gateway's own not set
    with pytest.raises(ValueError, match="GOVCHAIN_GATEWAY_KEYSTORE"):  # no dev holder key in production
        GatewaySettings()
    gateway_env.setenv("GOVCHAIN_GATEWAY_KEYSTORE", str(tmp_path / "holder.json"))
    with pytest.raises(ValueError, match="GOVCHAIN_GATEWAY_RPC_URL"):  # the localhost default node
        GatewaySettings()
    gateway_env.setenv("GOVCHAIN_GATEWAY_RPC_URL", "https://node.holder.example")
    with pytest.raises(ValueError, match="GOVCHAIN_GATEWAY_STATE_DIR"):  # the project folder default
        GatewaySettings()
    gateway_env.setenv("GOVCHAIN_GATEWAY_STATE_DIR", str(tmp_path))
    assert GatewaySettings().env.value == "production"
    gateway_env.setenv("GOVCHAIN_GATEWAY_ENV", "dev")  # said explicitly, the gateway's own setting wins
    assert GatewaySettings().env.value == "dev"
    gateway_env.setenv("GOVCHAIN_GATEWAY_ENV", "prod")  # a typo is refused, not taken for "not dev"
    with pytest.raises(ValueError):
        GatewaySettings()


@pytest.mark.proc
def test_a_production_gateway_process_refuses_to_start_with_dev_defaults(gateway_env, tmp_path):
    """Through the real entry point: ``python -m gateway`` under GOVCHAIN_ENV=production exits
    with the reason, instead of serving with the dev holder key."""
    import os
    import subprocess
    import sys

    from chain.node import free_port

    env = {**os.environ, "GOVCHAIN_ENV": "production"}
    started = subprocess.run([sys.executable, "-m", "gateway", "--port", str(free_port())], env=env, capture_output=True, text=True, timeout=60)
    assert started.returncode != 0
    assert "GOVCHAIN_GATEWAY_KEYSTORE" in started.stderr


def test_production_refuses_loopback_gateways(tmp_path):
    face = dict(vendor_url="https://face.vendor.example", vendor_api_key="k" * 32, webhook_secret="whsec_" + "A" * 44)
    production = dict(env="production", state_dir=tmp_path, token_secret=GOOD, governor_keystore=tmp_path / "g", relayer_keystore=tmp_path / "r",
                      agency_keys="agency-held", public_domain="gov.example", public_url="https://gov.example", data_key="A" * 43 + "=",
                      face=face)  # fmt: skip
    with pytest.raises(ValueError, match="gateway of psb.gov.example"):
        Settings(**production, gateways={"psb.gov.example": "http://127.0.0.1:8201"})
    assert Settings(**production, gateways={"psb.gov.example": "https://gw.psb.example"}).gateways


# -- the one settings tree (issue 17): sections read their own GOVCHAIN_<SECTION>_* variables ----


def test_a_section_reads_its_variables_and_names_a_bad_one(monkeypatch, tmp_path):
    monkeypatch.setenv("GOVCHAIN_AUDIT_BURST_PULLS", "7")
    monkeypatch.setenv("GOVCHAIN_FACE_VENDOR_URL", "https://face.vendor.example")
    monkeypatch.setenv("GOVCHAIN_LIMIT_SIGN_IN__CLIENT__COUNT", "1000")  # one value of a limit; the rest keep their defaults
    settings = Settings(state_dir=tmp_path)
    assert settings.audit.burst_pulls == 7 and settings.audit.burst_minutes == 5.0
    assert settings.face.vendor_url == "https://face.vendor.example"
    assert settings.limits.sign_in.client.count == 1000 and settings.limits.sign_in.client.seconds == 60
    assert settings.limits.sign_in.address.count == 20
    monkeypatch.setenv("GOVCHAIN_ISSUE_BATCH_SIZE", "0")
    with pytest.raises(ValueError, match=r"GOVCHAIN_ISSUE_\*\nbatch_size\n.*greater than or equal to 1"):
        Settings(state_dir=tmp_path)


def test_a_section_given_whole_keeps_the_rest_of_the_tree_from_the_environment(monkeypatch, tmp_path):
    from api.settings import IssueSettings

    monkeypatch.setenv("GOVCHAIN_ISSUE_BATCH_SECONDS", "0.5")
    monkeypatch.setenv("GOVCHAIN_INDEX_PAGE_BLOCKS", "100")
    settings = Settings(state_dir=tmp_path, issue=IssueSettings(batch_size=4))
    assert (settings.issue.batch_size, settings.issue.batch_seconds) == (4, 0.5)
    assert settings.index.page_blocks == 100


def test_the_platform_and_the_gateway_share_one_definition_of_what_every_program_has(gateway_env, tmp_path):
    """The node, the state folder, the database and the back-pressure: one definition
    (chain.settings.ProgramSettings), read under each program's own prefix."""
    from chain.settings import ProgramSettings
    from gateway.settings import GatewaySettings

    gateway_env.setenv("GOVCHAIN_GATEWAY_MAX_INFLIGHT", "8")
    gateway_env.setenv("GOVCHAIN_GATEWAY_STATE_DIR", str(tmp_path))
    gateway_env.setenv("GOVCHAIN_MAX_INFLIGHT", "16")
    gateway, platform = GatewaySettings(), Settings()
    assert isinstance(gateway, ProgramSettings) and isinstance(platform, ProgramSettings)
    assert (gateway.max_inflight, platform.max_inflight) == (8, 16)
    assert gateway.database_or_sqlite("gateway.db") == f"sqlite:///{tmp_path / 'gateway.db'}"
    gateway_env.setenv("GOVCHAIN_GATEWAY_MAX_INFLIGHT", "-1")
    with pytest.raises(ValueError, match="max_inflight"):
        GatewaySettings()
