"""The declarative base every govchain table derives from, and engine creation.

SQLite (a file in the state directory) is the embedded default; any PostgreSQL URL works
the same. Schema changes go through Alembic: the platform's in ``api/migrations``, a
gateway's in ``gateway/migrations`` (:func:`alembic_config`, :func:`upgrade`).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config

from sqlalchemy import Connection, DateTime, Engine, MetaData, TypeDecorator, create_engine, engine_from_config, event, pool, text
from sqlalchemy.orm import DeclarativeBase, sessionmaker
from sqlalchemy.pool import StaticPool

# The advisory-lock key migrations hold on PostgreSQL (one upgrade at a time per database); the
# leases' keys (chain.leases.lock_key) are other sha256-derived values.
MIGRATION_LOCK_KEY = int.from_bytes(hashlib.sha256(b"govchain migrations").digest()[:8], "big", signed=True)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator):
    """A timestamp stored in UTC and always read back with its time zone: SQLite keeps no zone
    and hands back naive values, PostgreSQL's ``timestamptz`` does; both come out UTC-aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            return value.astimezone(UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UtcDateTime()}


def utcnow() -> datetime:
    return datetime.now(UTC)


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, a busy timeout and foreign keys."""
    if url.startswith("sqlite"):
        memory = url in ("sqlite://", "sqlite:///:memory:")
        # a file database: one connection per worker thread (the API runs 40, and a request
        # may hold two sessions); SQLAlchemy's default pool of 5 + 10 timed out under load
        sizing = {} if memory else {"pool_size": 20, "max_overflow": 80}
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            poolclass=StaticPool if memory else None,
            **sizing,
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            if not memory:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str, script_location: Path) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine, script_location: Path, revision: str = "head") -> None:
    """Bring the schema of ``script_location``'s migrations to ``revision`` on ``engine``'s database.

    One upgrade at a time per database (:func:`_one_upgrade_at_a_time`): API replicas starting
    together on a fresh database each run this at start-up, and two at once both created
    ``alembic_version`` (one replica failed its start). The next one now waits, then finds the
    schema at ``revision`` and does nothing."""
    config = alembic_config(engine.url.render_as_string(hide_password=False), script_location)
    with engine.connect() as connection, _one_upgrade_at_a_time(connection), connection.begin():  # committed before the lock goes
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def run_migrations(metadata: MetaData, **options: Any) -> None:
    """What a migrations folder's ``env.py`` does: run its migrations for ``metadata`` (batch mode,
    for SQLite's ALTER TABLE; ``options``: more of ``context.configure``'s, e.g. ``version_table``) on
    the connection :func:`upgrade` hands over, else on the Alembic config's URL (offline: as SQL)."""
    from alembic import context

    config = context.config

    def run(**where: Any) -> None:
        context.configure(target_metadata=metadata, render_as_batch=True, **options, **where)
        with context.begin_transaction():
            context.run_migrations()

    connection = config.attributes.get("connection")
    if context.is_offline_mode():
        run(url=config.get_main_option("sqlalchemy.url"), literal_binds=True)
    elif connection is not None:
        run(connection=connection)
    else:
        engine = engine_from_config(config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool)
        with engine.connect() as connection:
            run(connection=connection)


@contextmanager
def _one_upgrade_at_a_time(connection: Connection) -> Iterator[None]:
    """PostgreSQL: a session-level advisory lock on ``connection`` (released here, or by the server
    when the session ends). SQLite: an exclusive ``flock`` on a file beside the database (released
    when closed, or when the process dies); an in-memory database belongs to one process already."""
    if connection.dialect.name == "postgresql":
        key = {"key": MIGRATION_LOCK_KEY}
        connection.execute(text("SELECT pg_advisory_lock(:key)"), key)
        connection.commit()  # the lock outlives this transaction: the upgrade runs in one of its own
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), key)
            connection.commit()
        return
    database = connection.engine.url.database
    if connection.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    descriptor = os.open(f"{database}.migrations.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)
