"""Migration 0005 creates the audit index exactly as the model declares it (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import api.schema  # noqa: F401  (registers every table)
from api import db
from chain.db import Base, make_engine

pytestmark = pytest.mark.db


def test_migration_0005_matches_the_chain_records_model(database_url):
    engine = make_engine(database_url)
    try:
        db.upgrade(engine)
        assert db.current_revision(engine) == db.head_revision()
        with engine.connect() as connection:
            diffs = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        mine = [d for d in diffs if "chain_records" in repr(d)]
        assert mine == []
        config = db.alembic_config(engine.url.render_as_string(hide_password=False))
        with engine.begin() as connection:  # and it goes back down cleanly
            config.attributes["connection"] = connection
            command.downgrade(config, "0004")
        assert db.current_revision(engine) == "0004"
    finally:
        engine.dispose()
