"""Every declared command fits every platform; the Discord payload is snapshotted."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import pytest

from bot.app import build_registry
from bot.context import Context
from bot.discord_shape import command_payload, limit_problems
from bot.i18n import N_, Catalogues
from bot.param_labels import PARAM_LABELS
from bot.params import Integer, OneOf, Text
from bot.registry import DeclarationError, Registry
from bot.reply import Reply
from bot.spec import CommandSet, Opt

TOO_MANY = OneOf({f"v{i}": f"value {i}" for i in range(26)})
SNAPSHOT = Path(__file__).parent / "snapshots" / "discord_commands.json"


@pytest.fixture(scope="module")
def catalogues() -> Catalogues:
    return Catalogues(ZoneInfo("Europe/Brussels"))


def test_the_payload_of_every_declared_command_fits_discords_limits(
    catalogues: Catalogues,
) -> None:
    payload = command_payload(build_registry(catalogues), catalogues)
    assert payload, "no command declared"
    assert limit_problems(payload) == []


def test_the_command_payload_matches_its_snapshot(catalogues: Catalogues) -> None:
    payload = command_payload(build_registry(catalogues), catalogues)
    text = json.dumps(payload, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if os.environ.get("SAMEN_UPDATE_SNAPSHOTS") or not SNAPSHOT.exists():
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(text, encoding="utf-8")
    assert text == SNAPSHOT.read_text(encoding="utf-8"), (
        "the command payload changed; review it and run with SAMEN_UPDATE_SNAPSHOTS=1"
    )


def test_limit_problems_finds_what_discord_would_refuse() -> None:
    bad = [
        {
            "type": 1,
            "name": "Bad Name",
            "description": "x" * 101,
            "options": [
                {"type": 3, "name": "a", "description": "a", "required": False},
                {"type": 3, "name": "b", "description": "b", "required": True},
                {
                    "type": 3,
                    "name": "c",
                    "description": "c",
                    "required": False,
                    "choices": [{"name": str(i), "value": str(i)} for i in range(26)],
                },
            ],
        }
    ]
    problems = "\n".join(limit_problems(bad))
    assert "lower-case" in problems
    assert "1–100" in problems
    assert "required option after an optional one" in problems
    assert "26 choices" in problems


async def _noop(ctx: Context) -> Reply:
    return Reply()


def _declare(name: str, handler, **kwargs):  # type: ignore[no-untyped-def]
    commands = CommandSet()
    for size in range(1, len(name.split())):
        commands.group(" ".join(name.split()[:size]), help=N_("Find other members"))
    commands.command(name, help=kwargs.pop("help", N_("Find other members")), **kwargs)(handler)
    return commands


@pytest.mark.parametrize(
    ("name", "expected"),
    [("Profile Show", "does not match"), ("a b c d", "one to 3 words"), ("x" * 33, "match")],
)
def test_bad_names_are_refused_at_registration(
    catalogues: Catalogues, name: str, expected: str
) -> None:
    with pytest.raises(DeclarationError, match=expected):
        Registry(catalogues).include(_declare(name, _noop))


def test_a_too_long_description_in_any_language_is_refused(catalogues: Catalogues) -> None:
    with pytest.raises(DeclarationError, match="1–100"):
        Registry(catalogues).include(_declare("long", _noop, help=N_("x" * 101)))


def test_required_after_optional_and_too_many_choices_are_refused(catalogues: Catalogues) -> None:
    async def order(
        ctx: Context,
        first: Annotated[int | None, Opt(Integer(), N_("Find other members"))] = None,
        *,
        second: Annotated[int, Opt(Integer(), N_("Find other members"))],
    ) -> Reply:
        return Reply()

    with pytest.raises(DeclarationError, match="required parameters come before"):
        Registry(catalogues).include(_declare("order", order))

    async def choices(
        ctx: Context, pick: Annotated[str, Opt(TOO_MANY, N_("Find other members"))]
    ) -> Reply:
        return Reply()

    with pytest.raises(DeclarationError, match="more than 25 choices"):
        Registry(catalogues).include(_declare("choices", choices))


def test_a_name_cannot_be_a_command_and_a_group(catalogues: Catalogues) -> None:
    registry = Registry(catalogues)
    registry.include(_declare("thing", _noop))
    with pytest.raises(DeclarationError, match="command and also a group"):
        registry.include(_declare("thing more", _noop))


def test_rest_is_only_for_the_last_positional_parameter(catalogues: Catalogues) -> None:
    async def rest_first(
        ctx: Context,
        words: Annotated[str, Opt(Text(), N_("Find other members"), rest=True)],
        more: Annotated[str, Opt(Text(), N_("Find other members"))],
    ) -> Reply:
        return Reply()

    with pytest.raises(DeclarationError, match="takes the rest"):
        Registry(catalogues).include(_declare("rest", rest_first))


def test_a_parameter_without_opt_is_refused() -> None:
    async def untyped(ctx: Context, thing: str) -> Reply:
        return Reply()

    with pytest.raises(TypeError, match="needs Annotated"):
        _declare("untyped", untyped)


def test_every_parameter_has_a_label_translated_in_every_language(
    catalogues: Catalogues,
) -> None:
    registry = build_registry(catalogues)
    unlabelled = sorted(
        {
            f"{spec.name} {param.name}"
            for spec in registry
            for param in spec.params
            if param.name not in PARAM_LABELS
        }
    )
    assert not unlabelled, f"add these to bot/param_labels.py: {unlabelled}"
    for locale in ("nl", "fr"):
        t = catalogues.translator(locale, "nl")
        same = [name for name, label in PARAM_LABELS.items() if t(label) == label.msgid]
        # a few are the same word in that language (bio, code, sector…); most are not
        assert len(same) < len(PARAM_LABELS) / 3, (locale, same)
