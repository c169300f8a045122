"""Who may change a meetup, who may answer it, and capacities: checked in the core, against
the roles as they are at the time of the command, for a typed command and a button alike."""

from __future__ import annotations

from datetime import UTC, datetime

from adapters.memory import MemoryAdapter
from bot.clock import FakeClock
from tests.helpers import english, snapshot
from tests.helpers import number as meetup_number


async def animator(bot: MemoryAdapter, user: str = "anim", circle: str = "brussels") -> None:
    await english(bot, user, "admin")
    await bot.say("admin", f"!circle animator add {circle} {user}")


async def create(bot: MemoryAdapter, user: str, options: str) -> int:
    reply = await bot.say(user, f"!meetup create {options}")
    assert not reply.is_error, reply.text
    return meetup_number(reply.title)


async def test_a_former_animator_no_longer_changes_the_meetups_they_scheduled(
    bot: MemoryAdapter, clock: FakeClock
) -> None:
    clock.set(datetime(2027, 1, 4, 9, 0, tzinfo=UTC))
    await animator(bot)
    number = await create(
        bot, "anim", 'Walk circle=brussels start="2027-01-09 10:00" every="every saturday"'
    )
    removed = await bot.say("admin", "!circle animator remove brussels anim")
    assert not removed.is_error, removed.text
    before = snapshot(bot.app)
    for line in (
        f"!meetup edit {number} title=Mine",
        f"!meetup cancel {number} 2027-01-16",
        f"!meetup cancel {number}",
        f'!meetup move {number} 2027-01-23 "2027-01-24 11:00"',
    ):
        reply = await bot.say("anim", line)
        assert reply.is_error, line
        assert "Only the animators of its circle" in reply.text, (line, reply.text)
    assert snapshot(bot.app) == before
    # an admin and a current animator still may
    assert not (await bot.say("admin", f"!meetup edit {number} title=Walk2")).is_error
    await animator(bot, "new-anim")
    assert not (await bot.say("new-anim", f"!meetup cancel {number} 2027-01-16")).is_error


async def test_in_an_open_circle_a_member_changes_only_their_own_meetups(
    bot: MemoryAdapter, clock: FakeClock
) -> None:
    clock.set(datetime(2027, 1, 4, 9, 0, tzinfo=UTC))
    await animator(bot, "gent-anim", "gent")
    await english(bot, "joe", "kai")
    await bot.say("gent-anim", "!circle edit gent open=yes")
    await bot.say("joe", "!circle join gent")
    await bot.say("kai", "!circle join gent")
    number = await create(bot, "joe", 'Picnic circle=gent start="2027-06-01 12:00"')
    assert (await bot.say("kai", f"!meetup edit {number} title=Kai")).is_error
    assert not (await bot.say("joe", f"!meetup edit {number} title=Joe")).is_error
    await bot.say("joe", "!circle leave gent")
    assert (await bot.say("joe", f"!meetup edit {number} title=Again")).is_error
