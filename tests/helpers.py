"""Test helpers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.app import App
from storage.schema import metadata


def snapshot(app: App) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to prove that a failed command wrote nothing."""
    with app.database.engine.connect() as connection:
        return {
            table.name: sorted(map(tuple, connection.execute(select(table)).all()), key=repr)
            for table in metadata.sorted_tables
        }
