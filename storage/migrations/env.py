"""Alembic environment: runs against the engine that storage.db hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from storage.schema import metadata

engine: Engine = context.config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        compare_server_default=False,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
