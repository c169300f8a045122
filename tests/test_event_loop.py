"""No periodic job holds the event loop: a command, a reminder or a Discord heartbeat is never
kept waiting behind a scheduler batch."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest
from sqlalchemy import insert
from sqlmodel import col, select

from bot.app import App
from scheduler.service import DEFAULT_JOBS
from storage.identity import Member
from storage.meetups import SERIES, Meetup, Reminder, Rsvp

MEETUPS = 300
GOING_PER_MEETUP = 8


def seed_unplanned_meetups(app: App) -> None:
    """Weekly meetups that have never been planned, each with members going: the hourly
    planning job's worst case (every meetup needs its reminders made)."""
    now = app.services.clock.now()
    with app.database.session() as session:
        session.exec(
            insert(Member),
            params=[
                {"display_name": f"m{i}", "name_folded": f"m{i}", "created_at": now}
                for i in range(GOING_PER_MEETUP * 10)
            ],
        )
        member_ids = [i for i in session.exec(select(Member.id).order_by(col(Member.id))) if i]
        start = now + timedelta(days=1)
        meetups = [
            Meetup(
                title=f"Breakfast {n}",
                format="meetup",
                local_start=(start + timedelta(minutes=n)).replace(tzinfo=None),
                timezone="UTC",
                first_start=start + timedelta(minutes=n),
                duration_minutes=60,
                rrule="FREQ=WEEKLY",
                reminders="1d,1h",
                created_at=now,
            )
            for n in range(MEETUPS)
        ]
        session.add_all(meetups)
        session.flush()
        session.add_all(
            Rsvp(
                meetup_id=meetup.id or 0,
                member_id=member_ids[(n + k) % len(member_ids)],
                occurrence=SERIES,
                status="going",
                updated_at=now,
            )
            for n, meetup in enumerate(meetups)
            for k in range(GOING_PER_MEETUP)
        )


@pytest.mark.slow
async def test_every_periodic_job_leaves_the_event_loop_free(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    seed_unplanned_meetups(app)
    loop = asyncio.get_running_loop()
    loop.set_debug(True)
    loop.slow_callback_duration = 0.1
    caplog.set_level(logging.WARNING, logger="asyncio")

    async def run_every_job() -> None:
        for periodic in DEFAULT_JOBS:
            await periodic.job(app.services)

    try:
        # a task of its own: debug mode times each step of a task that starts after it is
        # on, and logs a slow step as soon as it ends (before the awaiting test goes on)
        await asyncio.create_task(run_every_job())
    finally:
        loop.set_debug(False)
    slow = [r.getMessage() for r in caplog.records if r.name == "asyncio"]
    assert slow == []
    with app.database.session() as session:
        planned = session.exec(select(Meetup).where(col(Meetup.planned_until).is_(None))).all()
        reminders = session.exec(select(Reminder.id)).all()
    assert planned == []  # the job did its work: every meetup planned
    assert len(reminders) >= MEETUPS * GOING_PER_MEETUP  # at least one reminder each
