"""Alembic environment of a data holder's gateway: its own metadata and version table."""

from typing import Any

from alembic import context
from sqlalchemy import engine_from_config, pool

from gateway.db import VERSION_TABLE
from gateway.models import Base

config = context.config
target_metadata = Base.metadata


def configure(**options: Any) -> None:
    context.configure(target_metadata=target_metadata, render_as_batch=True, version_table=VERSION_TABLE, **options)


def run_migrations_offline() -> None:
    configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = engine_from_config(config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool)
    with engine.connect() as connection:
        configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
