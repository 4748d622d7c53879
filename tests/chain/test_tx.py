"""The chain client: nonces under concurrency, fee modes, interval mining, named reverts."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from chain.errors import ChainUnavailable, ContractRevert, NonceTaken
from chain.events import EventReader
from chain.node import LocalNode
from chain.registry import GovRegistryClient
from chain.reverts import decode_revert, revert_class
from chain.tx import ChainClient, FeeMode

pytestmark = pytest.mark.node


def test_fifty_concurrent_senders_on_one_key_lose_no_transaction(registry, parties, chain):
    agency = parties.agency
    start_nonce = chain.w3.eth.get_transaction_count(agency.address)
    start_block = chain.block_number() + 1
    barrier = threading.Barrier(50)

    def rotate(i: int):
        barrier.wait()  # all 50 ask for a nonce at the same moment
        return registry.rotate_hpke_key(agency, i.to_bytes(32, "big"))

    with ThreadPoolExecutor(50) as pool:
        receipts = list(pool.map(rotate, range(1, 51)))
    assert all(r.ok for r in receipts)
    nonces = sorted(chain.w3.eth.get_transaction(r.tx_hash)["nonce"] for r in receipts)
    assert nonces == list(range(start_nonce, start_nonce + 50))
    rotated = [e for e in EventReader(chain, registry.contract).read(start_block) if e.name == "MemberKeyRotated"]
    assert len(rotated) == 50
    assert chain.w3.eth.get_transaction_count(agency.address) == start_nonce + 50


def test_a_nonce_taken_by_another_sender_of_the_key_is_signed_again(registry, parties, chain):
    """The key is also used outside this client (another process, an operator's wallet): its
    counter is behind the chain. One plain transaction is signed again with the chain's nonce;
    a bare send says which refusal it was."""
    other = ChainClient(chain.w3)
    call = registry.contract.functions.rotateHpkeKey
    assert chain.transact(parties.agency, call(b"\x01" * 32)).ok  # this client's counter is now cached
    assert other.transact(parties.agency, call(b"\x02" * 32)).ok  # ... and behind the chain
    before = chain.w3.eth.get_transaction_count(parties.agency.address)
    receipt = chain.transact(parties.agency, call(b"\x03" * 32))
    assert receipt.ok and chain.w3.eth.get_transaction(receipt.tx_hash)["nonce"] == before
    assert other.transact(parties.agency, call(b"\x04" * 32)).ok  # now the other one is behind
    with pytest.raises(NonceTaken, match="nonce"):
        chain.send(parties.agency, chain.build(parties.agency, call(b"\x05" * 32)))
    assert chain.transact(parties.agency, call(b"\x06" * 32)).ok  # send forgot the counter: no retry needed


def test_fee_mode_matches_the_node(chain, node_config):
    expected = FeeMode.ZERO if node_config.kind == "anvil" else FeeMode.EIP1559  # ganache keeps a base fee
    assert chain.fee_mode is expected
    fields = chain.fee_fields()
    if expected is FeeMode.ZERO:
        assert fields == {"gasPrice": 0}
    else:
        assert fields["maxFeePerGas"] >= fields["maxPriorityFeePerGas"] > 0


def test_legacy_transactions_work_where_the_node_takes_them(registry, parties, chain):
    legacy = ChainClient(chain.w3, fee_mode=FeeMode.LEGACY)
    receipt = legacy.transact(parties.agency, registry.contract.functions.rotateHpkeKey(b"\x05" * 32))
    assert receipt.ok and chain.w3.eth.get_transaction(receipt.tx_hash)["type"] == 0
    chain.nonces.reset()


def test_interval_mining_waits_for_the_block(node_config, build, parties):
    from chain.deploy import deploy
    from identity.parties import governor_info
    import tempfile
    from pathlib import Path

    with LocalNode(node_config.with_(block_time=1)) as slow:
        client = ChainClient.from_url(slow.url)
        deployment = deploy(client, parties.governor, build, Path(tempfile.mkdtemp()), governor_info=governor_info(node_config))
        registry = GovRegistryClient(client, deployment.address("GovRegistry"), build["GovRegistry"].abi)
        before = client.block_number()
        receipt = registry.rotate_hpke_key(parties.governor, b"\x03" * 32)
        assert receipt.ok and receipt.block_number > before


def test_reverts_become_named_exceptions_with_arguments(registry, parties):
    with pytest.raises(revert_class("AccessControlUnauthorizedAccount")) as refused:
        registry.suspend_member(parties.relayer, parties.agency.address)
    error = refused.value
    assert isinstance(error, ContractRevert) and isinstance(error, PermissionError)
    assert error.args_by_name["account"] == parties.relayer.address
    assert str(error).startswith(f"AccessControlUnauthorizedAccount(account='{parties.relayer.address}', neededRole=0x")


def test_decode_revert_handles_strings_panics_and_unknown_selectors():
    reason = "0x08c379a0" + "0" * 62 + "20" + "0" * 62 + "04" + b"nope".hex() + "0" * 56
    assert decode_revert(reason).args_by_name == {"reason": "nope"}
    panic = "0x4e487b71" + "0" * 62 + "11"
    assert decode_revert(panic).args_by_name == {"code": 0x11}
    unknown = decode_revert("0xdeadbeef")
    assert type(unknown) is ContractRevert and "0xdeadbeef" in str(unknown)
    assert "without data" in str(decode_revert(None))


def test_unreachable_node_is_chain_unavailable():
    from chain.node import free_port

    with pytest.raises(ChainUnavailable, match="no JSON-RPC node"):
        ChainClient.from_url(f"http://127.0.0.1:{free_port()}")
