"""Several instances on one PostgreSQL: each platform's connection (the Matrix sync, the
Discord gateway) is held by one instance at a time, and taken over when it stops."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from bot.ownership import OwnedAdapter, ownership, serve_owned
from storage.db import make_engine


class FakePlatform:
    """An adapter that records whether it is started and listening."""

    def __init__(self, platform: str = "matrix") -> None:
        self.platform = platform
        self.started = False
        self.listening = False
        self.closed = False
        self.listens = 0

    async def start(self) -> None:
        self.started = True

    async def listen(self) -> None:
        self.listening = True
        self.listens += 1
        try:
            await asyncio.Event().wait()
        finally:
            self.listening = False

    async def close(self) -> None:
        self.closed = True


async def eventually(condition: object, seconds: float = 5) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "not within the time"
        await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def serving(adapter: FakePlatform, engine: Engine) -> AsyncIterator[asyncio.Task[None]]:
    lock = ownership(engine, adapter.platform, retry_seconds=0.1)
    task = asyncio.create_task(serve_owned(adapter, lock))
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        assert lock.connection is None  # released, not back in the pool holding the lock


def test_the_adapters_are_owned_adapters() -> None:
    from adapters.discord_bot import DiscordAdapter
    from adapters.matrix import MatrixAdapter

    for kind in (MatrixAdapter, DiscordAdapter):
        assert all(hasattr(kind, name) for name in ("start", "listen", "close"))
    assert isinstance(FakePlatform(), OwnedAdapter)


async def test_on_sqlite_the_instance_always_listens(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    adapter = FakePlatform()
    try:
        async with serving(adapter, engine):
            await eventually(lambda: adapter.listening)
        assert adapter.closed and not adapter.listening
    finally:
        engine.dispose()


@pytest.fixture
def engines(postgres_migrated: str) -> Iterator[tuple[Engine, Engine]]:
    """Two engines on the same database, as two ``samen run`` processes have."""
    first, second = make_engine(postgres_migrated), make_engine(postgres_migrated)
    yield first, second
    first.dispose()
    second.dispose()


@pytest.mark.postgres
async def test_one_instance_listens_the_other_takes_over_when_it_stops(
    engines: tuple[Engine, Engine],
) -> None:
    one, two = FakePlatform(), FakePlatform()
    async with serving(one, engines[0]) as first:
        await eventually(lambda: one.listening)
        async with serving(two, engines[1]):
            await eventually(lambda: two.started)  # it can send, but does not listen
            await asyncio.sleep(0.5)  # five retries
            assert (one.listening, two.listening) == (True, False)
            first.cancel()  # the first instance stops
            with contextlib.suppress(asyncio.CancelledError):
                await first
            await eventually(lambda: two.listening, seconds=2)
            assert not one.listening and one.closed
            assert two.listens == 1


@pytest.mark.postgres
async def test_each_platform_has_its_own_owner(engines: tuple[Engine, Engine]) -> None:
    matrix_one, discord_one = FakePlatform("matrix"), FakePlatform("discord")
    matrix_two = FakePlatform("matrix")
    async with (
        serving(matrix_one, engines[0]),
        serving(matrix_two, engines[1]),
        serving(discord_one, engines[1]),
    ):
        await eventually(lambda: discord_one.listening and matrix_one.listening)
        await asyncio.sleep(0.3)
        assert not matrix_two.listening


@pytest.mark.postgres
async def test_an_owner_cut_off_from_the_database_stops_listening(
    engines: tuple[Engine, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A network cut between the owner and PostgreSQL ends its lock session: it stops
    listening at its next check (it cannot reconnect either), and the other instance, whose
    connection is fine, takes over."""
    one, two = FakePlatform(), FakePlatform()
    lock = ownership(engines[0], "matrix", retry_seconds=0.1)
    first = asyncio.create_task(serve_owned(one, lock))
    try:
        await eventually(lambda: one.listening)
        async with serving(two, engines[1]):
            await asyncio.sleep(0.3)
            assert not two.listening
            assert lock.connection is not None

            def unreachable() -> None:
                raise OperationalError("connect", {}, OSError("network is unreachable"))

            monkeypatch.setattr(engines[0], "connect", unreachable)
            lock.connection.connection.dbapi_connection.close()  # type: ignore[union-attr]
            await eventually(lambda: not one.listening, seconds=1)
            await eventually(lambda: two.listening)
            await asyncio.sleep(0.3)
            assert (one.listening, two.listening) == (False, True)
    finally:
        first.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await first


@pytest.mark.postgres
async def test_a_killed_owner_is_replaced_within_the_retry_period(
    postgres_migrated: str, engines: tuple[Engine, Engine]
) -> None:
    """The owner's process dies (SIGKILL): its lock goes with its connection, and the standby
    listens at its next try. Measured: kill to listening."""
    import subprocess
    import sys

    from scheduler.leadership import platform_key

    holder = subprocess.Popen(  # noqa: ASYNC220 - started once, before the loop matters
        [
            sys.executable,
            "-c",
            "import sys, time; from sqlalchemy import create_engine, text; "
            "from storage.db import normalise_url; "
            "c = create_engine(normalise_url(sys.argv[1])).connect(); "
            "c.execute(text('SELECT pg_advisory_lock(:k)'), {'k': int(sys.argv[2])}); "
            "c.commit(); print('held', flush=True); time.sleep(600)",
            postgres_migrated,
            str(platform_key("matrix")),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        standby = FakePlatform()
        async with serving(standby, engines[1]):
            await asyncio.sleep(0.5)
            assert not standby.listening
            killed = time.monotonic()
            holder.kill()
            await eventually(lambda: standby.listening, seconds=30)
            took = time.monotonic() - killed
            print(f"takeover after SIGKILL: {took:.2f} s")
            assert took < 5
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
