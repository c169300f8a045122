"""Profiles and member search, as members use them (in nl, fr and en)."""

from __future__ import annotations

import re

import pytest

from adapters.memory import MemoryAdapter


@pytest.mark.parametrize(
    ("locale", "saved", "sector_label", "found"),
    [
        ("nl", "Profiel bewaard", "Audiovisueel", "1 lid gevonden"),
        ("fr", "Profil enregistré", "Audiovisuel", "1 membre trouvé"),
        ("en", "Profile saved", "Audiovisual", "1 member found"),
    ],
)
async def test_profile_set_show_and_find_in_each_language(
    bot: MemoryAdapter, locale: str, saved: str, sector_label: str, found: str
) -> None:
    await bot.say("alice", f"!profile set locale={locale}")
    reply = await bot.say(
        "alice", '!profile set region=Gent sectors=audiovisual skills="sound engineering"'
    )
    assert not reply.is_error, reply.text
    assert reply.title == saved
    shown = await bot.say("alice", "!profile show")
    values = {field.value for field in shown.fields}
    assert sector_label in values
    assert "sound engineering" in values
    result = await bot.say("bob", "!members find sector=audiovisual")  # bob: default locale nl
    assert result.title == "1 lid gevonden"
    mine = await bot.say("alice", "!members find sector=audiovisual")
    assert mine.title == found
    assert "alice" in mine.text


async def many_members(bot: MemoryAdapter, count: int, prefix: str, profile: str) -> None:
    """``count`` members, named ``prefix`` and a number (m00, m01…), set ``profile``."""
    width = len(str(count - 1))
    for index in range(count):
        await bot.say(f"{prefix}{index:0{width}d}", f"!profile set {profile}")


async def test_help_lists_commands_in_the_members_language(bot: MemoryAdapter) -> None:
    reply = await bot.say("carla", "!help")
    assert "!profile set" in reply.plain()
    assert reply.title == "Wat Samen voor je kan doen"
    await bot.say("carla", "!profile set locale=fr")
    detail = await bot.say("carla", "!help profile set")
    assert "Utilisation" in detail.text
    assert "!profile set" in detail.text
    assert "Exemple" in detail.text


async def test_sector_and_region_accept_names_in_any_language(bot: MemoryAdapter) -> None:
    reply = await bot.say("dirk", "!profile set sectors=Podiumkunsten,musique region=Gand")
    assert not reply.is_error, reply.text
    shown = await bot.say("dirk", "!profile show")
    values = {f.name: f.value for f in shown.fields}
    assert values["Sectoren"] == "Muziek, Podiumkunsten"
    assert values["Regio"] == "Gent"


async def test_languages_by_name_or_code(bot: MemoryAdapter) -> None:
    reply = await bot.say("eva", "!profile set languages=nl,French,anglais locale=en")
    assert not reply.is_error, reply.text
    values = {f.name: f.value for f in reply.fields}
    assert values["Languages"] == "English, French, Dutch"


async def test_a_typo_in_a_region_suggests_the_right_one(bot: MemoryAdapter) -> None:
    reply = await bot.say("fien", "!profile set region=Antwrpen")
    assert reply.is_error
    assert "Antwerpen" in reply.text
    assert "Gebruik: !profile set" in reply.text


async def test_visibility_hides_profiles_from_search_and_show(bot: MemoryAdapter) -> None:
    await bot.say("gert", "!profile set sectors=it visibility=hidden")
    await bot.say("hanne", "!profile set sectors=it visibility=circles")
    await bot.say("ilse", "!profile set sectors=it")
    found = await bot.say("jan", "!members find sector=it")
    assert "ilse" in found.text
    assert "gert" not in found.text
    assert "hanne" not in found.text
    hidden = await bot.say("jan", "!profile show gert")
    assert hidden.is_error
    assert "gert" in hidden.text
    own = await bot.say("gert", "!profile show")
    assert not own.is_error
    admin = await bot.say("admin", "!members find sector=it")
    assert "gert" in admin.text
    assert "hanne" in admin.text


async def test_circles_visibility_shows_to_members_of_a_shared_circle(bot: MemoryAdapter) -> None:
    await bot.say("kim", "!profile set sectors=it visibility=circles")
    created = await bot.say("admin", "!circle create test-it sector IT")
    assert not created.is_error, created.text
    for user in ("kim", "lars"):
        joined = await bot.say(user, "!circle join test-it")
        assert not joined.is_error, joined.text
    assert "kim" in (await bot.say("lars", "!members find sector=it")).text
    assert "kim" not in (await bot.say("mona", "!members find sector=it")).text


