"""The needs & offers board, as members use it."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from adapters.memory import MemoryAdapter
from bot.app import App
from bot.clock import FakeClock
from scheduler import board_jobs
from storage import board as store
from storage.listing import PostListing
from storage.search import SearchDocument
from tests.helpers import english, field, number, number_of, numbered, refused, snapshot


async def test_the_whole_story_of_a_need_met_in_the_community(bot: MemoryAdapter) -> None:
    """A circle is created and joined; A posts a need; B posts a matching offer and A is
    notified; C responds, A accepts, both get the other's contact; A closes with C."""
    await english(bot, "admin", "anna", "bert", "carl")
    created = await bot.say("admin", '!circle create sound sector "Sound people"')
    assert not created.is_error, created.text
    for user in ("anna", "bert", "carl"):
        assert not (await bot.say(user, "!circle join sound")).is_error
    await bot.say(
        "carl", '!profile set sectors=audiovisual skills="sound engineering, live mixing"'
    )

    need, need_id = await numbered(
        bot,
        "anna",
        '!need post Sound engineer for Friday description="Concert in Gent, 20h" '
        "sector=audiovisual region=gent tags=sound,live",
    )
    suggestions = {f.name: f.value for f in need.fields}
    assert "carl" in suggestions["Members who may help"]

    offer, offer_id = await numbered(
        bot,
        "bert",
        "!offer post Sound engineer with own mixing desk sector=audiovisual region=gent tags=sound",
    )
    assert f"#{need_id}" in field(offer, "Needs that may fit")
    told = bot.inbox["anna"][-1]
    assert f"your need #{need_id}" in told.text
    assert f"#{offer_id}" in told.text

    responded = await bot.say("carl", f"!board respond {need_id} I mix live every weekend")
    assert not responded.is_error, responded.text
    ask = bot.inbox["anna"][-1]
    assert "carl can help" in ask.text
    assert "sound engineering" in ask.text
    assert "I mix live every weekend" in ask.text
    accept = next(a for a in ask.actions if a.invocation.endswith("accept"))
    assert "console" not in bot.inbox["carl"][-1].text if bot.inbox["carl"] else True

    accepted = await bot.say("anna", "!" + accept.invocation)
    assert not accepted.is_error, accepted.text
    to_anna, to_carl = bot.inbox["anna"][-1], bot.inbox["carl"][-1]
    assert to_anna.title == "Introduction: carl"
    assert "Console: carl" in to_anna.text
    assert to_carl.title == "Introduction: anna"
    assert "Console: anna" in to_carl.text

    closed = await bot.say("anna", f"!board close {need_id} outcome=found_in_community with=carl")
    assert not closed.is_error, closed.text
    assert "found in the community" in closed.text
    assert "thanks to you" in bot.inbox["carl"][-1].text
    shown = await bot.say("anna", f"!board show {need_id}")
    assert "closed · found in the community" in field(shown, "Status")
    listed = await bot.say("dora", "!board list kind=need")
    assert f"#{need_id}" not in listed.text


async def test_nobodys_contact_is_shared_before_the_author_accepts(bot: MemoryAdapter) -> None:
    await english(bot, "eva", "finn")
    need_id = await number_of(bot, "eva", "!need post A van for Saturday")
    await bot.say("finn", f"!board respond {need_id}")
    assert "Console:" not in bot.inbox["eva"][-1].text
    decline = next(a for a in bot.inbox["eva"][-1].actions if a.invocation.endswith("decline"))
    await bot.say("eva", "!" + decline.invocation)
    assert "went another way" in bot.inbox["finn"][-1].text
    assert all("Console:" not in r.text for r in bot.inbox["finn"] + bot.inbox["eva"])
    again = await bot.say("eva", "!" + decline.invocation)
    assert again.is_error


@pytest.mark.parametrize(
    ("title", "query"),
    [
        ("Geluidstechnicus gezocht voor festival", "geluid"),
        ("Régisseur pour théâtre de rue", "theatre"),
        ("Technicien lumière", "LUMIERE"),
        ("Lighting designer for a dance piece", "light des"),
        ("Subsidiedossier schrijven", "subsid"),
    ],
)
async def test_search_finds_by_prefix_and_without_accents(
    bot: MemoryAdapter, title: str, query: str
) -> None:
    await english(bot, "gus")
    await bot.say("gus", f"!need post {title}")
    await bot.say("gus", "!offer post Something else entirely")
    found = await bot.say("hana", f"!board search {query}")
    assert title in found.text, found.text
    assert "Something else" not in found.text


