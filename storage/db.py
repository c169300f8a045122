"""The database: engine, sessions, and migrations (SQLite by default, PostgreSQL by URL)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlmodel import Session

import storage.schema  # noqa: F401 - registers every table on the metadata

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def normalise_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` URLs use psycopg 3."""
    for scheme in ("postgresql://", "postgres://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url.removeprefix(scheme)
    return url


BUSY_TIMEOUT = 5.0  # seconds a statement waits for another's lock (SQLite, PostgreSQL)


def _sqlite_pragmas(dbapi_connection: Any, busy_timeout: float) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # how long a writer waits for another's lock before "database is locked"; commands run in
    # worker threads (bot/workers.py), so the wait holds up that command only
    cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
    cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB of page cache per connection
    cursor.execute("PRAGMA mmap_size=268435456")
    # the write-ahead log is copied back into the database by WalCheckpointer, in a thread
    # of its own, not by whichever command's commit happens to cross the threshold
    cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.close()


def _close_connections_returned_after_dispose(engine: Engine) -> Engine:
    """The app disposes the engine when it stops, but a worker thread may still be finishing
    a query (a scheduled job, a notice): its connection would go back into the discarded pool
    or, if it connected after the dispose, into a fresh pool that nobody disposes, and stay
    open until the garbage collector finds it. So once the engine is disposed, every
    connection given back is closed instead of pooled (an engine used again after its dispose
    still works, connecting each time)."""
    disposed = [False]

    def on_dispose(_engine: Engine) -> None:
        disposed[0] = True

    def checkin(dbapi_connection: Any, record: Any) -> None:
        if disposed[0] and dbapi_connection is not None:
            record.invalidate()

    event.listen(engine, "engine_disposed", on_dispose)
    event.listen(engine, "checkin", checkin)
    return engine


def make_engine(url: str, *, echo: bool = False, busy_timeout: float = BUSY_TIMEOUT) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, echo=echo, connect_args={"check_same_thread": False, "timeout": busy_timeout}
        )
        event.listen(
            engine, "connect", lambda connection, _: _sqlite_pragmas(connection, busy_timeout)
        )
        return _close_connections_returned_after_dispose(engine)
    # the same bound on PostgreSQL: a statement waiting for another's row or table lock gives
    # up ("lock timeout") rather than hold its worker until the lock is released
    options = f"-c lock_timeout={int(busy_timeout * 1000)}"
    return _close_connections_returned_after_dispose(
        create_engine(url, echo=echo, pool_pre_ping=True, connect_args={"options": options})
    )


class WalCheckpointer:
    """Copies SQLite's write-ahead log back into the database file every ``interval``
    seconds, in a daemon thread on a connection of its own (PASSIVE: it never waits for, nor
    blocks, a command). A commit that crossed SQLite's automatic threshold used to do it
    itself: 10–30 ms once every few dozen posts, the board's slowest answers."""

    def __init__(self, engine: Engine, interval: float = 0.5):
        self.engine, self.interval = engine, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="sqlite-checkpoint", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.checkpoint()

    def checkpoint(self) -> None:
        try:
            with self.engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
        except Exception:  # a busy or closing database: the next round tries again
            log.debug("WAL checkpoint skipped", exc_info=True)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self.checkpoint()


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


class Database:
    def __init__(
        self,
        url: str,
        *,
        echo: bool = False,
        busy_timeout: float = BUSY_TIMEOUT,
        command_wait: float | None = None,
    ):
        """``busy_timeout``: how long a statement waits for another's lock. ``command_wait``
        (SQLite): how long a command's statement waits instead, on connections of their own,
        before its caller rolls it back and tries again; a command waiting for the one writer
        then gives its worker back to the others meanwhile (bot/dispatch.py)."""
        self.url = normalise_url(url)
        self.engine = make_engine(self.url, echo=echo, busy_timeout=busy_timeout)
        self.command_engine = self.engine
        if command_wait is not None and self.is_sqlite:
            self.command_engine = make_engine(self.url, echo=echo, busy_timeout=command_wait)
        self._on_dispose: list[Callable[[], None]] = []
        database = make_url(self.url).database if self.is_sqlite else None
        self.checkpointer = (
            WalCheckpointer(self.engine) if database and database != ":memory:" else None
        )

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose work is one transaction: committed on success, else rolled back."""
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def open_session(self, *, command: bool = False) -> Session:
        """A session the caller commits or rolls back itself (a ``command``'s: on the
        connections that wait ``command_wait`` for SQLite's lock)."""
        return Session(self.command_engine if command else self.engine, expire_on_commit=False)

    def upgrade(self, revision: str = "head") -> None:
        command.upgrade(alembic_config(self.engine), revision)

    def current_revision(self) -> str | None:
        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def head_revision(self) -> str | None:
        return ScriptDirectory.from_config(alembic_config(self.engine)).get_current_head()

    def is_current(self) -> bool:
        return self.current_revision() == self.head_revision()

    def on_dispose(self, stop: Callable[[], None]) -> None:
        """Call ``stop`` first when the database is disposed (the command pool's workers)."""
        self._on_dispose.append(stop)

    def dispose(self) -> None:
        while self._on_dispose:
            self._on_dispose.pop()()
        if self.checkpointer is not None:
            self.checkpointer.stop()
            self.checkpointer = None
        if self.command_engine is not self.engine:
            self.command_engine.dispose()
        self.engine.dispose()