async def test_members_find_pages_through_many_results(bot: MemoryAdapter) -> None:
    await many_members(bot, 23, "m", "region=namur")
    first = await bot.say("x", "!members find region=Namen")
    assert first.title == "23 leden gevonden"
    assert "Pagina 1 van 3." in first.text
    third = await bot.say("x", "!members find region=Namen page=3")
    assert third.text.count("\n- ") + third.text.startswith("- ") == 3
    beyond = await bot.say("x", "!members find region=Namen page=4")
    assert beyond.is_error


async def test_find_by_skill_text_is_case_and_accent_insensitive(bot: MemoryAdapter) -> None:
    await bot.say("nora", '!profile set skills="Éclairage, Régie son"')
    found = await bot.say("olaf", "!members find skill=regie")
    assert "nora" in found.text
    assert "Régie son" in found.text


async def test_profile_clear_empties_a_part(bot: MemoryAdapter) -> None:
    await bot.say("pia", "!profile set region=gent skills=x,y")
    await bot.say("pia", "!profile clear skills")
    shown = await bot.say("pia", "!profile show")
    values = {f.name: f.value for f in shown.fields}
    assert values["Vaardigheden"] == "niet opgegeven"
    assert values["Regio"] == "Gent"


async def test_profile_works_on_every_database(any_bot: MemoryAdapter) -> None:
    await any_bot.say("quinten", '!profile set sectors=music region=liege skills="Piano, chant"')
    await any_bot.say("rita", "!profile set sectors=music region=brussels visibility=hidden")
    found = await any_bot.say("sam", "!members find sector=music")
    assert found.title == "1 lid gevonden"
    assert "quinten" in found.text
    by_skill = await any_bot.say("sam", "!members find skill=PIANO region=Luik")
    assert "quinten" in by_skill.text


def _names(reply_text: str) -> list[str]:
    return re.findall(r"^- \*\*(.+?)\*\*", reply_text, flags=re.MULTILINE)


async def test_find_by_sector_and_region_follows_a_member_who_moves(
    any_bot: MemoryAdapter,
) -> None:
    # sectors first, region later: the sector rows must learn the region they were saved without
    await any_bot.say("tess", "!profile set sectors=music")
    await any_bot.say("tess", "!profile set region=gent")
    found = await any_bot.say("uma", "!members find sector=music region=Gent")
    assert found.title == "1 lid gevonden"
    assert "tess" in found.text
    await any_bot.say("tess", "!profile set region=namur")
    assert "tess" not in (await any_bot.say("uma", "!members find sector=music region=Gent")).text
    moved = await any_bot.say("uma", "!members find sector=music region=Namen")
    assert "tess" in moved.text
    await any_bot.say("tess", "!profile clear region")
    gone = await any_bot.say("uma", "!members find sector=music region=Namen")
    assert "tess" not in gone.text
    assert "tess" in (await any_bot.say("uma", "!members find sector=music")).text


async def test_find_by_sector_sorts_by_the_name_a_member_has_now(any_bot: MemoryAdapter) -> None:
    for user in ("vera", "wim"):
        await any_bot.say(user, "!profile set sectors=writing region=leuven")
    await any_bot.say("vera", '!profile set name="Zelda"')
    found = await any_bot.say("xan", "!members find sector=writing region=Leuven")
    assert _names(found.text) == ["wim", "Zelda"]
    by_sector = await any_bot.say("xan", "!members find sector=writing")
    assert by_sector.text.index("wim") < by_sector.text.index("Zelda")


async def test_find_by_sector_and_region_after_two_accounts_are_linked(
    any_bot: MemoryAdapter,
) -> None:
    console = any_bot
    matrix = MemoryAdapter(console.app, platform="matrix")
    await console.say("yara", "!profile set region=gent")
    await matrix.say("@yara:example.org", "!profile set sectors=audiovisual region=namur")
    code = re.search(r"\b(\d{6})\b", (await console.say("yara", "!link")).text)
    assert code is not None
    assert not (await matrix.say("@yara:example.org", f"!link {code.group(1)}")).is_error
    found = await console.say("zoe", "!members find sector=audiovisual region=Gent")
    assert found.title == "1 lid gevonden"
    assert "yara" in found.text
    assert (
        "Geen enkel lid"
        in (await console.say("zoe", "!members find sector=audiovisual region=Namen")).text
    )


async def test_find_counts_up_to_two_hundred_then_says_more(bot: MemoryAdapter) -> None:
    await many_members(bot, 201, "p", "sectors=events region=charleroi")
    many = await bot.say("q", "!members find sector=events region=Charleroi")
    assert many.title == "Meer dan 200 leden gevonden"
    assert "Pagina 1 van meer dan 20." in many.text
    last = await bot.say("q", "!members find sector=events region=Charleroi page=21")
    assert _names(last.text) == ["p200"]
    assert "Pagina 21 van 21." in last.text
    await bot.say("p200", "!profile clear sectors")
    exact = await bot.say("q", "!members find sector=events region=Charleroi")
    assert exact.title == "200 leden gevonden"
    assert "Pagina 1 van 20." in exact.text
