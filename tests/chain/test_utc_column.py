"""``chain.db.UtcDateTime``: every timestamp column reads back time-zone aware and in UTC, on
SQLite (which keeps no zone) and PostgreSQL (``timestamptz``), aggregates included, so no
caller patches a naive value."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import DateTime, Integer, MetaData, func, inspect, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from chain.db import NAMING, UtcDateTime, make_engine, session_factory

pytestmark = pytest.mark.db
BEIJING = timezone(timedelta(hours=8))


class _Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UtcDateTime()}


class Stamp(_Base):
    __tablename__ = "utc_column_stamps"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime]


@pytest.fixture
def sessions(database_url):
    engine = make_engine(database_url)
    _Base.metadata.create_all(engine)
    yield session_factory(engine)
    engine.dispose()


def test_times_read_back_aware_utc_whatever_zone_they_were_written_in(sessions):
    written = [datetime(2026, 12, 3, 8, 0, tzinfo=BEIJING), datetime(2026, 12, 3, 1, 0, tzinfo=UTC)]
    with sessions() as session:
        session.add_all([Stamp(id=1, at=written[0]), Stamp(id=2, at=written[1])])
        session.commit()
    with sessions() as session:
        read = list(session.scalars(select(Stamp.at).order_by(Stamp.id)))
        oldest, newest = session.execute(select(func.min(Stamp.at), func.max(Stamp.at))).one()
        later = session.scalar(select(func.count()).where(Stamp.at > datetime(2026, 12, 3, 8, 30, tzinfo=BEIJING)))
    assert read == [datetime(2026, 12, 3, 0, 0, tzinfo=UTC), datetime(2026, 12, 3, 1, 0, tzinfo=UTC)]
    assert all(moment.utcoffset() == timedelta(0) and moment.tzinfo is not None for moment in read)
    assert (oldest, newest) == (read[0], read[1]) and oldest.tzinfo is not None and newest.tzinfo is not None
    assert later == 1  # compared as instants: 08:30 in Beijing is 00:30 UTC


def test_the_column_is_a_plain_timestamp_with_time_zone_so_no_migration_changes(sessions):
    """The decorator changes what Python sees, not the column: ``DateTime(timezone=True)``, as
    every migration from 0001 on creates it."""
    with sessions() as session:
        columns = {c["name"]: c["type"] for c in inspect(session.get_bind()).get_columns("utc_column_stamps")}
    assert isinstance(UtcDateTime().impl, DateTime) and UtcDateTime().impl.timezone
    assert isinstance(columns["at"], DateTime)
    if session.get_bind().dialect.name == "postgresql":
        assert columns["at"].timezone  # timestamptz
