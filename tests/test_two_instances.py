"""Issue 11's integration test: two Samen processes on one PostgreSQL behave as one bot.

Both processes (tests/reminder_worker.py: the real app and scheduler, a file for the
platform) see every one of 200 platform events, RSVPs for a meetup of 50 places, as two
instances connected to one platform would, while 1,000 reminders fall due; one process is
killed with SIGKILL in the middle. Every reminder is accepted once, the meetup is never
overbooked, and no member is answered twice."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlmodel import col, select

from adapters.memory import MemoryAdapter
from bot.app import App
from bot.clock import FakeClock
from storage.db import Database
from storage.meetups import GOING, WAITING, Reminder, Rsvp
from tests.conftest import PostgresServer, make_settings
from tests.helpers import english
from tests.test_capacity import full_meetup
from tests.test_reminders import seed_due_reminders, start_worker

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

MEMBERS, PLACES, REMINDERS = 200, 50, 1000


def wait_until(condition: Callable[[], bool], deadline: float) -> None:
    while time.monotonic() < deadline and not condition():
        time.sleep(0.002)


def answers(file: Path) -> list[dict[str, object]]:
    replies = file.with_suffix(file.suffix + ".replies")
    if not replies.exists():
        return []
    return [json.loads(line) for line in replies.read_text().splitlines()]


async def test_two_processes_one_killed_act_as_one_bot(
    postgres: PostgresServer, tmp_path: Path, clock: FakeClock
) -> None:
    url = postgres.new_database()
    reminder_ids = seed_due_reminders(url, REMINDERS, within=20.0, start_in=4.0, groups=20)
    app = App(make_settings(url), clock=clock)
    app.prepare_database()
    bot = MemoryAdapter(app)
    number = await full_meetup(bot, clock, PLACES)
    users = [f"r{i:03}" for i in range(MEMBERS)]
    await english(bot, *users)
    app.database.dispose()
    # one platform feed, seen by both: each RSVP is an event with its own id
    feed = "".join(f"{user}\t!meetup rsvp {number} going\t$rsvp-{user}\n" for user in users)
    files = [tmp_path / "victim.commands", tmp_path / "survivor.commands"]
    for file in files:
        file.write_text(feed)
    sink = tmp_path / "sink.txt"
    victim, survivor = (start_worker(url, sink, lease=3, pause=0.01, commands=f) for f in files)
    database = Database(url)
    try:
        # the reminders are going out: let a fifth of them be accepted, then the events come
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if sink.exists() and len(sink.read_text().split()) >= REMINDERS // 5:
                break
            await asyncio.sleep(0.02)
        for file in files:
            file.with_suffix(".commands.go").touch()
        # the victim dies once it has answered some of the events, mid-stream
        await asyncio.to_thread(wait_until, lambda: len(answers(files[0])) >= 20, deadline)
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        answered_by_victim = len(answers(files[0]))
        done = files[1].with_suffix(".commands.done")
        await asyncio.to_thread(wait_until, done.exists, deadline)
        assert done.exists(), "the survivor did not get through the events"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # and every reminder is out
            with database.session() as session:
                states = set(session.exec(select(Reminder.state)))
            if states == {"sent"}:
                break
            await asyncio.sleep(0.2)
        await asyncio.sleep(1.0)  # anything sent twice would show now
    finally:
        for process in (victim, survivor):
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.wait(10)
    accepted = sink.read_text().split()
    assert len(accepted) == len(set(accepted)), "a reminder was accepted twice"
    assert sorted(accepted) == sorted(f"reminder:{i}" for i in reminder_ids), "one was lost"

    with database.session() as session:
        rsvps = list(session.exec(select(Rsvp).where(col(Rsvp.meetup_id) == number)))
    database.dispose()
    assert len(rsvps) == MEMBERS == len({r.member_id for r in rsvps})
    assert sum(r.status == GOING for r in rsvps) == PLACES  # never overbooked
    assert sum(r.status == WAITING for r in rsvps) == MEMBERS - PLACES

    given = answers(files[0]) + answers(files[1])
    by_event: dict[object, int] = {}
    for answer in given:
        by_event[answer["event"]] = by_event.get(answer["event"], 0) + 1
    assert max(by_event.values()) == 1, "a member was answered twice"
    assert 0 < answered_by_victim < MEMBERS, "the kill must land mid-stream"
    # every member answered, but for those whose command the killed process had committed in
    # the instant before it could answer (its RSVP is kept; a platform send lost with the
    # process): at most one per worker thread of the victim
    unanswered = {f"$rsvp-{user}" for user in users} - set(by_event)
    assert len(unanswered) <= 16, sorted(unanswered)
    texts = [str(a["text"]) for a in given]
    going = [t for t in texts if t.startswith("Noted: going for Assembly")]
    waiting = [t for t in texts if "is full" in t and "waitlist" in t]
    assert len(going) + len(waiting) == len(given), set(texts) - set(going) - set(waiting)
    assert len(going) <= PLACES
