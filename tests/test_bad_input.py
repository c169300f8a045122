"""Bad input gets a short translated answer with the usage, no traceback, and writes nothing."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated

import pytest

from adapters.memory import MemoryAdapter
from bot.context import Context
from bot.i18n import N_
from bot.params import Integer
from bot.reply import Reply, Visibility
from bot.spec import Opt, Role
from storage.circles import ANIMATOR, Circle, CircleMembership
from storage.identity import account_for
from tests.helpers import Words, extra_commands, snapshot


@pytest.fixture
async def known(bot: MemoryAdapter) -> MemoryAdapter:
    """Two members who exist already, so the snapshots below cover real rows."""
    await bot.say("alice", '!profile set region=gent sectors=audiovisual skills="sound"')
    await bot.say("bob", "!profile set region=namur")
    return bot


CASES = [
    # (line, words the answer must contain in nl)
    ("!profiel tonen", ["Ik ken het commando", "!help"]),
    ("!profil show", ["Bedoel je profile show"]),
    ("!link 12", ["zes cijfers"]),
    ("!profile set regio=Gent", ["Onbekende sleutel", "region=", "Gebruik: !profile set"]),
    ("!profile set", ["Zeg me wat ik moet wijzigen", "Gebruik"]),
    ("!profile set region=Atlantis", ["Atlantis", "Kies uit", "Gebruik"]),
    ("!members find page=two", ["page", "geen geheel getal", "Gebruik: !members find"]),
    ("!members find page=0", ["Geef een getal van 1 tot 10000"]),
    (
        "!profile set visibility=everyone",
        ["is niet een van", "alle leden, leden van mijn kringen, niemand"],
    ),
    ("!profile clear", ["Ontbreekt: onderdeel", "Gebruik: !profile clear <part>"]),
    ('!profile set bio="unclosed', ["aanhalingsteken is niet gesloten"]),
    ("!profile set region=gent region=namur", ["twee keer"]),
    ("!profile show alice bob", ["Te veel waarden", "bob"]),
    ("!profile show nobody-like-this", ["Ik ken geen lid"]),
    ("!profile set member=bob region=gent", ["van een ander lid"]),
    ("!profile clear region member=alice", ["van een ander lid"]),
    ("!profile set bio=" + "x" * 5000, ["5000 tekens", "500", "Gebruik"]),
    ("!" + "y" * 9000, ["9000 tekens", "8000"]),
]


@pytest.mark.parametrize(("line", "expected"), CASES, ids=[c[0][:30] for c in CASES])
async def test_bad_input_answers_briefly_and_changes_nothing(
    known: MemoryAdapter, line: str, expected: list[str]
) -> None:
    before = snapshot(known.app)
    reply = await known.say("carl", line)
    assert reply.is_error
    assert reply.visibility is Visibility.PRIVATE
    for words in expected:
        assert words in reply.text, reply.text
    assert "Traceback" not in reply.text
    assert len(reply.text) < 600
    assert snapshot(known.app) == before


async def test_bad_input_is_answered_in_the_members_language(known: MemoryAdapter) -> None:
    await known.say("alice", "!profile set locale=fr")
    reply = await known.say("alice", "!profil show")
    assert reply.text.startswith("Je ne connais pas la commande")
    reply = await known.say("alice", "!profile set regio=x")
    assert "Clé inconnue" in reply.text
    assert "Utilisation\u202f: !profile set" in reply.text
    await known.say("alice", "!profile set locale=en")
    reply = await known.say("alice", "!profile set bio=" + "z" * 5000)
    assert "That text is 5000 characters long; the most is 500." in reply.text


async def test_a_platform_locale_is_used_until_the_member_chooses(bot: MemoryAdapter) -> None:
    reply = await bot.say("dora", "!nonsense", locale="fr-FR")
    assert reply.text.startswith("Je ne connais pas la commande")
    reply = await bot.say("dora", "!help", locale="en-GB")
    assert reply.title == "What Samen can do for you"


async def test_an_unexpected_failure_is_logged_apologised_for_and_rolled_back(
    bot: MemoryAdapter, caplog: pytest.LogCaptureFixture
) -> None:
    extra = extra_commands("test")

    @extra.command("test explode", help=N_("Find other members"))
    async def explode(ctx: Context, words: Words) -> Reply:
        ctx.actor.region = "gent"
        ctx.session.add(ctx.actor)
        ctx.session.flush()
        raise RuntimeError("boom")

    bot.app.registry.include(extra)
    await bot.say("erik", "!help")  # erik exists
    before = snapshot(bot.app)
    with caplog.at_level(logging.ERROR):
        reply = await bot.say("erik", "!test explode now")
    assert reply.is_error
    assert reply.text.startswith("Sorry, er ging bij mij iets mis")
    assert "boom" not in reply.text
    assert snapshot(bot.app) == before
    record = next(r for r in caplog.records if "test explode" in r.getMessage())
    assert "user=erik" in record.getMessage()
    assert record.exc_info is not None


async def test_admin_and_animator_commands_are_refused_in_the_core(bot: MemoryAdapter) -> None:
    extra = extra_commands("guarded")

    @extra.command("guarded admin", help=N_("Find other members"), role=Role.ADMIN)
    async def admin_only(ctx: Context) -> Reply:
        return Reply(text="admin ok")

    @extra.command(
        "guarded animate", help=N_("Find other members"), role=Role.ANIMATOR, scope="circle"
    )
    async def animator_only(
        ctx: Context, circle: Annotated[int, Opt(Integer(1, 99), N_("Find other members"))]
    ) -> Reply:
        return Reply(text="animator ok")

    bot.app.registry.include(extra)
    refused = await bot.say("fred", "!guarded admin")
    assert refused.is_error
    assert "Alleen een beheerder van Samen" in refused.text
    assert (await bot.say("admin", "!guarded admin")).text == "admin ok"

    await bot.say("gina", "!help")
    with bot.app.database.session() as session:
        first = Circle(key="test-a", name="A", kind="sector", created_at=datetime.now(UTC))
        second = Circle(key="test-b", name="B", kind="sector", created_at=datetime.now(UTC))
        session.add_all([first, second])
        session.flush()
        account = account_for(session, "console", "gina")
        assert account is not None
        assert first.id is not None
        session.add(
            CircleMembership(
                circle_id=first.id,
                member_id=account.member_id,
                role=ANIMATOR,
                joined_at=datetime.now(UTC),
            )
        )
    first_id, second_id = first.id, second.id
    assert (await bot.say("gina", f"!guarded animate {first_id}")).text == "animator ok"
    other = await bot.say("gina", f"!guarded animate {second_id}")
    assert other.is_error
    assert "animator van deze kring" in other.text
    assert (await bot.say("fred", f"!guarded animate {first_id}")).is_error
    assert (await bot.say("admin", f"!guarded animate {second_id}")).text == "animator ok"
    help_for_member = (await bot.say("fred", "!help")).plain()
    assert "guarded admin" not in help_for_member
    assert "guarded animate" not in help_for_member
    help_for_admin = (await bot.say("admin", "!help")).plain()
    assert "!guarded admin" in help_for_admin


async def test_a_missing_or_wrong_value_is_named_in_the_members_language(
    known: MemoryAdapter,
) -> None:
    await known.say("fifi", "!profile set locale=fr")
    missing = await known.say("fifi", "!need post")
    assert missing.is_error
    assert "Il manque\u202f: titre." in missing.text, missing.text
    wrong = await known.say("fifi", "!members find page=deux")
    assert wrong.text.startswith("page\u202f:") or "page\u202f:" in wrong.text, wrong.text
    wrong_nl = await known.say("alice", "!members find page=twee")
    assert "pagina: " in wrong_nl.text, wrong_nl.text
