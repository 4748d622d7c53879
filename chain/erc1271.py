"""Typed client for ERC-1271 contract wallets: does a wallet accept a signature over a digest.

ConsentRegistry and TenderLedger ask a contract wallet the same question on chain (OpenZeppelin
``SignatureChecker``); a data holder's gateway asks it before answering a pull request that
names such a wallet as its requester.
"""

from __future__ import annotations

from web3 import Web3

from chain.contract import ContractClient
from chain.hexcodec import to_bytes32
from chain.tx import ChainClient

MAGIC = bytes.fromhex("1626ba7e")  # isValidSignature(bytes32,bytes).selector: the answer of a wallet that accepts
ABI = [{"type": "function", "name": "isValidSignature", "stateMutability": "view",
        "inputs": [{"name": "hash", "type": "bytes32"}, {"name": "signature", "type": "bytes"}],
        "outputs": [{"name": "magicValue", "type": "bytes4"}]}]  # fmt: skip


class ContractWallet(ContractClient):
    """One address asked as an ERC-1271 wallet (whether or not code is there)."""

    def __init__(self, client: ChainClient, address: str):
        super().__init__(client, address, ABI)

    def accepts(self, digest: bytes | str, signature: bytes) -> bool:
        """True only when code is at the address and its ``isValidSignature(digest, signature)``
        returns the magic value; an account without code, a revert, a missing function or any
        other answer is False."""
        if not self.client.w3.eth.get_code(Web3.to_checksum_address(self.address)):
            return False
        try:
            magic = self.contract.functions.isValidSignature(to_bytes32(digest, "digest"), bytes(signature)).call()
        except Exception:  # a revert, or no such function (undecodable output): not accepted
            return False
        return bytes(magic) == MAGIC


def wallet_accepts(client: ChainClient, wallet: str, digest: bytes | str, signature: bytes) -> bool:
    """:meth:`ContractWallet.accepts` for ``wallet``."""
    return ContractWallet(client, Web3.to_checksum_address(wallet)).accepts(digest, signature)
