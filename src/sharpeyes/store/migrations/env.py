"""Alembic environment: runs migrations on the connection handed over by ``database.migrate``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from sharpeyes.store.models import Base

connection: Connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
