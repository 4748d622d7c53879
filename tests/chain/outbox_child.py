"""A separate process that makes one exactly-once chain write through the outbox.

Used by test_outbox.py: run with GOVCHAIN_FAULT=outbox.after_sign or outbox.after_send to
be SIGKILLed at that point; run again without it to resume. Prints the transaction hash.
usage: outbox_child.py RPC_URL DATABASE_URL REGISTRY_ADDRESS ABI_JSON INTENT KEY_BYTE
"""

import json
import sys

from chain import reverts
from chain.config import load_node_config
from chain.db import make_engine, session_factory
from chain.outbox import Outbox
from chain.tx import ChainClient
from identity.keys import dev_party

rpc_url, database_url, address, abi_path, intent, key_byte = sys.argv[1:]
abi = json.loads(open(abi_path).read())
reverts.register_abi(abi)
client = ChainClient.from_url(rpc_url)
outbox = Outbox(client, session_factory(make_engine(database_url)))
outbox.resume()
agency = dev_party(load_node_config(), "agency")
registry = client.w3.eth.contract(address=address, abi=abi)
receipt = outbox.submit(intent, agency, registry.functions.rotateHpkeKey(bytes([int(key_byte)]) * 32))
print(receipt.tx_hash, flush=True)
