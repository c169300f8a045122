""" "Did it work out?": asked some days after an introduction, a response or a filled slot,
answered by a tap or a command, reminded once, "unknown" after; never asked twice."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from adapters.memory import MemoryAdapter
from bot.app import App
from bot.clock import FakeClock
from bot.reply import Reply
from scheduler.outcome_checks import ask_due
from storage import facts
from storage.facts import Fact
from storage.identity import Member
from tests.conftest import make_settings
from tests.discord_standin import StandIn, opt, slash
from tests.helpers import english, number, number_of, refused
from tests.matrix_helpers import notice_from
from tests.test_discord import (
    ALICE,
    BOB,
    command,
    need_post_form,
    running,
    standin,  # noqa: F401  (the fixture)
    submit_modal,
)
from tests.test_matrix import MatrixWorld, matrix, synapse  # noqa: F401  (the fixtures)

WEEK = timedelta(days=7)
ANSWERS = ("work", "talking", "no")


def questions(bot: MemoryAdapter, user: str) -> list[Reply]:
    """The "did it work out?" messages ``user`` got (questions and reminders)."""
    return [r for r in bot.inbox[user] if "did it work out?" in r.title.lower()]


Outcome = tuple[str | None, str | None, int | None, int | None]


def outcomes(app: App) -> list[Outcome]:
    """(outcome, who answered, post, slot) of every outcome_answered fact."""
    with app.database.session() as session:
        names = {m.id: m.display_name for m in session.exec(select(Member))}
        return sorted(
            (
                (f.outcome, names.get(f.member_id) if f.member_id else None, f.post_id, f.slot_id)
                for f in session.exec(
                    select(Fact).where(Fact.kind == facts.OUTCOME_ANSWERED).order_by(col(Fact.id))
                )
            ),
            key=repr,
        )


def assert_three_answers(reply: Reply) -> int:
    """The question has the three answers as actions; returns its number."""
    check = number(reply.title)
    assert [a.invocation for a in reply.actions] == [
        f"followup answer {check} {a}" for a in ANSWERS
    ]
    assert all(a.emoji for a in reply.actions)
    return check


async def introduced(bot: MemoryAdapter, author: str = "anna", helper: str = "carl") -> int:
    """``helper`` answers a need of ``author``, who accepts: the post's number."""
    need = await number_of(
        bot, author, "!need post Sound engineer for Friday sector=audiovisual region=gent"
    )
    assert not (await bot.say(helper, f"!board respond {need} I mix live")).is_error
    accept = next(a for a in bot.inbox[author][-1].actions if a.invocation.endswith("accept"))
    assert not (await bot.say(author, "!" + accept.invocation)).is_error
    return need


async def test_an_introduction_asks_both_then_reminds_then_gives_up(
    any_bot: MemoryAdapter, clock: FakeClock
) -> None:
    bot, services = any_bot, any_bot.app.services
    await english(bot, "anna", "carl")
    need = await introduced(bot)
    clock.advance(WEEK - timedelta(minutes=1))
    assert await ask_due(services) == 0
    clock.advance(timedelta(minutes=2))
    assert await ask_due(services) == 2
    assert await ask_due(services) == 0
    (to_anna,), (to_carl,) = questions(bot, "anna"), questions(bot, "carl")
    assert "You were introduced to carl" in to_anna.text and f"#{need}" in to_anna.text
    assert "You were introduced to anna" in to_carl.text
    anna_check, carl_check = assert_three_answers(to_anna), assert_three_answers(to_carl)
    assert anna_check != carl_check

    work = next(a for a in to_anna.actions if a.invocation.endswith("work"))  # anna taps it
    answered = await bot.say("anna", "!" + work.invocation)
    assert not answered.is_error, answered.text
    assert "Noted: Yes, it led to work" in answered.text
    assert answered.refresh == f"followup question {anna_check}"
    shown = await bot.say("anna", "!" + answered.refresh)
    assert "Your answer: Yes, it led to work." in shown.text
    assert outcomes(bot.app) == [("work", "anna", need, None)]
    assert "No open questions" in (await bot.say("anna", "!followup pending")).text
    pending = await bot.say("carl", "!followup pending")
    assert assert_three_answers(pending) == carl_check

    clock.advance(timedelta(days=3))
    assert await ask_due(services) == 1  # carl's reminder; anna answered
    assert questions(bot, "carl")[-1].title == f"Reminder: did it work out? (#{carl_check})"
    assert len(questions(bot, "anna")) == 1
    clock.advance(timedelta(days=4) - timedelta(minutes=1))
    assert await ask_due(services) == 0
    assert outcomes(bot.app) == [("work", "anna", need, None)]
    clock.advance(timedelta(minutes=2))
    assert await ask_due(services) == 0  # no more messages: carl's question is "unknown"
    assert outcomes(bot.app) == sorted(
        [("work", "anna", need, None), ("unknown", None, need, None)], key=repr
    )
    assert "No open questions" in (await bot.say("carl", "!followup pending")).text
    clock.advance(timedelta(days=30))
    assert await ask_due(services) == 0
    assert len(questions(bot, "carl")) == 2

    late = await bot.say("carl", f"!followup answer {carl_check} no")  # a late answer counts
    assert not late.is_error, late.text
    assert outcomes(bot.app) == sorted(
        [("work", "anna", need, None), ("no", "carl", need, None)], key=repr
    )


