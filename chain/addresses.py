"""Checksummed addresses, remembered.

``Web3.to_checksum_address`` hashes the address with keccak each time; the hot paths (one
certificate, one verification, one role lookup) ask for the same few addresses over and
over, so the answers for strings are kept (an LRU of 65,536 addresses, thread-safe).
"""

from __future__ import annotations

from functools import lru_cache

from web3 import Web3


def checksum(address) -> str:
    """``address`` in EIP-55 form; raises as ``Web3.to_checksum_address`` does for what is no address."""
    return _checksum_text(address) if isinstance(address, str) else Web3.to_checksum_address(address)


@lru_cache(maxsize=65_536)
def _checksum_text(address: str) -> str:
    return Web3.to_checksum_address(address)
