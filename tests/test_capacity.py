"""Capacity under concurrency: many members answering a full meetup at the same moment never
overbook it; those who did not get a place are put on the waitlist and told so. Two planners
(two instances) planning the same meetups at once make each reminder once."""

from __future__ import annotations

import asyncio
import json
import signal
import threading
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, update
from sqlmodel import select

from adapters.memory import MemoryAdapter
from bot.app import App
from bot.clock import FakeClock
from bot.reply import Reply
from scheduler import waitlist
from scheduler.reminders import plan, plan_batch
from storage import meetups as store
from storage.db import Database
from storage.identity import Member
from storage.meetups import GOING, OFFERED, SERIES, WAITING, Meetup, Reminder, Rsvp
from tests.conftest import PostgresServer, make_settings
from tests.helpers import english, number_of
from tests.test_reminders import start_worker

PLACES = 50
MEMBERS = 200
THREADS = 32


async def full_meetup(bot: MemoryAdapter, clock: FakeClock, places: int = PLACES) -> int:
    clock.set(datetime(2027, 1, 4, 9, 0, tzinfo=UTC))
    await english(bot, "anim", "admin")
    await bot.say("admin", "!circle animator add brussels anim")
    return await number_of(
        bot,
        "anim",
        f'!meetup create Assembly circle=brussels start="2027-01-15 18:00" capacity={places}',
    )


def answer_all_at_once(bot: MemoryAdapter, users: list[str], line: str) -> list[Reply]:
    """Each member's answer through the whole core, in its own thread (and event loop), all
    at the same time, as several connections (or instances) would."""

    def one(user: str) -> Reply:
        return asyncio.run(bot.say(user, line))

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(one, users))


async def test_concurrent_rsvps_at_capacity_never_overbook(
    any_bot: MemoryAdapter, clock: FakeClock
) -> None:
    bot = any_bot
    number = await full_meetup(bot, clock)
    users = [f"m{i:03}" for i in range(MEMBERS)]
    await english(bot, *users)

    answers = await asyncio.to_thread(
        answer_all_at_once, bot, users, f"!meetup rsvp {number} going"
    )
    replies = dict(zip(users, answers, strict=True))

    going = [u for u, r in replies.items() if r.text.startswith("Noted: going for Assembly")]
    waiting = [u for u, r in replies.items() if "is full" in r.text and "waitlist" in r.text]
    others = {u: r.text for u, r in replies.items() if u not in going and u not in waiting}
    assert others == {}  # every member is told whether they have a place or wait
    assert (len(going), len(waiting)) == (PLACES, MEMBERS - PLACES)
    positions = sorted(int(replies[u].text.split("number ")[1].split(" ")[0]) for u in waiting)
    assert positions == list(range(1, MEMBERS - PLACES + 1))  # each place in the queue once

    with bot.app.database.session() as session:
        rows = list(session.exec(select(Rsvp).where(Rsvp.meetup_id == number)))
    assert sorted(r.member_id for r in rows) == sorted(set(r.member_id for r in rows))
    assert sum(r.status == GOING for r in rows) == PLACES
    assert sum(r.status == WAITING for r in rows) == MEMBERS - PLACES

    shown = await bot.say("m000", f"!meetup show {number}")
    assert (
        f"{PLACES}/{PLACES} going · {MEMBERS - PLACES} waiting"
        in "\n".join(f.value for f in shown.fields) + shown.text
    )


