"""`followup report`: a month of activity built through commands, read back as figures,
deltas, CSV and a chart, with the privacy threshold and the refusals."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from PIL import Image

from adapters.memory import MemoryAdapter
from bot.clock import FakeClock
from bot.reply import Reply
from scheduler import held
from tests.helpers import animator, english, field, new_meetup, number_of

MEMBERS = ("ann", "bob", "cas", "dan", "eve", "fay")


async def accept_intro(bot: MemoryAdapter, author: str) -> None:
    offer = bot.inbox[author][-1]
    accept = next(a for a in offer.actions if a.invocation.endswith("accept"))
    reply = await bot.say(author, "!" + accept.invocation)
    assert not reply.is_error, reply.text


async def january(bot: MemoryAdapter, clock: FakeClock) -> None:
    """January 2027 in the Brussels circle: six needs (one met in the community, one met
    elsewhere, one withdrawn), an answer that became an introduction, and one breakfast with
    three going and two present. A single need in December, to compare with."""
    clock.set(datetime(2026, 12, 10, 9, 0, tzinfo=UTC))
    await animator(bot)
    await english(bot, "admin", "anim", *MEMBERS)
    await number_of(bot, "fay", "!need post Old need sector=audiovisual region=brussels")
    clock.set(datetime(2027, 1, 4, 9, 0, tzinfo=UTC))
    needs = [
        await number_of(bot, who, f"!need post Need of {who} sector=audiovisual region=brussels")
        for who in MEMBERS
    ]
    assert not (await bot.say("bob", f"!board respond {needs[0]} I can help")).is_error
    await accept_intro(bot, "ann")
    for number, outcome, who in (
        (needs[0], "found_in_community with=bob", "ann"),
        (needs[1], "found_elsewhere", "bob"),
        (needs[2], "withdrawn", "cas"),
    ):
        closed = await bot.say(who, f"!board close {number} {outcome}")
        assert not closed.is_error, closed.text
    meetup = await new_meetup(bot, "anim", 'Breakfast circle=brussels start="2027-01-13 08:30"')
    for who in ("ann", "bob", "cas"):
        assert not (await bot.say(who, f"!meetup rsvp {meetup} going")).is_error
    clock.set(datetime(2027, 1, 13, 7, 45, tzinfo=UTC))
    for who in ("ann", "bob"):
        assert not (await bot.say(who, f"!meetup checkin {meetup}")).is_error
    clock.set(datetime(2027, 2, 2, 9, 0, tzinfo=UTC))
    assert await held.record_held_meetups(bot.app.services) == 1


async def report(bot: MemoryAdapter, user: str, options: str) -> Reply:
    reply = await bot.say(user, f"!followup report {options}")
    assert not reply.is_error, reply.text
    return reply


def png_of(reply: Reply) -> Image.Image:
    (chart,) = [a for a in reply.attachments if a.mimetype == "image/png"]
    assert chart.content.startswith(b"\x89PNG\r\n\x1a\n")
    return Image.open(io.BytesIO(chart.content))


async def test_an_admin_sees_the_month_in_full_with_deltas_csv_and_chart(
    any_bot: MemoryAdapter, clock: FakeClock
) -> None:
    bot = any_bot
    await january(bot, clock)
    shown = await report(bot, "admin", "last month csv=yes")
    assert "January 2027" in shown.title
    assert field(shown, "Meetups held").startswith("1 (▲")
    assert field(shown, "Registered").startswith("3 ")
    assert field(shown, "Present").startswith("2 ")
    assert field(shown, "Needs posted").startswith("6 (▲5)")  # one in December
    assert field(shown, "Needs met in the community").startswith("1 ")
    assert field(shown, "Needs met elsewhere").startswith("1 ")
    assert field(shown, "Needs withdrawn").startswith("1 ")
    assert field(shown, "Introductions made").startswith("1 ")
    image = png_of(shown)
    assert image.size == (1000, 560)
    assert "January 2027" in image.info["Title"]
    (sheet,) = [a for a in shown.attachments if a.mimetype == "text/csv"]
    rows = list(csv.DictReader(io.StringIO(sheet.content.decode("utf-8"))))
    assert rows, sheet.content
    assert any(row.get("needs") == "6" for row in rows), rows[0]


async def test_members_see_small_counts_as_below_the_threshold_animators_their_circle(
    bot: MemoryAdapter, clock: FakeClock
) -> None:
    await january(bot, clock)
    member = await report(bot, "ann", "last month circle=brussels")
    assert field(member, "Present").startswith("<5")
    assert "2" not in field(member, "Present")
    animator_view = await report(bot, "anim", "last month circle=brussels")
    assert field(animator_view, "Present").startswith("2 ")
    whole = await report(bot, "ann", "last month")
    assert field(whole, "Needs posted").startswith("6")  # above the threshold: shown


async def test_the_chart_speaks_the_members_language(bot: MemoryAdapter, clock: FakeClock) -> None:
    await january(bot, clock)
    assert not (await bot.say("cas", "!profile set locale=nl")).is_error
    shown = await report(bot, "cas", "last month")
    assert "januari 2027" in shown.title
    image = png_of(shown)
    assert "januari 2027" in image.info["Title"]
    assert "Meetups" not in image.info["Description"]


async def test_a_breakdown_by_month_puts_each_month_in_its_own_row(
    bot: MemoryAdapter, clock: FakeClock
) -> None:
    await january(bot, clock)
    shown = await report(bot, "admin", "2026-12-01..2027-01-31 by=month csv=yes")
    (sheet,) = [a for a in shown.attachments if a.mimetype == "text/csv"]
    rows = list(csv.DictReader(io.StringIO(sheet.content.decode("utf-8"))))
    posted = [row.get("needs") for row in rows]
    assert "1" in posted and "6" in posted, rows


async def test_bad_periods_and_scopes_are_refused_and_an_empty_period_says_nothing_yet(
    bot: MemoryAdapter, clock: FakeClock
) -> None:
    await january(bot, clock)
    for options in (
        "2030",  # in the future
        "2027-01-31..2027-01-01",  # reversed
        "circle=brussels sector=audiovisual",  # two scopes
        "region=atlantis",  # unknown
        "once upon a time",  # not a period
    ):
        reply = await bot.say("admin", f"!followup report {options}")
        assert reply.is_error, (options, reply.text)
        assert "Traceback" not in reply.text
    empty = await bot.say("admin", "!followup report 2025")
    assert not empty.is_error
    assert "Nothing yet" in empty.text
    assert empty.attachments == ()


def test_the_console_writes_the_chart_into_files_dir(tmp_path: object) -> None:
    import subprocess
    import sys
    from pathlib import Path

    folder = Path(str(tmp_path))
    commands = (
        "!need post Sound engineer sector=audiovisual region=gent\n!followup report csv=yes\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "console"],
        input=commands,
        capture_output=True,
        text=True,
        cwd=folder,
        timeout=120,
        env={"PYTHONPATH": str(Path(__file__).resolve().parent.parent), "PATH": "/usr/bin"},
    )
    assert done.returncode == 0, done.stderr
    files = sorted(p.suffix for p in (folder / "samen-files").iterdir())
    assert files == [".csv", ".png"], done.stdout
