"""The chain writer: queued intents signed and sent by one leader per key, exactly once, across
processes; a killed leader's successor finishes what it signed."""

from __future__ import annotations

import os
from select import select as readable_within
import subprocess
import sys
import time
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select

import api.schema  # noqa: F401  (registers every table)
from api import db
from chain.db import Base, make_engine

from chain.events import EventReader
from chain.signals import close_bells
from chain.outbox import FAILED, MINED, QUEUED, IntentInFlight, Outbox, OutboxEntry
from chain.writer import ChainWriter, Intent, enqueue, outcome, wait_for

pytestmark = [pytest.mark.node, pytest.mark.db]

CHILD = Path(__file__).with_name("writer_child.py")


@pytest.fixture
def engine(sessions):
    yield sessions.kw["bind"]
    close_bells(sessions.kw["bind"])  # before the test's database is dropped


def rotations(chain, registry, sender, intents: int) -> list[Intent]:
    """``intents`` calls of ``sender`` (a member) rotating its HPKE key: any member may, any number of times."""
    gas = chain.build(sender, registry.contract.functions.rotateHpkeKey(bytes(32)))["gas"]
    return [Intent(f"test:rotate:{i}", sender.address, registry.address, calldata(registry, "rotateHpkeKey", bytes([1, i % 256]) * 16), gas) for i in range(intents)]


def calldata(registry, function: str, *args) -> bytes:
    return bytes.fromhex(registry.contract.encode_abi(function, list(args))[2:])


def queue_all(sessions, intents: list[Intent]) -> None:
    with sessions() as session:  # one business transaction queues them all
        for intent in intents:
            enqueue(session, intent)
        session.commit()


def written(chain, registry, block) -> list:
    return [e for e in EventReader(chain, registry.contract).read(block) if e.name == "MemberKeyRotated"]


def entries(sessions) -> list[OutboxEntry]:
    with sessions() as session:
        return list(session.scalars(select(OutboxEntry).order_by(OutboxEntry.nonce)))


def test_queued_intents_are_sent_with_contiguous_nonces_and_each_waiter_learns_its_outcome(chain, registry, parties, sessions, engine):
    block, first_nonce = chain.block_number() + 1, chain.w3.eth.get_transaction_count(parties.agency.address)
    intents = rotations(chain, registry, parties.agency, 20)
    queue_all(sessions, intents)
    assert wait_for(sessions, intents[0].key, 0.2) is None  # no writer yet: still queued (a handler answers 202)

    writer = ChainWriter(chain, engine, parties.agency, max_in_flight=8, idle_wait=0.1)
    writer.start()
    try:
        done = [wait_for(sessions, intent.key, 60) for intent in intents]
    finally:
        writer.stop()
    assert all(d is not None and d.ok for d in done)
    stored = entries(sessions)
    assert [e.nonce for e in stored] == list(range(first_nonce, first_nonce + 20))
    assert {e.status for e in stored} == {MINED}
    assert len(written(chain, registry, block)) == 20


def test_a_call_the_node_refuses_fails_without_using_its_nonce_and_one_reverted_on_chain_fails_with_its_block(chain, registry, parties, sessions, engine):
    first_nonce = chain.w3.eth.get_transaction_count(parties.agency.address)
    good, starved, after = rotations(chain, registry, parties.agency, 3)
    starved = Intent(starved.key, starved.sender, starved.to, starved.data, 10**9)  # over the block's gas limit: refused by the node
    # an agency retiring a member reverts on chain (governors only): sent with a fixed gas limit, no estimate to stop it
    retire = calldata(registry, "retireMember", parties.outsider.address, bytes(32))
    reverting = Intent("test:reverting", parties.agency.address, registry.address, retire, 200_000)
    queue_all(sessions, [good, starved, reverting, after])
    writer = ChainWriter(chain, engine, parties.agency, idle_wait=0.1)
    writer.start()
    try:
        results = {i.key: wait_for(sessions, i.key, 60) for i in (good, starved, reverting, after)}
    finally:
        writer.stop()
    assert results[good.key].ok and results[after.key].ok
    assert results[starved.key].status == FAILED and results[starved.key].block_number is None
    assert "refused by the node" in results[starved.key].error
    assert results[reverting.key].status == FAILED and results[reverting.key].block_number is not None
    mined_nonces = sorted(e.nonce for e in entries(sessions) if e.block_number is not None)
    assert mined_nonces == [first_nonce, first_nonce + 1, first_nonce + 2]  # the refused one left no gap


