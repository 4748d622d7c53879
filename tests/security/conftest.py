"""Hostile-input and authorization tests: the suite's shared stack over real HTTP (API, face
vendor, two gateways) and real objects in it."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import pytest
from eth_account import Account

from tests.support.flows import issued_application


@dataclass
class World:
    """Real objects to aim at: an applicant's application taken to an issued certificate,
    its consent, a tender, and a signed-in header for each principal."""

    applicant: object
    applicant2: object
    application_id: str
    consent_id: str
    certificate_id: str
    target_hash: str
    merkle_root: str
    tender_id: str
    pseudonym: str
    headers: dict[str, dict] = field(default_factory=dict)
    http: object = None


PRINCIPALS = ("anonymous", "applicant", "applicant2", "agency", "agency_culture", "holder", "auditor", "governor", "procurement")


def new_tender(stack, client, parties, reference: str, *, bidding: int = 3600) -> dict:
    now = max(int(stack.clock.now().timestamp()), client.w3.eth.get_block("latest")["timestamp"])
    body = {"reference": reference, "title": "安全测试招标", "document_hash": "0x" + os.urandom(32).hex(), "bid_deadline": now + bidding,
            "decryption_minutes": 30, "method": "lowest_price", "weights": [], "experts": [Account.create().address], "min_bidders": 1}  # fmt: skip
    created = stack.http.post("/v1/tenders", json=body, headers=stack.sign_in(parties.procurement))
    assert created.status_code == 201, created.text
    return created.json()


@pytest.fixture(scope="package")
def world(stack, client, parties) -> World:
    first, second = Account.create(), Account.create()
    me, application, _, certificate = issued_application(stack, parties, first, citizen=11)
    consents = stack.http.get("/v1/me/consents", headers=me).json()
    tender = new_tender(stack, client, parties, "SEC-AUTHZ-" + os.urandom(3).hex())
    pseudonym = stack.http.get(f"/v1/tenders/{tender['tender_id']}/pseudonym", headers=me).json()["pseudonym"]
    accounts = {"applicant": first, "applicant2": second, "agency": parties.agency, "agency_culture": parties.agency_culture,
                "holder": parties.holder_psb, "auditor": parties.auditor, "governor": parties.governor, "procurement": parties.procurement}  # fmt: skip
    headers = {"anonymous": {}, **{name: stack.sign_in(account) for name, account in accounts.items()}}
    return World(
        applicant=first, applicant2=second, application_id=application["id"], consent_id=consents[0]["consent_id"],
        certificate_id=certificate["id"], target_hash=certificate["target_hash"], merkle_root=certificate["merkle_root"],
        tender_id=tender["tender_id"], pseudonym=pseudonym, headers=headers, http=stack.http,
    )  # fmt: skip
