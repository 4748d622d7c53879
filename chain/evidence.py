"""Typed client for ``EvidenceLedger``: evidence roots anchored once, with kind, reference, sender and block.

A kind is ``keccak256`` of its name; :data:`KINDS` maps the well-known names to their ids and
the methods take either a name from it or a raw 32-byte id. Refs and roots are 32 bytes
(``bytes`` or a ``0x`` hex string). Relayers, agencies and issuers (active members) anchor.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3 import Web3

from chain import reverts
from chain.contract import ContractClient
from chain.documents import hash32
from chain.tx import ChainClient, Receipt

KIND_NAMES = ("SUBMISSION_MANIFEST", "COMMITMENT", "COMMITMENT_CHECK", "DELIVERY")
KINDS: dict[str, bytes] = {name: keccak(text=name) for name in KIND_NAMES}
KIND_BY_ID = {v: k for k, v in KINDS.items()}


def kind_id(kind: str | bytes) -> bytes:
    """The 32-byte id of ``kind``: a name in :data:`KINDS` (any case) or 32 raw bytes."""
    if isinstance(kind, str):
        try:
            return KINDS[kind.upper()]
        except KeyError:
            raise ValueError(f"unknown evidence kind {kind!r}; kinds are {', '.join(KIND_NAMES)} (or pass 32 raw bytes)") from None
    return hash32(kind)


class EvidenceRecord(NamedTuple):
    """One record for :meth:`EvidenceLedgerClient.anchor_batch` (``IEvidenceLedger.Record``)."""

    kind: str | bytes
    ref: bytes | str
    root: bytes | str

    def as_tuple(self) -> tuple[bytes, bytes, bytes]:
        return (kind_id(self.kind), hash32(self.ref), hash32(self.root))


class Anchored(NamedTuple):
    """When and by whom a root was anchored."""

    block_number: int
    timestamp: int
    by: str


class EvidenceLedgerClient(ContractClient):
    """Reads and writes of one deployed EvidenceLedger. Writes are sent by the given account."""

    def __init__(self, client: ChainClient, address: str, abi: list):
        super().__init__(client, address, abi)
        reverts.register_abi(abi)

    @staticmethod
    def kind(kind: str | bytes) -> bytes:
        """The 32-byte id of ``kind`` (see :func:`kind_id`)."""
        return kind_id(kind)

    def anchor_call(self, kind: str | bytes, ref: bytes | str, root: bytes | str):
        """``anchor(kind, ref, root)`` built unsent (the outbox or an agency's own client sends it)."""
        return self.contract.functions.anchor(kind_id(kind), hash32(ref), hash32(root))

    def anchor(self, account: LocalAccount, kind: str | bytes, ref: bytes | str, root: bytes | str) -> Receipt:
        """Anchor ``root`` of ``kind`` for ``ref``. Refused if ``root`` was anchored before."""
        return self.client.transact(account, self.anchor_call(kind, ref, root))

    def anchor_batch(self, account: LocalAccount, records: Iterable[EvidenceRecord | tuple]) -> Receipt:
        """Anchor every record (``EvidenceRecord`` or ``(kind, ref, root)``) in one transaction, all or none."""
        rows = [(r if isinstance(r, EvidenceRecord) else EvidenceRecord(*r)).as_tuple() for r in records]
        return self.client.transact(account, self.contract.functions.anchorBatch(rows))

    def anchored_at(self, root: bytes | str) -> Anchored | None:
        """``(block_number, timestamp, by)`` of ``root``'s anchoring, or None if it never was anchored."""
        block_number, timestamp, by = self.contract.functions.anchoredAt(hash32(root)).call()
        if block_number == 0:
            return None
        return Anchored(block_number, timestamp, Web3.to_checksum_address(by))

    def registry(self) -> str:
        return Web3.to_checksum_address(self.contract.functions.registry().call())
