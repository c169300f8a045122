"""One platform event is handled once: a second delivery of it, to the same instance or to
another one on the same database, runs nothing and answers nothing (storage/events.py)."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlmodel import select

from adapters.memory import MemoryAdapter
from bot.app import App
from bot.clock import FakeClock
from scheduler.event_keys import prune_event_keys
from storage.board import Post
from storage.db import make_engine
from storage.events import ProcessedEvent, claim_event
from tests.conftest import make_settings


def posts(app: App) -> int:
    with app.database.session() as session:
        return int(session.exec(select(func.count()).select_from(Post)).one())


@pytest.fixture
async def matrix_bot(database_url: str, clock: FakeClock) -> AsyncIterator[MemoryAdapter]:
    """The core as the Matrix adapter drives it (events with ids), on SQLite and PostgreSQL."""
    app = App(make_settings(database_url), clock=clock)
    app.prepare_database()
    yield MemoryAdapter(app, platform="matrix")
    app.database.dispose()


async def test_an_event_delivered_twice_is_answered_once_and_written_once(
    matrix_bot: MemoryAdapter,
) -> None:
    line = "!need post A van for Saturday"
    first = await matrix_bot.say("@eva:example.org", line, event_id="$event-1")
    assert not first.is_error, first.text
    again = await matrix_bot.say("@eva:example.org", line, event_id="$event-1")
    assert len(matrix_bot.replies) == 1  # the second delivery got no answer at all
    assert again.text == ""
    assert posts(matrix_bot.app) == 1
    # another event saying the same is another command
    await matrix_bot.say("@eva:example.org", line, event_id="$event-2")
    assert len(matrix_bot.replies) == 2
    assert posts(matrix_bot.app) == 2


async def test_the_same_event_id_on_two_platforms_is_two_events(
    matrix_bot: MemoryAdapter,
) -> None:
    discord = MemoryAdapter(matrix_bot.app, platform="discord")
    await matrix_bot.say("@eva:example.org", "!need post A van", event_id="1234")
    answer = await discord.say("920000000000000001", "/need post A van", event_id="1234")
    assert not answer.is_error, answer.text
    assert posts(matrix_bot.app) == 2


async def test_the_console_is_never_deduplicated(bot: MemoryAdapter) -> None:
    await bot.say("eva", "!need post A van")
    await bot.say("eva", "!need post A van")
    assert len(bot.replies) == 2
    assert posts(bot.app) == 2


async def test_an_event_that_failed_is_not_run_again(matrix_bot: MemoryAdapter) -> None:
    """At most once: the event is taken before its command runs, so a command that failed
    (or whose instance died while running it) is not retried by a second delivery."""
    first = await matrix_bot.say("@eva:example.org", "!need post", event_id="$bad")
    assert first.is_error
    await matrix_bot.say("@eva:example.org", "!need post", event_id="$bad")
    assert len(matrix_bot.replies) == 1


async def test_keys_are_forgotten_after_seven_days(
    matrix_bot: MemoryAdapter, clock: FakeClock
) -> None:
    app = matrix_bot.app
    await matrix_bot.say("@eva:example.org", "!need post A van", event_id="$old")
    clock.advance(timedelta(days=6))
    await matrix_bot.say("@eva:example.org", "!need post A bike", event_id="$recent")
    assert await prune_event_keys(app.services) == 0
    clock.advance(timedelta(days=1, minutes=1))
    assert await prune_event_keys(app.services) == 1
    with app.database.session() as session:
        kept = session.exec(select(ProcessedEvent.event_id)).all()
    assert kept == ["$recent"]


@pytest.mark.postgres
async def test_two_instances_on_one_postgresql_answer_an_event_once(
    postgres_migrated: str, clock: FakeClock
) -> None:
    from tests.conftest import _empty_postgres

    _empty_postgres(postgres_migrated)
    one = App(make_settings(postgres_migrated), clock=clock)
    two = App(make_settings(postgres_migrated), clock=clock)
    try:
        one.prepare_database()
        first, second = MemoryAdapter(one, "matrix"), MemoryAdapter(two, "matrix")
        line = "!need post Stage manager"
        await first.say("@eva:example.org", line, event_id="$shared")
        await second.say("@eva:example.org", line, event_id="$shared")
        assert (len(first.replies), len(second.replies)) == (1, 0)
        assert posts(one) == 1
    finally:
        one.database.dispose()
        two.database.dispose()


@pytest.mark.postgres
def test_concurrent_claims_on_postgresql_have_one_winner(postgres_migrated: str) -> None:
    """Eight connections claim the same event at the same moment: exactly one gets it."""
    engines = [make_engine(postgres_migrated) for _ in range(8)]
    start = threading.Barrier(len(engines))
    won: list[bool] = []

    def claim(index: int) -> None:
        start.wait()
        won.append(claim_event(engines[index], "matrix", "$race"))

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(len(engines))]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(won) == [False] * 7 + [True]
    finally:
        for engine in engines:
            with engine.begin() as connection:
                connection.execute(ProcessedEvent.__table__.delete())  # type: ignore[attr-defined]
            engine.dispose()


def test_a_claim_in_a_session_is_kept_only_if_committed(sqlite_url: str) -> None:
    from storage.db import Database

    database = Database(sqlite_url)
    database.upgrade()
    try:
        with database.open_session() as session:
            assert claim_event(session, "matrix", "$e")
            session.rollback()
        with database.session() as session:
            assert claim_event(session, "matrix", "$e")
        assert not claim_event(database.engine, "matrix", "$e")
    finally:
        database.dispose()
