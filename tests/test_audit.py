"""The audit trail: admins' commands and changes to others' data by admins and animators are
recorded, and `admin audit` shows them, filtered by member and date."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from adapters.memory import MemoryAdapter
from bot.clock import FakeClock
from tests.helpers import english, number_of, snapshot


async def test_admin_commands_and_edits_of_others_posts_are_in_the_trail(
    any_bot: MemoryAdapter, clock: FakeClock
) -> None:
    bot = any_bot
    clock.set(datetime(2027, 3, 1, 9, 0, tzinfo=UTC))
    await english(bot, "admin", "ann", "ben")
    await bot.say("admin", "!circle animator add brussels ann")
    post = await number_of(bot, "ben", "!need post A van for Saturday sector=events")
    await bot.say("ben", f"!board edit {post} title=A van for Sunday")  # his own: not audited
    clock.advance(timedelta(days=2))
    edited = await bot.say("admin", f"!board close {post} withdrawn")
    assert not edited.is_error, edited.text

    trail = await bot.say("admin", "!admin audit")
    assert not trail.is_error, trail.text
    lines = trail.text.splitlines()
    assert len(lines) == 2, trail.text  # newest first
    assert "`board close` post #" in lines[0] and "→ ben (#" in lines[0]
    assert "`circle animator add` circle=brussels member=#" in lines[1]
    assert "→ ann (#" in lines[1] and "admin (#" in lines[1]

    about_ann = await bot.say("admin", "!admin audit member=ann")
    assert len(about_ann.text.splitlines()) == 1 and "animator add" in about_ann.text
    later = await bot.say("admin", "!admin audit since=2027-03-02")
    assert len(later.text.splitlines()) == 1 and "board close" in later.text
    earlier = await bot.say("admin", "!admin audit until=2027-03-01")
    assert len(earlier.text.splitlines()) == 1 and "animator add" in earlier.text


async def test_a_refused_or_failed_command_leaves_no_trace(bot: MemoryAdapter) -> None:
    await english(bot, "admin", "ann")
    before = snapshot(bot.app)
    refused = await bot.say("admin", "!circle animator remove brussels ann")  # not an animator
    assert refused.is_error
    assert snapshot(bot.app) == before
    assert "Nothing in the audit trail" in (await bot.say("admin", "!admin audit")).text


async def test_only_admins_read_the_trail(bot: MemoryAdapter) -> None:
    await english(bot, "ann")
    refused = await bot.say("ann", "!admin audit")
    assert refused.is_error and "Only an admin" in refused.text


async def test_an_animator_changing_someone_elses_meetup_is_audited(
    bot: MemoryAdapter, clock: FakeClock
) -> None:
    clock.set(datetime(2027, 1, 4, 9, 0, tzinfo=UTC))
    await english(bot, "admin", "anim", "other")
    await bot.say("admin", "!circle animator add brussels anim")
    await bot.say("admin", "!circle animator add brussels other")
    meetup = await number_of(
        bot, "anim", '!meetup create Werkontbijt circle=brussels start="maandag 8:30" venue=kop'
    )
    await bot.say("anim", f"!meetup edit {meetup} capacity=12")  # the creator's own
    await bot.say("other", f"!meetup edit {meetup} capacity=10")
    trail = await bot.say("admin", "!admin audit member=other")
    lines = trail.text.splitlines()
    assert len(lines) == 2, trail.text
    assert f"`meetup edit` meetup #{meetup}" in lines[0] and "→ anim (#" in lines[0]


async def test_forget_is_audited_without_the_name(bot: MemoryAdapter) -> None:
    await english(bot, "admin", "eva")
    await bot.say("admin", "!privacy forget member=eva confirm=yes")
    trail = await bot.say("admin", "!admin audit")
    assert "`privacy forget` member #" in trail.text
    assert "eva" not in trail.text
