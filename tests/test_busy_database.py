"""A database that is held (SQLite's write lock taken by another connection) stalls nothing
else: the event loop keeps running, other members' reads are answered, and a command that
cannot write in time answers "busy, try again" and keeps nothing."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from adapters.memory import MemoryAdapter
from bot.app import App
from bot.clock import FakeClock
from bot.workers import Busy, CommandPool, Ticket
from storage.db import Database
from tests.conftest import make_settings

BUSY_NL = "Samen heeft het even druk, probeer het zo meteen opnieuw."
BUSY_FR = "Samen est occupé, réessayez dans un instant."


@contextmanager
def write_locked(database: Path, seconds: float) -> Iterator[threading.Event]:
    """Another connection holds SQLite's write lock (BEGIN IMMEDIATE) for ``seconds``, in a
    thread of its own, as a slow writer (another process, a long migration) would; the event
    is set once it is released."""
    held, released = threading.Event(), threading.Event()

    def hold() -> None:
        connection = sqlite3.connect(database, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("UPDATE platform_state SET value = value WHERE platform = 'nobody'")
            held.set()
            time.sleep(seconds)
            connection.execute("ROLLBACK")
        finally:
            connection.close()
            released.set()

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    assert held.wait(5), "the write lock was not taken"
    try:
        yield released
    finally:
        thread.join(seconds + 5)


class Ticker:
    """A coroutine that wakes every 20 ms and records how late each wake-up was: what a
    Discord heartbeat, another member's command or a reminder would wait."""

    def __init__(self) -> None:
        self.worst = 0.0
        self.ticks = 0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + 0.02
            await asyncio.sleep(0.02)
            self.worst = max(self.worst, loop.time() - due)
            self.ticks += 1

    async def __aenter__(self) -> Ticker:
        self._task = asyncio.create_task(self._run())
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await self._task


def busy_app(tmp_path: Path, timeout: float, *, busy_timeout: float | None = None) -> App:
    settings = make_settings(f"sqlite:///{tmp_path / 'samen.db'}")
    settings = settings.model_copy(
        update={"storage": settings.storage.model_copy(update={"command_timeout_seconds": timeout})}
    )
    database = Database(settings.storage.url, busy_timeout=busy_timeout) if busy_timeout else None
    app = App(settings, clock=FakeClock(), database=database)
    app.prepare_database()
    return app


@pytest.fixture
async def busy_bot(tmp_path: Path) -> AsyncIterator[MemoryAdapter]:
    app = busy_app(tmp_path, timeout=1.0)
    yield MemoryAdapter(app)
    app.database.dispose()


def database_file(bot: MemoryAdapter) -> Path:
    return Path(make_url(bot.app.database.url).database or "")


async def test_a_held_write_lock_stalls_nothing_and_a_write_says_busy(
    busy_bot: MemoryAdapter,
) -> None:
    bot = busy_bot
    assert not (await bot.say("alice", "!profile set region=Gent")).is_error
    async with Ticker() as ticker:
        with write_locked(database_file(bot), 3.0) as released:
            began = time.perf_counter()
            answer = await bot.say("alice", "!profile set region=Antwerpen")
            waited = time.perf_counter() - began
            # a read is answered meanwhile: SQLite's readers do not wait for its writer
            shown = await bot.say("alice", "!profile show")
            assert not released.is_set()  # all of it while the lock was held
            await asyncio.to_thread(released.wait, 10)  # the ticker runs on till the end
        assert answer.is_error
        assert answer.text == BUSY_NL  # the community's language: alice has set none
        assert 0.9 <= waited < 2.0  # the command's timeout (1 s), not the lock's 3 s
        assert not shown.is_error
        assert "Gent" in {field.value for field in shown.fields}
    assert ticker.ticks > 80  # ~3 s of 20 ms ticks
    assert ticker.worst < 0.2, f"the event loop stalled {ticker.worst:.3f} s"
    shown = await bot.say("alice", "!profile show")
    assert "Gent" in {field.value for field in shown.fields}  # the busy command kept nothing
    again = await bot.say("alice", "!profile set region=Antwerpen")
    assert not again.is_error  # once the lock is gone, the same command goes through
    shown = await bot.say("alice", "!profile show")
    assert "Antwerpen" in {field.value for field in shown.fields}


async def test_a_command_that_gets_the_lock_after_its_timeout_keeps_nothing(
    tmp_path: Path,
) -> None:
    """SQLite waits longer for its lock (5 s) than the member is kept waiting (0.5 s): the
    command goes on in its worker after "busy" was said, and rolls back instead of
    committing once it gets the lock."""
    app = busy_app(tmp_path, timeout=0.5, busy_timeout=5.0)
    bot = MemoryAdapter(app)
    try:
        first = await bot.say("bob", "!profile set locale=fr")
        assert not first.is_error, first.text
        with write_locked(tmp_path / "samen.db", 1.5) as released:
            answer = await bot.say("bob", "!profile set region=Gent")
            assert not released.is_set()
            await asyncio.to_thread(released.wait, 10)
        assert answer.is_error and answer.text == BUSY_FR  # bob's own language, without asking
        # the worker got the lock when it was released, ran the command to its end, and
        # rolled it back: wait for it, then look
        for _ in range(200):
            if not app.dispatcher.pool.pending:
                break
            await asyncio.sleep(0.05)
        assert app.dispatcher.pool.pending == 0
        shown = await bot.say("bob", "!profile show")
        assert not any("Gent" in field.value for field in shown.fields)
    finally:
        app.database.dispose()


async def test_a_full_pool_answers_busy_at_once_and_serves_again_after() -> None:
    pool = CommandPool(workers=1, timeout=5.0, queued=0)
    started, go_on = threading.Event(), threading.Event()

    async def slow(_: Ticket) -> str:
        started.set()
        go_on.wait(5)  # a worker blocked in the database
        return "slow"

    async def quick(_: Ticket) -> str:
        return "quick"

    try:
        first = asyncio.create_task(pool.run(slow))
        assert await asyncio.to_thread(started.wait, 5)
        began = time.perf_counter()
        with pytest.raises(Busy):
            await pool.run(quick)
        assert time.perf_counter() - began < 0.1  # at once, not after a timeout
        go_on.set()
        assert await first == "slow"
        assert await pool.run(quick) == "quick"
    finally:
        go_on.set()
        pool.close()
