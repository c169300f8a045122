"""Discussion topics (issue 13): proposed, supported up to the threshold or accepted by an
animator, given a place of their own (the console lists it; a Matrix room with its members
invited, against Synapse; a Discord thread through the REST stand-in), listed, followed,
closed only by their author or an animator, a meetup planned from one, and counted in the
follow-up."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from adapters.memory import MemoryAdapter
from bot.clock import FakeClock
from scheduler.topics import run_topics
from storage.topics import Topic
from tests.discord_standin import CHANNEL_ID, GUILD_ID, StandIn, opt, slash, user
from tests.helpers import english, number_of, refused
from tests.matrix_helpers import notice_from
from tests.test_discord import ALICE, BOB, command, running, said, standin  # noqa: F401
from tests.test_matrix import MatrixWorld, matrix, synapse  # noqa: F401  (the fixtures)
from tests.test_surveys import MONDAY, circle_with_members


async def test_a_topic_gathers_support_opens_and_is_listed_followed_and_closed(
    any_bot: MemoryAdapter, clock: FakeClock
) -> None:
    bot = any_bot  # SQLite and PostgreSQL
    await circle_with_members(bot, clock)
    number = await number_of(
        bot, "ann", '!topic propose Pricing a day of work circle=brussels text="Your rate?"'
    )
    # the same title (whatever its case) is not proposed twice: support it instead
    await refused(
        bot, "bob", "!topic propose pricing a DAY of work circle=brussels", saying="support it"
    )
    offered = await bot.say("bob", "!topic propose Pricing a day of work circle=brussels")
    assert [a.invocation for a in offered.actions] == [f"topic support {number}"]
    await refused(bot, "ann", f"!topic support {number}", saying="already")
    assert await run_topics(bot.app.services) == 0  # 1 supporter of the 3 it needs
    supported = await bot.say("bob", f"!topic support {number}")
    assert "2 supporters" in supported.text
    await bot.say("dan", f"!topic follow {number}")
    shown = await bot.say("cas", f"!topic show {number}")
    assert "2 of the 3 it needs" in shown.plain()
    (tap,) = [a for a in shown.actions if a.emoji == "👍"]
    tapped = await bot.say("cas", f"!{tap.invocation}")
    assert "a place of its own" in tapped.text
    assert await run_topics(bot.app.services) == 1
    assert await run_topics(bot.app.services) == 0  # opened once
    for who in ("ann", "bob", "cas", "dan"):  # supporters and the follower are told
        assert any(f"Topic #{number}" in r.text and "is open" in r.text for r in bot.inbox[who])
    assert not any("is open" in r.text for r in bot.inbox["eve"])
    await bot.say("eve", "!topic propose Sharing a van")
    popular = await bot.say("eve", "!topic list")
    assert popular.text.index("Pricing a day of work") < popular.text.index("Sharing a van")
    assert "👍 3" in popular.text and "open" in popular.text
    recent = await bot.say("eve", "!topic list sort=recent")
    assert recent.text.index("Sharing a van") < recent.text.index("Pricing a day of work")
    # someone else's topic is closed only by its author, an animator or an admin
    await refused(bot, "fay", f"!topic close {number}", saying="Only its author")
    closed = await bot.say("anim", f"!topic close {number}")
    assert not closed.is_error, closed.text
    assert "Pricing" not in (await bot.say("eve", "!topic list")).text
    await refused(bot, "bob", f"!topic support {number}", saying="closed")
    await english(bot, "admin")
    clock.set(MONDAY + timedelta(hours=1))  # a report counts until now
    report = await bot.say("admin", "!followup report")
    figures = {f.name: f.value for f in report.fields}
    assert figures["Topics proposed"].startswith("2")
    assert figures["Topics opened"].startswith("1")


async def test_an_animator_accepts_a_topic_and_plans_a_meetup_from_it(
    bot: MemoryAdapter, clock: FakeClock
) -> None:
    await circle_with_members(bot, clock)
    number = await number_of(bot, "ann", "!topic propose Grant files circle=brussels")
    await refused(bot, "bob", f"!topic accept {number}", saying="Only the animators")
    accepted = await bot.say("anim", f"!topic accept {number}")
    assert "accepted" in accepted.text
    assert await run_topics(bot.app.services) == 1
    planned = await bot.say(
        "anim", f'!meetup create Grant evening topic={number} start="2027-01-14 19:00"'
    )
    assert not planned.is_error, planned.text
    assert "Discussion forum" in planned.text  # the topic's format, its circle
    shown = await bot.say("ann", f"!topic show {number}")
    assert "1" in next(f.value for f in shown.fields if f.name == "Meetups planned from it")
    # a topic of a circle one is not in stays out of sight
    await english(bot, "out")
    await refused(bot, "out", f"!topic show {number}", saying="There is no topic")
    await refused(bot, "out", "!topic propose Secret circle=brussels", saying="Join")
    with bot.app.database.session() as session:
        topic = session.get(Topic, number)
        assert topic is not None and topic.state == "open" and topic.place_id == ""


async def test_on_matrix_a_topic_gets_a_room_its_supporters_are_invited_to(
    matrix: MatrixWorld,  # noqa: F811  (the fixture imported above)
) -> None:
    hal, ida = matrix.person("hal"), matrix.person("ida")
    async with matrix.samen(admin=hal) as (app, _):
        room_h = await matrix.english_room(hal)
        room_i = await matrix.english_room(ida)
        await hal.say(room_h, "!topic propose Sharing studios")
        await hal.wait_for(notice_from(matrix.bot_id, room_h, "is proposed"))
        await ida.say(room_i, "!topic support 1")
        await ida.wait_for(notice_from(matrix.bot_id, None, "2 supporters"))
        await hal.say(room_h, "!topic accept 1")
        await hal.wait_for(notice_from(matrix.bot_id, room_h, "accepted"))
        assert await run_topics(app.services) == 1
        with app.database.session() as session:
            topic = session.get(Topic, 1)
            assert topic is not None and topic.place_platform == "matrix"
            place = topic.place_id
        # ida is invited (her client joins) and finds the topic's first message there
        await ida.wait_for(
            lambda r, s: r == place and "Sharing studios" in s.get("content", {}).get("body", "")
        )
        await ida.wait_for(notice_from(matrix.bot_id, None, "You are invited to its room"))
        # what is said there counts, on the topic and in the follow-up (commands do not)
        await ida.say(place, "I have a free studio on Tuesdays")
        await ida.say(place, "Anyone in Liège?")
        for _ in range(100):
            with app.database.session() as session:
                topic = session.get(Topic, 1)
                assert topic is not None
                if topic.messages == 2:
                    break
            await asyncio.sleep(0.1)
        assert topic.messages == 2


async def test_on_discord_a_topic_becomes_a_thread_with_its_supporters(
    standin: StandIn,  # noqa: F811  (the fixture imported above)
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with running(standin, tmp_path / "s.db", monkeypatch, admins=(f"discord:{ALICE}",)) as (
        app,
        _,
    ):
        await command(standin, ALICE, slash("profile", "set", [opt("locale", "en")]))
        await command(standin, BOB, slash("profile", "set", [opt("locale", "en")]))
        proposed = await command(
            standin, ALICE, slash("topic", "propose", [opt("title", "Sharing a van")])
        )
        if proposed["type"] == 9:  # the text is typed in a form
            from tests.test_discord import submit_modal

            proposed = await submit_modal(standin, ALICE, proposed["data"], ["Who has one?"])
        support = next(
            b
            for row in proposed["data"]["components"]
            for b in row["components"]
            if b["custom_id"] == "samen:topic support 1"
        )
        click = standin.interaction(
            3,
            {"custom_id": support["custom_id"], "component_type": 2},
            BOB,
            message=standin.messages[proposed["__message_id__"]],
        )
        await standin.push(click)
        await standin.answer_to(click)
        await said(app, ALICE, "topic accept 1")
        assert await run_topics(app.services) == 1
        (thread_id,) = standin.threads
        assert standin.threads[thread_id]["name"] == "Sharing a van"
        assert standin.threads[thread_id]["parent_id"] == CHANNEL_ID
        assert standin.thread_members[thread_id] == {ALICE, BOB}
        first = await standin.wait_request(
            lambda r: r.method == "POST" and r.path == f"/channels/{thread_id}/messages"
        )
        assert "Sharing a van" in str(first.body)
        # Bob says something in the thread (the gateway tells us): the topic counts it once
        said_there = {
            **standin.message(thread_id, {"content": "I have one on Saturdays"}),
            "author": user(BOB, "bob"),
            "guild_id": GUILD_ID,
        }
        await standin.dispatch("MESSAGE_CREATE", said_there)
        await standin.dispatch("MESSAGE_CREATE", said_there)  # delivered twice
        for _ in range(100):
            with app.database.session() as session:
                topic = session.get(Topic, 1)
                assert topic is not None
                if topic.messages:
                    break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
        with app.database.session() as session:
            topic = session.get(Topic, 1)
            assert topic is not None and topic.messages == 1
