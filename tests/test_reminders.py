"""Reminders are durable: on time, never lost on restart, never doubled."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

from adapters.memory import MemoryAdapter
from bench.kit import seed_console_members
from bot.app import App
from bot.clock import SystemClock
from scheduler.reminders import plan
from storage.circles import ANIMATOR, Circle, CircleMembership
from storage.db import Database
from storage.identity import Member
from storage.meetups import Meetup, Reminder, Rsvp
from tests.conftest import ROOT, PostgresServer, make_settings


def seed_due_reminders(
    url: str, count: int, within: float, *, start_in: float = 1.0, groups: int = 10
) -> list[int]:
    """``count`` members going to ``groups`` meetups that start a minute and a few seconds from
    now, each with a one-minute reminder: ``count`` reminders due from ``start_in`` seconds
    from now, over ``within`` seconds, planned by the same code as a member's RSVP."""
    database = Database(url)
    database.upgrade()
    now = datetime.now(UTC)
    with database.session() as session:
        ids = seed_console_members(session, count, now)
        for group in range(groups):
            start = now + timedelta(minutes=1, seconds=start_in + within * group / groups)
            meetup = Meetup(
                title=f"Restart {group}",
                format="meetup",
                local_start=start.replace(tzinfo=None),
                timezone="UTC",
                first_start=start,
                duration_minutes=60,
                reminders="1m",
                created_at=now,
            )
            session.add(meetup)
            session.flush()
            assert meetup.id is not None
            for member_id in ids[group::groups]:
                session.add(
                    Rsvp(meetup_id=meetup.id, member_id=member_id, status="going", updated_at=now)
                )
            session.flush()
            plan(session, meetup, now, "1m")
        session.flush()
        reminder_ids = [i for i in session.exec(select(Reminder.id)) if i]
    database.dispose()
    assert len(reminder_ids) == count
    return reminder_ids


def start_worker(
    url: str, sink: Path, lease: int = 3, pause: float = 0.0, commands: Path | None = None
) -> subprocess.Popen[str]:
    """A worker process with a short reminder lease (a killed one's reminders are taken over
    within seconds) whose sends take ``pause`` seconds each, answering ``commands`` if given
    (see tests/reminder_worker.py)."""
    extra = {"SAMEN_WORKER_COMMANDS": str(commands)} if commands else {}
    log = sink.with_suffix(".log")
    with log.open("a") as errors:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.reminder_worker", url, str(sink), str(lease)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT), "SAMEN_SINK_PAUSE": str(pause), **extra},
        )
    assert process.stdout is not None
    ready = process.stdout.readline().strip()
    process.stdout.close()
    assert ready == "ready", log.read_text()
    return process


@pytest.mark.slow
def test_a_killed_process_delivers_every_reminder_exactly_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'samen.db'}"
    sink = tmp_path / "sink.txt"
    reminder_ids = seed_due_reminders(url, 500, within=10.0)
    first = start_worker(url, sink)
    time.sleep(4.0)
    first.send_signal(signal.SIGKILL)
    first.wait(60)
    delivered_before_kill = len(sink.read_text().split()) if sink.exists() else 0
    second = start_worker(url, sink)
    try:
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            if sink.exists() and len(sink.read_text().split()) >= len(reminder_ids):
                break
            time.sleep(0.2)
        time.sleep(1.0)  # anything left would show up as a duplicate attempt now
    finally:
        second.send_signal(signal.SIGKILL)
        second.wait(60)
    accepted = sink.read_text().split()
    attempts = [k for keys in attempts_by_process(sink).values() for k in keys]
    assert 0 < delivered_before_kill < len(reminder_ids), "the kill must land mid-way"
    assert sorted(accepted) == sorted(f"reminder:{i}" for i in reminder_ids)
    assert len(accepted) == len(set(accepted))
    resent = len(attempts) - len(set(attempts))
    assert resent <= 500, resent  # only reminders caught mid-send are tried again
    database = Database(url)
    with database.session() as session:
        states = set(session.exec(select(Reminder.state)))
    database.dispose()
    assert states == {"sent"}


def attempts_by_process(sink: Path) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for line in sink.with_suffix(sink.suffix + ".attempts").read_text().splitlines():
        pid, key = line.split()
        found.setdefault(int(pid), []).append(key)
    return found


