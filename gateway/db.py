"""The gateway's own database: its table (``gateway_pulls``) and its own Alembic migrations,
versioned in ``gateway_alembic_version`` (a holder's database holds none of the platform's tables)."""

from __future__ import annotations

from pathlib import Path

from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

from chain import db

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "gateway_alembic_version"


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the gateway's schema to ``revision`` on ``engine``'s database."""
    db.upgrade(engine, MIGRATIONS, revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE}).get_current_revision()
