"""Database wiring: the platform's Alembic migrations (``api/migrations``)."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from chain import db

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    return db.alembic_config(url, MIGRATIONS)


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the platform's schema to ``revision`` on ``engine``'s database."""
    db.upgrade(engine, MIGRATIONS, revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
