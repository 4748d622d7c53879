"""Holding the node's mining, for tests of what is sent and not yet mined."""

from __future__ import annotations

from contextlib import contextmanager

from chain.node import rpc_call


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
