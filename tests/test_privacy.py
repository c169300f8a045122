"""Privacy: a member gets everything Samen keeps about them, and can be forgotten; what others
need (posts, answers, past attendance) stays, without the name."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlmodel import col, select

from adapters.memory import MemoryAdapter
from bot.clock import FakeClock
from bot.reply import Visibility
from storage.board import Post, Response
from storage.identity import Account, Member
from storage.meetups import Rsvp
from storage.privacy import ERASED, KEPT, PSEUDONYMISED, member_references, unplaced_tables
from tests.helpers import english, number_of, snapshot


async def _busy_member(bot: MemoryAdapter) -> int:
    """eva: a profile, an open need, an answer to someone else's offer, a subscription."""
    await english(bot, "eva", "finn")
    await bot.say("eva", '!profile set region=gent sectors=audiovisual skills="sound engineering"')
    await bot.say("eva", "!board subscribe sector=audiovisual")
    offer = await number_of(bot, "finn", "!offer post Lighting desk to lend sector=audiovisual")
    await bot.say("eva", f"!board respond {offer}")
    return await number_of(
        bot, "eva", "!need post Sound engineer for Friday sector=audiovisual tags=friday"
    )


async def test_export_sends_everything_as_json_in_a_direct_message(any_bot: MemoryAdapter) -> None:
    bot = any_bot
    need = await _busy_member(bot)
    reply = await bot.say("eva", "!privacy export")
    assert not reply.is_error, reply.text
    assert reply.visibility is Visibility.DIRECT
    (attachment,) = reply.attachments
    assert attachment.mimetype == "application/json"
    data = json.loads(attachment.content)
    assert data["member"]["display_name"] == "eva"
    assert data["member"]["region"] == "gent"
    tables = data["tables"]
    assert [row["id"] for row in tables["post"]] == [need]
    assert [row["tag"] for row in tables["post_tag"]] == ["friday"]  # what belongs to her post
    assert len(tables["response"]) == 1
    assert tables["member_skill"][0]["skill"] == "sound engineering"
    assert tables["account"][0]["platform_user_id"] == "eva"
    assert len(tables["subscription"]) == 1
    # nothing of finn's: his offer is not eva's data
    assert "Lighting desk" not in attachment.content.decode("utf-8")
    assert "finn" not in attachment.content.decode("utf-8")


async def test_export_of_a_member_with_no_data_is_their_profile_alone(bot: MemoryAdapter) -> None:
    reply = await bot.say("new", "!privacy export")
    data = json.loads(reply.attachments[0].content)
    assert data["member"]["display_name"] == "new"
    assert set(data["tables"]) == {"account", "fact"}
    assert [row["kind"] for row in data["tables"]["fact"]] == ["member_created"]


async def test_forget_asks_first_and_changes_nothing(bot: MemoryAdapter) -> None:
    await _busy_member(bot)
    before = snapshot(bot.app)
    asked = await bot.say("eva", "!privacy forget")
    assert not asked.is_error
    assert "cannot be undone" in asked.text
    (button,) = asked.actions
    assert button.invocation == "privacy forget confirm=yes"
    assert snapshot(bot.app) == before


async def test_forget_erases_the_member_and_keeps_what_others_need(
    any_bot: MemoryAdapter,
) -> None:
    bot = any_bot
    need = await _busy_member(bot)
    with bot.app.database.session() as session:
        eva = session.exec(select(Member).where(Member.display_name == "eva")).one()
        assert eva.id is not None
        eva_id = eva.id
    done = await bot.say("eva", "!privacy forget confirm=yes")
    assert not done.is_error, done.text
    assert "forgotten you" in done.text and "Open posts closed: 1." in done.text
    with bot.app.database.session() as session:
        forgotten = session.get(Member, eva_id)
        assert forgotten is not None
        assert forgotten.display_name == "—" and forgotten.region is None
        assert forgotten.forgotten_at is not None
        assert not session.exec(select(Account).where(Account.member_id == eva_id)).all()
        post = session.get(Post, need)
        assert post is not None and post.status == "closed" and post.outcome == "withdrawn"
        # finn keeps the answer to his offer, from a member without a name
        assert session.exec(select(Response).where(Response.responder_id == eva_id)).all()
    # eva's need no longer turns up, her name finds nobody
    found = await bot.say("finn", "!board search sound engineer")
    assert f"#{need}" not in found.text
    unknown = await bot.say("finn", "!profile show eva")
    assert unknown.is_error
    # eva, speaking again, is a new member with nothing of the old one
    again = await bot.say("eva", "!profile show")
    assert f"#{eva_id})" not in again.text and "gent" not in again.text.lower()


async def test_forget_gives_coming_places_to_the_waitlist_and_keeps_past_attendance(
    bot: MemoryAdapter, clock: FakeClock
) -> None:
    clock.set(datetime(2027, 1, 4, 9, 0, tzinfo=UTC))
    await english(bot, "anim", "admin", "eva", "wim")
    await bot.say("admin", "!circle animator add brussels anim")
    meetup = await number_of(
        bot,
        "anim",
        '!meetup create Werkontbijt circle=brussels start="maandag 8:30" '
        'every="elke maandag" venue=kop capacity=1',
    )
    await bot.say("eva", f"!meetup rsvp {meetup} going 2027-01-11")
    clock.set(datetime(2027, 1, 12, 9, 0, tzinfo=UTC))  # the 11th is past
    assert "going" in (await bot.say("eva", f"!meetup rsvp {meetup} going")).text
    assert "waitlist" in (await bot.say("wim", f"!meetup rsvp {meetup} going")).text
    done = await bot.say("eva", "!privacy forget confirm=yes")
    assert "Places given back: 1." in done.text, done.text
    assert "A place is free" in bot.inbox["wim"][-1].text
    with bot.app.database.session() as session:
        kept = session.exec(select(Rsvp).where(col(Rsvp.meetup_id) == meetup)).all()
        past = [r for r in kept if r.occurrence.startswith("2027-01-11")]
        assert len(past) == 1  # the attendance of the 11th stays


async def test_only_admins_forget_someone_else(bot: MemoryAdapter) -> None:
    await _busy_member(bot)
    await english(bot, "admin")
    before = snapshot(bot.app)
    refused = await bot.say("finn", "!privacy forget member=eva confirm=yes")
    assert refused.is_error and "Only admins" in refused.text
    assert snapshot(bot.app) == before
    asked = await bot.say("admin", "!privacy forget member=eva")
    assert "member #1" in asked.text and asked.actions[0].invocation.endswith(
        "confirm=yes member=#1"
    )
    done = await bot.say("admin", "!" + asked.actions[0].invocation)
    assert not done.is_error, done.text
    again = await bot.say("admin", "!privacy forget member=#1 confirm=yes")
    assert again.is_error and "no member" in again.text  # an unknown member: nothing done


def test_every_table_that_refers_to_a_member_is_placed() -> None:
    """A new table with a member in it must say whether forget erases or keeps its rows."""
    assert unplaced_tables() == set()
    names = {table.name for table, column in member_references() if not column.nullable}
    assert names == ERASED | KEPT


def test_the_facts_of_the_follow_up_are_pseudonymised_not_erased() -> None:
    """Figures outlive the member: their facts stay, with an alias instead of the member."""
    assert {"fact"} == PSEUDONYMISED
    assert not PSEUDONYMISED & (ERASED | KEPT)
    assert ("fact", "member_id") in {(t.name, c.name) for t, c in member_references()}
