"""Issue 15: a member's HPKE key changes only by the member (GovRegistry.rotateHpkeKey), and
the old key keeps opening what was sealed to it: a data holder rotates its key on chain, and
its gateway (with the new generation) opens subjects sealed both before and after."""

from __future__ import annotations

import os
import time

import httpx
import pytest

from api.pulls.service import request_body, signed_body
from api.services import ServiceProcess
from chain.registry import GovRegistryClient
from identity.keys import hpke_key_for, x25519_public_bytes

pytestmark = pytest.mark.slow


def test_a_rotated_holder_key_still_opens_what_was_sealed_to_the_old_one(stack, deployment, parties, make_consent, client, build, tmp_path):
    holder = parties.holder_psb
    registry = GovRegistryClient(client, deployment.address("GovRegistry"), build["GovRegistry"].abi)
    old, new = (x25519_public_bytes(hpke_key_for(holder, g)) for g in (0, 1))
    assert registry.member(holder.address).info.hpke_public_key == old
    env = {**os.environ, "GOVCHAIN_GATEWAY_HOLDER_PARTY": "holder_psb", "GOVCHAIN_GATEWAY_RPC_URL": stack.api.settings.rpc_url,
           "GOVCHAIN_GATEWAY_STATE_DIR": str(stack.api.settings.state_dir), "GOVCHAIN_GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'gw.db'}",
           "GOVCHAIN_GATEWAY_HPKE_GENERATION": "1"}  # fmt: skip

    def body(consent, sealed_to: bytes, sequence: int) -> dict:
        asked = request_body(
            parties.agency.address, holder.address, sealed_to, sequence, consent["consent_id"], "id_card", consent["scope"], consent["scope_salt"],
            consent["scope"]["id_card"], consent["subject"], int(time.time()),
        )  # fmt: skip
        return signed_body(parties.agency, asked, deployment.chain_id, deployment.address("ConsentRegistry"))

    before, after = make_consent(), make_consent()
    sealed_before = body(before, old, 1)  # an agency sealed the subject to the key registered then
    registry.rotate_hpke_key(holder, new)  # the holder's own transaction: the one way its key changes
    try:
        assert registry.member(holder.address).info.hpke_public_key == new
        with ServiceProcess("rotated gateway", "gateway", env, health_path="/v1/health") as gateway:
            first = httpx.post(gateway.url + "/v1/pulls", json=sealed_before, timeout=120)
            assert first.status_code == 200, first.text  # the old key still opens it
            second = httpx.post(gateway.url + "/v1/pulls", json=body(after, new, 1), timeout=120)
            assert second.status_code == 200, second.text  # and the new one opens what is sealed to it now
    finally:
        client.nonces.reset()  # the gateway process sent with the holder's key
        registry.rotate_hpke_key(holder, old)  # the module's other gateways run generation 0
