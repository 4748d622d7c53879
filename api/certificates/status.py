"""Certificate status from the audit index: issuance and revocation as the indexed
``DocumentIssued`` and ``DocumentRevoked`` events of a store created through GovRegistry say,
at the block the index holds (which the verdict names).

The chain is read directly instead (:class:`identity.verify.ChainStatus`, whose block the
verdict names then) when

- the index lags the chain's head by more than ``max_lag`` blocks (the head is the node's
  ``eth_blockNumber``, reused for ``settings.verify.head_seconds``), or is ahead of it (the chain went
  back and the indexer has not rewound yet), or holds nothing yet;
- the store was not created through GovRegistry (the index follows only those stores: the
  chain says whether there is a contract and what it answers);
- the caller asks (``?source=chain``);
- the index lags at all and has not seen the root issued (it may be in the blocks not indexed
  yet: a certificate verified right after its issuance is not called "not issued").

Both sources give the same verdicts (tests/api/test_verifier.py runs them side by side).

The index's rows that decide a status (stores created, roots issued, hashes revoked, governors'
revocations) are mirrored in memory and followed by row id, at most every ``settings.verify.head_seconds``
(one statement building and database round trip per document cost more than the chain's own
batch of reads). Rows the indexer deleted (the chain went back) are noticed by the newest row
followed being gone, and the mirror is read again from the start.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from api.audit.indexer import cursor_name
from api.audit.models import ChainRecord
from chain.events import EventCursor
from chain.hexcodec import hx
from identity.verify import ChainStatus, StatusReading, written_by

ISSUED, REVOKED, STORE_CREATED, BY_GOVERNOR = "DocumentIssued", "DocumentRevoked", "DocumentStoreCreated", "DocumentRevokedByGovernor"
FOLLOWED_EVENTS = (ISSUED, REVOKED, STORE_CREATED, BY_GOVERNOR)


@dataclass(frozen=True)
class Written:
    block: int
    sender: str
    tx_hash: str


@dataclass
class Mirror:
    """What the index held at block ``indexed`` (rows up to id ``last_id``)."""

    indexed: int | None = None
    last_id: int = 0
    stores: set[str] = field(default_factory=set)
    issued: dict[tuple[str, str], Written] = field(default_factory=dict)  # (store, root) -> its DocumentIssued
    revoked: dict[tuple[str, str], Written] = field(default_factory=dict)  # (store, hash) -> its DocumentRevoked
    governor_txs: set[str] = field(default_factory=set)  # transactions of governors' revocations through GovRegistry

    def add(self, row, registry: str) -> None:
        if row.event == STORE_CREATED and row.contract == registry:
            self.stores.add(row.case_ref)
        elif row.event == BY_GOVERNOR and row.contract == registry:
            self.governor_txs.add(row.tx_hash)
        elif row.event in (ISSUED, REVOKED):
            (self.issued if row.event == ISSUED else self.revoked)[(row.contract, row.case_ref)] = Written(row.block_number, row.tx_sender, row.tx_hash)
        self.last_id = max(self.last_id, row.id)


class IndexStatus:
    """A :class:`identity.verify.StatusSource` answering from ``chain_records``, ``chain`` as its fallback."""

    source = "index"

    def __init__(self, sessions: sessionmaker, chain: ChainStatus, *, max_lag: int = 1):
        self.sessions = sessions
        self.chain = chain
        self.max_lag = max_lag
        self.chain_id = chain.client.chain_id
        self.registry = chain.registry_address
        self.cursor = cursor_name(self.chain_id, self.registry)
        self._mirror = Mirror()
        self._read_at = float("-inf")
        self._refreshing = threading.Lock()

    def read(self, store_address: str, root: bytes, nodes: list[bytes], *, fresh: bool = False) -> StatusReading:
        if not fresh:
            head = self.chain.head()
            mirror = self.mirror()
            if mirror.indexed is not None and 0 <= head - mirror.indexed <= self.max_lag and store_address in mirror.stores:
                reading = self._from(mirror, store_address, root, nodes)
                # a root the index has not seen may be in the blocks it has not read yet (a certificate
                # verified right after its issuance): only the chain can say it is not issued
                if reading.issued or head == mirror.indexed:
                    return reading
        return self.chain.read(store_address, root, nodes, fresh=fresh)

    def mirror(self) -> Mirror:
        """The mirror of the index, read again if older than the chain's head reads; while one
        thread reads it, the others answer from the one they have (the lag rule covers it)."""
        if time.monotonic() - self._read_at >= self.chain.head_seconds and self._refreshing.acquire(blocking=self._mirror.indexed is None):
            try:
                self._mirror = self._follow(self._mirror)
                self._read_at = time.monotonic()
            finally:
                self._refreshing.release()
        return self._mirror

    def _follow(self, mirror: Mirror) -> Mirror:
        with self.sessions() as session:
            if mirror.last_id and session.get(ChainRecord, mirror.last_id) is None:
                mirror = Mirror()  # the indexer dropped rows (the chain went back): read it all again
            # the cursor first: a page committed after it holds blocks past it, and comes in the next round
            indexed = session.scalar(select(EventCursor.block_number).where(EventCursor.name == self.cursor))
            if indexed is None:
                return Mirror()
            rows = session.execute(
                select(ChainRecord.id, ChainRecord.event, ChainRecord.contract, ChainRecord.case_ref, ChainRecord.block_number,
                       ChainRecord.tx_sender, ChainRecord.tx_hash)
                .where(ChainRecord.id > mirror.last_id, ChainRecord.chain_id == self.chain_id, ChainRecord.block_number <= indexed,
                       ChainRecord.event.in_(FOLLOWED_EVENTS))
                .order_by(ChainRecord.id)
            ).all()  # fmt: skip
        if not rows:  # nothing new: the same collections, at the cursor's block
            return Mirror(indexed, mirror.last_id, mirror.stores, mirror.issued, mirror.revoked, mirror.governor_txs)
        # new rows go into copies: a thread answering from the old mirror never sees a row past its block
        following = Mirror(indexed, mirror.last_id, set(mirror.stores), dict(mirror.issued), dict(mirror.revoked), set(mirror.governor_txs))
        for row in rows:
            following.add(row, self.registry)
        return following

    def _from(self, mirror: Mirror, store_address: str, root: bytes, nodes: list[bytes]) -> StatusReading:
        """The reading at the mirror's block, for a store the index follows."""
        block = mirror.indexed
        assert block is not None  # only a mirror of an index that holds blocks answers
        hashes = [hx(node) for node in nodes]
        revoked = tuple((store_address, h) in mirror.revoked for h in hashes)
        issued = mirror.issued.get((store_address, hx(root)))
        if issued is None:
            return StatusReading(block, self.source, False, revoked)
        first = next((mirror.revoked[(store_address, h)] for h in hashes if (store_address, h) in mirror.revoked), None)
        if first is not None:
            return StatusReading(block, self.source, True, revoked,
                                 revoked_by=written_by("revoked", first.block, first.sender, first.tx_hash in mirror.governor_txs))  # fmt: skip
        return StatusReading(block, self.source, True, revoked, issued_by=written_by("issued", issued.block, issued.sender, False))
