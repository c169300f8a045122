"""The weekly digest: every circle's week, once per week and circle, also across a restart."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from adapters.memory import MemoryAdapter
from bot.app import App
from bot.clock import FakeClock
from bot.i18n import N_
from bot.reply import Reply
from scheduler.digest import send_weekly_digests
from tests.conftest import make_settings
from tests.helpers import animator, english, new_meetup, number_of, refused

# Monday 11 January 2027, 09:00 in Brussels: the digest's moment ([followup] in bot.toml)
DIGEST = datetime(2027, 1, 11, 8, 0, tzinfo=UTC)
ROOM = "room-bxl"


def digests(bot: MemoryAdapter, place: str = ROOM) -> list[Reply]:
    """The digests the Brussels circle's room got (in the community's language)."""
    t = bot.app.services.translator_for(None)
    title = t(N_("The week of {circle}"), circle="Brussel · Bruxelles")
    return [r for r in bot.places[place] if r.title == title]


async def week_of_activity(bot: MemoryAdapter, clock: FakeClock) -> int:
    """From Monday 4 January (its digest sent: nothing yet), a week in the Brussels circle,
    linked to ROOM: a weekly breakfast (three going, two checked in on Wednesday, next week's
    date moved to Thursday 10:00), a need and an offer of the region (the offer met in the
    community), and a need of another sector. Returns the breakfast's number."""
    clock.set(datetime(2027, 1, 4, 9, 0, tzinfo=UTC))
    await animator(bot)  # anim animates Brussels
    assert await send_weekly_digests(bot.app.services) == 0  # this week's: nothing to say
    linked = await bot.say("anim", "!circle link brussels", place=ROOM)
    assert not linked.is_error, linked.text
    await english(bot, "ann", "bob", "cas")
    for user in ("ann", "bob", "cas"):
        assert not (await bot.say(user, "!circle join brussels")).is_error
    meetup = await new_meetup(
        bot, "anim", 'Breakfast circle=brussels start="2027-01-06 08:30" every="every wednesday"'
    )
    for user in ("ann", "bob", "cas"):
        assert not (await bot.say(user, f"!meetup rsvp {meetup} going")).is_error
    moved = await bot.say("anim", f'!meetup move {meetup} 2027-01-13 "2027-01-14 10:00"')
    assert not moved.is_error, moved.text
    await number_of(bot, "ann", "!need post Sound engineer region=brussels")
    offer = await number_of(bot, "bob", "!offer post Van to lend region=brussels")
    await number_of(bot, "cas", "!need post Costume maker sector=performing-arts")
    clock.set(datetime(2027, 1, 6, 7, 45, tzinfo=UTC))  # Wednesday 08:45 in Brussels
    assert not (await bot.say("ann", f"!meetup checkin {meetup}")).is_error
    assert not (await bot.say("anim", f"!meetup checkin {meetup} bob")).is_error
    closed = await bot.say("bob", f"!board close {offer} found_in_community")
    assert not closed.is_error, closed.text
    clock.set(datetime(2027, 1, 8, 12, 0, tzinfo=UTC))
    assert await send_weekly_digests(bot.app.services) == 0  # this week's went out on Monday
    return meetup


async def test_the_room_gets_one_digest_of_its_week_across_restarts(
    bot: MemoryAdapter, clock: FakeClock, settings: object
) -> None:
    meetup = await week_of_activity(bot, clock)
    clock.set(DIGEST - timedelta(minutes=1))
    assert await send_weekly_digests(bot.app.services) == 0  # 08:59: not yet
    assert digests(bot) == []
    clock.set(DIGEST)
    assert await send_weekly_digests(bot.app.services) >= 1
    (digest,) = digests(bot)
    text = digest.text
    # in the community's language (Dutch), dates by Babel in Brussels time
    assert "Breakfast · woensdag 6 januari 2027 08:30" in text
    assert "<5" in text  # three registered, two present: counts of people below the threshold
    assert f"#{meetup} Breakfast · donderdag 14 januari 2027 10:00" in text  # moved, local
    assert "verplaatst" in text  # "moved"
    assert "Sound engineer" in text and "Van to lend" in text
    assert "Costume maker" not in text  # another sector, not this region
    assert "1 vraag" in text and "1 aanbod" in text

    # the animator's figures, in full, by direct message
    (figures,) = [r for r in bot.inbox["anim"] if r.title == "Your circles this week"]
    assert "2/3" in figures.text and "67%" in figures.text
    assert "4 new (4 now)" in figures.text
    assert "met in the community: 1" in figures.text

    # a restart at 09:05 and at 10:05 (a new app on the same database) sends nothing more
    for later in (timedelta(minutes=5), timedelta(hours=1, minutes=5)):
        clock.set(DIGEST + later)
        again = App(bot.app.settings, clock=clock)
        again.prepare_database()
        restarted = MemoryAdapter(again)
        assert await send_weekly_digests(again.services) == 0
        assert restarted.places == {} and restarted.inbox == {}
        again.database.dispose()
    assert len(digests(bot)) == 1
    assert len([r for r in bot.inbox["anim"] if r.title == "Your circles this week"]) == 1

    # the next week has a digest of its own: Thursday's breakfast held, nobody checked in
    clock.set(DIGEST + timedelta(days=7))
    assert await send_weekly_digests(bot.app.services) >= 1
    assert len(digests(bot)) == 2
    assert "Breakfast · donderdag 14 januari 2027 10:00" in digests(bot)[1].text
    assert "woensdag 20 januari 2027 08:30" in digests(bot)[1].text


