"""Alembic environment: one metadata for the platform and chain tables."""

import api.schema  # noqa: F401  (registers every table)
from chain.db import Base, run_migrations

run_migrations(Base.metadata)
