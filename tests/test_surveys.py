"""Surveys (issue 13) through the commands: made by an animator for a circle (or an admin for a
region), opened, the invitations sent once by the job, answered question by question with a
pause, results with percentages, a chart and CSV, the privacy threshold, anonymity, and the
refusals (a choice outside the list, a second answer, after the close, a question added after
the first answer, an empty survey opened, someone else's survey)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from PIL import Image
from sqlmodel import select

from adapters.memory import MemoryAdapter
from bot.clock import FakeClock
from scheduler.surveys import run_surveys
from storage.surveys import SurveyParticipant, SurveyResponse
from tests.helpers import animator, english, number_of, refused
from tests.matrix_helpers import notice_from
from tests.test_matrix import MatrixWorld, matrix, synapse  # noqa: F401  (the fixtures)

MEMBERS = ("ann", "bob", "cas", "dan", "eve", "fay")
MONDAY = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)


async def circle_with_members(bot: MemoryAdapter, clock: FakeClock) -> None:
    clock.set(MONDAY)
    await animator(bot)
    await english(bot, *MEMBERS)
    for who in MEMBERS:
        joined = await bot.say(who, "!circle join brussels")
        assert not joined.is_error, joined.text


async def breakfast_survey(bot: MemoryAdapter, *options: str) -> int:
    """A survey of the Brussels circle with a choice, a scale and a free text, opened."""
    number = await number_of(
        bot,
        "anim",
        f'!survey create Our breakfasts circle=brussels closes="2027-01-18" {" ".join(options)}',
    )
    for line in (
        f'!survey add {number} single Which day suits you? choices="Monday | Wednesday | Friday"',
        f"!survey add {number} scale How useful are the breakfasts?",
        f"!survey add {number} text What would you like to learn from others?",
    ):
        added = await bot.say("anim", line)
        assert not added.is_error, added.text
    opened = await bot.say("anim", f"!survey open {number}")
    assert not opened.is_error, opened.text
    assert "7 members" in opened.text  # the six and the animator
    return number


async def answer_all(bot: MemoryAdapter, who: str, number: int, day: str, scale: str) -> None:
    for value in (day, scale, f"More walks, says {who}"):
        reply = await bot.say(who, f"!survey answer {number} {value}")
        assert not reply.is_error, reply.text


async def test_the_circle_is_invited_once_answers_and_the_animator_reads_the_results(
    any_bot: MemoryAdapter, clock: FakeClock
) -> None:
    bot = any_bot  # SQLite and PostgreSQL
    await circle_with_members(bot, clock)
    number = await breakfast_survey(bot)
    assert await run_surveys(bot.app.services) == 7
    assert await run_surveys(bot.app.services) == 0  # each invited once
    invitation = bot.inbox["ann"][-1]
    assert "Our breakfasts" in invitation.text
    assert any(a.invocation == f"survey take {number}" for a in invitation.actions)
    # ann answers the first question, stops, and goes on later with the next one
    first = await bot.say("ann", f"!survey take {number}")
    assert "Which day suits you?" in first.text
    assert "1. Monday" in first.text
    assert [a.invocation for a in first.actions][1] == f"survey answer {number} 2 question=1"
    second = await bot.say("ann", f"!survey answer {number} 2")
    assert "How useful" in second.text
    again = await bot.say("ann", f"!survey take {number}")
    assert "How useful" in again.text  # where she left off
    await bot.say("ann", f"!survey answer {number} 5")
    done = await bot.say("ann", f"!survey answer {number} Meeting sound engineers")
    assert "Thank you" in done.text
    for who, day, scale in (("bob", "2", "4"), ("cas", "1", "3"), ("dan", "Wednesday", "4")):
        await answer_all(bot, who, number, day, scale)
    # a named survey's answer may be changed until the close
    changed = await bot.say("cas", f"!survey answer {number} 2 question=1")
    assert not changed.is_error, changed.text
    results = await bot.say("anim", f"!survey results {number} csv=yes")
    assert not results.is_error, results.text
    assert "4 answered of 7 invited" in results.text
    assert "Wednesday: 4 (100%)" in results.text
    assert "Monday: 0 (0%)" in results.text
    assert "Meeting sound engineers" in results.text and "ann" in results.text  # named
    images = [a for a in results.attachments if a.mimetype == "image/png"]
    assert len(images) == 2  # the choice and the scale
    picture = Image.open(io.BytesIO(images[0].content))
    assert picture.size == (1000, 560)
    assert "Which day suits you?" in picture.info["Title"]
    sheet = next(a for a in results.attachments if a.mimetype == "text/csv")
    rows = list(csv.reader(io.StringIO(sheet.content.decode("utf-8"))))
    assert ["Which day suits you?", "Wednesday", "4", "100%", ""] in rows


async def test_an_anonymous_survey_keeps_no_link_from_answer_to_member(
    any_bot: MemoryAdapter, clock: FakeClock
) -> None:
    bot = any_bot  # SQLite and PostgreSQL
    await circle_with_members(bot, clock)
    number = await breakfast_survey(bot, "anonymous=yes results=yes")
    await run_surveys(bot.app.services)
    assert "anonymous" in bot.inbox["bob"][-1].text
    await bot.say("bob", f"!survey answer {number} 1")
    last = await bot.say("bob", f"!survey answer {number} 4")
    assert "cannot be changed" in last.text
    await bot.say("bob", f"!survey answer {number} Grant files")
    with bot.app.database.session() as session:
        responses = session.exec(select(SurveyResponse)).all()
        assert [(r.member_id, r.region, r.sector) for r in responses] == [(None, None, None)]
        drafts = session.exec(select(SurveyParticipant.draft)).all()
        assert set(drafts) == {"{}"}  # nothing of bob's answers stays with his invitation
    await refused(bot, "bob", f"!survey answer {number} 2 question=1", saying="already")
    # members see the results after the close (the creator allowed it); small counts hidden
    await refused(bot, "ann", f"!survey results {number}", saying="makers")
    clock.set(datetime(2027, 1, 19, 9, 0, tzinfo=UTC))
    await run_surveys(bot.app.services)  # closes it and tells the maker
    assert "has closed" in bot.inbox["anim"][-1].text
    public = await bot.say("ann", f"!survey results {number}")
    assert not public.is_error, public.text
    assert "Monday: <5" in public.text
    assert "Grant files" in public.text and "bob" not in public.text
    full = await bot.say("anim", f"!survey results {number}")
    assert "Monday: 1 (100%)" in full.text
    await refused(bot, "cas", f"!survey answer {number} 1", saying="closed")


async def test_bad_answers_and_wrong_steps_are_refused_and_change_nothing(
    bot: MemoryAdapter, clock: FakeClock
) -> None:
    await circle_with_members(bot, clock)
    empty = await number_of(bot, "anim", '!survey create Empty circle=brussels closes="2027-01-18"')
    await refused(bot, "anim", f"!survey open {empty}", saying="no question")
    await bot.say("anim", f'!survey add {empty} single Which day? choices="Monday | Friday"')
    edited = await bot.say("anim", f'!survey edit {empty} 1 Which evening? choices="Tue | Thu"')
    assert "Which evening?" in edited.text and "Tue · Thu" in edited.text, edited.text
    number = await breakfast_survey(bot)
    await refused(
        bot,
        "ann",
        f"!survey answer {number} 4",  # three choices
        f"!survey answer {number} Tuesday",
        saying="1 to 3",
    )
    await refused(bot, "ann", f"!survey answer {number} 1,2", saying="one answer only")
    await bot.say("ann", f"!survey answer {number} 1")
    await refused(bot, "ann", f"!survey answer {number} 9", saying="1 to 5")
    await refused(bot, "anim", f"!survey add {number} scale Too late?", saying="begun to answer")
    await refused(bot, "ann", f"!survey close {number}", f"!survey delete {number}")
    await refused(bot, "ann", f"!survey results {number}", saying="makers")
    await english(bot, "zoe")
    await refused(bot, "zoe", f"!survey answer {number} 1", saying="not for you")
    await refused(
        bot,
        "ann",
        '!survey create Mine circle=brussels closes="2027-01-18"',
        '!survey create Ours region=brussels closes="2027-01-18"',
        saying="Only",
    )
    await refused(
        bot, "anim", '!survey create Past circle=brussels closes="2026-12-01"', saying="past"
    )
    await refused(
        bot, "anim", f'!survey add {empty} single Only one? choices="yes"', saying="two choices"
    )


async def test_an_admin_surveys_a_region_and_its_sub_regions_and_reminds_once(
    bot: MemoryAdapter, clock: FakeClock
) -> None:
    clock.set(MONDAY)
    await english(bot, "admin", "ann", "bob", "cas")
    for who, region in (("ann", "gent"), ("bob", "antwerpen"), ("cas", "liege")):
        saved = await bot.say(who, f"!profile set region={region}")
        assert not saved.is_error, saved.text
    number = await number_of(
        bot, "admin", '!survey create Networking needs region=flanders closes="2027-01-31"'
    )
    await bot.say("admin", f'!survey add {number} format "Which formats suit you?"')
    opened = await bot.say("admin", f"!survey open {number}")
    assert "2 members" in opened.text, opened.text  # Ghent and Antwerp, not Liège
    assert await run_surveys(bot.app.services) == 2
    question = await bot.say("ann", f"!survey take {number}")
    assert "Breakfast" in question.text or "breakfast" in question.text, question.text
    await bot.say("ann", f"!survey answer {number} 1")
    split = await bot.say("admin", f"!survey results {number} by=region")
    assert not split.is_error, split.text
    assert "Ghent (1)" in split.text, split.text
    clock.set(datetime(2027, 1, 28, 9, 0, tzinfo=UTC))
    assert await run_surveys(bot.app.services) == 0  # not yet: two days before the close
    clock.set(clock.now() + timedelta(days=2))
    assert await run_surveys(bot.app.services) == 1  # bob, who has not answered
    assert "reminder" in bot.inbox["bob"][-1].text.lower()
    assert await run_surveys(bot.app.services) == 0  # once


async def test_on_matrix_the_invitation_comes_by_dm_a_reaction_answers_and_results_upload(
    matrix: MatrixWorld,  # noqa: F811  (the fixture imported above)
) -> None:
    hal, ida = matrix.person("hal"), matrix.person("ida")
    async with matrix.samen(admin=hal) as (app, _):
        room_h = await matrix.english_room(hal)
        room_i = await matrix.english_room(ida)
        await hal.say(room_h, '!survey create Networking needs everyone=yes closes="in 2 weeks"')
        await hal.wait_for(notice_from(matrix.bot_id, None, "ready for its questions"))
        await hal.say(room_h, '!survey add 1 single Which day suits you? choices="Monday | Friday"')
        await hal.wait_for(notice_from(matrix.bot_id, None, "Which day suits you?"))
        await hal.say(room_h, "!survey open 1")
        await hal.wait_for(notice_from(matrix.bot_id, None, "is open"))
        assert await run_surveys(app.services) == 2  # hal and ida
        _, invitation = await ida.wait_for(notice_from(matrix.bot_id, None, "You are invited"))
        assert "!survey take 1" in invitation["content"]["body"]
        await ida.say(room_i, "!survey take 1")
        asked_in, asked = await ida.wait_for(notice_from(matrix.bot_id, None, "1. Monday"))
        await ida.wait_for(
            lambda r, s: (
                s.get("type") == "m.reaction"
                and s["content"]["m.relates_to"]["event_id"] == asked["event_id"]
                and s["content"]["m.relates_to"]["key"] == "2️⃣"
            )
        )
        await ida.react(asked_in, asked["event_id"], "2️⃣")  # ida taps "Friday"
        await ida.wait_for(notice_from(matrix.bot_id, None, "Thank you"))
        await hal.say(room_h, "!survey results 1")
        await hal.wait_for(notice_from(matrix.bot_id, None, "Friday: 1"))
        _, image = await hal.wait_for(lambda r, s: s.get("content", {}).get("msgtype") == "m.image")
        assert image["content"]["url"].startswith("mxc://")
