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
    secrets = dict(data_key="A" * 43 + "=", face_vendor_api_key="k" * 32, face_webhook_secret="whsec_" + "A" * 44)
    with pytest.raises(ValueError, match="KEYSTORE"):
        Settings(env="production", state_dir=tmp_path, token_secret=GOOD, **secrets)
    keystores = dict(governor_keystore=tmp_path / "g", relayer_keystore=tmp_path / "r")
    with pytest.raises(ValueError, match="GOVCHAIN_AGENCY_KEYS=agency-held"):  # issue 15: no agency key on the platform for pulls
        Settings(env="production", state_dir=tmp_path, token_secret=GOOD, **keystores, **secrets)
    held = dict(keystores, agency_keys="agency-held")
    for name, value in (("public_domain", "127.0.0.1:8000"), ("public_url", "http://localhost:8000"), ("face_vendor_url", "http://[::1]:8100")):
        public = dict(public_domain="gov.example", public_url="https://gov.example", face_vendor_url="https://face.vendor.example")
        with pytest.raises(ValueError, match=f"GOVCHAIN_{name.upper()}"):  # issue 16: production kept the localhost defaults
            Settings(env="production", state_dir=tmp_path, token_secret=GOOD, **held, **secrets, **{**public, name: value})
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