async def test_a_response_accepted_later_is_asked_once_as_the_introduction(
    bot: MemoryAdapter, clock: FakeClock
) -> None:
    services = bot.app.services
    await english(bot, "anna", "carl", "dirk")
    need = await number_of(bot, "anna", "!need post Van for Saturday")
    await bot.say("carl", f"!board respond {need} I have one")
    await bot.say("dirk", f"!board respond {need} Me too")
    clock.advance(timedelta(days=2))
    asks = [r for r in bot.inbox["anna"] if r.actions and "carl can help" in r.text]
    await bot.say("anna", "!" + asks[0].actions[0].invocation)  # carl accepted, 2 days on
    declines = [r for r in bot.inbox["anna"] if r.actions and "dirk can help" in r.text]
    await bot.say("anna", "!" + declines[0].actions[1].invocation)  # dirk declined
    clock.advance(WEEK - timedelta(minutes=1))  # 9 days after the answers, 7 after accepting
    assert await ask_due(services) == 0
    clock.advance(timedelta(minutes=2))
    assert await ask_due(services) == 2  # anna and carl, about the introduction
    assert await ask_due(services) == 0
    assert len(questions(bot, "anna")) == 1
    assert "You were introduced to carl" in questions(bot, "anna")[0].text
    assert questions(bot, "dirk") == []  # a declined answer has nothing to ask about


async def test_a_response_left_unanswered_is_asked_after_a_week(
    bot: MemoryAdapter, clock: FakeClock
) -> None:
    await english(bot, "anna", "carl")
    need = await number_of(bot, "anna", "!need post Ladder")
    await bot.say("carl", f"!board respond {need} I have one")
    clock.advance(WEEK + timedelta(minutes=1))
    assert await ask_due(bot.app.services) == 2
    assert "Did it work out with carl" in questions(bot, "anna")[0].text
    assert "Did it work out with anna" in questions(bot, "carl")[0].text


async def test_still_talking_is_asked_once_more_and_the_final_answer_replaces_it(
    bot: MemoryAdapter, clock: FakeClock
) -> None:
    services = bot.app.services
    await english(bot, "anna", "carl")
    need = await introduced(bot)
    clock.advance(WEEK + timedelta(minutes=1))
    await ask_due(services)
    check = number(questions(bot, "anna")[0].title)
    talking = await bot.say("anna", f"!followup answer {check} talking")
    assert "I will ask again in 7 days" in talking.text
    assert ("talking", "anna", need, None) in outcomes(bot.app)
    await refused(bot, "anna", f"!followup answer {check} talking", saying="nothing changed")
    clock.advance(timedelta(days=3))
    assert await ask_due(services) == 1  # carl's reminder, not anna's
    clock.advance(timedelta(days=4))
    assert await ask_due(services) == 1  # anna, asked again; carl "unknown"
    again = questions(bot, "anna")
    assert len(again) == 2 and again[-1].title == f"Did it work out? (#{check})"
    final = await bot.say("anna", f"!followup answer {check} werk")  # a Dutch word works too
    assert not final.is_error, final.text
    assert "ask again" not in final.text
    mine = [o for o in outcomes(bot.app) if o[1] == "anna"]
    assert mine == [("work", "anna", need, None)]  # one fact: the final answer
    clock.advance(WEEK * 2)
    assert await ask_due(services) == 0
    assert len(questions(bot, "anna")) == 2


