"""An agency's own client for pulls: fetch the pull requests, sign them with the agency's own
key, submit them, and open the answers and materials with the agency's own HPKE keys. The
platform then never holds the agency's key (``GOVCHAIN_AGENCY_KEYS=agency-held``)."""

from __future__ import annotations

import base64
import json

import httpx

from api.auth.client import sign_in
from identity.keys import hpke_key_history
from identity import typed_data
from identity.pull_request import verify_answer
from identity.sealing import hpke_open
from chain.hexcodec import hx, unhex


class AgencyClient:
    def __init__(self, http: httpx.Client, account, hpke_generation: int = 0):
        self.http, self.account = http, account
        self.hpke_keys = hpke_key_history(account, hpke_generation)  # current first, then the earlier ones
        self.headers = sign_in(http, account)

    def pull(self, application_id: str) -> dict:
        """Sign every open pull request of the application in this client and submit them."""
        offered = self.http.get(f"/v1/applications/{application_id}/pull-requests", headers=self.headers)
        offered.raise_for_status()
        signed = [
            dict(r["body"], signature=hx(typed_data.sign(r["typed_data"], self.account.key)))
            for r in offered.json()["requests"]
        ]  # fmt: skip
        pulled = self.http.post(f"/v1/applications/{application_id}/pulls", json={"requests": signed}, headers=self.headers)
        pulled.raise_for_status()
        return pulled.json()

    def data(self, application_id: str) -> list[dict]:
        """The pulled records, each opened here (answers sealed to this agency) and its holder's signature checked."""
        listed = self.http.get(f"/v1/applications/{application_id}/data", headers=self.headers)
        listed.raise_for_status()
        out = []
        for record in listed.json():
            if "sealed_to_agency" in record:
                box = base64.b64decode(record["sealed_to_agency"])
                answer = json.loads(hpke_open(self.hpke_keys, box, b"govchain pull " + unhex(record["request_id"])))
                record = {"category": record["category"], "holder": record["holder"], "tx_hash": record["tx_hash"], **verify_answer(answer, record["holder"])}
            out.append(record)
        return out

    def material(self, application_id: str, material: str) -> bytes:
        """A material's bytes, opened here when the platform hands it sealed to this agency."""
        read = self.http.get(f"/v1/applications/{application_id}/materials/{material}/file", headers=self.headers)
        read.raise_for_status()
        info = read.headers.get("x-govchain-hpke-info")
        return hpke_open(self.hpke_keys, read.content, info.encode()) if info else read.content
