"""The outbox: exactly one transaction per intent, even when the sender is killed mid-way."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from chain.events import EventReader
from chain.outbox import MINED, SENT, SIGNED, Outbox, OutboxEntry
from chain.reverts import revert_class

pytestmark = [pytest.mark.node, pytest.mark.db]

CHILD = Path(__file__).with_name("outbox_child.py")


def rotations_since(chain, registry, block):
    return [e for e in EventReader(chain, registry.contract).read(block) if e.name == "MemberKeyRotated"]


def run_child(chain, registry, database_url, tmp_path, intent, fault=None):
    abi = tmp_path / "abi.json"
    abi.write_text(json.dumps(registry.contract.abi))
    return subprocess.run(
        [sys.executable, str(CHILD), chain.w3.provider.endpoint_uri, database_url, registry.address, str(abi), intent, "7"],
        env={**os.environ, "GOVCHAIN_FAULT": fault or ""},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
@pytest.mark.parametrize("fault", ["outbox.after_sign", "outbox.after_send"])
def test_killed_sender_resumes_without_a_second_transaction(fault, chain, registry, parties, sessions, database_url, tmp_path):
    agency = parties.agency.address
    nonce_before = chain.w3.eth.get_transaction_count(agency)
    block_before = chain.block_number() + 1

    crashed = run_child(chain, registry, database_url, tmp_path, "anchor:case-1", fault)
    assert crashed.returncode == -9, crashed.stderr  # SIGKILL, at the named point
    with sessions() as session:
        (entry,) = session.scalars(select(OutboxEntry)).all()
    assert entry.status == (SENT if fault == "outbox.after_send" else SIGNED) and entry.intent_key == "anchor:case-1"
    sent_before_crash = chain.w3.eth.get_transaction_count(agency) - nonce_before
    assert sent_before_crash == (1 if fault == "outbox.after_send" else 0)

    resumed = run_child(chain, registry, database_url, tmp_path, "anchor:case-1")
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.strip() == entry.tx_hash  # the very same signed transaction

    again = run_child(chain, registry, database_url, tmp_path, "anchor:case-1")
    assert again.stdout.strip() == entry.tx_hash
    assert chain.w3.eth.get_transaction_count(agency) == nonce_before + 1
    assert len(rotations_since(chain, registry, block_before)) == 1
    with sessions() as session:
        (entry,) = session.scalars(select(OutboxEntry)).all()
    assert entry.status == MINED and entry.block_number is not None


def test_same_intent_from_many_threads_is_sent_once(chain, registry, parties, sessions):
    outbox = Outbox(chain, sessions)
    block_before = chain.block_number() + 1
    results, barrier = [], threading.Barrier(8)

    def submit():
        barrier.wait()
        results.append(outbox.submit("pull:42", parties.agency, registry.contract.functions.rotateHpkeKey(b"\x02" * 32)).tx_hash)

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 8 and len(set(results)) == 1
    assert len(rotations_since(chain, registry, block_before)) == 1


def test_many_intents_of_one_sender_at_once_all_end_mined(chain, registry, parties, sessions):
    """Sixteen threads, sixteen intents, one sender: each is sent once and recorded mined.
    (Marking "sent" happened after the nonce lock was released; the next sender's re-broadcast
    of "unsent" entries then took a just-sent one for unsent, and its late "sent" overwrote
    "mined": writes on chain that the outbox still called open.)"""
    outbox = Outbox(chain, sessions)
    block_before = chain.block_number() + 1
    barrier, errors = threading.Barrier(16), []

    def submit(i):
        barrier.wait()
        try:
            outbox.submit(f"rotate:{i}", parties.agency, registry.contract.functions.rotateHpkeKey(bytes([i + 1]) * 32))
        except Exception as exc:  # noqa: BLE001 - collected and shown below
            errors.append(exc)

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    with sessions() as session:
        entries = session.scalars(select(OutboxEntry)).all()
    assert sorted(e.intent_key for e in entries) == sorted(f"rotate:{i}" for i in range(16))
    assert {e.status for e in entries} == {MINED}
    assert len({e.nonce for e in entries}) == 16
    assert len(rotations_since(chain, registry, block_before)) == 16


def test_a_call_that_would_revert_stores_nothing(chain, registry, parties, sessions):
    outbox = Outbox(chain, sessions)
    with pytest.raises(revert_class("AccessControlUnauthorizedAccount")):
        outbox.submit("suspend:agency", parties.relayer, registry.contract.functions.suspendMember(parties.agency.address, b"\0" * 32))
    assert outbox.entry("suspend:agency") is None
    with sessions() as session:
        assert session.scalars(select(OutboxEntry)).all() == []


def _unsent(outbox, chain, monkeypatch, intent, account, call):
    """Submit ``intent`` while the node refuses connections at the send: the signed
    transaction is stored, nothing reaches the node."""
    from chain.errors import ChainUnavailable

    real = chain.send_raw

    def down(raw):
        raise ChainUnavailable("node down (simulated at the send)")

    monkeypatch.setattr(chain, "send_raw", down)
    with pytest.raises(ChainUnavailable):
        outbox.submit(intent, account, call)
    monkeypatch.setattr(chain, "send_raw", real)
    entry = outbox.entry(intent)
    assert entry.status == SIGNED
    return entry


def test_an_unsent_transaction_goes_out_before_the_next_one_takes_its_nonce(chain, registry, parties, sessions, monkeypatch):
    outbox = Outbox(chain, sessions)
    block_before = chain.block_number() + 1
    first = _unsent(outbox, chain, monkeypatch, "rotate:first", parties.agency, registry.contract.functions.rotateHpkeKey(b"\x03" * 32))
    second = outbox.submit("rotate:second", parties.agency, registry.contract.functions.rotateHpkeKey(b"\x04" * 32))
    assert chain.receipt_or_none(first.tx_hash) is not None  # re-broadcast before the second was signed
    assert outbox.submit("rotate:first", parties.agency).tx_hash == first.tx_hash
    assert [e.args["newKey"] for e in rotations_since(chain, registry, block_before)] == [b"\x03" * 32, b"\x04" * 32]
    assert second.block_number >= chain.receipt_or_none(first.tx_hash).block_number


def test_a_transaction_whose_nonce_was_taken_is_signed_again_once(chain, registry, parties, sessions, monkeypatch):
    outbox = Outbox(chain, sessions)
    block_before = chain.block_number() + 1
    lost = _unsent(outbox, chain, monkeypatch, "rotate:lost", parties.agency, registry.contract.functions.rotateHpkeKey(b"\x05" * 32))
    chain.transact(parties.agency, registry.contract.functions.rotateHpkeKey(b"\x06" * 32))  # outside the outbox: takes the nonce
    again = outbox.submit("rotate:lost", parties.agency, registry.contract.functions.rotateHpkeKey(b"\x05" * 32))
    assert again.tx_hash != lost.tx_hash and again.ok
    assert outbox.submit("rotate:lost", parties.agency).tx_hash == again.tx_hash
    assert [e.args["newKey"] for e in rotations_since(chain, registry, block_before)] == [b"\x06" * 32, b"\x05" * 32]