async def test_a_filled_slot_asks_the_lead_and_the_member(
    bot: MemoryAdapter, clock: FakeClock
) -> None:
    await english(bot, "lead", "sceno")
    project = await number_of(bot, "lead", "!project create Street opera sector=performing-arts")
    await bot.say("lead", f"!project slot add {project} scenographer")
    await bot.say("sceno", f"!project join {project} scenographer")
    accept = next(a for a in bot.inbox["lead"][-1].actions if a.invocation.endswith("accept"))
    assert not (await bot.say("lead", "!" + accept.invocation)).is_error
    clock.advance(WEEK + timedelta(minutes=1))
    assert await ask_due(bot.app.services) == 2
    (to_lead,), (to_sceno,) = questions(bot, "lead"), questions(bot, "sceno")
    assert "with sceno, in the project “Street opera” as scenographer" in to_lead.text
    assert "with lead, in the project “Street opera” as scenographer" in to_sceno.text
    check = assert_three_answers(to_sceno)
    await bot.say("sceno", f"!followup answer {check} no")
    ((outcome, who, post, slot),) = outcomes(bot.app)
    assert (outcome, who, post) == ("no", "sceno", None) and slot is not None


async def test_bad_answers_are_refused_and_change_nothing(
    bot: MemoryAdapter, clock: FakeClock
) -> None:
    await english(bot, "anna", "carl", "eve")
    await introduced(bot)
    clock.advance(WEEK + timedelta(minutes=1))
    await ask_due(bot.app.services)
    anna_check = number(questions(bot, "anna")[0].title)
    carl_check = number(questions(bot, "carl")[0].title)
    await refused(
        bot,
        "eve",
        f"!followup answer {anna_check} work",
        "!followup answer 999 work",
        saying="There is no question",
    )
    await refused(bot, "carl", f"!followup answer {anna_check} work", saying="no question")
    await refused(bot, "anna", f"!followup answer {anna_check} maybe", saying="is not one of")
    await refused(bot, "anna", "!followup answer x work")
    await bot.say("anna", f"!followup answer {anna_check} no")
    await refused(bot, "anna", f"!followup answer {anna_check} no", saying="nothing changed")
    changed = await bot.say("anna", f"!followup answer {anna_check} work")  # a change is fine
    assert not changed.is_error, changed.text
    clock.advance(timedelta(days=31))
    await refused(bot, "anna", f"!followup answer {anna_check} no", saying="is closed")
    # a question not asked yet (a new introduction) has no number to answer
    await introduced(bot, "anna", "eve")
    await refused(bot, "eve", f"!followup answer {carl_check + 1} work", saying="no question")
    await refused(bot, "eve", f"!followup answer {carl_check + 2} work", saying="no question")


async def test_translated_questions(bot: MemoryAdapter, clock: FakeClock) -> None:
    await bot.say("anna", "!profile set locale=fr")
    await bot.say("carl", "!profile set locale=nl")
    await introduced(bot)
    clock.advance(WEEK + timedelta(minutes=1))
    await ask_due(bot.app.services)
    (to_anna,) = [r for r in bot.inbox["anna"] if "Cela a-t-il abouti" in r.title]
    (to_carl,) = [r for r in bot.inbox["carl"] if "Heeft het iets opgeleverd" in r.title]
    assert "Vous avez été présenté·e à carl" in to_anna.text
    assert [a.label for a in to_carl.actions] == [
        "Ja, het leidde tot werk",
        "Nog in gesprek",
        "Nee",
    ]
    check = number(to_carl.title)
    said = await bot.say("carl", f"!followup answer {check} nee")
    assert "Bedankt! Genoteerd: Nee." in said.text
    wrong = await bot.say("anna", f"!followup answer {number(to_anna.title)} peut-être")
    assert wrong.is_error and "travail, en discussion, non" in wrong.text


# -- restarts and several instances ----------------------------------------------------------


@pytest.fixture
async def two_apps(database_url: str, clock: FakeClock) -> AsyncIterator[list[App]]:
    """Two instances (apps) on one database and one fake clock."""
    apps = [App(make_settings(database_url), clock=clock) for _ in range(2)]
    apps[0].prepare_database()
    yield apps
    for app in apps:
        app.database.dispose()


