"""Issue 18: the platform's chain writes go through the writer of their key. A handler's business
change and its queued intent commit together (a call that would revert stores neither); a write
not mined within ``settings.write.wait_seconds`` answers 202 with a status URL that later says mined."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import httpx
import pytest
from eth_account import Account
from sqlalchemy import select

from api import db
from api.applications import states
from api.context import Platform
from api.models import Application
from api.settings import WriteSettings
from api.writes.worker import WriterWorker
from chain.deploy import write_record
from chain.hexcodec import hx, unhex
from chain.outbox import OutboxEntry
from chain.registry import Role
from identity import pseudonym as pseudonyms
from scripts.faults.harness import ApiProcess
from tests.support.mining import mining_held
from tests.support.api import ApiServer, api_settings, bearer, sign_in
from tests.support.consents import advance

pytestmark = [pytest.mark.db, pytest.mark.node]

CODE = "teacher-qualification-primary"


@pytest.fixture
def platform_api(chain, deployment, database_url, tmp_path, clock):
    """The API with a short wait for chain writes (1 s), on a fresh database."""
    write_record(tmp_path, deployment)
    settings = api_settings(tmp_path, database_url, chain.w3.provider.endpoint_uri, write=WriteSettings(wait_seconds=1.0))
    with ApiServer(settings, clock) as server, httpx.Client(base_url=server.url, timeout=60) as http:
        yield SimpleNamespace(server=server, http=http, platform=server.platform)


def face_verified(platform, applicant: str) -> str:
    """An application of ``applicant`` whose face check passed (the step before consent), stored directly."""
    agency = platform.members.by_domain(platform.catalog.matters[CODE].agency, Role.AGENCY)
    application_id = "app_" + uuid.uuid4().hex
    with platform.sessions() as session:
        session.add(Application(id=application_id, applicant=applicant, code=CODE, matters=[CODE], agency=agency.address,
                                state=states.FACE_VERIFIED, purpose_salt=hx(b"\x11" * 32), face_check_ref=hx(b"\x22" * 32)))  # fmt: skip
        session.commit()
    return application_id


def about_to_consent(http, platform) -> tuple[dict, str, dict, str]:
    """A signed-in applicant's face-verified application and the body of its POST .../consent: the offer
    to the wallet's pseudonym, signed by it and linked by the wallet. ``(headers, application id, body, consent id)``."""
    wallet = Account.create()
    me = bearer(sign_in(http, wallet))
    application_id = face_verified(platform, wallet.address)
    first = http.get(f"/v1/applications/{application_id}/consent-terms", headers=me)
    assert first.status_code == 200, first.text
    pseudonym = pseudonyms.from_derivation(wallet.key, first.json()["pseudonym"]).address
    offer = http.get(f"/v1/applications/{application_id}/consent-terms", params={"pseudonym": pseudonym}, headers=me)
    assert offer.status_code == 200, offer.text
    return me, application_id, pseudonyms.sign_consent_offer(wallet.key, offer.json()), offer.json()["consent_id"]


def stored(platform, application_id: str) -> tuple[Application, list[OutboxEntry]]:
    with platform.sessions() as session:
        application = session.get(Application, application_id)
        entries = list(session.scalars(select(OutboxEntry).where(OutboxEntry.intent_key.like(f"consent:{application_id}:%"))))
    return application, entries


def test_a_write_not_mined_within_the_wait_answers_202_and_its_status_url_later_says_mined(platform_api, chain):
    http, platform = platform_api.http, platform_api.platform
    me, application_id, body, consent_id = about_to_consent(http, platform)
    with mining_held(chain):
        accepted = http.post(f"/v1/applications/{application_id}/consent", json=body, headers=me)
        assert accepted.status_code == 202, accepted.text
        url = accepted.headers["Location"]
        assert accepted.json()["write"]["url"] == url and url.startswith(f"{platform.settings.public_url}/v1/writes/consent:{application_id}:")
        # the business change and the intent were committed together: the application is consented, its consent id known
        application, entries = stored(platform, application_id)
        assert application.state == states.CONSENTED and application.consent_id == consent_id and application.consent_tx is None
        assert len(entries) == 1 and entries[0].block_number is None
        assert http.get(url).status_code == 401  # the key names an application: signed-in callers only
        waiting = http.get(url, headers=me).json()
        assert waiting["status"] in ("queued", "signed", "sent") and waiting["block_number"] is None
    deadline = time.monotonic() + 30
    while (status := http.get(url, headers=me).json())["status"] != "mined":
        assert status["status"] != "failed", status
        assert time.monotonic() < deadline, status
        time.sleep(0.1)
    assert status["tx_hash"] and status["block_number"] is not None
    receipt = chain.w3.eth.get_transaction_receipt(status["tx_hash"])
    assert receipt["status"] == 1 and receipt["blockNumber"] == status["block_number"]
    assert platform_consent(platform, consent_id).applicant == stored(platform, application_id)[0].consent_pseudonym