def test_a_gas_limit_below_the_intrinsic_gas_is_refused_before_anything_is_stored(chain, registry, parties, sessions, engine):
    (intent,) = rotations(chain, registry, parties.agency, 1)
    with sessions() as session:
        with pytest.raises(ValueError, match="below the call's intrinsic gas"):
            enqueue(session, Intent(intent.key, intent.sender, intent.to, intent.data, 21_000))
    assert entries(sessions) == []


def test_an_intent_key_is_queued_once(chain, registry, parties, sessions, engine):
    (intent,) = rotations(chain, registry, parties.agency, 1)
    queue_all(sessions, [intent])
    with pytest.raises(Exception, match="(?i)unique|duplicate"):
        queue_all(sessions, [intent])
    with sessions() as session:
        assert session.scalar(select(OutboxEntry.status).where(OutboxEntry.intent_key == intent.key)) == QUEUED
    assert outcome(sessions, intent.key) is None


def said(process: subprocess.Popen, timeout: float = 60) -> str:
    """The next line the child writes, waiting at most ``timeout`` seconds (never a test that hangs)."""
    ready, _, _ = readable_within([process.stdout], [], [], timeout)
    assert ready, f"the writer process said nothing within {timeout} s"
    return process.stdout.readline().strip()


def start_writer(chain, database_url, fault=None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(CHILD), chain.w3.provider.endpoint_uri, database_url, "agency"],
        env={**os.environ, "GOVCHAIN_FAULT": fault or ""}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


@pytest.mark.slow
def test_two_writer_processes_one_leader_killed_after_signing_the_other_finishes_exactly_once(chain, registry, parties, sessions, engine, database_url):
    block, first_nonce = chain.block_number() + 1, chain.w3.eth.get_transaction_count(parties.agency.address)
    doomed = start_writer(chain, database_url, fault="writer.after_sign")
    standby = None
    try:
        assert said(doomed) == "leading"
        standby = start_writer(chain, database_url)
        assert said(standby) == "standing by"
        intents = rotations(chain, registry, parties.agency, 30)
        queue_all(sessions, intents)
        doomed.wait(30)
        assert doomed.returncode == -9  # killed with its first batch signed and stored, not sent
        died = time.monotonic()
        assert said(standby, timeout=30) == "leading"
        handover = time.monotonic() - died
        done = [wait_for(sessions, intent.key, 90) for intent in intents]
    finally:
        for process in (doomed, standby):
            if process is not None:
                process.kill()
                process.wait()
    assert handover < 5, f"hand-over took {handover:.1f} s"
    assert all(d is not None and d.ok for d in done)
    stored = entries(sessions)
    assert [e.nonce for e in stored] == list(range(first_nonce, first_nonce + 30))  # no gap, none twice
    assert len(written(chain, registry, block)) == 30  # every intent on chain, once
    logs = standby.stderr.read() if standby.stderr else ""
    assert "nonce" not in logs.lower(), logs


def test_migration_0010_matches_the_outbox_model_and_goes_back_down(database_url):
    engine = make_engine(database_url)
    try:
        db.upgrade(engine)
        with engine.connect() as connection:
            diffs = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert [d for d in diffs if "chain_outbox" in repr(d)] == []
        config = db.alembic_config(engine.url.render_as_string(hide_password=False))
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0009")
        assert db.current_revision(engine) == "0009"
    finally:
        engine.dispose()


def test_the_outbox_does_not_send_an_intent_queued_for_the_writer(chain, registry, parties, sessions, engine):
    (intent,) = rotations(chain, registry, parties.agency, 1)
    queue_all(sessions, [intent])
    with pytest.raises(IntentInFlight, match="queued for the writer"):
        Outbox(chain, sessions).submit(intent.key, parties.agency, to=intent.to, data="0x" + intent.data.hex(), gas=intent.gas)
    assert entries(sessions)[0].status == QUEUED  # untouched: still the writer's to sign
