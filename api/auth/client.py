"""Sign-in over HTTP, as a client does it (EIP-4361): the bidder's, the agency's and the demo's
clients share it."""

from __future__ import annotations

import httpx

from identity import siwe


def sign_in(http: httpx.Client, account) -> dict[str, str]:
    message = http.post("/v1/auth/challenge", json={"address": account.address}).json()["message"]
    token = http.post("/v1/auth/token", json={"message": message, "signature": siwe.sign(message, account.key)})
    token.raise_for_status()
    return {"Authorization": f"Bearer {token.json()['access_token']}"}
