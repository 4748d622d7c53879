"""The gateway's own database: its own migrations and version table, none of the platform's
tables; the platform's schema no longer holds the gateway's table (migration 0009); a gateway
database made under the platform's history keeps its pulls."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, insert, select

import api.schema  # noqa: F401  (registers every platform table)
from api import db as platform_db
from chain.db import Base as PlatformBase
from chain.db import make_engine, session_factory
from gateway import db as gateway_db
from gateway.models import LOGGED, Base, GatewayPull

pytestmark = pytest.mark.db

ROW = {
    "request_id": "0x" + "11" * 32, "holder": "0x" + "22" * 20, "consent_id": "0x" + "33" * 32, "category": 1,
    "requester": "0x" + "44" * 20, "fingerprint": "0x" + "55" * 32, "ciphertext": b"sealed", "digest": "0x" + "66" * 32,
    "status": LOGGED, "tx_hash": "0x" + "77" * 32, "block_number": 9, "pull_number": 1,
    "created_at": datetime(2026, 12, 1, tzinfo=UTC), "updated_at": datetime(2026, 12, 1, tzinfo=UTC),
}  # fmt: skip


def tables(engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def test_a_gateway_database_holds_the_gateway_table_only_and_matches_the_model(database_url):
    engine = make_engine(database_url)
    try:
        gateway_db.upgrade(engine)
        assert tables(engine) == {"gateway_pulls", "gateway_alembic_version"}
        assert gateway_db.current_revision(engine) == "0001"
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"version_table": gateway_db.VERSION_TABLE})
            assert compare_metadata(context, Base.metadata) == []
        assert set(Base.metadata.tables) == {"gateway_pulls"}
        assert "gateway_pulls" not in PlatformBase.metadata.tables  # the platform's metadata does not carry it
        gateway_db.upgrade(engine)  # again: nothing to do
        assert gateway_db.current_revision(engine) == "0001"
    finally:
        engine.dispose()


def test_a_gateway_database_made_under_the_platform_history_keeps_its_pulls(database_url):
    """Before the split a gateway ran the platform's migrations (to 0008) on its own database:
    its own migrations take the table over as it is, rows included."""
    engine = make_engine(database_url)
    try:
        platform_db.upgrade(engine, "0008")
        with engine.begin() as connection:
            connection.execute(insert(GatewayPull.__table__).values(**ROW))
        gateway_db.upgrade(engine)
        assert gateway_db.current_revision(engine) == "0001"
        assert platform_db.current_revision(engine) == "0008"  # the platform's history is left alone
        with session_factory(engine)() as session:
            kept = session.scalars(select(GatewayPull)).one()
        assert (kept.request_id, kept.ciphertext, kept.status, kept.pull_number) == (ROW["request_id"], b"sealed", LOGGED, 1)
    finally:
        engine.dispose()


def test_the_platform_schema_drops_the_gateway_table_at_0009_and_restores_it_going_down(database_url):
    engine = make_engine(database_url)
    try:
        platform_db.upgrade(engine, "0008")
        assert "gateway_pulls" in tables(engine)
        platform_db.upgrade(engine)
        assert platform_db.current_revision(engine) == platform_db.head_revision()
        assert "gateway_pulls" not in tables(engine)
        with engine.connect() as connection:  # the platform's models and migrations agree
            assert compare_metadata(MigrationContext.configure(connection), PlatformBase.metadata) == []
        config = platform_db.alembic_config(engine.url.render_as_string(hide_password=False))
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0008")
        assert "gateway_pulls" in tables(engine)
    finally:
        engine.dispose()