async def test_search_ranks_and_filters(bot: MemoryAdapter) -> None:
    await english(bot, "ivo", "jo")
    await bot.say("ivo", "!offer post Camera operator sector=audiovisual region=brussels")
    await bot.say("ivo", "!need post Camera operator for a short film sector=audiovisual")
    await bot.say("ivo", "!need post Camera, camera, camera: a camera collector needs help")
    offers = await bot.say("jo", "!board search camera kind=offer")
    assert offers.text.count("\n") == 0
    assert "Camera operator" in offers.text
    both = await bot.say("jo", "!board search camera operator")
    assert "collector" not in both.text
    assert both.text.count("#") == 2
    nothing = await bot.say("jo", "!board search submarine")
    assert not nothing.is_error
    assert "Nothing found" in nothing.text


async def test_board_list_filters_combine_and_page(bot: MemoryAdapter) -> None:
    await english(bot, "kai", "lou")
    await bot.say("kai", "!need post Van sector=events region=gent category=logistics")
    await bot.say("kai", "!need post Van too sector=events region=namur category=logistics")
    await bot.say("kai", "!offer post Van to lend sector=events region=gent category=logistics")
    await bot.say("kai", "!need post Accountant sector=events region=gent category=admin")
    result = await bot.say("lou", "!board list kind=need region=gent category=logistics")
    assert result.title == "1 post"
    assert "Van" in result.text
    assert "Accountant" not in result.text
    for index in range(12):
        await bot.say("lou", f"!offer post Lesson {index} sector=training")
    first = await bot.say("kai", "!board list sector=training")
    assert first.title == "12 posts"
    assert "Lesson 11" in first.text  # newest first
    assert "**Lesson 1**" not in first.text  # ten a page: Lessons 11 down to 2
    command = re.search(r"Older posts: `(!board list sector=training before=\d+)`", first.text)
    assert command, first.text
    second = await bot.say("kai", command.group(1))
    assert "**Lesson 1**" in second.text and "Lesson 0" in second.text
    assert "Lesson 2" not in second.text and "Older posts" not in second.text
    mine = await bot.say("lou", "!board list mine=yes kind=offer")
    assert mine.title == "12 posts"
    assert "mine=yes" in mine.text  # the next page keeps the filter


async def test_the_list_follows_edits_and_closes(bot: MemoryAdapter) -> None:
    await english(bot, "kai", "lou")
    post_id = await number_of(bot, "kai", "!need post Van sector=events region=gent")
    assert "Van" in (await bot.say("lou", "!board list sector=events region=gent")).text
    await bot.say("kai", f"!board edit {post_id} region=namur")
    moved = await bot.say("lou", "!board list sector=events region=gent")
    assert "Van" not in moved.text
    assert "Van" in (await bot.say("lou", "!board list kind=need region=namur")).text
    await bot.say("kai", f"!board close {post_id} withdrawn")
    assert "Van" not in (await bot.say("lou", "!board list region=namur")).text
    assert "Van" in (await bot.say("kai", "!board list mine=yes region=namur")).text


async def test_someone_elses_post_cannot_be_changed(bot: MemoryAdapter) -> None:
    await english(bot, "max", "nel")
    post_id = await number_of(bot, "max", "!offer post Lights to lend")
    await refused(
        bot,
        "nel",
        f"!board edit {post_id} title=Mine",
        f"!board close {post_id} withdrawn",
        f"!board renew {post_id}",
        saying="belongs to another member",
    )
    assert not (await bot.say("admin", f"!board close {post_id} withdrawn")).is_error


async def test_bad_board_input_changes_nothing(bot: MemoryAdapter, clock: FakeClock) -> None:
    await english(bot, "olga")
    post_id = await number_of(bot, "olga", "!need post Printer")
    before = snapshot(bot.app)
    cases = {
        "!need post": "Missing: title",
        "!need post X category=food": "is not one of",
        "!need post X until=yesterday": "in the past",
        "!need post X until=someday-ish": "don't understand the date",
        "!need post X until=2031-01-01": "at most a year",
        "!need post " + "x" * 200: "the most is 120",
        f"!board respond {post_id}": "your own post",
        "!board show 999": "There is no post 999",
        f"!board close {post_id} outcome=found_elsewhere with=olga": "only goes with",
        f"!board close {post_id} outcome=sold": "is not one of",
        "!board intro 42 accept": "no answer 42",
    }
    for line, expected in cases.items():
        reply = await bot.say("olga", line)
        assert reply.is_error, line
        assert expected in reply.text, (line, reply.text)
    assert snapshot(bot.app) == before


