"""Typed event reading in capped block ranges, and a cursor that resumes."""

from __future__ import annotations

import pytest

from api import db
from chain.db import make_engine, session_factory
from chain.events import CursorStore, EventReader

pytestmark = [pytest.mark.node, pytest.mark.db]


def test_pages_are_capped_and_events_typed(chain, registry, parties):
    start = chain.block_number() + 1
    for i in range(5):
        registry.rotate_hpke_key(parties.agency, bytes([i + 1]) * 32)
    reader = EventReader(chain, registry.contract, max_range=2)
    pages = list(reader.pages(start, chain.block_number()))
    assert all(end - first + 1 <= 2 for first, end, _ in pages)
    events = [e for _, _, page in pages for e in page]
    assert [e.args["newKey"][0] for e in events] == [1, 2, 3, 4, 5]
    assert {e.name for e in events} == {"MemberKeyRotated"}
    assert all(e.tx_hash.startswith("0x") and e.address == registry.address for e in events)


def test_cursor_resumes_where_it_stopped(chain, registry, parties, database_url):
    engine = make_engine(database_url)
    db.upgrade(engine)
    cursors = CursorStore(session_factory(engine))
    reader = EventReader(chain, registry.contract, max_range=3)
    start = chain.block_number() + 1
    registry.rotate_hpke_key(parties.agency, b"\x01" * 32)
    seen = [e for page in reader.follow(cursors, "registry", start_block=start) for e in page]
    assert len(seen) == 1 and cursors.get("registry") == chain.block_number()
    registry.rotate_hpke_key(parties.agency, b"\x02" * 32)
    registry.rotate_hpke_key(parties.agency, b"\x03" * 32)
    later = [e for page in reader.follow(cursors, "registry") for e in page]
    assert [e.args["newKey"][0] for e in later] == [2, 3]
    assert [e for page in reader.follow(cursors, "registry") for e in page] == []
    engine.dispose()
