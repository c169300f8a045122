"""Shared fixtures: settings on a temporary SQLite file, PostgreSQL when configured, the app
and the in-memory adapter that drives it."""

from __future__ import annotations

import asyncio
import os
import signal
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from adapters.memory import MemoryAdapter
from bot.app import App
from bot.clock import FakeClock
from bot.config import LimitSettings, Settings, load_settings
from storage.db import Database, normalise_url
from storage.schema import metadata

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_ENV = "SAMEN_TEST_POSTGRES_URL"
REQUIRE_POSTGRES_ENV = "SAMEN_REQUIRE_POSTGRES"


# the fake clock stands still while a test says hundreds of commands: a pace no member has,
# so the rate limits are out of the way unless a test asks for bot.toml's own (test_limits)
UNLIMITED = LimitSettings(
    commands_burst=10_000,
    commands_per_minute=100_000,
    publish_burst=1_000,
    publish_per_hour=100_000,
)


def _dump_tasks(_signum: int, _frame: object) -> None:
    """``kill -USR1 <pytest pid>``: write every asyncio task's stack to pytest-tasks.txt in
    the temp dir (stderr is captured), to see where a test that seems stuck is waiting."""
    with (Path(tempfile.gettempdir()) / "pytest-tasks.txt").open("a") as out:
        try:
            tasks = asyncio.all_tasks()
        except RuntimeError:  # no loop running now
            print("no running event loop", file=out)
            return
        for task in tasks:
            task.print_stack(file=out)


signal.signal(signal.SIGUSR1, _dump_tasks)


def make_settings(url: str, **changes: object) -> Settings:
    base = load_settings(ROOT / "bot.toml")
    storage = base.storage.model_copy(update={"url": url})
    return base.model_copy(update={"storage": storage, "limits": UNLIMITED, **changes})


async def start_adapter(
    run: Coroutine[Any, Any, None], ready: Awaitable[Any], *, timeout: float, what: str
) -> asyncio.Task[None]:
    """Start an adapter's ``run()`` as a task and wait until ``ready``; an adapter that stops
    before it is ready shows its error."""
    task = asyncio.create_task(run)
    waiting = asyncio.ensure_future(ready)
    done, _ = await asyncio.wait(
        {task, waiting}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
    )
    if task in done:
        task.result()
    assert waiting in done, f"{what} did not get ready in time"
    return task


def _postgres_admin_url() -> str | None:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        if os.environ.get(REQUIRE_POSTGRES_ENV):
            pytest.fail(f"{REQUIRE_POSTGRES_ENV} is set but {POSTGRES_ENV} is not")
        return None
    return normalise_url(url)


class PostgresServer:
    """Creates throw-away databases on the server named by SAMEN_TEST_POSTGRES_URL."""

    def __init__(self, admin_url: str):
        self.admin_url = admin_url
        self.engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self.created: list[str] = []

    def new_database(self) -> str:
        name = f"samen_test_{uuid.uuid4().hex[:12]}"
        with self.engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with self.engine.connect() as connection:
            for name in self.created:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.engine.dispose()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    admin_url = _postgres_admin_url()
    if admin_url is None:
        pytest.skip(
            f"PostgreSQL tests need {POSTGRES_ENV} (e.g. postgresql://postgres@127.0.0.1/test)"
        )
    server = PostgresServer(admin_url)
    try:
        with server.engine.connect():
            pass
    except Exception as error:
        if os.environ.get(REQUIRE_POSTGRES_ENV):
            pytest.fail(f"PostgreSQL at {admin_url} is required but unreachable: {error}")
        pytest.skip(f"PostgreSQL at {admin_url} unreachable: {error}")
    yield server
    server.drop_all()


@pytest.fixture(scope="session")
def postgres_migrated(postgres: PostgresServer) -> str:
    """One migrated PostgreSQL database for the session; tables are emptied per test."""
    url = postgres.new_database()
    database = Database(url)
    database.upgrade()
    database.dispose()
    return url


def _empty_postgres(url: str) -> None:
    engine = create_engine(url)
    names = ", ".join(f'"{table.name}"' for table in metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'samen.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test using this runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'samen.db'}"
    url: str = request.getfixturevalue("postgres_migrated")
    _empty_postgres(url)
    return url


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(sqlite_url: str) -> Settings:
    return make_settings(sqlite_url)


@pytest.fixture
async def app(settings: Settings, clock: FakeClock) -> AsyncIterator[App]:
    application = App(settings, clock=clock)
    application.prepare_database()
    yield application
    application.database.dispose()


@pytest.fixture
async def bot(app: App) -> MemoryAdapter:
    return MemoryAdapter(app)


@pytest.fixture
async def any_bot(database_url: str, clock: FakeClock) -> AsyncIterator[MemoryAdapter]:
    """The in-memory adapter on SQLite and on PostgreSQL."""
    application = App(make_settings(database_url), clock=clock)
    application.prepare_database()  # SQLite: migrate; both: seed circles and venues
    yield MemoryAdapter(application)
    application.database.dispose()
