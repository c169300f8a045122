"""Alembic environment: runs against the engine that storage.db hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from storage.schema import metadata
from storage.search import is_full_text_object


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Leave the hand-made full-text objects (FTS5 table, GIN index) out of the comparison."""
    return not is_full_text_object(name)


engine: Engine = context.config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        compare_server_default=False,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
