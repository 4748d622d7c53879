"""Alembic environment of a data holder's gateway: its own metadata and version table."""

from chain.db import run_migrations
from gateway.db import VERSION_TABLE
from gateway.models import Base

run_migrations(Base.metadata, version_table=VERSION_TABLE)
