"""Fixtures of the end-to-end tests (the suite's shared ``stack`` is in tests/conftest.py): a
consent granted straight on chain, as the gateway and key-rotation tests need one."""

from __future__ import annotations

import itertools
import os
import secrets

import pytest

from api.catalog import categories_mask
from identity.dev_citizens import demo_citizen
from chain.consents import ConsentRegistryClient
from identity import binding, eip712
from identity.keys import dev_account

SCOPE = {"id_card": ["id_number", "name"], "household_register": ["registered_address"]}
_applicant_index = itertools.count()
FIRST_SPARE = 12  # dev accounts 12.. are funded and no party's: the stack's services never send with them


@pytest.fixture(scope="module")
def consents(client, deployment):
    entry = deployment.contracts["ConsentRegistry"]
    return ConsentRegistryClient(client, entry["address"], entry["abi"])


@pytest.fixture
def make_consent(client, consents, parties, node_config):
    """Grant a consent straight on chain (the applicant sends it) and return what a pull needs."""

    def make(*, scope=SCOPE, categories=None, max_pulls=5, opens_in=0, lasts=3600, agency=None, citizen=7):
        # cycle through the spare accounts only: wrapping round into the parties' would send with a
        # key the running stack holds (the relayer's, say) and leave its nonce counter behind
        applicant = dev_account(node_config, FIRST_SPARE + next(_applicant_index) % (node_config.accounts - FIRST_SPARE))
        person = demo_citizen(citizen)
        salt, scope_salt, vendor_request_id = os.urandom(32), os.urandom(32), "req_" + secrets.token_hex(8)
        now = client.w3.eth.get_block("latest")["timestamp"]
        terms = eip712.ConsentTerms(
            applicant=applicant.address, agency=(agency or parties.agency).address,
            categories=categories if categories is not None else categories_mask(scope), scope_hash=eip712.scope_hash(scope, scope_salt),
            purpose_hash=eip712.purpose_hash("teacher-qualification-primary", "app_test", salt),
            face_check_ref=binding.face_check_ref(vendor_request_id, person["id_number"], salt),
            not_before=now + opens_in, expires_at=now + opens_in + lasts, max_pulls=max_pulls,
            nonce=secrets.randbits(64), deadline=now + 900,
        )  # fmt: skip
        domain = eip712.Domain.of(consents.domain())
        consent_id, _ = consents.grant(applicant, terms, eip712.sign_consent(terms, domain, applicant.key))
        subject = {"id_number": person["id_number"], "vendor_request_id": vendor_request_id, "salt": salt.hex()}
        return {"consent_id": "0x" + consent_id.hex(), "applicant": applicant, "subject": subject, "scope": scope, "person": person, "registry": consents, "scope_salt": scope_salt}

    return make
