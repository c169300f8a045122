"""Several instances on one PostgreSQL: exactly one leads the periodic jobs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from bot.app import App
from bot.clock import FakeClock
from scheduler.leadership import Leadership
from scheduler.service import Periodic, SchedulerService
from storage.db import make_engine
from tests.conftest import make_settings

pytestmark = pytest.mark.postgres


@pytest.fixture
def engines(postgres_migrated: str) -> Iterator[tuple[Engine, Engine]]:
    """Two engines on the same database, as two ``samen run`` processes have."""
    first, second = make_engine(postgres_migrated), make_engine(postgres_migrated)
    yield first, second
    first.dispose()
    second.dispose()


def test_exactly_one_of_two_instances_leads(engines: tuple[Engine, Engine]) -> None:
    one, two = Leadership(engines[0]), Leadership(engines[1])
    try:
        assert one.tick() is True
        assert two.tick() is False
        # ticking again changes nothing: the leader keeps the lock, the follower waits
        assert one.tick() is True
        assert two.tick() is False
        assert (one.leading, two.leading) == (True, False)
    finally:
        one.release()
        two.release()


def test_the_follower_leads_after_the_leader_stops(engines: tuple[Engine, Engine]) -> None:
    one, two = Leadership(engines[0]), Leadership(engines[1])
    try:
        assert one.tick() and not two.tick()
        one.release()
        assert not one.leading
        assert two.tick() is True
        assert one.tick() is False  # the old leader, back, is now the follower
    finally:
        one.release()
        two.release()


def test_a_leader_whose_connection_breaks_stops_leading(engines: tuple[Engine, Engine]) -> None:
    one, two = Leadership(engines[0]), Leadership(engines[1])
    try:
        assert one.tick() and not two.tick()
        assert one.connection is not None
        # the leader's connection dies (a network cut, a restarted server, a killed process)
        one.connection.connection.dbapi_connection.close()  # type: ignore[union-attr]
        # PostgreSQL ends that session, and so frees its lock, a moment later: well within one
        # retry period (RETRY_SECONDS), the follower's next tick takes over
        deadline = time.monotonic() + 5
        while not two.tick() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert two.leading
        assert one.tick() is False  # the leader notices at its next tick, and follows
        assert (one.leading, two.leading) == (False, True)
    finally:
        one.release()
        two.release()


async def test_a_follower_does_not_run_the_periodic_jobs(
    postgres_migrated: str, engines: tuple[Engine, Engine], clock: FakeClock
) -> None:
    app = App(make_settings(postgres_migrated), clock=clock)
    calls: list[str] = []

    async def counted(services: object) -> int:
        calls.append("run")
        return 0

    leader = Leadership(engines[0])
    assert leader.tick()
    follower = Leadership(engines[1], retry_seconds=0.05)
    service = SchedulerService(
        app.services, (Periodic("counted", counted, 60),), leadership=follower
    )
    service.start()
    try:
        await asyncio.sleep(0.5)  # the job's first run is due at once, and ten ticks pass
        assert calls == []
        assert not follower.leading
        leader.release()
        for _ in range(100):
            if calls:
                break
            await asyncio.sleep(0.02)
        # the follower took over at its next tick and ran the job at once, not an hour later
        assert follower.leading
        assert calls == ["run"]
    finally:
        service.shutdown()
        leader.release()
        app.database.dispose()
    assert not follower.leading and follower.connection is None