async def test_a_restart_sends_nothing_twice(two_apps: list[App], clock: FakeClock) -> None:
    first, second = two_apps
    bot = MemoryAdapter(first)
    await english(bot, "anna", "carl")
    await introduced(bot)
    clock.advance(WEEK + timedelta(minutes=1))
    assert await ask_due(first.services) == 2
    later = MemoryAdapter(second)  # the restarted app, on the same database
    assert await ask_due(second.services) == 0
    clock.advance(timedelta(days=3))
    assert await ask_due(second.services) == 2  # the reminders, once
    assert await ask_due(first.services) == 0
    assert [len(questions(bot, u)) for u in ("anna", "carl")] == [1, 1]
    assert [len(questions(later, u)) for u in ("anna", "carl")] == [1, 1]
    assert all(r.title.startswith("Reminder") for u in ("anna", "carl") for r in later.inbox[u])


class StuckSink:
    """A platform whose sends never finish (the instance dies mid-send)."""

    platform = "console"

    def __init__(self) -> None:
        self.started = asyncio.Event()

    async def send_direct(self, user: str, reply: Reply, key: str | None = None) -> bool:
        self.started.set()
        await asyncio.Event().wait()
        return True

    async def send_to_place(self, place: str, reply: Reply, key: str | None = None) -> bool:
        return await self.send_direct(place, reply, key)

    async def invite(
        self, place_id: str, platform_user_id: str, role_id: str = "", grant: bool = True
    ) -> bool:
        return False


async def test_an_instance_dying_mid_send_is_taken_over_once(
    two_apps: list[App], clock: FakeClock
) -> None:
    first, second = two_apps
    bot = MemoryAdapter(first)
    await english(bot, "anna", "carl")
    await introduced(bot)
    clock.advance(WEEK + timedelta(minutes=1))
    stuck = StuckSink()
    first.notifier.register(stuck)  # replaces the console sender of the first instance
    sending = asyncio.create_task(ask_due(first.services))
    await asyncio.wait_for(stuck.started.wait(), 10)
    sending.cancel()  # it dies holding both questions
    other = MemoryAdapter(second)
    assert await ask_due(second.services) == 0  # the lease still holds
    clock.advance(timedelta(seconds=first.settings.reminder_lease_seconds + 1))
    assert await ask_due(second.services) == 2
    assert await ask_due(second.services) == 0
    assert [len(questions(other, u)) for u in ("anna", "carl")] == [1, 1]
    assert other.delivered_keys == {k for k in other.delivered_keys if k.endswith(":0:ask")}


async def test_two_instances_at_once_send_each_question_once(
    two_apps: list[App], clock: FakeClock
) -> None:
    first, second = two_apps
    bot, other = MemoryAdapter(first), MemoryAdapter(second)
    users = [f"m{i}" for i in range(12)]
    await english(bot, *users)
    for author, helper in zip(users[::2], users[1::2], strict=True):
        await introduced(bot, author, helper)
    clock.advance(WEEK + timedelta(minutes=1))
    sent = await asyncio.gather(
        ask_due(first.services),
        ask_due(second.services),
        ask_due(first.services),
        ask_due(second.services),
    )
    assert sum(sent) == 12
    keys = sorted(bot.delivered_keys) + sorted(other.delivered_keys)
    assert len(keys) == len(set(keys)) == 12
    for user in users:
        assert len(questions(bot, user)) + len(questions(other, user)) == 1
    clock.advance(timedelta(days=3))
    reminders = await asyncio.gather(ask_due(first.services), ask_due(second.services))
    assert sum(reminders) == 12  # one reminder each
    clock.advance(timedelta(days=4))
    await asyncio.gather(ask_due(first.services), ask_due(second.services))
    assert [o[0] for o in outcomes(first)] == ["unknown"] * 12  # each closed once


# -- on the platforms ----------------------------------------------------------------------


