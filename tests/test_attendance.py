"""Meetups held and their attendance: one meetup_held fact per occurrence that took place (the
scheduler's job, its catch-up after a restart, two instances, the migration's backfill), and
``meetup attendance``: who registered, who was there, a button per member to mark them present."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from alembic import command
from sqlalchemy import inspect, select

from adapters.memory import MemoryAdapter
from bot.app import App
from bot.clock import FakeClock
from bot.reply import Reply
from scheduler import held
from storage.db import alembic_config
from storage.facts import FACT
from tests.conftest import make_settings
from tests.helpers import MONDAY, animator, english, field, new_meetup, refused

FIRST = "2027-01-11T07:30Z"  # Monday 11 January 2027, 08:30 in Brussels
CANCELLED = "2027-01-18T07:30Z"
MOVED = "2027-01-25T07:30Z"  # moved to Tuesday 26 January, 19:00 in Brussels
LAST = "2027-02-01T07:30Z"


def facts(app: App, kind: str) -> list[dict[str, Any]]:
    """The facts of ``kind``, with the columns the database has at its revision."""
    with app.database.engine.connect() as connection:
        present = {column["name"] for column in inspect(connection).get_columns("fact")}
        columns = [column for column in FACT.c if column.name in present]
        rows = connection.execute(select(*columns).where(FACT.c.kind == kind).order_by(FACT.c.id))
        return [dict(row) for row in rows.mappings()]


def held_facts(app: App) -> list[tuple[str, datetime]]:
    return [(row["occurrence"], row["occurred_at"]) for row in facts(app, "meetup_held")]


async def record(app: App) -> int:
    return await held.record_held_meetups(app.services)


async def breakfasts(bot: MemoryAdapter, clock: FakeClock, start: str = "2027-01-11") -> int:
    """On MONDAY, the animator of Brussels schedules four Monday breakfasts from ``start``
    (90 minutes from 08:30), ann and bob come to all of them, cas to the first; the second
    is cancelled and the third moved to the Tuesday evening."""
    await animator(bot)
    await english(bot, "ann", "bob", "cas", "dan")
    meetup = await new_meetup(
        bot,
        "anim",
        f'Breakfast circle=brussels start="{start} 08:30" every="every monday" count=4',
    )
    for name in ("ann", "bob"):
        assert not (await bot.say(name, f"!meetup rsvp {meetup} going")).is_error
    first = datetime.fromisoformat(start).date()
    assert not (await bot.say("cas", f"!meetup rsvp {meetup} going {first}")).is_error
    second, third = first + timedelta(days=7), first + timedelta(days=14)
    assert not (await bot.say("anim", f"!meetup cancel {meetup} {second}")).is_error
    moved = await bot.say(
        "anim", f'!meetup move {meetup} {third} "{third + timedelta(days=1)} 19:00"'
    )
    assert not moved.is_error, moved.text
    return meetup


# -- meetups held ---------------------------------------------------------------------------


async def test_each_occurrence_that_took_place_is_held_once(
    any_bot: MemoryAdapter, clock: FakeClock
) -> None:
    bot = any_bot
    clock.set(MONDAY)
    meetup = await breakfasts(bot, clock)
    clock.set(datetime(2027, 1, 11, 8, 0, tzinfo=UTC))  # under way: not yet
    assert await record(bot.app) == 0
    clock.set(datetime(2027, 1, 11, 9, 0, tzinfo=UTC))  # it has ended
    assert await record(bot.app) == 1
    assert await record(bot.app) == 0  # the next run writes nothing
    clock.set(datetime(2027, 1, 25, 12, 0, tzinfo=UTC))  # past the moved one's old time
    assert await record(bot.app) == 0  # cancelled on the 18th; the 25th moved to the 26th
    clock.set(datetime(2027, 1, 26, 19, 30, tzinfo=UTC))
    assert await record(bot.app) == 1
    assert held_facts(bot.app) == [
        (FIRST, datetime(2027, 1, 11, 7, 30, tzinfo=UTC)),
        (MOVED, datetime(2027, 1, 26, 18, 0, tzinfo=UTC)),  # at its moved time
    ]
    # the fact's shape: the meetup's circle as every fact of it, nobody named
    going = facts(bot.app, "rsvp_going")[0]
    for row in facts(bot.app, "meetup_held"):
        assert row["meetup_id"] == meetup
        assert row["member_id"] is None and row["member_alias"] is None
        assert (row["circle_id"], row["sector"], row["region"]) == (
            going["circle_id"],
            going["sector"],
            going["region"],
        )
        assert row["circle_id"] is not None and row["region"] == "brussels"


async def test_a_restart_catches_up_and_adds_no_second_fact(
    database_url: str, clock: FakeClock
) -> None:
    settings = make_settings(database_url)
    first = App(settings, clock=clock)
    first.prepare_database()
    bot = MemoryAdapter(first)
    clock.set(MONDAY)
    await breakfasts(bot, clock)
    clock.set(datetime(2027, 1, 27, 9, 0, tzinfo=UTC))
    assert await record(first) == 2
    first.database.dispose()
    # down over the last breakfast; a new process starts its jobs, the catch-up among them
    clock.set(datetime(2027, 2, 3, 9, 0, tzinfo=UTC))
    again = App(settings, clock=clock)
    again.prepare_database()
    again.scheduler.start()
    try:
        for _ in range(200):
            if len(held_facts(again)) == 3:
                break
            await asyncio.sleep(0.02)
    finally:
        again.scheduler.shutdown()
    assert [key for key, _ in held_facts(again)] == [FIRST, MOVED, LAST]
    assert await record(again) == 0
    # two instances recording at once: each occurrence still once
    other = App(settings, clock=clock)
    await asyncio.gather(record(again), record(other), record(again), record(other))
    assert [key for key, _ in held_facts(again)] == [FIRST, MOVED, LAST]
    other.database.dispose()
    again.database.dispose()


async def test_a_date_cancelled_after_it_took_place_is_not_held(
    bot: MemoryAdapter, clock: FakeClock
) -> None:
    clock.set(MONDAY)
    meetup = await breakfasts(bot, clock)
    clock.set(datetime(2027, 1, 12, 9, 0, tzinfo=UTC))
    assert await record(bot.app) == 1
    assert not (await bot.say("anim", f"!meetup cancel {meetup} 2027-01-11")).is_error
    assert held_facts(bot.app) == []
    assert await record(bot.app) == 0  # and it does not come back
    # a meetup cancelled as a whole: its coming dates are not held either
    assert not (await bot.say("anim", f"!meetup cancel {meetup}")).is_error
    clock.set(datetime(2027, 2, 10, tzinfo=UTC))
    assert await record(bot.app) == 0


async def test_the_migration_backfills_the_occurrences_that_took_place(
    any_bot: MemoryAdapter, clock: FakeClock
) -> None:
    """Meetups stored before the follow-up: the migration writes the facts the job would have
    written (it expands up to the real now: these breakfasts are in the past)."""
    bot = any_bot
    clock.set(datetime(2025, 1, 6, 9, 0, tzinfo=UTC))
    await breakfasts(bot, clock, start="2025-01-13")
    clock.set(datetime(2025, 2, 10, 9, 0, tzinfo=UTC))
    assert await record(bot.app) == 3
    recorded = facts(bot.app, "meetup_held")
    config = alembic_config(bot.app.database.engine)
    command.downgrade(config, "0017")  # as before meetups held: no such facts
    assert facts(bot.app, "meetup_held") == []
    command.upgrade(config, "head")
    rebuilt = facts(bot.app, "meetup_held")

    def without_id(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in row.items() if k != "id"} for row in rows]

    assert without_id(rebuilt) == without_id(recorded)
    assert [row["occurred_at"] for row in rebuilt] == [
        datetime(2025, 1, 13, 7, 30, tzinfo=UTC),
        datetime(2025, 1, 28, 18, 0, tzinfo=UTC),  # moved to the Tuesday evening
        datetime(2025, 2, 3, 7, 30, tzinfo=UTC),
    ]
    assert await record(bot.app) == 0  # the job finds them written


# -- meetup attendance ------------------------------------------------------------------------


def names(reply: Reply) -> dict[str, str]:
    return {action.label: action.invocation for action in reply.actions}


async def test_the_animator_sees_who_registered_and_marks_them_present(
    bot: MemoryAdapter, clock: FakeClock
) -> None:
    clock.set(MONDAY)
    meetup = await breakfasts(bot, clock)
    clock.set(datetime(2027, 1, 11, 7, 45, tzinfo=UTC))
    assert not (await bot.say("ann", f"!meetup checkin {meetup}")).is_error
    assert not (await bot.say("dan", f"!meetup checkin {meetup}")).is_error  # came anyway
    clock.set(datetime(2027, 1, 11, 10, 0, tzinfo=UTC))
    sheet = await bot.say("anim", f"!meetup attendance {meetup}")
    assert not sheet.is_error, sheet.text
    assert "Monday, 11 January 2027 08:30" in sheet.title
    assert "Registered: 3 · present: 2 · walk-ins: 1" in sheet.text
    assert "latest date that has started" in sheet.text
    registered = field(sheet, "Registered (3)")
    assert "ann" in registered and "bob" in registered and "cas" in registered
    assert [line.endswith("✅") for line in registered.splitlines()] == [True, False, False]
    assert "dan" in field(sheet, "Walk-ins (1)")
    buttons = names(sheet)
    assert sorted(buttons) == ["bob", "cas"]  # those not yet present
    assert all(a.emoji == "✅" for a in sheet.actions)

    marked = await bot.say("anim", "!" + buttons["bob"])  # the button's invocation
    assert not marked.is_error, marked.text
    assert marked.refresh == f"meetup attendance {meetup} {FIRST}"
    fresh = await bot.say("anim", "!" + marked.refresh)
    assert "Registered: 3 · present: 3 · walk-ins: 1" in fresh.text
    assert sorted(names(fresh)) == ["cas"]
    bob_id = int(buttons["bob"].split("member=#")[1].split()[0])
    checked = [r for r in facts(bot.app, "checked_in") if r["member_id"] == bob_id]
    assert [(r["meetup_id"], r["occurrence"]) for r in checked] == [(meetup, FIRST)]

    # a second mark changes nothing; a mistaken one is taken back, its fact with it
    assert not (await bot.say("anim", "!" + buttons["bob"])).is_error
    assert len([r for r in facts(bot.app, "checked_in") if r["member_id"] == bob_id]) == 1
    taken = await bot.say("anim", f"!meetup absent {meetup} bob {FIRST}")
    assert not taken.is_error, taken.text
    assert taken.refresh == f"meetup attendance {meetup} {FIRST}"
    again = await bot.say("anim", "!" + taken.refresh)
    assert "present: 2" in again.text
    assert sorted(names(again)) == ["bob", "cas"]
    assert [r for r in facts(bot.app, "checked_in") if r["member_id"] == bob_id] == []
    await refused(bot, "anim", f"!meetup absent {meetup} bob {FIRST}", saying="not marked")


async def test_attendance_of_another_date_and_what_is_refused(
    bot: MemoryAdapter, clock: FakeClock
) -> None:
    clock.set(MONDAY)
    meetup = await breakfasts(bot, clock)
    await refused(bot, "anim", f"!meetup attendance {meetup}", saying="has not started yet")
    clock.set(datetime(2027, 1, 27, 10, 0, tzinfo=UTC))
    latest = await bot.say("anim", f"!meetup attendance {meetup}")
    assert "Tuesday, 26 January 2027 19:00" in latest.title  # the moved one, at its new time
    assert "Registered: 2 · present: 0" in latest.text  # cas came to the first one only
    first = await bot.say("anim", f"!meetup attendance {meetup} 2027-01-11")
    assert "Registered: 3" in first.text
    assert "latest date" not in first.text
    await refused(bot, "anim", f"!meetup attendance {meetup} 2027-02-01", saying="not started yet")
    await refused(bot, "anim", f"!meetup attendance {meetup} 2027-01-18", saying="cancelled")
    await refused(bot, "ann", f"!meetup attendance {meetup}", saying="Only the animators")
    await refused(bot, "ann", f"!meetup absent {meetup} bob", saying="Only the animators")
    await refused(bot, "anim", "!meetup attendance 99")
    # the admin keeps it too
    assert not (await bot.say("admin", f"!meetup attendance {meetup}")).is_error