def test_a_write_mined_within_the_wait_answers_as_before(platform_api, chain):
    http, platform = platform_api.http, platform_api.platform
    me, application_id, body, consent_id = about_to_consent(http, platform)
    granted = http.post(f"/v1/applications/{application_id}/consent", json=body, headers=me)
    assert granted.status_code == 201, granted.text
    assert granted.json()["consent_id"] == consent_id and granted.json()["state"] == states.CONSENTED
    application, entries = stored(platform, application_id)
    assert application.consent_tx == granted.json()["tx_hash"] == entries[0].tx_hash and entries[0].status == "mined"
    assert [writer.account.address for writer in platform.workers.of(WriterWorker).writers.values()] == [platform.keyring.signer("relayer").address]


def test_a_call_that_would_revert_stores_neither_the_change_nor_the_intent(platform_api, chain):
    http, platform = platform_api.http, platform_api.platform
    me, application_id, body, _ = about_to_consent(http, platform)
    advance(chain, 3_600)  # past the signature's deadline (15 minutes): the contract refuses the grant
    refused = http.post(f"/v1/applications/{application_id}/consent", json=body, headers=me)
    assert refused.status_code == 409 and refused.json()["type"].endswith("contract-revert"), refused.text
    application, entries = stored(platform, application_id)
    assert application.state == states.FACE_VERIFIED and application.consent_id is None and application.consent_pseudonym is None
    assert entries == []


@pytest.mark.proc
@pytest.mark.slow
def test_two_api_processes_on_one_database_write_with_the_relayer_key_in_contiguous_nonces(chain, deployment, database_url, tmp_path):
    """Two API processes (replicas) on one database each take consent grants at the same time: the
    relayer's writer leads in one of them, every grant is mined once, the relayer's nonces are
    contiguous, and neither log has a nonce error."""
    write_record(tmp_path, deployment)
    seeding = Platform.build(api_settings(tmp_path, database_url, chain.w3.provider.endpoint_uri))
    db.upgrade(seeding.engine)
    apis = [ApiProcess(api_settings(tmp_path, database_url, chain.w3.provider.endpoint_uri), tmp_path / f"api-{n}.log", command="uvicorn") for n in (1, 2)]
    try:
        for api in apis:
            api.start(timeout=120)
        clients = [httpx.Client(base_url=api.url, timeout=120) for api in apis]
        grants = [(http, *about_to_consent(http, seeding)) for http in clients for _ in range(4)]
        with ThreadPoolExecutor(len(grants)) as pool:
            answers = list(pool.map(lambda g: g[0].post(f"/v1/applications/{g[2]}/consent", json=g[3], headers=g[1]), grants))
        assert all(answer.status_code in (201, 202) for answer in answers), [answer.text for answer in answers]
        relayer = seeding.keyring.signer("relayer").address
        deadline = time.monotonic() + 60
        while True:
            with seeding.sessions() as session:
                entries = list(session.scalars(select(OutboxEntry).where(OutboxEntry.sender == relayer).order_by(OutboxEntry.nonce)))
            if len(entries) == len(grants) and all(entry.status == "mined" for entry in entries):
                break
            assert time.monotonic() < deadline, [(entry.intent_key, entry.status, entry.error) for entry in entries]
            time.sleep(0.2)
        nonces = [entry.nonce for entry in entries]
        assert nonces == list(range(nonces[0], nonces[0] + len(grants)))
        assert chain.w3.eth.get_transaction_count(relayer) == nonces[-1] + 1
        for _, _, application_id, _, consent_id in grants:
            assert platform_consent(seeding, consent_id).applicant == stored(seeding, application_id)[0].consent_pseudonym
        for api in apis:
            log = api.log_file.read_text()
            assert "nonce" not in log.lower() and "Traceback" not in log, log[-2000:]
    finally:
        for api in apis:
            api.stop()
        seeding.close()


def platform_consent(platform, consent_id: str):
    return platform.contracts.consents().get(unhex(consent_id))
