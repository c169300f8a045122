"""Meetups: scheduling as people type it, RSVP with capacity and waitlist, cancel and move,
attendance, calendar export, and reminders (with a fake clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
import recurring_ical_events

from adapters.memory import MemoryAdapter
from bot.app import App
from bot.clock import FakeClock
from scheduler import waitlist
from tests.helpers import (
    animator,
    animator_on_monday,
    english,
    field,
    new_meetup,
    number_of,
    numbered,
    snapshot,
)

BRUSSELS = ZoneInfo("Europe/Brussels")


async def test_werkontbijt_waitlist_and_reminders(
    app: App, bot: MemoryAdapter, clock: FakeClock
) -> None:
    """The acceptance scenario: every Monday 08:30 at the KOP, capacity 2; three say going,
    the third waits; one cancels, the waiting one is offered the place and accepts; reminders
    1 day and 1 hour before reach those going, not the one who said no."""
    await animator_on_monday(bot, clock)
    await english(bot, "an", "bo", "cas", "dee")
    created, number = await numbered(
        bot,
        "anim",
        '!meetup create Werkontbijt circle=brussels start="maandag 8:30" '
        'every="elke maandag" venue=kop capacity=2 format=work-breakfast',
    )
    dates = field(created, "Next dates")
    assert "Monday, 11 January 2027 08:30" in dates
    assert "Monday, 18 January 2027 08:30" in dates
    assert "Work breakfast at De KOP, Brussel" in created.text

    assert "going" in (await bot.say("an", f"!meetup rsvp {number} going")).text
    assert "going" in (await bot.say("bo", f"!meetup rsvp {number} going")).text
    third = await bot.say("cas", f"!meetup rsvp {number} going")
    assert "number 1 on the waitlist" in third.text
    await bot.say("dee", f"!meetup rsvp {number} no")
    shown = await bot.say("dee", f"!meetup show {number}")
    assert "2/2 going · 1 waiting" in field(shown, "Next dates")

    await bot.say("an", f"!meetup rsvp {number} no")
    offer = bot.inbox["cas"][-1]
    assert "A place is free for **Werkontbijt**" in offer.text
    assert "12 hours" in offer.text
    accept = next(a for a in offer.actions if "going" in a.invocation)
    accepted = await bot.say("cas", "!" + accept.invocation)
    assert "Noted: going" in accepted.text
    attendees = await bot.say("anim", f"!meetup attendees {number}")
    going = next(f for f in attendees.fields if f.name.startswith("going"))
    assert "bo (#" in going.value and "cas (#" in going.value
    assert "an (#" not in going.value

    reminders = app.scheduler.reminders
    clock.set(datetime(2027, 1, 10, 7, 29, tzinfo=UTC))
    assert await reminders.send_due() == 0
    clock.set(datetime(2027, 1, 10, 7, 31, tzinfo=UTC))  # a day before 08:30 Brussels
    assert await reminders.send_due() == 2
    assert await reminders.send_due() == 0
    for user in ("bo", "cas"):
        assert bot.inbox[user][-1].title == "Reminder: Werkontbijt"
        assert "in 1 day" in bot.inbox[user][-1].text
    clock.set(datetime(2027, 1, 11, 6, 31, tzinfo=UTC))
    assert await reminders.send_due() == 2
    assert "in 1 hour" in bot.inbox["bo"][-1].text
    for user in ("an", "dee"):
        assert not any(r.title.startswith("Reminder") for r in bot.inbox[user])


async def test_an_offer_not_accepted_in_time_goes_to_the_next(
    app: App, bot: MemoryAdapter, clock: FakeClock
) -> None:
    await animator(bot)
    await english(bot, "e1", "e2", "e3")
    number = await new_meetup(
        bot, "anim", 'Afterwork circle=brussels start="2027-01-15 18:00" capacity=1'
    )
    await bot.say("e1", f"!meetup rsvp {number} going")
    await bot.say("e2", f"!meetup rsvp {number} going")
    await bot.say("e3", f"!meetup rsvp {number} going")
    await bot.say("e1", f"!meetup rsvp {number} maybe")
    assert "A place is free" in bot.inbox["e2"][-1].text
    clock.advance(timedelta(hours=11))
    assert await waitlist.expire_offers(app.services) == 0
    clock.advance(timedelta(hours=2))
    assert await waitlist.expire_offers(app.services) == 1
    assert "ran out" in bot.inbox["e2"][-1].text
    assert "A place is free" in bot.inbox["e3"][-1].text
    assert "Noted: going" in (await bot.say("e3", f"!meetup rsvp {number} going")).text


async def test_typed_dates_and_repetitions_in_three_languages(
    bot: MemoryAdapter, clock: FakeClock
) -> None:
    await animator_on_monday(bot, clock)
    cases = [
        (
            'start="lundi prochain 8h30" every="chaque lundi" count=3',
            ["11 January 2027 08:30", "18 January 2027 08:30", "25 January 2027 08:30"],
        ),
        (
            'start="next monday 8:30" every="every 2 weeks"',
            ["11 January 2027 08:30", "25 January 2027 08:30"],
        ),
        (
            'start="2027-01-11 08:30" every="first tuesday of the month"',
            ["2 February 2027 08:30", "2 March 2027 08:30", "6 April 2027 08:30"],
        ),
        (
            'start="donderdag 19u" every="elke donderdag" until=2027-01-21',
            ["7 January 2027 19:00", "14 January 2027 19:00", "21 January 2027 19:00"],
        ),
    ]
    for options, expected in cases:
        reply = await bot.say("anim", f"!meetup create Test circle=brussels {options}")
        assert not reply.is_error, (options, reply.text)
        dates = field(reply, "Next dates")
        for text in expected:
            assert text in dates, (options, dates)
        if "count=3" in options or "until=" in options:
            assert dates.count("\n") == 2, dates


async def test_bad_meetup_input_changes_nothing(bot: MemoryAdapter, clock: FakeClock) -> None:
    await animator_on_monday(bot, clock)
    await english(bot, "nobody")
    before = snapshot(bot.app)
    cases = {
        ("anim", '!meetup create X circle=brussels start="2026-12-01 10:00"'): "in the past",
        ("anim", "!meetup create X circle=brussels start=soonish"): "don't understand",
        (
            "anim",
            '!meetup create X circle=brussels start="maandag 9:00" every="sometimes"',
        ): "repetition",
        ("anim", '!meetup create X start="maandag 9:00"'): "which circle",
        (
            "anim",
            '!meetup create X circle=brussels start="maandag 9:00" duration=forever',
        ): "duration",
        (
            "anim",
            '!meetup create X circle=brussels start="maandag 9:00" reminders=soon',
        ): "Reminders look like",
        (
            "anim",
            '!meetup create X circle=brussels start="maandag 9:00" online=ftp://x',
        ): "https://",
        ("nobody", '!meetup create X circle=brussels start="maandag 9:00"'): "Only the animators",
        ("anim", "!meetup rsvp 99 going"): "no meetup 99",
    }
    for (user, line), expected in cases.items():
        reply = await bot.say(user, line)
        assert reply.is_error, line
        assert expected in reply.text, (line, reply.text)
    assert snapshot(bot.app) == before


async def test_members_of_an_open_circle_may_schedule(bot: MemoryAdapter) -> None:
    await animator(bot, "gent-anim", "gent")
    await english(bot, "joe")
    line = '!meetup create Picnic circle=gent start="2027-06-01 12:00" format=picnic'
    assert (await bot.say("joe", line)).is_error
    await bot.say("gent-anim", "!circle edit gent open=yes")
    await bot.say("joe", "!circle join gent")
    assert not (await bot.say("joe", line)).is_error


async def test_cancel_and_move_one_date_tell_those_who_answered(
    bot: MemoryAdapter, clock: FakeClock
) -> None:
    await animator_on_monday(bot, clock)
    await english(bot, "fan", "gus")
    number = await new_meetup(
        bot,
        "anim",
        'Walk circle=brussels start="2027-01-09 10:00" every="every saturday" format=forest-walk',
    )
    await bot.say("fan", f"!meetup rsvp {number} going")
    await bot.say("gus", f"!meetup rsvp {number} no")
    cancelled = await bot.say("anim", f"!meetup cancel {number} 2027-01-16")
    assert not cancelled.is_error, cancelled.text
    assert "1 told" in cancelled.text
    assert "Cancelled: **Walk** on Saturday, 16 January 2027" in bot.inbox["fan"][-1].text
    assert not bot.inbox["gus"]
    moved = await bot.say("anim", f'!meetup move {number} 2027-01-23 "2027-01-24 11:00"')
    assert not moved.is_error, moved.text
    assert "moves to" in bot.inbox["fan"][-1].text
    shown = await bot.say("fan", f"!meetup show {number}")
    dates = field(shown, "Next dates")
    assert "January 16" not in dates
    assert "Sunday, 24 January 2027 11:00 · moved" in dates
    assert "January 23" not in dates
    assert (await bot.say("fan", f"!meetup cancel {number} 2027-01-30")).is_error


async def test_the_calendar_export_expands_to_what_meetup_show_lists(
    bot: MemoryAdapter, clock: FakeClock
) -> None:
    """Weekly 08:30 across the change to summer time, with a cancelled and a moved date."""
    clock.set(datetime(2027, 3, 1, 9, 0, tzinfo=UTC))
    await animator(bot)
    number = await new_meetup(
        bot,
        "anim",
        'Werkontbijt circle=brussels start="2027-03-15 08:30" '
        'every="every monday" count=5 venue=kop',
    )
    await bot.say("anim", f"!meetup cancel {number} 2027-03-22")
    await bot.say("anim", f'!meetup move {number} 2027-04-05 "2027-04-06 09:00"')
    shown = await bot.say("anim", f"!meetup show {number}")
    listed = field(shown, "Next dates")
    assert "Monday, 29 March 2027 08:30" in listed  # after the change to summer time
    exported = await bot.say("anim", f"!meetup ics {number}")
    calendar = icalendar.Calendar.from_ical(exported.attachments[0].content)
    assert any(c.name == "VTIMEZONE" for c in calendar.walk())
    events = recurring_ical_events.of(calendar).between(
        datetime(2027, 3, 1, tzinfo=BRUSSELS), datetime(2027, 5, 1, tzinfo=BRUSSELS)
    )
    starts = sorted(e["DTSTART"].dt.astimezone(BRUSSELS) for e in events)
    assert [s.strftime("%Y-%m-%d %H:%M") for s in starts] == [
        "2027-03-15 08:30",
        "2027-03-29 08:30",
        "2027-04-06 09:00",
        "2027-04-12 08:30",
    ]
    assert [s.utcoffset() for s in starts] == [timedelta(hours=1)] + [timedelta(hours=2)] * 3
    for start in starts:
        assert f"{start.day} {start:%B} 2027 {start:%H:%M}" in listed
    circle_calendar = await bot.say("anim", "!meetup ics circle=brussels")
    assert circle_calendar.attachments[0].filename == "brussels.ics"


async def test_checkin_records_attendance(bot: MemoryAdapter, clock: FakeClock) -> None:
    await animator_on_monday(bot, clock)
    await english(bot, "hea", "ian")
    number = await new_meetup(bot, "anim", 'Breakfast circle=brussels start="2027-01-05 08:30"')
    early = await bot.say("hea", f"!meetup checkin {number}")
    assert early.is_error
    clock.set(datetime(2027, 1, 5, 7, 45, tzinfo=UTC))
    assert not (await bot.say("hea", f"!meetup checkin {number}")).is_error
    assert (await bot.say("ian", f"!meetup checkin {number} hea")).is_error
    assert not (await bot.say("anim", f"!meetup checkin {number} ian")).is_error
    attendees = await bot.say("anim", f"!meetup attendees {number} 2027-01-05")
    going = next(f for f in attendees.fields if f.name.startswith("going"))
    assert "hea (#" in going.value and "✓" in going.value


@pytest.mark.parametrize(("offsets", "minutes"), [("1d,2h", [1440, 120]), ("30m", [30])])
async def test_a_members_own_reminders_win(
    app: App, bot: MemoryAdapter, clock: FakeClock, offsets: str, minutes: list[int]
) -> None:
    from sqlmodel import select

    from storage.meetups import Reminder

    await animator_on_monday(bot, clock)
    await english(bot, "jan")
    await bot.say("jan", f"!profile set reminders={offsets}")
    number = await new_meetup(
        bot, "anim", 'Talk circle=brussels start="2027-01-08 18:00" reminders=3h'
    )
    await bot.say("jan", f"!meetup rsvp {number} going")
    with app.database.session() as session:
        rows = list(session.exec(select(Reminder).where(Reminder.state == "pending")))
    assert sorted(r.offset_minutes for r in rows) == sorted(minutes)


async def test_meetups_and_reminders_work_on_every_database(
    any_bot: MemoryAdapter, clock: FakeClock
) -> None:
    bot = any_bot
    await animator_on_monday(bot, clock)
    await english(bot, "k1", "k2", "k3")
    number = await new_meetup(
        bot,
        "anim",
        'Breakfast circle=brussels start="2027-01-05 08:30" capacity=2 every="every tuesday"',
    )
    for user in ("k1", "k2", "k3"):
        await bot.say(user, f"!meetup rsvp {number} going")
    await bot.say("k1", f"!meetup rsvp {number} no 2027-01-12")
    shown = await bot.say("k1", f"!meetup show {number}")
    dates = field(shown, "Next dates")
    assert "5 January 2027 08:30 · 2/2 going · 1 waiting" in dates
    assert "12 January 2027 08:30 · 1/2 going · 1 waiting" in dates
    reminders = bot.app.scheduler.reminders
    clock.set(datetime(2027, 1, 5, 6, 31, tzinfo=UTC))  # an hour before the first breakfast
    assert await reminders.send_due() == 2  # k1 and k2 (a day before was already past)
    assert await reminders.send_due() == 0
    clock.set(datetime(2027, 1, 11, 7, 31, tzinfo=UTC))  # a day before the second
    assert await reminders.send_due() == 1  # k2 only: k1 is not coming, k3 is waiting
    assert "Breakfast" in bot.inbox["k2"][-1].title


async def test_circle_info_shows_the_next_meetups(bot: MemoryAdapter, clock: FakeClock) -> None:
    await animator_on_monday(bot, clock)
    await bot.say(
        "anim",
        '!meetup create Werkontbijt circle=brussels start="2027-01-11 08:30" every="every monday"',
    )
    info = await bot.say("anim", "!circle info brussels")
    coming = field(info, "Next meetups")
    assert coming.count("Werkontbijt") == 3
    assert "Monday, 11 January 2027 08:30" in coming


async def test_many_reminders_due_together_become_one_message_in_the_circle_room(
    app: App, bot: MemoryAdapter, clock: FakeClock
) -> None:
    await animator_on_monday(bot, clock)
    await bot.say("anim", "!circle link brussels", place="room-bxl")
    number = await new_meetup(
        bot,
        "anim",
        'Afterwork circle=brussels start="2027-01-08 18:00" reminders=2h',
    )
    people = [f"p{i}" for i in range(6)]
    for user in people:
        await bot.say(user, f"!meetup rsvp {number} going")
    clock.set(datetime(2027, 1, 8, 15, 1, tzinfo=UTC))
    assert await app.scheduler.reminders.send_due() == 6
    room = [r for r in bot.places["room-bxl"] if r.title.startswith("Herinnering")]
    assert len(room) == 1
    assert len(room[0].mentions) == 6
    assert not any(r.title.startswith("Herinnering") for user in people for r in bot.inbox[user])


async def test_a_one_off_meetup_far_ahead_is_accepted(bot: MemoryAdapter, clock: FakeClock) -> None:
    await animator_on_monday(bot, clock)
    reply = await bot.say("anim", '!meetup create Fair circle=brussels start="2029-03-01 10:00"')
    assert not reply.is_error, reply.text
    assert "1 March 2029 10:00" in field(reply, "Next dates")


async def test_changing_ones_mind_brings_the_reminder_back_once(
    app: App, bot: MemoryAdapter, clock: FakeClock
) -> None:
    from sqlmodel import select

    from storage.meetups import Reminder

    await animator_on_monday(bot, clock)
    await english(bot, "zoe")
    number = await new_meetup(
        bot, "anim", 'Talk circle=brussels start="2027-01-08 18:00" reminders=2h'
    )
    for answer in ("going", "no", "going", "maybe", "going"):
        reply = await bot.say("zoe", f"!meetup rsvp {number} {answer}")
        assert not reply.is_error, reply.text
    with app.database.session() as session:
        rows = list(session.exec(select(Reminder)))
    assert [(r.state, r.offset_minutes) for r in rows] == [("pending", 120)]
    clock.set(datetime(2027, 1, 8, 15, 1, tzinfo=UTC))
    assert await app.scheduler.reminders.send_due() == 1
    assert await app.scheduler.reminders.send_due() == 0


async def test_attendees_of_a_series_say_which_date_and_how_to_see_another(
    bot: MemoryAdapter, clock: FakeClock
) -> None:
    await animator_on_monday(bot, clock)
    await english(bot, "jo")
    number = await new_meetup(
        bot,
        "anim",
        'Werkontbijt circle=brussels start="maandag 8:30" every="elke maandag"',
    )
    await bot.say("jo", f"!meetup rsvp {number} going")
    listed = await bot.say("anim", f"!meetup attendees {number}")
    assert not listed.is_error, listed.text
    assert "the next date, Monday, 11 January 2027 08:30" in listed.text
    assert f"`!meetup attendees {number} 2027-01-18`" in listed.text
    other = await bot.say("anim", f"!meetup attendees {number} 2027-01-18")
    assert "18 January 2027" in (other.title or "")
    assert "For another date" not in other.text

    one_off = await new_meetup(bot, "anim", 'Walk circle=brussels start="2027-01-09 10:00"')
    assert "For another date" not in (await bot.say("anim", f"!meetup attendees {one_off}")).text


async def test_a_new_circle_meetup_is_announced_to_the_circle(
    bot: MemoryAdapter, clock: FakeClock
) -> None:
    await animator_on_monday(bot, clock)
    await english(bot, "kim", "lou")
    for user in ("kim", "lou"):
        await bot.say(user, "!circle join brussels")
    await bot.say("kim", "!circle announcements brussels on")  # lou did not ask for DMs
    linked = await bot.say("anim", "!circle link brussels", place="room-bxl")
    assert not linked.is_error, linked.text
    bot.log.clear()

    created, number = await numbered(
        bot,
        "anim",
        '!meetup create Werkontbijt circle=brussels start="maandag 8:30" every="elke maandag"',
    )
    told = bot.inbox["kim"][-1]
    assert "New meetup" in (told.title or "") and "Werkontbijt" in (told.title or "")
    assert "Monday, 11 January 2027 08:30" in told.text
    assert f"meetup rsvp {number} going" in [a.invocation for a in told.actions]
    assert not any("Werkontbijt" in (r.title or "") for r in bot.inbox["lou"])
    assert not any("Werkontbijt" in (r.title or "") for r in bot.inbox["anim"])
    room = bot.places["room-bxl"][-1]
    assert "Nieuwe bijeenkomst" in (room.title or "")  # the community's language
    assert [kind for kind, _, _ in bot.log] == ["reply", "place", "direct"]  # answer first
    assert "1 room, 1 member" in field(created, "Told")

    in_the_room = await bot.say(
        "anim", '!meetup create Lunch circle=brussels start="2027-01-08 12:00"', place="room-bxl"
    )
    assert not in_the_room.is_error, in_the_room.text
    assert not any("Lunch" in (r.title or "") for r in bot.places["room-bxl"])  # not twice
    assert "Lunch" in (bot.inbox["kim"][-1].title or "")


async def test_partners_are_told_of_a_project_meeting(bot: MemoryAdapter, clock: FakeClock) -> None:
    clock.set(datetime(2027, 1, 4, 9, 0, tzinfo=UTC))
    await english(bot, "lead", "sceno", "stranger")
    project = await number_of(bot, "lead", "!project create Street opera")
    await bot.say("lead", f"!project slot add {project} scenographer")
    await bot.say("sceno", f"!project join {project} scenographer")
    accept = next(a for a in bot.inbox["lead"][-1].actions if a.invocation.endswith("accept"))
    await bot.say("lead", "!" + accept.invocation)

    created = await bot.say(
        "lead", f'!meetup create Rehearsal project={project} start="2027-01-09 14:00"'
    )
    assert not created.is_error, created.text
    told = bot.inbox["sceno"][-1]
    assert "New meetup" in (told.title or "") and "Street opera" in (told.title or "")
    assert "9 January 2027" in told.text
    assert not any("Rehearsal" in (r.title or "") for r in bot.inbox["stranger"])
    assert not any("Rehearsal" in (r.title or "") for r in bot.inbox["lead"])


async def test_a_meetup_without_a_format_is_named_in_the_members_language(
    bot: MemoryAdapter, clock: FakeClock
) -> None:
    await animator_on_monday(bot, clock)
    number = await new_meetup(bot, "anim", 'Koffie circle=brussels start="2027-01-09 14:00"')
    await bot.say("nora", "!profile set locale=nl")
    await bot.say("felix", "!profile set locale=fr")
    for user, label in (("nora", "bijeenkomst"), ("felix", "rencontre"), ("anim", "meetup")):
        shown = await bot.say(user, f"!meetup show {number}")
        assert label in [f.value for f in shown.fields], (user, shown.fields)
