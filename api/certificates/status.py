"""Certificate status from the audit index: issuance and revocation as the indexed
``DocumentIssued`` and ``DocumentRevoked`` events of a store created through GovRegistry say,
at the block the index holds (which the verdict names).

The chain is read directly instead (:class:`identity.verify.ChainStatus`, whose block the
verdict names then) when

- the index lags the chain's head by more than ``max_lag`` blocks (the head is the node's
  ``eth_blockNumber``, reused for ``verify_head_seconds``), or is ahead of it (the chain went
  back and the indexer has not rewound yet), or holds nothing yet;
- the store was not created through GovRegistry (the index follows only those stores: the
  chain says whether there is a contract and what it answers);
- the caller asks (``?source=chain``).

Both sources give the same verdicts (tests/api/test_verifier.py runs them side by side).
"""

from __future__ import annotations

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import sessionmaker

from api.audit.indexer import cursor_name
from api.audit.models import ChainRecord
from chain.events import EventCursor
from chain.hexcodec import hx
from identity.verify import ChainStatus, StatusReading, written_by

ISSUED, REVOKED = "DocumentIssued", "DocumentRevoked"


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

    def read(self, store_address: str, root: bytes, nodes: list[bytes], *, fresh: bool = False) -> StatusReading:
        if not fresh:
            head = self.chain.head()
            with self.sessions() as session:
                indexed = session.scalar(select(EventCursor.block_number).where(EventCursor.name == self.cursor))
                if indexed is not None and 0 <= head - indexed <= self.max_lag:
                    reading = self._from_index(session, store_address, root, nodes, indexed)
                    if reading is not None:
                        return reading
        return self.chain.read(store_address, root, nodes, fresh=fresh)

    def _from_index(self, session, store_address: str, root: bytes, nodes: list[bytes], indexed: int) -> StatusReading | None:
        """The reading at block ``indexed``; None when the index does not follow ``store_address``."""
        hashes = [hx(node) for node in nodes]
        rows = session.execute(
            select(ChainRecord.event, ChainRecord.case_ref, ChainRecord.block_number, ChainRecord.tx_sender, ChainRecord.tx_hash).where(
                ChainRecord.chain_id == self.chain_id, ChainRecord.block_number <= indexed,
                or_(and_(ChainRecord.contract == store_address, ChainRecord.event.in_((ISSUED, REVOKED)), ChainRecord.case_ref.in_([hx(root), *hashes])),
                    and_(ChainRecord.contract == self.registry, ChainRecord.event == "DocumentStoreCreated", ChainRecord.case_ref == store_address)))
        ).all()  # fmt: skip
        if not any(row.event == "DocumentStoreCreated" for row in rows):
            return None
        issued = next((row for row in rows if row.event == ISSUED and row.case_ref == hx(root)), None)
        revocations = {row.case_ref: row for row in rows if row.event == REVOKED}
        revoked = tuple(h in revocations for h in hashes)
        first = next((revocations[h] for h in hashes if h in revocations), None)
        if issued is None:
            return StatusReading(indexed, self.source, False, revoked)
        if first is not None:
            through = session.scalar(select(ChainRecord.id).where(ChainRecord.tx_hash == first.tx_hash, ChainRecord.contract == self.registry,
                                                                  ChainRecord.event == "DocumentRevokedByGovernor").limit(1)) is not None  # fmt: skip
            return StatusReading(indexed, self.source, True, revoked, revoked_by=written_by("revoked", first.block_number, first.tx_sender, through))
        return StatusReading(indexed, self.source, True, revoked, issued_by=written_by("issued", issued.block_number, issued.tx_sender, False))
