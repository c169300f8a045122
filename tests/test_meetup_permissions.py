"""Who may change a meetup, who may answer it, and capacities: checked in the core, against
the roles as they are at the time of the command, for a typed command and a button alike."""

from __future__ import annotations

from datetime import UTC, datetime

from adapters.memory import MemoryAdapter
from bot.clock import FakeClock
from tests.helpers import (
    animator,
    animator_on_monday,
    english,
    field,
    new_meetup,
    number_of,
    refused,
    snapshot,
)


async def test_a_former_animator_no_longer_changes_the_meetups_they_scheduled(
    bot: MemoryAdapter, clock: FakeClock
) -> None:
    await animator_on_monday(bot, clock)
    number = await new_meetup(
        bot, "anim", 'Walk circle=brussels start="2027-01-09 10:00" every="every saturday"'
    )
    removed = await bot.say("admin", "!circle animator remove brussels anim")
    assert not removed.is_error, removed.text
    await refused(
        bot,
        "anim",
        f"!meetup edit {number} title=Mine",
        f"!meetup cancel {number} 2027-01-16",
        f"!meetup cancel {number}",
        f'!meetup move {number} 2027-01-23 "2027-01-24 11:00"',
        saying="Only the animators of its circle",
    )
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
    number = await new_meetup(bot, "joe", 'Picnic circle=gent start="2027-06-01 12:00"')
    assert (await bot.say("kai", f"!meetup edit {number} title=Kai")).is_error
    assert not (await bot.say("joe", f"!meetup edit {number} title=Joe")).is_error
    await bot.say("joe", "!circle leave gent")
    assert (await bot.say("joe", f"!meetup edit {number} title=Again")).is_error


async def test_a_meetup_has_no_more_places_than_its_venue(
    bot: MemoryAdapter, clock: FakeClock
) -> None:
    await animator_on_monday(bot, clock)
    await bot.say("anim", '!venue add hok "Het Hok" capacity=4')
    before = snapshot(bot.app)
    refused = await bot.say(
        "anim", '!meetup create Lunch circle=brussels start="2027-01-08 12:00" venue=hok capacity=5'
    )
    assert refused.is_error
    assert "Het Hok holds 4 people" in refused.text
    assert snapshot(bot.app) == before
    number = await new_meetup(
        bot, "anim", 'Lunch circle=brussels start="2027-01-08 12:00" venue=kop capacity=10'
    )
    moved = await bot.say("anim", f"!meetup edit {number} venue=hok")
    assert moved.is_error and "at most 4 places" in moved.text, moved.text
    raised = await bot.say("anim", f"!meetup edit {number} capacity=31")
    assert raised.is_error and "De KOP holds 30 people" in raised.text, raised.text
    assert not (await bot.say("anim", f"!meetup edit {number} capacity=30")).is_error


async def test_raising_the_capacity_offers_the_new_places_to_those_waiting(
    bot: MemoryAdapter, clock: FakeClock
) -> None:
    await animator_on_monday(bot, clock)
    await english(bot, "w1", "w2", "w3", "w4")
    number = await new_meetup(
        bot, "anim", 'Talk circle=brussels start="2027-01-08 18:00" capacity=1'
    )
    for user in ("w1", "w2", "w3", "w4"):
        await bot.say(user, f"!meetup rsvp {number} going")
    assert not any("A place is free" in r.text for u in ("w2", "w3") for r in bot.inbox[u])
    raised = await bot.say("anim", f"!meetup edit {number} capacity=3")
    assert not raised.is_error, raised.text
    for user in ("w2", "w3"):
        offer = bot.inbox[user][-1]
        assert "A place is free for **Talk**" in offer.text
    assert not any("A place is free" in r.text for r in bot.inbox["w4"])
    accept = next(a for a in bot.inbox["w2"][-1].actions if "going" in a.invocation)
    assert "Noted: going" in (await bot.say("w2", "!" + accept.invocation)).text
    shown = await bot.say("w4", f"!meetup show {number}")  # w3 still holds an offer
    assert "3/3 going · 1 waiting" in field(shown, "Next dates")


