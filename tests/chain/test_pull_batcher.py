"""The gateway's group commit of pull logs: several ``recordPulls`` batches in flight per holder
key, each caller answered only once its own record is mined, a consent's next record held back
while one of its records is in flight."""

from __future__ import annotations

import time
from contextlib import contextmanager

import pytest

from chain.consents import ConsentRegistryClient, PullRefusal
from chain.node import rpc_call
from chain.tx import ChainClient
from gateway.batcher import PullBatcher

pytestmark = pytest.mark.node

ID_CARD = 0


@contextmanager
def mining_held(chain):
    """Transactions wait in the node's pool until the block is over (anvil: automine off; ganache: miner stopped)."""
    url = chain.w3.provider.endpoint_uri
    ganache = "ganache" in chain.w3.client_version.lower()
    rpc_call(url, "miner_stop") if ganache else rpc_call(url, "evm_setAutomine", [False])
    try:
        yield
    finally:
        rpc_call(url, "miner_start") if ganache else rpc_call(url, "evm_setAutomine", [True])
        rpc_call(url, "evm_mine")


def pool_size(chain) -> int:
    """Transactions sent and not yet mined (the node's pool)."""
    pending = rpc_call(chain.w3.provider.endpoint_uri, "txpool_content")["pending"]
    return sum(len(by_nonce) for by_nonce in pending.values())


@pytest.fixture
def batcher(chain, consents):
    # a client of its own without ganache's dev-clock catch-up, which mines a block before an estimate
    # when the latest is old: that would mine what the test holds in the pool
    client = ChainClient.from_url(chain.w3.provider.endpoint_uri, receipt_timeout=60)
    client._is_ganache = False
    made = []

    def make(holder, **options) -> PullBatcher:
        made.append(PullBatcher(ConsentRegistryClient(client, consents.address, consents.contract.abi), holder, **options))
        return made[-1]

    yield make
    for each in made:
        each.close()


def wait_until(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def first_pulls(gateway, pull, agency, consents_: list[bytes], label: str) -> list:
    """Each consent's pull number 1, handed to ``gateway``: their futures, in order."""
    return [gateway.submit(pull(cid, ID_CARD, agency, f"{label}{i}-1", 1)) for i, cid in enumerate(consents_)]


def test_batches_go_out_without_waiting_for_the_one_before_and_no_caller_is_answered_before_its_log_is_mined(chain, parties, grant, pull, batcher):
    agency, holder = parties.agency, parties.holder_psb
    consents_ = [grant(max_pulls=3)[1] for _ in range(3)]
    gateway = batcher(holder, max_batch=1, interval=0.01, max_in_flight=4)
    with mining_held(chain):
        futures = first_pulls(gateway, pull, agency, consents_, "c")
        wait_until(lambda: pool_size(chain) == 3)  # three batches sent, none mined: none waited for another
        # the first consent's next pull, while its first is in flight: held back, not sent
        held = gateway.submit(pull(consents_[0], ID_CARD, agency, "c0-2", 2))
        time.sleep(0.5)
        assert pool_size(chain) == 3
        assert not any(f.done() for f in [*futures, held])  # nobody answered before the log is on chain
    outcomes = [f.result(30)[0] for f in futures]
    assert [(o.refusal, o.pull_number) for o in outcomes] == [(PullRefusal.NONE, 1)] * 3
    second, receipt = held.result(30)
    assert (second.refusal, second.pull_number) == (PullRefusal.NONE, 2)  # sent after its consent's first was mined
    assert receipt.block_number > max(f.result()[1].block_number for f in futures) - 1
    assert gateway.batches == 4


def test_at_most_max_in_flight_batches_are_sent_before_one_is_mined(chain, parties, grant, pull, batcher):
    agency, holder = parties.agency, parties.holder_psb
    consents_ = [grant(max_pulls=3)[1] for _ in range(4)]
    gateway = batcher(holder, max_batch=1, interval=0.01, max_in_flight=2)
    with mining_held(chain):
        futures = first_pulls(gateway, pull, agency, consents_, "d")
        wait_until(lambda: pool_size(chain) == 2)
        time.sleep(0.5)
        assert pool_size(chain) == 2  # the other two wait for a slot
    assert all(f.result(30)[0].pull_number == 1 for f in futures)


def test_many_callers_on_many_consents_each_get_their_own_record_in_order(chain, parties, grant, pull, batcher):
    agency, holder = parties.agency, parties.holder_psb
    consents_ = [grant(max_pulls=3)[1] for _ in range(6)]
    gateway = batcher(holder, max_batch=4, interval=0.05, max_in_flight=3)
    futures = {(i, n): gateway.submit(pull(cid, ID_CARD, agency, f"e{i}-{n}", n)) for n in (1, 2, 3) for i, cid in enumerate(consents_)}
    for (i, n), future in futures.items():
        outcome, _ = future.result(60)
        assert (outcome.refusal, outcome.pull_number, outcome.record.consent_id) == (PullRefusal.NONE, n, consents_[i])
    assert gateway.batches >= 5  # 18 records, at most 4 a batch


def test_a_batch_is_stored_before_it_is_sent_and_settled_after_it_is_mined_in_one_call_each(chain, parties, grant, pull, batcher):
    """``store`` sees a whole batch before anything of it is in the node's pool and ``settle`` sees
    it once mined, each once per batch; a record ``store`` refuses is not sent and its caller gets
    the error."""
    agency, holder = parties.agency, parties.holder_psb
    consents_ = [grant(max_pulls=3)[1] for _ in range(4)]
    calls: list[tuple] = []

    def store(payloads):
        calls.append(("store", list(payloads), pool_size(chain)))
        return [ValueError("taken") if payload == "c3" else None for payload in payloads]

    def settle(settled, receipt):
        calls.append(("settle", [payload for payload, _ in settled], [outcome.pull_number for _, outcome in settled], receipt.block_number))

    gateway = batcher(holder, max_batch=4, interval=0.5, max_in_flight=1, store=store, settle=settle)
    with mining_held(chain):
        futures = [gateway.submit(pull(cid, ID_CARD, agency, f"s{i}-1", 1), f"c{i}") for i, cid in enumerate(consents_)]
        wait_until(lambda: pool_size(chain) >= 1)
        time.sleep(0.3)
        assert not any(f.done() for f in futures[:3])  # nobody is answered before the block
    with pytest.raises(ValueError, match="taken"):
        futures[3].result(30)
    mined = [f.result(30) for f in futures[:3]]
    stores = [c for c in calls if c[0] == "store"]
    settles = [c for c in calls if c[0] == "settle"]
    assert all(pool_before == 0 for _, _, pool_before in stores)  # stored before its batch went out
    assert sorted(p for _, payloads, _ in stores for p in payloads) == ["c0", "c1", "c2", "c3"]
    assert sorted(p for _, payloads, _, _ in settles for p in payloads) == ["c0", "c1", "c2"]  # the refused one was never sent
    assert len(settles) == gateway.batches and len(stores) == len(settles)  # one call each way per batch
    assert {block for *_, block in settles} == {receipt.block_number for _, receipt in mined}
