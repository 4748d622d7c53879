"""A separate process running the chain writer of one dev key until it is killed.

Used by test_writer.py; prints "standing by" when it first finds the key's lease taken and
"leading" when it takes it. Run with
GOVCHAIN_FAULT=writer.after_sign to be SIGKILLed right after storing its first signed transaction.
usage: writer_child.py RPC_URL DATABASE_URL PARTY
"""

import sys
import threading

from chain.config import load_node_config
from chain.db import make_engine
from chain.tx import ChainClient
from chain.writer import ChainWriter
from identity.keys import dev_party

rpc_url, database_url, party = sys.argv[1:]
writer = ChainWriter(ChainClient.from_url(rpc_url), make_engine(database_url), dev_party(load_node_config(), party), idle_wait=0.1)
take_over = writer.take_over


def announced_take_over() -> None:
    take_over()
    print("leading", flush=True)


acquire = writer.lease.acquire
said = []


def announced_acquire() -> bool:
    taken = acquire()
    if not taken and not said:
        said.append(print("standing by", flush=True))
    return taken


writer.take_over = announced_take_over
writer.lease.acquire = announced_acquire
writer.run()
threading.Event().wait()
