"""Several instances on one database send each reminder once: a claim is a lease.

A live instance's reminders are never taken from it (not by another instance starting, nor by
another's sweep); an instance that died has its reminders sent by another once its lease ran
out, once; and an instance that comes back late (its lease taken over) changes nothing."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import insert
from sqlmodel import col, select

from bench.kit import seed_console_members
from bot.app import App
from bot.clock import Clock, FakeClock, SystemClock
from bot.reply import Reply
from scheduler.reminders import BATCH
from storage import meetups as store
from storage.db import Database
from storage.meetups import Meetup, Reminder
from tests.conftest import make_settings

LEASE = 20  # bot.toml's reminder_lease_seconds


class RecordingSink:
    """A platform that records every send; ``gate``, when given, holds each send until set."""

    platform = "console"

    def __init__(self, gate: asyncio.Event | None = None, pause: float = 0.0):
        self.attempts: list[str] = []
        self.started = asyncio.Event()  # set at the first send
        self.gate = gate
        self.pause = pause

    async def send_direct(self, user: str, reply: Reply, key: str | None = None) -> bool:
        assert key is not None
        self.attempts.append(key)
        self.started.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.pause:
            await asyncio.sleep(self.pause)
        return True

    async def send_to_place(self, place: str, reply: Reply, key: str | None = None) -> bool:
        return await self.send_direct(place, reply, key)

    async def invite(
        self, place_id: str, platform_user_id: str, role_id: str = "", grant: bool = True
    ) -> bool:
        return False


def seed_due(app: App, count: int) -> list[int]:
    """``count`` members with a reminder each, due now (the meetup is planned far ahead, so the
    planning job leaves the rows alone)."""
    now = app.clock.now()
    with app.database.session() as session:
        members = seed_console_members(session, count, now)
        start = now + timedelta(minutes=10)
        meetup = Meetup(
            title="Lease",
            format="meetup",
            local_start=start.replace(tzinfo=None),
            timezone="UTC",
            first_start=start,
            duration_minutes=60,
            planned_until=now + timedelta(days=30),
            created_at=now,
        )
        session.add(meetup)
        session.flush()
        assert meetup.id is not None
        session.exec(
            insert(Reminder),
            params=[
                {
                    "meetup_id": meetup.id,
                    "occurrence": store.occurrence_key(start),
                    "starts_at": start,
                    "member_id": i,
                    "offset_minutes": 10,
                    "due_at": now,
                    "state": store.PENDING,
                }
                for i in members
            ],
        )
        return [i for i in session.exec(select(Reminder.id).order_by(col(Reminder.id))) if i]


def rows(app: App) -> list[Reminder]:
    with app.database.session() as session:
        return list(session.exec(select(Reminder).order_by(col(Reminder.id))))


def keys(ids: list[int]) -> list[str]:
    return [f"reminder:{i}" for i in ids]


@pytest.fixture
async def instances(database_url: str, clock: FakeClock) -> AsyncIterator[list[App]]:
    """Three instances (apps) on one database, on one fake clock."""
    apps = [App(make_settings(database_url), clock=clock) for _ in range(3)]
    apps[0].prepare_database()
    yield apps
    for app in apps:
        app.scheduler.shutdown()
        app.database.dispose()


def test_each_instance_has_its_own_id(instances: list[App]) -> None:
    ids = {app.services.instance_id for app in instances}
    assert len(ids) == 3
    assert all(len(i) > 16 for i in ids)


async def test_a_second_instance_starting_leaves_a_live_instances_reminders(
    instances: list[App], clock: FakeClock
) -> None:
    first, second, _ = instances
    ids = seed_due(first, 20)
    gate = asyncio.Event()
    first_sink, second_sink = RecordingSink(gate), RecordingSink()
    first.notifier.register(first_sink)
    second.notifier.register(second_sink)
    sending = asyncio.create_task(first.scheduler.reminders.send_due())
    await asyncio.wait_for(
        first_sink.started.wait(), 10
    )  # the first instance has claimed and is mid-send
    assert {r.state for r in rows(first)} == {store.SENDING}

    second.scheduler.start()  # the second instance starts (recovery, then its jobs) ...
    await asyncio.sleep(0.3)
    clock.advance(timedelta(seconds=LEASE - 1))  # ... and sweeps just before the lease ends
    assert await second.scheduler.reminders.wake() == 0
    assert second_sink.attempts == []
    assert {(r.state, r.claimed_by) for r in rows(first)} == {
        (store.SENDING, first.services.instance_id)
    }

    gate.set()
    assert await sending == 20
    assert sorted(first_sink.attempts) == sorted(keys(ids))  # each tried once, by its holder
    assert second_sink.attempts == []
    assert {(r.state, r.claimed_by) for r in rows(first)} == {
        (store.SENT, first.services.instance_id)
    }


async def test_an_expired_lease_is_sent_by_another_instance_exactly_once(
    instances: list[App], clock: FakeClock
) -> None:
    dead, second, third = instances
    ids = seed_due(dead, 30)
    # an instance claims the due reminders, then dies before sending any
    with dead.database.session() as session:
        assert len(store.claim_due(session, clock.now(), BATCH, dead.services.instance_id)) == 30
    sinks = [RecordingSink(), RecordingSink()]
    second.notifier.register(sinks[0])
    third.notifier.register(sinks[1])

    clock.advance(timedelta(seconds=LEASE - 1))  # not yet: the lease still holds
    assert await second.scheduler.reminders.wake() == 0
    assert await third.scheduler.reminders.wake() == 0
    clock.advance(timedelta(seconds=2))  # the lease ran out: both sweep, again and again
    sent = await asyncio.gather(
        second.scheduler.reminders.wake(),
        third.scheduler.reminders.wake(),
        second.scheduler.reminders.wake(),
        third.scheduler.reminders.wake(),
    )
    assert sum(sent) == 30
    attempts = sinks[0].attempts + sinks[1].attempts
    assert sorted(attempts) == sorted(keys(ids))  # each once, with its own key
    takers = {second.services.instance_id, third.services.instance_id}
    assert {r.state for r in rows(dead)} == {store.SENT}
    assert {r.claimed_by for r in rows(dead)} <= takers
    # a later start-up or sweep finds nothing more to do
    clock.advance(timedelta(seconds=3 * LEASE))
    with dead.database.session() as session:
        assert store.recover_interrupted(
            session, clock.now(), clock.now() - timedelta(hours=2), timedelta(seconds=LEASE)
        ) == (0, 0)
    assert await second.scheduler.reminders.wake() == 0


def test_two_instances_releasing_at_once_release_each_row_once(
    instances: list[App], clock: FakeClock
) -> None:
    """The re-pend is a conditional UPDATE: two sweeps at the same moment (two threads, two
    connections) put each expired row back once between them."""
    dead = instances[0]
    seed_due(dead, 200)
    with dead.database.session() as session:
        store.claim_due(session, clock.now(), BATCH, dead.services.instance_id)
    now = clock.advance(timedelta(seconds=LEASE + 1))
    barrier = threading.Barrier(2)
    released: list[int] = []

    def sweep(database: Database) -> None:
        barrier.wait()
        with database.session() as session:
            released.append(store.release_expired(session, now, timedelta(seconds=LEASE)))

    threads = [threading.Thread(target=sweep, args=(app.database,)) for app in instances[1:]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sum(released) == 200, released
    assert {(r.state, r.claimed_by) for r in rows(dead)} == {(store.PENDING, None)}


async def test_a_late_finish_after_a_takeover_changes_nothing(
    instances: list[App], clock: FakeClock
) -> None:
    slow, second, _ = instances
    ids = seed_due(slow, 10)
    gate = asyncio.Event()
    slow_sink, second_sink = RecordingSink(gate), RecordingSink()
    slow.notifier.register(slow_sink)
    second.notifier.register(second_sink)
    stalled = asyncio.create_task(slow.scheduler.reminders.send_due())
    await asyncio.wait_for(slow_sink.started.wait(), 10)  # claimed, and stuck in its first send

    clock.advance(timedelta(seconds=LEASE + 1))
    assert await second.scheduler.reminders.wake() == 10  # the lease ran out: taken over
    taken = rows(slow)
    assert {(r.state, r.claimed_by) for r in taken} == {(store.SENT, second.services.instance_id)}

    clock.advance(timedelta(minutes=5))
    gate.set()  # the slow instance comes back and finishes its batch
    await stalled
    assert rows(slow) == taken  # nothing changed: not its rows any more
    # its late sends carried the same keys, which the platform drops as repeats
    assert sorted(second_sink.attempts) == sorted(keys(ids))
    assert set(slow_sink.attempts) <= set(keys(ids))


async def test_a_batch_longer_than_its_lease_keeps_its_rows(database_url: str) -> None:
    """Real time, a one-second lease, sends that take three seconds in all: the sending
    instance renews its lease, and another sweeping all along takes nothing."""
    clock: Clock = SystemClock()
    apps = [
        App(make_settings(database_url, reminder_lease_seconds=1), clock=clock) for _ in range(2)
    ]
    slow, other = apps
    try:
        slow.prepare_database()
        ids = seed_due(slow, 30)
        slow_sink, other_sink = RecordingSink(pause=0.1), RecordingSink()
        slow.notifier.register(slow_sink)
        other.notifier.register(other_sink)
        sending = asyncio.create_task(slow.scheduler.reminders.send_due())
        began = time.monotonic()
        await asyncio.wait_for(slow_sink.started.wait(), 10)  # claimed, and sending
        while not sending.done():
            await other.scheduler.reminders.wake()
            await asyncio.sleep(0.1)
        assert time.monotonic() - began > 2.5  # longer than the lease, twice over
        assert sending.result() == 30
        assert other_sink.attempts == []
        assert sorted(slow_sink.attempts) == sorted(keys(ids))
        assert {(r.state, r.claimed_by) for r in rows(slow)} == {
            (store.SENT, slow.services.instance_id)
        }
    finally:
        for app in apps:
            app.database.dispose()
