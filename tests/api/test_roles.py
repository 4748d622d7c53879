"""Role-gated routes: roles come from GovRegistry on chain, and follow its changes."""

from __future__ import annotations

import pytest

from tests.support.api import bearer, sign_in


@pytest.mark.parametrize(
    "who, status",
    [("governor", 200), ("auditor", 200), ("relayer", 403), ("agency", 403), ("holder_psb", 403), ("procurement", 403), ("outsider", 403)],
)
def test_outbox_view_admits_only_governor_and_auditor(http, parties, who, status):
    response = http.get("/v1/outbox", headers=bearer(sign_in(http, getattr(parties, who))))
    assert response.status_code == status, response.text
    if status == 403:
        body = response.json()
        assert body["title"] == "Not allowed" and "GOVERNOR, AUDITOR" in body["detail"]
        assert getattr(parties, who).address in body["detail"]


def test_anonymous_is_401_not_403(http):
    response = http.get("/v1/outbox")
    assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"


def test_role_changes_on_chain_take_effect_for_a_live_token(http, parties, registry):
    token = sign_in(http, parties.auditor)
    assert http.get("/v1/outbox", headers=bearer(token)).status_code == 200
    registry.revoke_role(parties.governor, "AUDITOR", parties.auditor.address)
    assert http.get("/v1/outbox", headers=bearer(token)).status_code == 403
    registry.grant_role(parties.governor, "AUDITOR", parties.auditor.address)
    assert http.get("/v1/outbox", headers=bearer(token)).status_code == 200
    registry.suspend_member(parties.governor, parties.auditor.address)
    assert http.get("/v1/outbox", headers=bearer(token)).status_code == 403
    me = http.get("/v1/auth/me", headers=bearer(token)).json()
    assert me["roles"] == [] and me["kind"] == "member"
