"""Typed event reading with a persisted cursor: the base of the audit index.

``EventReader`` decodes every event a contract's ABI declares, reading logs in pages of
at most ``max_range`` blocks (Besu caps ``eth_getLogs`` at 5,000). ``CursorStore`` keeps
the last block each named reader has fully processed, so reading resumes after restarts.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from eth_utils import event_abi_to_log_topic
from hexbytes import HexBytes
from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column, sessionmaker
from web3._utils.events import get_event_data

from chain.db import Base, utcnow
from chain.tx import ChainClient
from chain.hexcodec import hx

DEFAULT_MAX_RANGE = 2_000


@dataclass(frozen=True)
class ChainEvent:
    name: str
    args: dict
    address: str
    block_number: int
    tx_hash: str
    log_index: int

    @property
    def key(self) -> tuple[str, int]:
        return (self.tx_hash, self.log_index)


class EventCursor(Base):
    __tablename__ = "chain_event_cursors"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    block_number: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CursorStore:
    def __init__(self, sessions: sessionmaker):
        self.sessions = sessions

    def get(self, name: str) -> int | None:
        with self.sessions() as session:
            cursor = session.get(EventCursor, name)
            return None if cursor is None else cursor.block_number

    def set(self, name: str, block_number: int) -> None:
        with self.sessions() as session:
            cursor = session.get(EventCursor, name)
            if cursor is None:
                session.add(EventCursor(name=name, block_number=block_number))
            else:
                cursor.block_number = block_number
            session.commit()


class EventReader:
    """Decodes the events of ``contract`` (a web3 contract) from its logs."""

    def __init__(self, client: ChainClient, contract, *, max_range: int = DEFAULT_MAX_RANGE):
        if max_range < 1:
            raise ValueError(f"max_range {max_range} must be at least 1 block")
        self.client = client
        self.contract = contract
        self.max_range = max_range
        self._by_topic = {HexBytes(event_abi_to_log_topic(item)): item for item in contract.abi if item.get("type") == "event"}

    def decode(self, log) -> ChainEvent | None:
        topics = log["topics"]
        abi = self._by_topic.get(HexBytes(topics[0])) if topics else None
        if abi is None:
            return None
        data = get_event_data(self.client.w3.codec, abi, log)
        return ChainEvent(
            name=data["event"],
            args=dict(data["args"]),
            address=data["address"],
            block_number=data["blockNumber"],
            tx_hash=hx(data["transactionHash"]),
            log_index=data["logIndex"],
        )

    def pages(self, from_block: int, to_block: int) -> Iterator[tuple[int, int, list[ChainEvent]]]:
        """Yield ``(start, end, events)`` per page of at most ``max_range`` blocks, in order."""
        start = from_block
        while start <= to_block:
            end = min(start + self.max_range - 1, to_block)
            logs = self.client.w3.eth.get_logs({"address": self.contract.address, "fromBlock": start, "toBlock": end})
            events = [e for e in (self.decode(log) for log in logs) if e is not None]
            events.sort(key=lambda e: (e.block_number, e.log_index))
            yield start, end, events
            start = end + 1

    def read(self, from_block: int = 0, to_block: int | None = None) -> list[ChainEvent]:
        to_block = self.client.block_number() if to_block is None else to_block
        return [event for _, _, events in self.pages(from_block, to_block) for event in events]

    def follow(self, cursors: CursorStore, name: str, *, start_block: int = 0, confirmations: int = 0) -> Iterator[list[ChainEvent]]:
        """Yield the new events page by page, then move the cursor past the page.

        The cursor moves only after the caller's loop body ran for a page, so a crash while
        handling a page re-delivers it (handlers must be idempotent on ``ChainEvent.key``).
        """
        last = cursors.get(name)
        first = start_block if last is None else last + 1
        head = self.client.block_number() - confirmations
        for _, end, events in self.pages(first, head):
            yield events
            cursors.set(name, end)
