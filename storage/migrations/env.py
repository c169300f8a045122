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
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # A table that SQLite must rebuild is dropped and re-created: with foreign keys on,
        # that would cascade to the rows that refer to it. Off during migrations only.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=sqlite,
        compare_type=True,
        compare_server_default=False,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
    if sqlite:
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        connection.commit()
