"""Test helpers."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from sqlalchemy import select

from adapters.memory import MemoryAdapter
from bot.app import App
from bot.clock import FakeClock
from bot.i18n import N_
from bot.params import Text
from bot.reply import Reply
from bot.spec import CommandSet, Opt
from storage.schema import metadata


def snapshot(app: App) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to prove that a failed command wrote nothing."""
    with app.database.engine.connect() as connection:
        return {
            table.name: sorted(map(tuple, connection.execute(select(table)).all()), key=repr)
            for table in metadata.sorted_tables
        }


def number(text: str, pattern: str = r"#(\d+)") -> int:
    """The number a reply gives its post, project or meetup (``#12``)."""
    match = re.search(pattern, text)
    assert match, text
    return int(match.group(1))


async def numbered(bot: MemoryAdapter, user: str, command: str) -> tuple[Reply, int]:
    """Say a command that makes a numbered post, project or meetup: it must succeed; its reply
    and the number it gives."""
    reply = await bot.say(user, command)
    assert not reply.is_error, reply.text
    return reply, number(reply.title)


async def number_of(bot: MemoryAdapter, user: str, command: str) -> int:
    """The number of what a command makes (which must succeed)."""
    return (await numbered(bot, user, command))[1]


async def english(bot: MemoryAdapter, *users: str) -> None:
    """These members read English (the community's default is Dutch)."""
    for user in users:
        await bot.say(user, "!profile set locale=en")


async def animator(bot: MemoryAdapter, user: str = "anim", circle: str = "brussels") -> None:
    """``user`` (and "admin") read English, and the admin makes ``user`` an animator of
    ``circle``."""
    await english(bot, user, "admin")
    await bot.say("admin", f"!circle animator add {circle} {user}")


MONDAY = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)  # Monday 4 January 2027, 10:00 in Brussels


async def animator_on_monday(bot: MemoryAdapter, clock: FakeClock) -> None:
    """It is MONDAY, and "anim" is an animator of the Brussels circle."""
    clock.set(MONDAY)
    await animator(bot)


async def new_meetup(bot: MemoryAdapter, user: str, options: str) -> int:
    """The number of the meetup that ``user`` creates with ``!meetup create options``."""
    return await number_of(bot, user, f"!meetup create {options}")


async def refused(bot: MemoryAdapter, user: str, *lines: str, saying: str = "") -> None:
    """Each line ``user`` says is refused (with ``saying`` in the answer), and none of them
    changes anything."""
    before = snapshot(bot.app)
    for line in lines:
        reply = await bot.say(user, line)
        assert reply.is_error, line
        assert saying in reply.text, (line, reply.text)
    assert snapshot(bot.app) == before


def field(reply: Reply, name: str) -> str:
    """The value of the reply's field ``name`` (which it must have)."""
    return {f.name: f.value for f in reply.fields}[name]


# Commands that only tests add take any help text that has a translation.
Words = Annotated[str, Opt(Text(50), N_("Find other members"))]


def extra_commands(group: str) -> CommandSet:
    """An empty set of commands in ``group``, for a test to add some to the registry."""
    commands = CommandSet()
    commands.group(group, help=N_("Find other members"))
    return commands