@pytest.mark.slow
@pytest.mark.postgres
def test_two_processes_on_postgres_with_one_killed_deliver_every_reminder_once(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    """Issue 11: two ``samen run`` on one PostgreSQL, 1,000 reminders due within 20 s, one
    process killed while it holds reminders it is sending. The other sends everything left,
    the killed one's held reminders once their (3 s) lease runs out; the platform accepts each
    reminder once, and a reminder is tried twice only when the killed process had tried it
    (the same idempotency key)."""
    url = postgres.new_database()
    sink = tmp_path / "sink.txt"
    reminder_ids = seed_due_reminders(url, 1000, within=20.0, start_in=4.0, groups=20)
    victim = start_worker(url, sink, lease=3, pause=0.01)
    survivor = start_worker(url, sink, lease=3, pause=0.01)
    database = Database(url)
    mark = f":{victim.pid}:"
    try:
        held: list[int] = []
        deadline = time.monotonic() + 40
        # kill the victim mid-batch (past 20%): it holds reminders, and has tried some of them
        while not held and time.monotonic() < deadline:
            delivered = len(sink.read_text().split()) if sink.exists() else 0
            tried_by_victim = (
                set(attempts_by_process(sink).get(victim.pid, ())) if delivered else set()
            )
            if delivered >= 200 and tried_by_victim:
                with database.session() as session:
                    held = [
                        r.id
                        for r in session.exec(
                            select(Reminder).where(
                                Reminder.state == "sending",
                                col(Reminder.claimed_by).contains(mark),
                            )
                        )
                        if r.id and f"reminder:{r.id}" in tried_by_victim
                    ]
            if held:
                victim.send_signal(signal.SIGKILL)
            else:
                time.sleep(0.005)
        victim.wait(60)
        assert held, "the victim never held a reminder it had tried, after 200 were delivered"
        with database.session() as session:  # all it held when it died (its lease runs 3 s)
            held = [
                r.id
                for r in session.exec(
                    select(Reminder).where(
                        Reminder.state == "sending", col(Reminder.claimed_by).contains(mark)
                    )
                )
                if r.id
            ]
        delivered_before_kill = len(sink.read_text().split())
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            with database.session() as session:
                states = set(session.exec(select(Reminder.state)))
            if states == {"sent"}:
                break
            time.sleep(0.2)
        time.sleep(1.0)  # anything left would show up as a duplicate attempt now
    finally:
        for process in (victim, survivor):
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.wait(60)
    accepted = sink.read_text().split()
    assert delivered_before_kill < len(reminder_ids), "the kill must land mid-way"
    assert sorted(accepted) == sorted(f"reminder:{i}" for i in reminder_ids)  # none lost
    assert len(accepted) == len(set(accepted))  # none doubled
    tried = attempts_by_process(sink)
    assert set(tried) <= {victim.pid, survivor.pid}
    assert tried.get(victim.pid), "the victim sent some before it was killed"
    by_survivor = tried[survivor.pid]
    assert len(by_survivor) == len(set(by_survivor))  # the live one never tries a key twice
    by_victim = tried[victim.pid]
    assert len(by_victim) == len(set(by_victim))
    # a reminder tried by both is one the victim tried before it died, not marked sent
    doubled = set(by_victim) & set(by_survivor)
    assert doubled <= {f"reminder:{i}" for i in held}
    with database.session() as session:
        rows = list(session.exec(select(Reminder)))
    database.dispose()
    assert {r.state for r in rows} == {"sent"}
    # what the victim held when it died was taken over and sent by the survivor
    taken = {r.claimed_by for r in rows if r.id in set(held)}
    assert len(taken) == 1 and mark not in str(taken)


async def test_reminders_fire_in_real_time(tmp_path: Path) -> None:
    """One real-time run: a meetup 65 s away with a 1-minute reminder pings in about 5 s."""
    app = App(make_settings(f"sqlite:///{tmp_path / 'samen.db'}"), clock=SystemClock())
    app.prepare_database()
    bot = MemoryAdapter(app)
    await bot.say("anim", "!profile set locale=en")
    await bot.say("goer", "!profile set locale=en")
    with app.database.session() as session:
        circle = session.exec(select(Circle).where(Circle.key == "brussels")).one()
        anim = session.exec(select(Member).where(Member.name_folded == "anim")).one()
        assert circle.id is not None
        assert anim.id is not None
        session.add(
            CircleMembership(
                circle_id=circle.id, member_id=anim.id, role=ANIMATOR, joined_at=datetime.now(UTC)
            )
        )
    later = (datetime.now(UTC) + timedelta(minutes=5)).astimezone(app.settings.zone)
    app.scheduler.start()
    try:
        created = await bot.say(
            "anim",
            f'!meetup create Quick circle=brussels start="{later:%Y-%m-%d %H:%M}" reminders=1m',
        )
        assert not created.is_error, created.text
        number = int(created.title.split("#")[1].split()[0])
        # typed starts have minutes; to wait seconds, not minutes, start it 65 s from now
        start = datetime.now(UTC) + timedelta(seconds=65)
        with app.database.session() as session:
            meetup = session.get(Meetup, number)
            assert meetup is not None
            meetup.first_start = start
            meetup.local_start = start.astimezone(app.settings.zone).replace(tzinfo=None)
            session.add(meetup)
        await bot.say("goer", f"!meetup rsvp {number} going")
        began = time.monotonic()
        while time.monotonic() - began < 70:
            if any(r.title == "Reminder: Quick" for r in bot.inbox["goer"]):
                break
            await asyncio.sleep(0.1)
        reminders = [r for r in bot.inbox["goer"] if r.title == "Reminder: Quick"]
        assert len(reminders) == 1
        assert "in 1 minute" in reminders[0].text
        due = start - timedelta(minutes=1)
        lag = datetime.now(UTC) - due
        assert lag < timedelta(seconds=5), lag
    finally:
        app.scheduler.shutdown()
        app.database.dispose()