async def test_expiry_warning_is_sent_once_and_expired_posts_leave_the_list(
    app: App, bot: MemoryAdapter, clock: FakeClock
) -> None:
    await english(bot, "pia")
    post_id = await number_of(bot, "pia", "!need post Costume maker")
    assert await board_jobs.warn_before_expiry(app.services) == 0
    clock.advance(timedelta(days=27, hours=1))
    assert await board_jobs.warn_before_expiry(app.services) == 1
    assert await board_jobs.warn_before_expiry(app.services) == 0
    clock.advance(timedelta(days=1))
    assert await board_jobs.warn_before_expiry(app.services) == 0
    warnings = [r for r in bot.inbox["pia"] if "leaves the board" in r.text]
    assert len(warnings) == 1
    assert f"board renew {post_id}" in warnings[0].text
    assert await board_jobs.expire_posts(app.services) == 0
    clock.advance(timedelta(days=2))
    assert await board_jobs.expire_posts(app.services) == 1
    assert await board_jobs.expire_posts(app.services) == 0
    assert "expired" in bot.inbox["pia"][-1].text
    assert "Costume" not in (await bot.say("quin", "!board list")).text
    assert "Costume" not in (await bot.say("quin", "!board search costume")).text
    renewed = await bot.say("pia", f"!board renew {post_id}")
    assert not renewed.is_error, renewed.text
    assert "Costume" in (await bot.say("quin", "!board search costume")).text


async def test_subscribers_get_at_most_one_digest_an_hour(
    app: App, bot: MemoryAdapter, clock: FakeClock
) -> None:
    await english(bot, "rob", "sara")
    subscribed = await bot.say("rob", "!board subscribe kind=offer sector=music")
    assert not subscribed.is_error, subscribed.text
    await bot.say("sara", "!offer post Piano lessons sector=music")
    await bot.say("sara", "!offer post Guitar lessons sector=music")
    await bot.say("sara", "!offer post Accounting sector=it")
    await bot.say("sara", "!need post Drummer sector=music")
    assert await board_jobs.send_digests(app.services) == 1
    digest = bot.inbox["rob"][-1]
    assert digest.title == "2 new posts for you"
    assert "Piano" in digest.text and "Guitar" in digest.text
    assert "Accounting" not in digest.text and "Drummer" not in digest.text
    await bot.say("sara", "!offer post Singing lessons sector=music")
    clock.advance(timedelta(minutes=30))
    assert await board_jobs.send_digests(app.services) == 0
    clock.advance(timedelta(minutes=31))
    assert await board_jobs.send_digests(app.services) == 1
    assert "Singing" in bot.inbox["rob"][-1].text
    assert await board_jobs.send_digests(app.services) == 0
    await bot.say("rob", "!board unsubscribe all")
    await bot.say("sara", "!offer post Violin lessons sector=music")
    clock.advance(timedelta(hours=2))
    assert await board_jobs.send_digests(app.services) == 0


async def test_edit_reindexes_and_renew_extends(bot: MemoryAdapter) -> None:
    await english(bot, "tom")
    post_id = await number_of(bot, "tom", "!offer post Scenography")
    edited = await bot.say("tom", f'!board edit {post_id} title="Scenography and props" tags=props')
    assert not edited.is_error, edited.text
    assert "props" in (await bot.say("ulla", "!board search props")).text
    renewed = await bot.say("tom", f"!board renew {post_id} 2027-03-31")
    assert "31 Mar 2027" in renewed.text


async def test_board_works_on_every_database(any_bot: MemoryAdapter) -> None:
    bot = any_bot
    await english(bot, "vic", "wim", "xan")
    await bot.say("wim", '!profile set sectors=audiovisual skills="geluidstechnicus" region=gent')
    await bot.say("xan", "!offer post Geluidstechnicus met eigen materiaal sector=audiovisual")
    posted = await bot.say(
        "vic", "!need post Geluidstechnicus voor het théâtre sector=audiovisual region=gent"
    )
    fields = {f.name: f.value for f in posted.fields}
    # matching, scored in SQL, works on both databases: the member by sector, skill and
    # region; the offer by sector and text
    assert "wim" in fields["Members who may help"]
    assert "met eigen materiaal" in fields["Offers that may fit"]
    assert "Geluidstechnicus" in (await bot.say("wim", "!board search geluid theatre")).text
    assert "Geluidstechnicus" in (await bot.say("wim", "!board search THÉÂT")).text
    assert "Nothing" in (await bot.say("wim", "!board search geluid opera")).text