async def test_on_discord_the_question_is_a_dm_with_three_buttons_and_a_click_answers(
    standin: StandIn,  # noqa: F811  (the fixture imported above)
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = FakeClock()
    async with running(standin, tmp_path / "s.db", monkeypatch, clock=clock) as (app, _):
        modal = await need_post_form(standin, "A van for Saturday")
        await submit_modal(standin, ALICE, modal, ["From Gent to Namur"])
        await command(standin, BOB, slash("board", "respond", [opt("post", "1")]))
        accepted = await command(
            standin,
            ALICE,
            slash("board", "intro", [opt("response", 1, 4), opt("decision", "accept")]),
        )
        assert accepted["type"] in (4, 5), accepted
        clock.advance(WEEK + timedelta(minutes=1))
        assert await ask_due(app.services) == 2

        def buttons(message: dict[str, Any]) -> list[str]:
            return [b["custom_id"] for row in message["components"] for b in row["components"]]

        questions_sent = [
            m
            for m in list(standin.messages.values())
            if any("followup answer" in b for b in buttons(m))
        ]
        assert len(questions_sent) == 2
        assert {m["channel_id"] for m in questions_sent} <= set(standin.dm_channels)
        for message in questions_sent:
            check = number(buttons(message)[0], r"answer (\d+)")
            assert buttons(message) == [f"samen:followup answer {check} {a}" for a in ANSWERS]
        # which question is Bob's: the one in his direct-message channel
        bobs = next(m for m in questions_sent if standin.dm_channels[m["channel_id"]] == BOB)
        work = buttons(bobs)[0]
        click = standin.interaction(3, {"custom_id": work, "component_type": 2}, BOB, message=bobs)
        await standin.push(click)
        update = (await standin.answer_to(click)).body
        assert update["type"] == 7  # the question's message, refreshed with the answer
        assert "Ja, het leidde tot werk" in update["data"]["embeds"][0]["description"]
        assert [o[:2] for o in outcomes(app)] == [("work", "bob")]
        again = standin.interaction(3, {"custom_id": work, "component_type": 2}, BOB, message=bobs)
        await standin.push(again)  # the same answer again: refused, nothing changes
        assert (await standin.answer_to(again)).body["data"]["flags"] & 64
        assert [o[:2] for o in outcomes(app)] == [("work", "bob")]


@pytest.mark.matrix
async def test_on_matrix_a_dm_question_is_answered_by_a_reaction_or_a_typed_command(
    matrix: MatrixWorld,  # noqa: F811  (the fixture imported above)
) -> None:
    anna, carl = matrix.person("anna"), matrix.person("carl")
    clock = FakeClock(datetime.now(UTC))
    async with matrix.samen(clock=clock) as (app, _):
        room_a = await matrix.english_room(anna)
        room_c = await matrix.english_room(carl)
        await anna.say(room_a, "!need post A van for Saturday")
        await anna.wait_for(notice_from(matrix.bot_id, room_a, "posted"))
        await carl.say(room_c, "!board respond 1 I have one")
        await anna.wait_for(notice_from(matrix.bot_id, None, "can help"))
        await anna.say(room_a, "!board intro 1 accept")
        await carl.wait_for(notice_from(matrix.bot_id, None, "Introduction"))
        clock.advance(WEEK + timedelta(minutes=1))
        assert await ask_due(app.services) == 2

        dm_a, asked_a = await anna.wait_for(notice_from(matrix.bot_id, None, "Did it work out?"))
        dm_c, asked_c = await carl.wait_for(notice_from(matrix.bot_id, None, "Did it work out?"))
        for asked in (asked_a, asked_c):
            body = asked["content"]["body"]
            assert all(emoji in body for emoji in ("✅", "💬", "❌")), body
        await anna.wait_for(
            lambda r, s: (
                s.get("type") == "m.reaction"
                and s["content"]["m.relates_to"]["event_id"] == asked_a["event_id"]
                and s["content"]["m.relates_to"]["key"] == "✅"
            )
        )
        await anna.react(dm_a, asked_a["event_id"], "✅")  # anna taps "it led to work"
        await anna.wait_for(notice_from(matrix.bot_id, None, "Noted: Yes, it led to work"))
        check = number(asked_c["content"]["body"])
        await carl.say(dm_c, f"!followup answer {check} talking")  # carl types his answer
        await carl.wait_for(notice_from(matrix.bot_id, dm_c, "Noted: Still talking"))
        assert sorted(o[0] or "" for o in outcomes(app)) == ["talking", "work"]
        assert await ask_due(app.services) == 0  # nothing is asked twice
