"""A database that is held (SQLite's write lock taken by another connection) stalls nothing
else: the event loop keeps running, other members' reads are answered, and a command that
cannot write in time answers "busy, try again" and keeps nothing."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
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


def busy_app(
    tmp_path: Path, timeout: float, *, busy_timeout: float | None = None, workers: int = 4
) -> App:
    settings = make_settings(f"sqlite:///{tmp_path / 'samen.db'}")
    storage = {"command_timeout_seconds": timeout, "workers": workers}
    settings = settings.model_copy(update={"storage": settings.storage.model_copy(update=storage)})
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


async def test_a_write_waiting_for_the_lock_holds_no_worker_and_goes_through_after(
    tmp_path: Path,
) -> None:
    """One worker only: the write that waits for SQLite's lock gives it back between its
    tries, so that another member's read is answered meanwhile; the write goes through once
    the lock is released, within its timeout (3 s)."""
    app = busy_app(tmp_path, timeout=3.0, workers=1)
    bot = MemoryAdapter(app)
    try:
        await bot.say("alice", "!profile set region=Gent")
        await bot.say("bob", "!profile set region=Gent")
        with write_locked(tmp_path / "samen.db", 1.5) as released:
            writing = asyncio.create_task(bot.say("alice", "!profile set region=Antwerpen"))
            await asyncio.sleep(0.3)  # the write is waiting for the lock by now
            assert not writing.done()
            began = time.perf_counter()
            shown = await bot.say("bob", "!profile show")
            read_took = time.perf_counter() - began
            assert not released.is_set()
            written = await writing
            assert released.is_set()  # the write went through once the lock was gone
        assert "Gent" in {field.value for field in shown.fields}
        assert read_took < 0.5, f"the read waited {read_took:.2f} s behind the write"
        assert not written.is_error, written.text
        shown = await bot.say("alice", "!profile show")
        assert "Antwerpen" in {field.value for field in shown.fields}
    finally:
        app.database.dispose()


async def test_a_command_that_gets_the_lock_after_its_timeout_keeps_nothing(
    tmp_path: Path,
) -> None:
    """SQLite waits longer for its lock (5 s, on the one engine a Database given to App has)
    than the member is kept waiting (0.5 s): the command goes on in its worker after "busy"
    was said, and rolls back instead of committing once it gets the lock."""
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


@pytest.mark.postgres
async def test_on_postgresql_a_held_row_lock_makes_a_write_say_busy_and_stalls_nothing(
    postgres_migrated: str,
) -> None:
    from sqlalchemy import create_engine, text

    from tests.conftest import _empty_postgres

    _empty_postgres(postgres_migrated)
    settings = make_settings(postgres_migrated)
    settings = settings.model_copy(
        update={"storage": settings.storage.model_copy(update={"command_timeout_seconds": 1.0})}
    )
    app = App(settings, clock=FakeClock())
    app.prepare_database()
    bot = MemoryAdapter(app)
    other = create_engine(postgres_migrated)
    try:
        assert not (await bot.say("alice", "!profile set region=Gent")).is_error
        async with Ticker() as ticker:
            with other.connect() as holder:
                # another transaction holds alice's row, as a slow writer would
                holder.execute(text("SELECT id FROM member FOR UPDATE"))
                began = time.perf_counter()
                answer = await bot.say(
                    "alice", "!profile set region=Antwerpen", event_id="$while-held"
                )
                waited = time.perf_counter() - began
                shown = await bot.say("alice", "!profile show")  # reads are not held
                holder.rollback()
        assert answer.is_error and answer.text == BUSY_NL
        assert waited < 2.0
        assert "Gent" in {field.value for field in shown.fields}
        assert ticker.worst < 0.2, f"the event loop stalled {ticker.worst:.3f} s"
        for _ in range(100):
            if not app.dispatcher.pool.pending:
                break
            await asyncio.sleep(0.05)
        shown = await bot.say("alice", "!profile show")
        assert "Gent" in {field.value for field in shown.fields}  # nothing was kept
        # not even the event's key: its claim was part of the command's transaction, so the
        # same event (delivered again, or seen by another instance) still runs
        again = await bot.say("alice", "!profile set region=Antwerpen", event_id="$while-held")
        assert not again.is_error and again.text, again
        shown = await bot.say("alice", "!profile show")
        assert "Antwerpen" in {field.value for field in shown.fields}
    finally:
        other.dispose()
        app.database.dispose()


async def test_an_event_that_waits_for_the_lock_is_answered_once_after_it(
    tmp_path: Path,
) -> None:
    """A platform event (with its id) said while SQLite's write lock is held: its claim and
    its command wait their turn, it is answered once the lock is gone (not dropped as a
    repeat of itself), and a second delivery of it afterwards is dropped."""
    app = busy_app(tmp_path, timeout=3.0, workers=1)
    bot = MemoryAdapter(app)
    try:
        await bot.say("alice", "!profile set region=Gent")
        with write_locked(tmp_path / "samen.db", 1.0) as released:
            written = await bot.say("alice", "!profile set region=Antwerpen", event_id="$ev1")
            assert released.is_set()
        assert not written.is_error, written.text
        assert written.text  # answered, not dropped
        shown = await bot.say("alice", "!profile show")
        assert "Antwerpen" in {field.value for field in shown.fields}
        again = await bot.say("alice", "!profile set region=Brugge", event_id="$ev1")
        assert again.text == ""  # the same event again: nothing runs, nothing is answered
        shown = await bot.say("alice", "!profile show")
        assert "Antwerpen" in {field.value for field in shown.fields}
    finally:
        app.database.dispose()


async def turns_until(condition: Callable[[], bool]) -> None:
    """Let the event loop run, one turn at a time, until ``condition`` holds (5 s at most)."""
    deadline = time.perf_counter() + 5
    while not condition() and time.perf_counter() < deadline:  # noqa: ASYNC110 (turn by turn)
        await asyncio.sleep(0)
    assert condition()


async def test_a_caller_cancelled_as_its_command_finishes_stays_cancelled() -> None:
    """The Matrix sync loop awaits its commands through the pool; cancelled (the bot stops) at
    the moment a command's result comes, it must stop, not take the result and go on for ever
    (Python 3.11's asyncio.wait_for swallows such a cancellation: the CI run that hung)."""
    pool = CommandPool(workers=1, timeout=5.0)

    async def quick(_: Ticket) -> str:
        return "done"

    async def caller() -> str:
        result = await pool.run(quick)
        await asyncio.sleep(0.01)  # what a loop does next
        return f"went on with {result}"

    went_on = 0
    try:
        for _ in range(30):
            task = asyncio.create_task(caller())
            await turns_until(lambda: pool.pending > 0)  # handed in
            await turns_until(lambda: pool.pending == 0)  # its result is back on the loop
            task.cancel()
            try:
                await task
                went_on += 1
            except asyncio.CancelledError:
                pass
    finally:
        pool.close()
    assert went_on == 0, f"{went_on} of 30 cancelled callers went on"
