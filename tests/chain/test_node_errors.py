"""The one classifier of node errors (chain.node_errors): the wording of each node, and the real
answers of the suite's node (ganache, and anvil in the `node` pass)."""

from __future__ import annotations

import pytest
import requests
from web3 import Web3
from web3.exceptions import ContractCustomError, Web3RPCError

from chain.errors import ChainUnavailable, ContractRevert
from chain.node_errors import NodeError, classify, classify_message, is_outage, is_revert
from chain.reverts import from_web3
from chain.node import free_port

REVERT, NONCE_TAKEN, ALREADY_KNOWN, OUTAGE = NodeError.REVERT, NodeError.NONCE_TAKEN, NodeError.ALREADY_KNOWN, NodeError.OUTAGE


@pytest.mark.parametrize(("message", "kind"), [
    ("nonce too low", NONCE_TAKEN),  # geth, Besu, anvil
    ("nonce too low: next nonce 7, tx nonce 5", NONCE_TAKEN),
    ("the tx doesn't have the correct nonce. account has nonce of: 7 tx has nonce of: 5", NONCE_TAKEN),  # ganache
    ("transaction can't be replaced, mining has already started. (please open an issue ...)", NONCE_TAKEN),  # ganache, nonce in the pool
    ("replacement transaction underpriced", NONCE_TAKEN),  # geth, anvil: the nonce is held by a pending transaction
    ("VM Exception while processing transaction: revert", REVERT),  # ganache
    ("execution reverted: GovRegistry: not a member", REVERT),  # anvil, geth
    ("execution reverted: already issued", REVERT),  # a revert whose reason says "already" is still a revert
    ("already known", ALREADY_KNOWN),  # geth
    ("Known transaction", ALREADY_KNOWN),  # Besu
    ("transaction already imported", ALREADY_KNOWN),  # anvil
    ("Database is not open", OUTAGE),  # ganache while it stops or starts
    ("insufficient funds for gas * price + value", OUTAGE),  # not one of the three: nothing written, retry later
])  # fmt: skip
def test_each_node_wording_is_classified(message, kind):
    assert classify_message(message) is kind
    assert classify(message) is kind
    assert classify(Web3RPCError(message)) is kind
    assert is_revert(message) is (kind is REVERT)
    assert is_outage(message) is (kind is not REVERT)


def test_exceptions_are_classified_by_type_and_others_are_not_the_node():
    assert classify(ContractCustomError("0x12345678", data="0x12345678")) is REVERT
    assert classify(ContractRevert(message="nope")) is REVERT
    for down in (ChainUnavailable("down"), requests.ConnectionError("refused"), requests.Timeout("slow"), ConnectionError(), TimeoutError()):
        assert classify(down) is OUTAGE and is_outage(down)
    for other in (ValueError("not hex"), KeyError("result"), RuntimeError("bug")):
        assert classify(other) is None and not is_outage(other) and not is_revert(other)


def test_a_json_rpc_error_object_is_read_whole():
    assert classify({"code": 3, "message": "execution reverted", "data": "0x08c379a0"}) is REVERT
    assert classify({"code": -32000, "message": "Database is not open"}) is OUTAGE
    assert classify("no answer") is OUTAGE


@pytest.mark.node
def test_the_node_s_own_answers(chain, registry, parties):
    """What the suite's node really says: a used nonce, a revert (named by chain.reverts), and
    nothing at all from a port where no node listens."""
    agency = parties.agency
    call = registry.contract.functions.rotateHpkeKey(b"\x07" * 32)
    assert chain.transact(agency, call).ok
    used = chain.w3.eth.get_transaction_count(agency.address) - 1
    raw, _ = chain.sign_with_nonce(agency, chain.build(agency, registry.contract.functions.rotateHpkeKey(b"\x08" * 32)), used)
    with pytest.raises(Web3RPCError) as taken:
        chain.w3.eth.send_raw_transaction(raw)
    assert classify(taken.value) is NONCE_TAKEN, taken.value.message
    chain.nonces.reset()

    refused_call = registry.contract.functions.suspendMember(agency.address, b"\x00" * 32)
    with pytest.raises(Exception) as reverted:
        refused_call.call({"from": parties.relayer.address})
    assert classify(reverted.value) is REVERT, reverted.value
    named = from_web3(reverted.value)
    assert named is not None and named.name == "AccessControlUnauthorizedAccount"

    nowhere = Web3(Web3.HTTPProvider(f"http://127.0.0.1:{free_port()}", request_kwargs={"timeout": 2}))
    with pytest.raises(Exception) as down:
        nowhere.eth.block_number
    assert classify(down.value) is OUTAGE, repr(down.value)