def wait_for(paths: list[Path], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not all(path.exists() for path in paths):
        time.sleep(0.05)


@pytest.mark.slow
@pytest.mark.postgres
async def test_concurrent_rsvps_through_two_processes_never_overbook(
    postgres: PostgresServer, tmp_path: Path, clock: FakeClock
) -> None:
    """Issue 11: two ``samen run`` on one PostgreSQL, 200 members answering a meetup of 50
    places at the same moment, half through each process: 50 get a place, 150 wait, each
    with their own place in the queue."""
    url = postgres.new_database()
    database = Database(url)
    database.upgrade()
    database.dispose()
    app = App(make_settings(url), clock=clock)
    app.prepare_database()
    bot = MemoryAdapter(app)
    number = await full_meetup(bot, clock)
    users = [f"m{i:03}" for i in range(MEMBERS)]
    await english(bot, *users)
    app.database.dispose()
    files = [tmp_path / "one.commands", tmp_path / "two.commands"]
    for half, file in enumerate(files):
        file.write_text(
            "".join(f"{user}\t!meetup rsvp {number} going\n" for user in users[half::2])
        )
    workers = [
        start_worker(url, tmp_path / f"sink-{n}.txt", commands=file) for n, file in enumerate(files)
    ]
    try:
        for file in files:  # both at once
            file.with_suffix(".commands.go").touch()
        await asyncio.to_thread(wait_for, [f.with_suffix(".commands.done") for f in files], 60)
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGKILL)
            worker.wait(10)
    replies = {
        reply["user"]: reply["text"]
        for file in files
        for reply in map(json.loads, file.with_suffix(".commands.replies").read_text().splitlines())
    }
    assert sorted(replies) == users
    going = [u for u, text in replies.items() if text.startswith("Noted: going for Assembly")]
    waiting = [u for u, text in replies.items() if "is full" in text and "waitlist" in text]
    assert {u: t for u, t in replies.items() if u not in going and u not in waiting} == {}
    assert (len(going), len(waiting)) == (PLACES, MEMBERS - PLACES)
    positions = sorted(int(replies[u].split("number ")[1].split(" ")[0]) for u in waiting)
    assert positions == list(range(1, MEMBERS - PLACES + 1))  # each place in the queue once
    database = Database(url)
    with database.session() as session:
        rows = list(session.exec(select(Rsvp).where(Rsvp.meetup_id == number)))
    database.dispose()
    assert len(rows) == MEMBERS == len({r.member_id for r in rows})
    assert sum(r.status == GOING for r in rows) == PLACES
    assert sum(r.status == WAITING for r in rows) == MEMBERS - PLACES


# -- two planners at once ------------------------------------------------------------------------


MEETUPS, PLANNED_MEMBERS = 6, 40


@pytest.fixture
async def unplanned(database_url: str, clock: FakeClock) -> AsyncIterator[tuple[App, list[int]]]:
    """Six daily meetups, 40 members going to each, and no reminder planned yet."""
    app = App(make_settings(database_url), clock=clock)
    app.prepare_database()
    bot = MemoryAdapter(app)
    clock.set(datetime(2027, 1, 4, 9, 0, tzinfo=UTC))
    await english(bot, "anim", "admin")
    await bot.say("admin", "!circle animator add brussels anim")
    meetups = [
        await number_of(
            bot,
            "anim",
            f'!meetup create Daily{i} circle=brussels start="2027-01-05 0{i}:30" every="every day"',
        )
        for i in range(MEETUPS)
    ]
    users = [f"p{i:02}" for i in range(PLANNED_MEMBERS)]
    await english(bot, *users)
    with app.database.session() as session:
        members = [m.id for m in session.exec(select(Member)) if m.display_name in users]
        for meetup_id in meetups:
            for member_id in members:
                assert member_id is not None
                session.add(
                    Rsvp(
                        meetup_id=meetup_id,
                        member_id=member_id,
                        status=GOING,
                        updated_at=clock.now(),
                    )
                )
        session.execute(delete(Reminder))
        session.execute(update(Meetup).values(planned_until=None))
    yield app, meetups
    app.database.dispose()


def at_once(*jobs: Callable[[], int]) -> list[int]:
    start = threading.Barrier(len(jobs))

    def run(job: Callable[[], int]) -> int:
        start.wait()
        return job()

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return [f.result() for f in [pool.submit(run, job) for job in jobs]]


def planned_once(app: App, added: list[int]) -> None:
    """Every reminder is there once, pending, and was counted by the one who added it."""
    with app.database.session() as session:
        rows = list(session.exec(select(Reminder)))
    keys = [(r.meetup_id, r.occurrence, r.member_id, r.offset_minutes) for r in rows]
    # 6 daily meetups, 8 days ahead, 40 members, 2 reminders each (some already past)
    assert len(keys) > MEETUPS * 7 * PLANNED_MEMBERS * 2
    assert len(keys) == len(set(keys))
    assert sum(added) == len(keys)
    assert all(r.state == "pending" for r in rows)


async def test_two_planners_at_once_plan_each_reminder_once(
    unplanned: tuple[App, list[int]],
) -> None:
    """Two instances' planning jobs on the same meetups at the same moment: no clash on the
    reminder key (no error), and each reminder exists once."""
    app, _ = unplanned

    def planner() -> int:
        return plan_batch(app.services)[1]

    planned_once(app, await asyncio.to_thread(at_once, planner, planner))


