"""Circles: join, leave, directory, announcements, the guide, linked places, animators."""

from __future__ import annotations

import pytest

from adapters.memory import MemoryAdapter
from tests.helpers import english, field, snapshot


async def test_seeded_circles_can_be_listed_joined_and_left(bot: MemoryAdapter) -> None:
    await english(bot, "ann")
    listed = await bot.say("ann", "!circle list region")
    assert "Gent · Gand" in listed.text
    assert "Audiovisueel" not in listed.text
    joined = await bot.say("ann", "!circle join Gand")
    assert "Welcome to Gent · Gand" in joined.text
    assert "✓ **Gent · Gand**" in (await bot.say("ann", "!circle list")).text
    again = await bot.say("ann", "!circle join gent")
    assert "already" in again.text
    info = await bot.say("ann", "!circle info gent")
    assert field(info, "Members") == "1"
    assert info.actions[0].invocation == "circle leave gent"
    assert "You left" in (await bot.say("ann", "!circle leave gent")).text
    assert (await bot.say("ann", "!circle leave gent")).is_error


async def test_circle_members_respects_profile_visibility(bot: MemoryAdapter) -> None:
    await english(bot, "bo", "cy", "di")
    for user in ("bo", "cy", "di"):
        await bot.say(user, "!circle join namur")
    await bot.say("cy", "!profile set visibility=hidden")
    await bot.say("di", "!profile set visibility=circles")
    seen = await bot.say("bo", "!circle members namur")
    assert "bo (#" in seen.text and "di (#" in seen.text
    assert "cy (#" not in seen.text
    outsider = await bot.say("eli", "!circle members namur")
    assert "di (#" not in outsider.text
    assert "cy (#" in (await bot.say("admin", "!circle members namur")).text


async def test_animators_announce_to_linked_places_and_dm_subscribers(bot: MemoryAdapter) -> None:
    await english(bot, "admin", "fay", "gil", "hal")
    await bot.say("fay", "!help")
    added = await bot.say("admin", "!circle animator add brussels fay")
    assert not added.is_error, added.text
    assert "animator of Brussel" in bot.inbox["fay"][-1].text
    linked = await bot.say("fay", "!circle link brussels", place="room-bxl")
    assert not linked.is_error, linked.text
    await bot.say("gil", "!circle join brussels")
    await bot.say("gil", "!circle announcements brussels on")
    await bot.say("hal", "!circle join brussels")
    done = await bot.say("fay", "!circle announce brussels Breakfast at the KOP on Monday!")
    assert not done.is_error, done.text
    assert "1 room" in done.text and "1 member" in done.text
    assert "Breakfast at the KOP" in bot.places["room-bxl"][-1].text
    assert "Breakfast at the KOP" in bot.inbox["gil"][-1].text
    assert not any("Breakfast" in r.text for r in bot.inbox["hal"])


async def test_an_animator_of_one_circle_cannot_announce_in_another(bot: MemoryAdapter) -> None:
    await english(bot, "ivy")
    await bot.say("ivy", "!help")
    await bot.say("admin", "!circle animator add gent ivy")
    before = snapshot(bot.app)
    refused = await bot.say("ivy", "!circle announce liege Hello Liège")
    assert refused.is_error
    assert "Only an animator of this circle" in refused.text
    member = await bot.say("jay", "!circle announce gent Hi")
    assert member.is_error
    assert snapshot(bot.app) == before
    assert (await bot.say("ivy", "!circle guide set liege ## Nope")).is_error
    assert (await bot.say("ivy", "!circle link liege", place="room")).is_error


async def test_the_guide_keeps_versions_and_can_be_copied(bot: MemoryAdapter) -> None:
    await english(bot, "kim", "admin", "lea")
    await bot.say("kim", "!help")
    await bot.say("admin", "!circle animator add gent kim")
    await bot.say("admin", "!circle animator add antwerpen kim")
    empty = await bot.say("lea", "!circle guide show gent")
    assert "no guide yet" in empty.text
    await bot.say("kim", "!circle guide set gent ## Objectives\nMeet every Monday.")
    await bot.say("kim", "!circle guide set gent ## Objectives Meet every Monday at 8:30.")
    shown = await bot.say("lea", "!circle guide show gent")
    assert "8:30" in shown.text
    assert "Version 2 of 2" in shown.text
    first = await bot.say("lea", "!circle guide show gent version=1")
    assert "8:30" not in first.text
    assert "Version 1 of 2" in first.text
    copied = await bot.say("kim", "!circle guide copy gent antwerpen")
    assert not copied.is_error, copied.text
    assert "8:30" in (await bot.say("lea", "!circle guide show antwerpen")).text
    history = await bot.say("lea", "!circle guide history gent")
    assert "v2" in history.text and "v1" in history.text
    assert "Guide" in {f.name for f in (await bot.say("lea", "!circle info gent")).fields}


async def test_admins_create_edit_archive_and_restore(bot: MemoryAdapter) -> None:
    await english(bot, "admin", "mo")
    refused = await bot.say("mo", '!circle create podcast theme "Podcast makers"')
    assert refused.is_error
    assert "Only an admin" in refused.text
    made = await bot.say(
        "admin", '!circle create podcast theme "Podcast makers" description="Audio stories"'
    )
    assert not made.is_error, made.text
    assert (await bot.say("admin", '!circle create podcast theme "Again"')).is_error
    assert (await bot.say("admin", "!circle create Bad_Key! theme Bad")).is_error
    await bot.say("admin", '!circle edit podcast name="Podcasters"')
    assert "Podcasters" in (await bot.say("mo", "!circle list theme")).text
    await bot.say("admin", "!circle archive podcast")
    assert "Podcasters" not in (await bot.say("mo", "!circle list")).text
    assert (await bot.say("mo", "!circle join podcast")).is_error
    await bot.say("admin", "!circle restore podcast")
    assert not (await bot.say("mo", "!circle join podcast")).is_error


@pytest.mark.parametrize("line", ["!circle link gent", "!circle unlink gent"])
async def test_linking_needs_a_room(bot: MemoryAdapter, line: str) -> None:
    await english(bot, "admin")
    reply = await bot.say("admin", line)  # in a direct conversation
    assert reply.is_error


async def test_joining_a_circle_invites_to_its_linked_rooms(bot: MemoryAdapter) -> None:
    await english(bot, "admin", "nia")
    await bot.say("admin", "!circle link gent", place="!gent-room")
    await bot.say("nia", "!circle join gent")
    assert bot.invited["!gent-room"] == ["nia"]


async def test_a_circle_or_venue_is_found_by_key_name_or_number_or_the_closest_is_suggested(
    bot: MemoryAdapter,
) -> None:
    await english(bot, "vic")
    assert not (await bot.say("vic", "!circle info Gent")).is_error
    typo = await bot.say("vic", "!circle info gnet")
    assert typo.is_error and "There is no circle “gnet”. Did you mean" in typo.text, typo.text
    assert "gent" in typo.text.lower()
    none = await bot.say("vic", "!circle info zzzzzzzz")
    assert "There is no circle “zzzzzzzz”. See !circle list." in none.text, none.text
    venue = await bot.say("vic", "!venue show zzzzzzzz")
    assert venue.is_error and "There is no venue “zzzzzzzz”." in venue.text, venue.text
