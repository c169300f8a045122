"""Facts of the follow-up: each write path records what happened, in its own transaction; the
migration's backfill writes the same facts from what is stored; forget keeps the figures."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from alembic import command
from sqlalchemy import select, text

from adapters.memory import MemoryAdapter
from bot.clock import FakeClock
from scheduler import board_jobs, held, outcome_checks
from scheduler.topics import run_topics
from storage.db import alembic_config
from storage.facts import FACT, KINDS, backfill
from tests.helpers import MONDAY, animator, english, new_meetup, number_of, refused


def facts(bot: MemoryAdapter, kind: str | None = None) -> list[dict[str, Any]]:
    with bot.app.database.engine.connect() as connection:
        statement = select(FACT).order_by(FACT.c.id)
        if kind is not None:
            statement = statement.where(FACT.c.kind == kind)
        return [dict(row) for row in connection.execute(statement).mappings()]


def member_id(bot: MemoryAdapter, name: str) -> int:
    with bot.app.database.engine.connect() as connection:
        found = connection.execute(
            text("SELECT id FROM member WHERE display_name = :name"), {"name": name}
        ).scalar_one()
    return int(found)


def circle_id(bot: MemoryAdapter, key: str) -> int:
    with bot.app.database.engine.connect() as connection:
        found = connection.execute(
            text("SELECT id FROM circle WHERE key = :key"), {"key": key}
        ).scalar_one()
    return int(found)


async def accept_intro(bot: MemoryAdapter, author: str) -> None:
    offer = bot.inbox[author][-1]
    accept = next(a for a in offer.actions if a.invocation.endswith("accept"))
    reply = await bot.say(author, "!" + accept.invocation)
    assert not reply.is_error, reply.text


async def activity(bot: MemoryAdapter, clock: FakeClock) -> dict[str, int]:
    """A little of everything, through commands: members, circles, posts answered, introduced
    and closed every way, a project with a slot filled, a meetup with answers and check-ins."""
    clock.set(MONDAY)
    await animator(bot)  # anim, animator of the Brussels circle
    await english(bot, "ann", "bob", "cas", "lead", "sceno")
    assert not (await bot.say("ann", "!circle join audiovisual")).is_error
    need = await number_of(
        bot, "ann", "!need post Sound engineer for Friday sector=audiovisual region=gent"
    )
    assert not (await bot.say("bob", f"!board respond {need} I have the gear")).is_error
    await accept_intro(bot, "ann")
    closed = await bot.say("ann", f"!board close {need} found_in_community with=bob")
    assert not closed.is_error, closed.text
    offer = await number_of(bot, "bob", "!offer post Van to lend region=brussels")
    assert not (await bot.say("bob", f"!board close {offer} withdrawn")).is_error
    project = await number_of(
        bot, "lead", "!project create Street opera sector=performing-arts region=liege"
    )
    assert not (await bot.say("lead", f"!project slot add {project} scenographer")).is_error
    assert not (await bot.say("sceno", f"!project join {project} scenographer")).is_error
    await accept_intro(bot, "lead")
    meetup = await new_meetup(bot, "anim", 'Breakfast circle=brussels start="2027-01-05 08:30"')
    assert not (await bot.say("ann", f"!meetup rsvp {meetup} going")).is_error
    assert not (await bot.say("bob", f"!meetup rsvp {meetup} maybe")).is_error
    clock.set(datetime(2027, 1, 5, 7, 45, tzinfo=UTC))
    assert not (await bot.say("ann", f"!meetup checkin {meetup}")).is_error
    assert not (await bot.say("anim", f"!meetup checkin {meetup} cas")).is_error  # came anyway
    late = await number_of(bot, "cas", "!need post Costume maker sector=performing-arts")
    clock.advance(timedelta(days=31))
    assert await board_jobs.expire_posts(bot.app.services) == 1
    return {"need": need, "offer": offer, "project": project, "meetup": meetup, "late": late}


async def test_each_write_path_records_its_fact(bot: MemoryAdapter, clock: FakeClock) -> None:
    made = await activity(bot, clock)
    ann, bob, cas = (member_id(bot, name) for name in ("ann", "bob", "cas"))
    created = facts(bot, "member_created")
    assert len(created) == 7  # anim, admin, ann, bob, cas, lead, sceno: once each
    assert len({row["member_id"] for row in created}) == 7
    assert created[0]["occurred_at"] == MONDAY

    joined = facts(bot, "circle_joined")
    assert [(r["circle_id"], r["sector"], r["region"]) for r in joined] == [
        (circle_id(bot, "brussels"), None, "brussels"),  # the animator added
        (circle_id(bot, "audiovisual"), "audiovisual", None),
    ]
    assert joined[1]["member_id"] == ann

    published = facts(bot, "post_published")
    assert [(r["post_id"], r["post_kind"], r["sector"], r["region"]) for r in published] == [
        (made["need"], "need", "audiovisual", "gent"),
        (made["offer"], "offer", None, "brussels"),
        (made["late"], "need", "performing-arts", None),
    ]
    assert published[0]["member_id"] == ann
    (responded,) = facts(bot, "post_responded")
    assert (responded["post_id"], responded["member_id"]) == (made["need"], bob)
    (introduced,) = facts(bot, "introduction_made")
    assert (introduced["post_id"], introduced["member_id"]) == (made["need"], ann)

    closes = facts(bot, "post_closed")
    assert [(r["post_id"], r["outcome"], r["post_kind"]) for r in closes] == [
        (made["need"], "found_in_community", "need"),
        (made["offer"], "withdrawn", "offer"),
        (made["late"], "expired", "need"),
    ]
    assert closes[2]["member_id"] is None  # nobody closed it: the board did
    assert closes[2]["occurred_at"] == datetime(2027, 2, 5, 7, 45, tzinfo=UTC)

    (project,) = facts(bot, "project_created")
    assert (project["project_id"], project["sector"], project["region"]) == (
        made["project"],
        "performing-arts",
        "liege",
    )
    (slot,) = facts(bot, "slot_filled")
    assert slot["project_id"] == made["project"] and slot["slot_id"] is not None
    assert slot["member_id"] == member_id(bot, "sceno")

    brussels = circle_id(bot, "brussels")
    going = facts(bot, "rsvp_going")  # bob's "maybe" is none
    assert [(r["member_id"], r["occurrence"]) for r in going] == [
        (ann, ""),  # every date
        (ann, "2027-01-05T07:30Z"),  # checking in answers for that date
        (cas, "2027-01-05T07:30Z"),  # came without saying so
    ]
    assert {(r["meetup_id"], r["circle_id"], r["region"]) for r in going} == {
        (made["meetup"], brussels, "brussels")
    }
    checked = facts(bot, "checked_in")
    assert [(r["member_id"], r["occurrence"], r["circle_id"]) for r in checked] == [
        (ann, "2027-01-05T07:30Z", brussels),
        (cas, "2027-01-05T07:30Z", brussels),
    ]
    # "did it work out?" (asked a week after the introduction; a month has passed)
    assert await outcome_checks.ask_due(bot.app.services) == 4  # ann, bob, lead, sceno
    asked = [r for r in bot.inbox["ann"] if r.title.startswith("Did it work out?")]
    assert not (await bot.say("ann", "!" + asked[0].actions[0].invocation)).is_error
    (answered,) = facts(bot, "outcome_answered")
    assert (answered["outcome"], answered["post_id"], answered["member_id"]) == (
        "work",
        made["need"],
        ann,
    )
    assert (answered["sector"], answered["region"]) == ("audiovisual", "gent")
    # the breakfast (a single date) took place: held once, at its start, however often asked
    assert await held.record_held_meetups(bot.app.services) == 1
    assert await held.record_held_meetups(bot.app.services) == 0
    (took_place,) = facts(bot, "meetup_held")
    assert (took_place["meetup_id"], took_place["occurrence"], took_place["member_id"]) == (
        made["meetup"],
        "2027-01-05T07:30Z",
        None,
    )
    # a topic of the Brussels circle: proposed, supported, opened, talked about, a meetup
    assert not (await bot.say("ann", "!circle join brussels")).is_error
    topic = await number_of(bot, "anim", "!topic propose Sharing studios circle=brussels")
    assert not (await bot.say("ann", f"!topic support {topic}")).is_error
    assert not (await bot.say("anim", f"!topic accept {topic}")).is_error
    assert await run_topics(bot.app.services) == 1
    with bot.app.database.engine.begin() as connection:  # as if opened as a Matrix room
        connection.execute(
            text("UPDATE topic SET place_platform = 'matrix', place_id = '!t:x' WHERE id = :id"),
            {"id": topic},
        )
    assert await bot.app.dispatcher.place_message("matrix", "!t:x", "$said")
    assert not await bot.app.dispatcher.place_message("matrix", "!t:x", "$said")  # once
    assert not await bot.app.dispatcher.place_message("matrix", "!other:x", "$else")
    planned = await bot.say(
        "anim", f'!meetup create Studio visit topic={topic} start="2027-12-20 19:00"'
    )
    assert not planned.is_error, planned.text
    topic_facts = [r for r in facts(bot) if str(r["kind"]).startswith("topic_")]
    assert [(r["kind"], r["member_id"]) for r in topic_facts] == [
        ("topic_proposed", member_id(bot, "anim")),
        ("topic_supported", member_id(bot, "anim")),
        ("topic_supported", ann),
        ("topic_opened", member_id(bot, "anim")),
        ("topic_message", None),
        ("topic_meetup", member_id(bot, "anim")),
    ]
    assert {r["circle_id"] for r in topic_facts} == {brussels}
    assert set(Counter(row["kind"] for row in facts(bot))) == set(KINDS)


async def test_saying_it_twice_records_it_once(bot: MemoryAdapter, clock: FakeClock) -> None:
    clock.set(MONDAY)
    await animator(bot)
    meetup = await new_meetup(bot, "anim", 'Breakfast circle=brussels start="2027-01-05 08:30"')
    await bot.say("ann", "!circle join it")
    await bot.say("ann", "!circle join it")
    await bot.say("ann", f"!meetup rsvp {meetup} going")
    await bot.say("ann", f"!meetup rsvp {meetup} going")
    clock.set(datetime(2027, 1, 5, 7, 45, tzinfo=UTC))
    await bot.say("ann", f"!meetup checkin {meetup}")
    await bot.say("ann", f"!meetup checkin {meetup}")
    kinds = Counter(row["kind"] for row in facts(bot) if row["member_id"] == member_id(bot, "ann"))
    assert kinds == {
        "member_created": 1,
        "circle_joined": 1,
        "rsvp_going": 2,  # the series, then the date checked in
        "checked_in": 1,
    }
    # going again after saying no is going again
    await bot.say("ann", f"!meetup rsvp {meetup} no")
    await bot.say("ann", f"!meetup rsvp {meetup} going")
    assert len(facts(bot, "rsvp_going")) == 3


async def test_a_refused_command_records_nothing(bot: MemoryAdapter) -> None:
    await english(bot, "olga", "pete")
    post = await number_of(bot, "olga", "!need post Camera operator")
    before = len(facts(bot))
    await refused(
        bot,
        "pete",
        f"!board close {post} withdrawn",
        f"!board respond {post} message=" + "x" * 1001,
        "!board intro 42 accept",
    )
    assert len(facts(bot)) == before


def comparable(rows: list[dict[str, Any]]) -> Counter[tuple[Any, ...]]:
    """The facts without their number; the time too, but for check-ins, whose time a backfill
    can only take from the occurrence."""
    return Counter(
        tuple(
            (name, value)
            for name, value in sorted(row.items())
            if name not in ("id", "member_alias")
            and not (name == "occurred_at" and row["kind"] == "checked_in")
        )
        for row in rows
    )


async def test_the_backfill_writes_the_facts_recording_wrote(
    any_bot: MemoryAdapter, clock: FakeClock
) -> None:
    bot = any_bot
    await activity(bot, clock)
    recorded = facts(bot)
    with bot.app.database.engine.begin() as connection:
        connection.execute(FACT.delete())
        counts = backfill(connection)
    rebuilt = facts(bot)
    assert counts == Counter(row["kind"] for row in recorded)
    assert comparable(rebuilt) == comparable(recorded)
    checked_at = {row["occurred_at"] for row in rebuilt if row["kind"] == "checked_in"}
    assert checked_at == {datetime(2027, 1, 5, 7, 30, tzinfo=UTC)}  # the occurrence's start


async def test_the_migration_backfills_what_is_stored(
    any_bot: MemoryAdapter, clock: FakeClock
) -> None:
    bot = any_bot
    await activity(bot, clock)
    recorded = facts(bot)
    config = alembic_config(bot.app.database.engine)
    command.downgrade(config, "0016")  # as before the follow-up: no fact table
    command.upgrade(config, "head")
    assert comparable(facts(bot)) == comparable(recorded)


async def test_forget_keeps_the_figures_but_not_the_member(
    any_bot: MemoryAdapter, clock: FakeClock
) -> None:
    bot = any_bot
    await activity(bot, clock)
    ann = member_id(bot, "ann")
    before = facts(bot)
    hers = [row["id"] for row in before if row["member_id"] == ann]
    assert len(hers) >= 5
    done = await bot.say("ann", "!privacy forget confirm=yes")
    assert not done.is_error, done.text
    after = facts(bot)
    assert Counter(r["kind"] for r in after) == Counter(r["kind"] for r in before)
    assert not [row for row in after if row["member_id"] == ann]
    aliases = {row["member_alias"] for row in after if row["id"] in hers}
    assert len(aliases) == 1 and None not in aliases  # one random alias for all of hers
    (alias,) = aliases
    assert alias != ann

    def active(rows: list[dict[str, Any]]) -> int:
        return len(
            {
                (r["member_id"], r["member_alias"])
                for r in rows
                if r["member_id"] or r["member_alias"]
            }
        )

    assert active(after) == active(before)  # still as many active members
    # the backfill of a forgotten member's facts names nobody either
    with bot.app.database.engine.begin() as connection:
        connection.execute(FACT.delete())
        backfill(connection)
    assert not [row for row in facts(bot) if row["member_id"] == ann]


async def test_linking_two_accounts_leaves_one_new_member(bot: MemoryAdapter) -> None:
    matrix = MemoryAdapter(bot.app, platform="matrix")
    await bot.say("alice", "!circle join it")
    await matrix.say("@alice:example.org", "!circle join training")
    given = await bot.say("alice", "!link")
    code = re.search(r"\b(\d{6})\b", given.text)
    assert code
    done = await matrix.say("@alice:example.org", f"!link {code.group(1)}")
    assert not done.is_error, done.text
    alice = member_id(bot, "alice")
    kinds = Counter(row["kind"] for row in facts(bot) if row["member_id"] == alice)
    assert kinds == {"member_created": 1, "circle_joined": 2}
    assert len(facts(bot, "member_created")) == 1