async def test_the_planner_and_replanning_commands_at_once(
    unplanned: tuple[App, list[int]], clock: FakeClock
) -> None:
    """The planning job while commands (an edit, a cancelled date) re-plan the same meetups,
    each in its own transaction: both add the same reminders, neither fails."""
    app, meetups = unplanned

    def planner() -> int:
        return plan_batch(app.services)[1]

    def commands() -> int:
        added = 0
        for meetup_id in meetups:
            with app.database.session() as session:
                meetup = session.get(Meetup, meetup_id)
                assert meetup is not None
                added += plan(session, meetup, clock.now(), app.settings.default_reminders)
        return added

    planned_once(app, await asyncio.to_thread(at_once, planner, commands))


# -- an offer accepted while it lapses ----------------------------------------------------------


async def test_an_offer_accepted_while_the_expiry_job_runs_stays_accepted(
    any_bot: MemoryAdapter, clock: FakeClock
) -> None:
    """The member accepts the offered place just as the job that lapses offers runs (another
    instance, or the same one's worker thread): the accepted place stays theirs, and it is not
    offered to the next one as well (that would overbook)."""
    bot = any_bot
    app = bot.app
    number = await full_meetup(bot, clock, places=1)
    await english(bot, "e1", "e2", "e3")
    for user in ("e1", "e2", "e3"):
        await bot.say(user, f"!meetup rsvp {number} going")
    await bot.say("e1", f"!meetup rsvp {number} no")
    assert "A place is free" in bot.inbox["e2"][-1].text
    clock.advance(timedelta(hours=13))  # past the deadline, the job has not run yet
    with app.database.session() as session:
        e2 = next(m.id for m in session.exec(select(Member)) if m.display_name == "e2")
        assert e2 is not None

    # e2's acceptance, in the middle of its transaction (what answer_rsvp does)
    accepting = app.database.open_session()
    try:
        store.lock_places(accepting, number)
        offer = store.rsvp_for(accepting, number, e2, SERIES)
        assert offer is not None and offer.status == OFFERED
        offer.status, offer.offered_until = GOING, None
        accepting.add(offer)
        accepting.flush()
        job = asyncio.create_task(
            asyncio.to_thread(asyncio.run, waitlist.expire_offers(app.services))
        )
        await asyncio.sleep(0.5)  # the job has read the offer and waits for the lock
        accepting.commit()
    finally:
        accepting.close()
    assert await job == 0

    with app.database.session() as session:
        statuses = {
            session.get(Member, r.member_id).display_name: r.status  # type: ignore[union-attr]
            for r in session.exec(select(Rsvp).where(Rsvp.meetup_id == number))
        }
    assert statuses == {"e1": "no", "e2": GOING, "e3": WAITING}
    assert "ran out" not in bot.inbox["e2"][-1].text
    assert not any("A place is free" in r.text for r in bot.inbox["e3"])


async def test_one_member_answering_many_times_at_once_keeps_one_answer(
    any_bot: MemoryAdapter, clock: FakeClock
) -> None:
    """A button pressed again and again (or a command typed on two platforms) at once: every
    press is answered, the member has one answer and one place."""
    bot = any_bot
    number = await full_meetup(bot, clock, places=1)
    await english(bot, "tap", "other")
    replies = await asyncio.to_thread(
        answer_all_at_once, bot, ["tap"] * 20, f"!meetup rsvp {number} going"
    )
    assert all(r.text.startswith("Noted: going") for r in replies), {r.text for r in replies}
    other = await bot.say("other", f"!meetup rsvp {number} going")
    assert "number 1 on the waitlist" in other.text
    with bot.app.database.session() as session:
        rows = list(session.exec(select(Rsvp).where(Rsvp.meetup_id == number)))
    assert sorted(r.status for r in rows) == [GOING, WAITING]


async def test_an_answer_while_the_organiser_adds_places_counts_the_new_places(
    any_bot: MemoryAdapter, clock: FakeClock
) -> None:
    """The organiser raises the capacity while a member answers: once the member's answer may
    count the places, it counts them with the new capacity (not the one read before), so the
    member gets the free place instead of waiting beside it."""
    bot = any_bot
    app = bot.app
    number = await full_meetup(bot, clock, places=1)
    await english(bot, "f1", "f2")
    await bot.say("f1", f"!meetup rsvp {number} going")

    editing = app.database.open_session()  # the organiser's edit, in the middle of it
    try:
        store.lock_places(editing, number)
        meetup = editing.get(Meetup, number)
        assert meetup is not None
        meetup.capacity = 2
        editing.add(meetup)
        editing.flush()
        answer = asyncio.create_task(
            asyncio.to_thread(asyncio.run, bot.say("f2", f"!meetup rsvp {number} going"))
        )
        await asyncio.sleep(0.5)  # the answer has read the meetup and waits for its places
        editing.commit()
    finally:
        editing.close()
    assert (await answer).text.startswith("Noted: going")
