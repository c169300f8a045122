"""One running Samen per SQLite file: ``samen run`` and ``samen console`` hold an exclusive
lock on ``<database file>.lock`` for as long as they run. SQLite is not for several instances
(each would run every periodic job); PostgreSQL is, with scheduler/leadership.py."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.app import StartupError
from storage.db import normalise_url


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL; None for PostgreSQL and for an in-memory database."""
    parsed = make_url(normalise_url(url))
    if not parsed.drivername.startswith("sqlite"):
        return None
    database = parsed.database
    if not database or database == ":memory:" or parsed.query.get("mode") == "memory":
        return None
    return Path(database)


def lock_file(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


@contextmanager
def single_instance(url: str) -> Iterator[None]:
    """Hold the SQLite file's lock while the block runs; raise StartupError when another
    process holds it. Nothing to hold for PostgreSQL, an in-memory database, or on Windows."""
    database = sqlite_file(url)
    if database is None or sys.platform == "win32":
        yield
        return
    import fcntl

    path = lock_file(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StartupError(
                f"Another Samen is already running on {database.absolute()}. SQLite supports "
                "one running instance; use PostgreSQL (database url in bot.toml) to run several."
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