async def test_a_closed_post_offers_no_renew_and_cannot_be_renewed(bot: MemoryAdapter) -> None:
    await english(bot, "gert", "hilde")
    post_id = await number_of(bot, "gert", "!need post A ladder for Sunday")
    open_card = await bot.say("gert", f"!board show {post_id}")
    assert f"board renew {post_id}" in [a.invocation for a in open_card.actions]

    await bot.say("gert", f"!board close {post_id} withdrawn")
    closed_card = await bot.say("gert", f"!board show {post_id}")
    assert not closed_card.is_error, closed_card.text
    assert closed_card.actions == ()
    assert (await bot.say("hilde", f"!board show {post_id}")).actions == ()

    refused = await bot.say("gert", f"!board renew {post_id}")
    assert refused.is_error
    assert "is closed" in refused.text
    await bot.say("gert", "!profile set locale=fr")
    refused_fr = await bot.say("gert", f"!board renew {post_id}")
    assert refused_fr.is_error
    assert "is closed" not in refused_fr.text


async def test_a_post_is_closed_with_the_outcome_in_any_language(bot: MemoryAdapter) -> None:
    """The outcome is understood as typed in nl, fr or en (any case, with or without accents)
    and shown in the member's own language."""
    await bot.say("frida", "!profile set locale=fr")
    typed = {
        "nina": ("gevonden in de gemeenschap", "gevonden in de gemeenschap"),
        "frida": ("Trouve Ailleurs", "trouvé ailleurs"),
        "nora": ("retiré", "ingetrokken"),
        "noah": ("withdrawn", "ingetrokken"),
    }
    for user, (outcome, shown) in typed.items():
        post_id = await number_of(bot, user, "!need post A ladder")
        closed = await bot.say(user, f'!board close {post_id} "{outcome}"')
        assert not closed.is_error, (user, closed.text)
        assert shown in closed.text, (user, closed.text)


async def test_tags_keep_their_accents_and_match_without_them(bot: MemoryAdapter) -> None:
    await english(bot, "zoe", "yan")
    need = await bot.say(
        "zoe", "!need post Light for a play sector=performing-arts tags=Éclairage,Théâtre"
    )
    assert not need.is_error, need.text
    shown = await bot.say("yan", f"!board show {number(need.title)}")
    assert "éclairage" in str(shown) and "théâtre" in str(shown)
    assert "eclairage" not in str(shown)
    offer = await bot.say("yan", "!offer post Lights to lend sector=performing-arts tags=eclairage")
    assert f"#{number(need.title)}" in str(offer)  # the need is suggested: same tag, folded
    assert "Light for a play" in (await bot.say("yan", "!board search eclairage")).text


async def test_publishing_writes_what_reindexing_writes(any_bot: MemoryAdapter) -> None:
    """A new post is written by bulk inserts (storage.board.publish); its tags, board-list
    rows and search document must be those that set_tags and reindex write for it, or a
    post would be found or listed differently before and after its first edit."""
    bot = any_bot
    await english(bot, "yara")
    post_id = await number_of(
        bot,
        "yara",
        '!offer post Éclairage de scène description="Projecteurs, câbles" category=material '
        "sector=audiovisual region=gent remote=yes tags=son,éclairage,zèbre,live,ébène",
    )

    def written() -> tuple[list[str], list[tuple[int, datetime]], dict[str, Any]]:
        with bot.app.database.session() as session:
            tags = sorted(
                session.exec(select(store.PostTag.tag).where(store.PostTag.post_id == post_id))
            )
            listing = sorted(
                (row.facet, row.created_at)
                for row in session.exec(select(PostListing).where(PostListing.post_id == post_id))
            )
            document = session.exec(
                select(SearchDocument).where(col(SearchDocument.source_id) == post_id)
            ).one()
            fields = document.model_dump(exclude={"id"})
            return tags, listing, fields

    published = written()
    assert published[0] == sorted(["son", "éclairage", "zèbre", "live", "ébène"])
    assert len(published[1]) == 16  # every subset of kind, category, sector and region
    with bot.app.database.session() as session:
        post = session.get(store.Post, post_id)
        assert post is not None
        store.set_tags(session, post_id, store.tags_of(session, post_id))
        session.flush()
        store.reindex(session, post)
        session.commit()
    assert written() == published
