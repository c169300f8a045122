"""Dates and recurrence as members type them (issue 10): bounds, weekday abbreviations,
monthly rules, and a stored far date never breaking a later command."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from adapters.memory import MemoryAdapter
from bot.app import App
from bot.clock import FakeClock
from bot.recurrence import parse_recurrence
from bot.reply import Reply
from bot.timeparse import parse_moment
from tests.helpers import MONDAY, animator_on_monday, field
from tests.helpers import number as meetup_number

BRUSSELS = ZoneInfo("Europe/Brussels")
NOW = MONDAY


async def animator_says(bot: MemoryAdapter, clock: FakeClock, line: str) -> Reply:
    """At NOW (Monday 4 January 2027), "anim", an animator of the Brussels circle, says
    ``line``."""
    await animator_on_monday(bot, clock)
    return await bot.say("anim", line)


async def next_dates(bot: MemoryAdapter, clock: FakeClock, line: str) -> str:
    """The "Next dates" of the meetup that ``line`` (said as in animator_says) creates."""
    reply = await animator_says(bot, clock, line)
    assert not reply.is_error, reply.text
    return field(reply, "Next dates")


@pytest.mark.parametrize(
    "line",
    [
        '!meetup create Far circle=brussels start="9999-12-31 08:30"',
        '!meetup create Far circle=brussels start="2040-01-01 08:30" every="every monday"',
        '!meetup create Far circle=brussels start="maandag 8:30" every="every monday" '
        "until=9999-12-30",
    ],
)
async def test_a_date_too_far_ahead_is_refused_with_the_allowed_range(
    bot: MemoryAdapter, clock: FakeClock, line: str
) -> None:
    reply = await animator_says(bot, clock, line)
    assert reply.is_error, reply.text
    assert "at most 5 years ahead" in reply.text and "4 Jan 2032" in reply.text, reply.text


async def test_moving_a_series_to_the_end_of_the_calendar_is_refused(
    bot: MemoryAdapter, clock: FakeClock
) -> None:
    created = await animator_says(
        bot, clock, '!meetup create W circle=brussels start="maandag 8:30" every="every monday"'
    )
    number = meetup_number(created.title)
    moved = await bot.say("anim", f'!meetup move {number} series "9999-12-31 08:30"')
    assert moved.is_error and "at most 5 years ahead" in moved.text, moved.text
    shown = await bot.say("anim", f"!meetup show {number}")
    assert "11 January 2027 08:30" in field(shown, "Next dates")


@pytest.mark.parametrize("rule", ["", "FREQ=WEEKLY;BYDAY=FR", "FREQ=DAILY"])
async def test_a_stored_meetup_at_the_end_of_the_calendar_breaks_no_command(
    app: App, bot: MemoryAdapter, clock: FakeClock, rule: str
) -> None:
    from storage.meetups import Meetup

    await animator_on_monday(bot, clock)
    with app.database.session() as session:
        far = datetime(9999, 12, 31, 8, 30)
        meetup = Meetup(
            circle_id=None,
            title="Far",
            format="meetup",
            local_start=far,
            timezone="Europe/Brussels",
            first_start=far.replace(tzinfo=BRUSSELS).astimezone(UTC),
            duration_minutes=90,
            rrule=rule,
            created_by=1,
            created_at=NOW,
        )
        session.add(meetup)
        session.commit()
        number = meetup.id
    for line in (
        f"!meetup show {number}",
        f"!meetup attendees {number}",
        f"!meetup ics {number}",
        f"!meetup rsvp {number} going",
        f"!meetup rsvp {number} going 2027-01-08",
        "!meetup list",
        "!circle info brussels",
    ):
        reply = await bot.say("anim", line)
        assert "went wrong" not in reply.text.lower(), (line, reply.text)
        assert reply.text or reply.title or reply.fields, line


ABBREVIATIONS = {
    0: ("ma", "ma.", "maandag", "lun", "lun.", "lundi", "mon", "mon.", "monday"),
    1: ("di", "di.", "dinsdag", "mar", "mar.", "mardi", "tue", "tue.", "tuesday"),
    2: ("wo", "wo.", "woensdag", "mer", "mer.", "mercredi", "wed", "wed.", "wednesday"),
    3: ("do", "do.", "donderdag", "jeu", "jeu.", "jeudi", "thu", "thu.", "thursday"),
    4: ("vr", "vr.", "vrijdag", "ven", "ven.", "vendredi", "fri", "fri.", "friday"),
    5: ("za", "za.", "zaterdag", "sam", "sam.", "samedi", "sat", "sat.", "saturday"),
    6: ("zo", "zo.", "zondag", "dim", "dim.", "dimanche", "sun", "sun.", "sunday"),
}
CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@pytest.mark.parametrize(
    ("day", "word"), [(day, word) for day, words in ABBREVIATIONS.items() for word in words]
)
def test_every_weekday_name_and_abbreviation_means_that_day(day: int, word: str) -> None:
    moment = parse_moment(f"{word} 8:30", NOW, BRUSSELS)
    assert moment is not None, word
    assert (moment.weekday(), moment.hour, moment.minute) == (day, 8, 30), (word, moment)
    assert NOW < moment <= NOW.replace(day=11, hour=23), (word, moment)  # the coming one
    start = datetime(2027, 1, 11, 8, 30, tzinfo=BRUSSELS)
    for phrase in (f"every {word}", f"elke {word}", f"chaque {word}"):
        assert parse_recurrence(phrase, start).rule == f"FREQ=WEEKLY;BYDAY={CODES[day]}", phrase


async def test_an_abbreviated_weekday_schedules_that_day(
    bot: MemoryAdapter, clock: FakeClock
) -> None:
    dates = await next_dates(
        bot, clock, '!meetup create W circle=brussels start="ma 8:30" every="elke ma."'
    )
    assert "Monday, 11 January 2027 08:30" in dates and "Tuesday" not in dates


MONDAY = datetime(2027, 1, 11, 8, 30, tzinfo=BRUSSELS)


@pytest.mark.parametrize(
    ("phrase", "rule"),
    [
        ("le 15 de chaque mois", "FREQ=MONTHLY;BYMONTHDAY=15"),
        ("de 15e van elke maand", "FREQ=MONTHLY;BYMONTHDAY=15"),
        ("the 15th of every month", "FREQ=MONTHLY;BYMONTHDAY=15"),
        ("every month on the 15th", "FREQ=MONTHLY;BYMONTHDAY=15"),
        ("elke eerste maandag van de maand", "FREQ=MONTHLY;BYDAY=+1MO"),
        ("le premier lundi du mois", "FREQ=MONTHLY;BYDAY=+1MO"),
        ("the last friday of every month", "FREQ=MONTHLY;BYDAY=-1FR"),
        ("tous les 15 mois", "FREQ=MONTHLY;INTERVAL=15"),
        ("every other friday", "FREQ=WEEKLY;BYDAY=FR;INTERVAL=2"),
        ("un vendredi sur deux", "FREQ=WEEKLY;BYDAY=FR;INTERVAL=2"),
        ("une semaine sur deux le vendredi", "FREQ=WEEKLY;BYDAY=FR;INTERVAL=2"),
        ("tweewekelijks", "FREQ=WEEKLY;BYDAY=MO;INTERVAL=2"),
        ("biweekly", "FREQ=WEEKLY;BYDAY=MO;INTERVAL=2"),
        ("tous les 15 jours", "FREQ=WEEKLY;BYDAY=MO;INTERVAL=2"),
        ("every weekday", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"),
        ("elke werkdag", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"),
        ("every 2 weeks", "FREQ=WEEKLY;BYDAY=MO;INTERVAL=2"),
    ],
)
def test_monthly_and_other_repetitions_in_three_languages(phrase: str, rule: str) -> None:
    assert parse_recurrence(phrase, MONDAY).rule == rule


@pytest.mark.parametrize(
    ("every", "expected"),
    [
        ("le 15 de chaque mois", ["15 January 2027", "15 February 2027", "15 March 2027"]),
        ("tous les 15 jours", ["11 January 2027", "25 January 2027", "8 February 2027"]),
        ("the last friday of every month", ["29 January 2027", "26 February 2027"]),
    ],
)
async def test_a_monthly_or_fortnightly_meetup_lists_those_dates(
    bot: MemoryAdapter, clock: FakeClock, every: str, expected: list[str]
) -> None:
    dates = await next_dates(
        bot, clock, f'!meetup create M circle=brussels start="lundi 8h30" every="{every}"'
    )
    for day in expected:
        assert f"{day} 08:30" in dates, (every, dates)
    assert "18 January 2027" not in dates


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("volgende week dinsdag 14:00", datetime(2027, 1, 12, 14, 0)),
        ("next week tuesday 14:00", datetime(2027, 1, 12, 14, 0)),
        ("mardi de la semaine prochaine 14h", datetime(2027, 1, 12, 14, 0)),
        ("volgende dinsdag 14:00", datetime(2027, 1, 5, 14, 0)),  # the coming one
        ("ce soir 19h", datetime(2027, 1, 4, 19, 0)),
        ("vanavond 19u30", datetime(2027, 1, 4, 19, 30)),
        ("tonight 19:15", datetime(2027, 1, 4, 19, 15)),
    ],
)
def test_next_week_and_tonight(typed: str, expected: datetime) -> None:
    assert parse_moment(typed, NOW, BRUSSELS) == expected.replace(tzinfo=BRUSSELS)


async def test_a_meetup_next_week_tuesday_tonight(bot: MemoryAdapter, clock: FakeClock) -> None:
    dates = await next_dates(
        bot, clock, '!meetup create A circle=brussels start="volgende week dinsdag 14:00"'
    )
    assert "Tuesday, 12 January 2027 14:00" in dates, dates
    reply = await bot.say("anim", '!meetup create B circle=brussels start="ce soir 19h"')
    assert "Monday, 4 January 2027 19:00" in field(reply, "Next dates"), reply.text


async def test_a_date_without_a_time_takes_the_formats_usual_time_or_asks(
    bot: MemoryAdapter, clock: FakeClock
) -> None:
    # NOW is 10:00 in Brussels: the clock time must not be taken
    before = await animator_says(bot, clock, "!meetup list")
    asked = await bot.say("anim", "!meetup create Chat circle=brussels start=morgen")
    assert asked.is_error and "At what time?" in asked.text, asked.text
    assert (await bot.say("anim", "!meetup list")).text == before.text
    made = await bot.say(
        "anim", "!meetup create Breakfast circle=brussels start=morgen format=work-breakfast"
    )
    assert not made.is_error, made.text
    assert "Tuesday, 5 January 2027 08:30" in field(made, "Next dates")
    assert "No time was given, so I took the usual 08:30." in made.text
    number = meetup_number(made.title)
    moved = await bot.say("anim", f"!meetup move {number} 1 2027-01-07")
    assert not moved.is_error, moved.text
    assert "7 January 2027 08:30" in moved.text and "usual 08:30" in moved.text
    timed = await bot.say("anim", '!meetup create Walk circle=brussels start="morgen 14:00"')
    assert "14:00" in field(timed, "Next dates")
    assert "No time was given" not in timed.text


async def test_a_time_in_the_spring_gap_is_moved_and_the_answer_says_so(
    bot: MemoryAdapter, clock: FakeClock
) -> None:
    made = await animator_says(
        bot, clock, '!meetup create Night circle=brussels start="2027-03-28 02:30"'
    )
    assert not made.is_error, made.text
    assert "Sunday, 28 March 2027 03:30" in field(made, "Next dates")
    assert "02:30 does not exist on" in made.text and "I took 03:30" in made.text, made.text
    normal = await bot.say("anim", '!meetup create Day circle=brussels start="2027-03-27 02:30"')
    assert "does not exist" not in normal.text