async def _project_with_partner(bot: MemoryAdapter) -> int:
    await english(bot, "lead", "sceno", "stranger")
    project = await number_of(bot, "lead", "!project create Street opera")
    await bot.say("lead", f"!project slot add {project} scenographer")
    await bot.say("sceno", f"!project join {project} scenographer")
    accept = next(a for a in bot.inbox["lead"][-1].actions if a.invocation.endswith("accept"))
    assert not (await bot.say("lead", "!" + accept.invocation)).is_error
    return project


async def test_only_partners_answer_a_project_meeting_and_see_it_listed(
    bot: MemoryAdapter, clock: FakeClock
) -> None:
    clock.set(datetime(2027, 1, 4, 9, 0, tzinfo=UTC))
    project = await _project_with_partner(bot)
    number = await new_meetup(bot, "lead", f'Rehearsal project={project} start="2027-01-09 14:00"')
    button = next(a for a in bot.inbox["sceno"][-1].actions if "going" in a.invocation)
    before = snapshot(bot.app)
    refused = await bot.say("stranger", "!" + button.invocation)  # the button's invocation
    assert refused.is_error
    assert f"Only the partners of project #{project}" in refused.text
    assert snapshot(bot.app) == before
    assert "Noted: going" in (await bot.say("sceno", "!" + button.invocation)).text
    assert "Rehearsal" in (await bot.say("sceno", "!meetup list")).text
    assert "Rehearsal" not in (await bot.say("stranger", "!meetup list")).text
    clock.set(datetime(2027, 1, 9, 13, 30, tzinfo=UTC))  # during the rehearsal
    assert (await bot.say("stranger", f"!meetup checkin {number}")).is_error
    assert not (await bot.say("sceno", f"!meetup checkin {number}")).is_error

    assert not (await bot.say("lead", f"!project close {project}")).is_error
    closed = await bot.say("sceno", f"!meetup rsvp {number} no")
    assert closed.is_error and "is closed" in closed.text, closed.text


async def test_an_archived_circle_takes_no_answers(bot: MemoryAdapter, clock: FakeClock) -> None:
    await animator_on_monday(bot, clock)
    await english(bot, "ora")
    number = await new_meetup(bot, "anim", 'Walk circle=brussels start="2027-01-09 10:00"')
    assert "Noted: going" in (await bot.say("ora", f"!meetup rsvp {number} going")).text
    assert not (await bot.say("admin", "!circle archive brussels")).is_error
    refused = await bot.say("ora", f"!meetup rsvp {number} no")
    assert refused.is_error
    assert "is archived" in refused.text, refused.text


async def test_a_project_meeting_is_not_mirrored_as_a_public_event(
    bot: MemoryAdapter, clock: FakeClock
) -> None:
    from bot.agenda import upcoming

    await animator_on_monday(bot, clock)
    project = await _project_with_partner(bot)
    await new_meetup(bot, "lead", f'Rehearsal project={project} start="2027-01-09 14:00"')
    await new_meetup(bot, "anim", 'Walk circle=brussels start="2027-01-09 10:00"')
    titles = [item.title for item in upcoming(bot.app.database, clock.now(), 30, 50)]
    assert titles == ["Walk"]


async def test_only_its_owner_or_an_admin_changes_a_venue(
    bot: MemoryAdapter, clock: FakeClock
) -> None:
    await animator(bot)
    await animator(bot, "other", "gent")
    assert not (await bot.say("anim", '!venue add hok "Het Hok" capacity=4')).is_error
    before = snapshot(bot.app)
    refused = await bot.say("other", "!venue edit hok capacity=400")
    assert refused.is_error
    assert "Only the animator who added Het Hok and the admins" in refused.text
    assert snapshot(bot.app) == before
    # a venue without an owner (from bot.toml, or older than owners): admins only
    assert (await bot.say("anim", "!venue edit kop capacity=99")).is_error
    assert not (await bot.say("anim", "!venue edit hok capacity=6")).is_error
    assert not (await bot.say("admin", "!venue edit kop capacity=35")).is_error
    # once no longer an animator, the owner does not change it either
    await bot.say("admin", "!circle animator remove brussels anim")
    assert (await bot.say("anim", "!venue edit hok capacity=8")).is_error
    assert not (await bot.say("admin", "!venue edit hok capacity=8")).is_error