async def test_a_digest_missed_while_down_is_sent_that_week_not_the_next(
    bot: MemoryAdapter, clock: FakeClock
) -> None:
    await week_of_activity(bot, clock)
    clock.set(DIGEST + timedelta(hours=2))  # the bot was down at 09:00, back at 11:00
    assert await send_weekly_digests(bot.app.services) >= 1
    assert len(digests(bot)) == 1
    assert "Sound engineer" in digests(bot)[0].text
    # down a whole week: the week after has its own digest, the missed one is not sent late
    clock.set(DIGEST + timedelta(days=14, hours=3))
    assert await send_weekly_digests(bot.app.services) >= 1
    assert len(digests(bot)) == 2
    assert "Sound engineer" not in digests(bot)[1].text


async def test_two_runs_at_once_send_each_digest_once(
    any_bot: MemoryAdapter, clock: FakeClock
) -> None:
    """Two instances (or two runs) at the same moment, on SQLite and on PostgreSQL."""
    bot = any_bot
    await week_of_activity(bot, clock)
    clock.set(DIGEST)
    other = App(make_settings(bot.app.database.url), clock=clock)
    other_adapter = MemoryAdapter(other)
    other_adapter.delivered_keys = bot.delivered_keys  # a platform drops a repeat
    counts = await asyncio.gather(
        send_weekly_digests(bot.app.services),
        send_weekly_digests(bot.app.services),
        send_weekly_digests(other.services),
    )
    other.database.dispose()
    assert sum(counts) == 2  # the room's digest and the animator's figures, once each
    # whichever instance won a claim sent that message, through its own adapter
    assert len(digests(bot)) + len(digests(other_adapter)) == 1
    figures = [
        reply
        for adapter in (bot, other_adapter)
        for reply in adapter.inbox.get("anim", [])
        if reply.title == "Your circles this week"
    ]
    assert len(figures) == 1


async def test_members_of_a_circle_without_a_room_get_it_by_dm_unless_they_turn_it_off(
    bot: MemoryAdapter, clock: FakeClock
) -> None:
    clock.set(datetime(2027, 1, 4, 9, 0, tzinfo=UTC))
    assert await send_weekly_digests(bot.app.services) == 0
    await english(bot, "dan", "eve", "fay")
    for user in ("dan", "eve"):
        assert not (await bot.say(user, "!circle join gent")).is_error
    await number_of(bot, "fay", "!offer post Rehearsal space region=gent")
    off = await bot.say("eve", "!followup digest off")
    assert not off.is_error, off.text
    assert "followup digest on" in off.text
    clock.set(DIGEST)
    assert await send_weekly_digests(bot.app.services) == 1
    (digest,) = bot.inbox["dan"]
    assert "Rehearsal space" in digest.text and "Gent" in digest.title
    assert "followup digest off" in digest.text  # how to stop them
    assert bot.inbox["eve"] == []
    assert bot.inbox["fay"] == []  # not a member of the circle

    # back on: the next week's digest reaches eve too
    assert not (await bot.say("eve", "!followup digest on")).is_error
    await number_of(bot, "fay", "!need post Stage manager region=gent")
    clock.set(DIGEST + timedelta(days=7))
    assert await send_weekly_digests(bot.app.services) == 2
    assert "Stage manager" in bot.inbox["eve"][-1].text


async def test_an_animator_who_turned_digests_off_gets_no_figures(
    bot: MemoryAdapter, clock: FakeClock
) -> None:
    await week_of_activity(bot, clock)
    assert not (await bot.say("anim", "!followup digest off")).is_error
    clock.set(DIGEST)
    assert await send_weekly_digests(bot.app.services) == 1  # the room's digest only
    assert [r for r in bot.inbox["anim"] if r.title == "Your circles this week"] == []
    assert len(digests(bot)) == 1  # the room is not the animator's to silence


async def test_animators_preview_a_circles_digest_members_may_not(
    bot: MemoryAdapter, clock: FakeClock
) -> None:
    await week_of_activity(bot, clock)
    shown = await bot.say("anim", "!followup digest preview brussels")
    assert not shown.is_error, shown.text
    assert shown.title.startswith("Preview")
    assert "Sound engineer" in shown.text and "Van to lend" in shown.text
    assert "2/3" in shown.text  # the animator sees the figures in full
    assert "donderdag" not in shown.text  # in the asker's language
    assert "Thursday, 14 January 2027 10:00" in shown.text
    admin = await bot.say("admin", "!followup digest preview brussels")
    assert not admin.is_error, admin.text
    await refused(
        bot, "ann", "!followup digest preview brussels", saying="Only an animator of this circle"
    )
    await refused(bot, "anim", "!followup digest preview atlantis")
    assert bot.places[ROOM][-1].title != shown.title  # nothing was sent
