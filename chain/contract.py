"""The base of the typed contract clients: one deployed contract, its events, its reverts."""

from __future__ import annotations

from web3 import Web3
from web3.exceptions import Web3Exception

from chain import reverts
from chain.events import ChainEvent, EventReader
from chain.tx import ChainClient, Receipt


class ContractClient:
    """Reads and writes of one deployed contract. Writes are sent by the account each method is given."""

    def __init__(self, client: ChainClient, address: str, abi: list):
        self.client = client
        self.contract = client.w3.eth.contract(address=Web3.to_checksum_address(address), abi=abi)
        self.reader = EventReader(client, self.contract)

    @property
    def address(self) -> str:
        return self.contract.address

    def events(self, receipt: Receipt) -> list[ChainEvent]:
        """This contract's events in ``receipt``, in log order."""
        mine = (log for log in receipt.logs if Web3.to_checksum_address(log["address"]) == self.address)
        return [e for e in (self.reader.decode(log) for log in mine) if e]

    def _read(self, call):
        """Run a view; a revert comes back as its named exception."""
        try:
            return call.call()
        except Web3Exception as exc:
            raise (reverts.from_web3(exc) or exc) from None
