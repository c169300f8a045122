"""Discord conventions (issue 10): a form opens only for a command that can run, and the text
typed in it is given back whole when the command fails."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests import test_discord as base
from tests.discord_standin import StandIn, opt, slash, snowflake

ALICE, BOB = base.ALICE, base.BOB
command, submit_modal, running = base.command, base.submit_modal, base.running
standin = base.standin  # the fixture


def admin_slash(group: str, sub: str, options: list[dict[str, Any]]) -> dict[str, Any]:
    """``/admin <group> <sub>``: where Discord offers the admin commands of a mixed group."""
    inner = {"name": group, "type": 2, "options": [{"name": sub, "type": 1, "options": options}]}
    return {"id": snowflake(), "name": "admin", "type": 1, "options": [inner]}


async def test_a_malformed_option_is_refused_before_the_form_opens(
    standin: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(standin, tmp_path / "s.db", monkeypatch):
        answer = await command(
            standin,
            ALICE,
            slash("need", "post", [opt("title", "A van"), opt("until", "someday")]),
            locale="en-US",
        )
        assert answer["type"] == 4, "a form opened for a command that cannot run"
        assert answer["data"]["flags"] & 64
        # the same translated error as when the command runs, with its usage
        assert "until" in answer["data"]["content"].lower()
        assert "Usage: /need post" in answer["data"]["content"]
        listed = await command(standin, BOB, slash("board", "list", []), locale="en-US")
        assert "A van" not in str(listed["data"])  # nothing was written
        # the right options still open the form (the description is not missing)
        answer = await command(standin, ALICE, slash("need", "post", [opt("title", "A van")]))
        assert answer["type"] == 9


async def test_a_member_without_the_right_is_refused_before_the_form_opens(
    standin: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(standin, tmp_path / "s.db", monkeypatch, admins=(f"discord:{ALICE}",)):
        options = [opt("key", "gent"), opt("kind", "region"), opt("name", "Gent")]
        answer = await command(standin, BOB, admin_slash("circle", "create", options))
        assert answer["type"] == 4, "a form opened for a member who may not run the command"
        assert answer["data"]["flags"] & 64
        assert "Only an admin" in answer["data"]["content"]
        answer = await command(standin, ALICE, admin_slash("circle", "create", options))
        assert answer["type"] == 9  # an admin gets the form


async def test_a_long_text_is_given_back_whole_when_the_command_fails(
    standin: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(standin, tmp_path / "s.db", monkeypatch):
        answer = await command(standin, ALICE, slash("need", "post", [opt("title", "A van")]))
        typed = "".join(f"line {n}: from Gent to Namur, nine o'clock.\n" for n in range(75))
        typed = typed[:3000]
        assert len(typed) == 3000  # over the description's 2000
        posted = await submit_modal(standin, ALICE, answer["data"], [typed])
        assert posted["data"]["flags"] & 64
        embed = posted["data"]["embeds"][0]
        assert "3000" in embed["description"]
        assert typed in embed["description"]  # all of it, not 1024 characters


async def test_a_text_too_long_for_the_embed_comes_back_as_a_file(
    standin: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(standin, tmp_path / "s.db", monkeypatch):
        answer = await command(standin, ALICE, slash("need", "post", [opt("title", "A van")]))
        typed = "y" * 4000
        posted = await submit_modal(standin, ALICE, answer["data"], [typed])
        assert posted["data"]["flags"] & 64
        assert "4000" in posted["data"]["content"]
        assert posted["__file_texts__"] == {"description.txt": typed}


async def test_admin_commands_of_mixed_groups_are_offered_under_admin_for_managers_only(
    standin: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(standin, tmp_path / "s.db", monkeypatch, admins=(f"discord:{ALICE}",)):
        body = next(r for r in standin.requests if r.method == "PUT").body
        top = {item["name"]: item for item in body}
        manage_guild = str(1 << 5)
        assert str(top["admin"]["default_member_permissions"]) == manage_guild
        assert top["circle"]["default_member_permissions"] is None  # members use it
        under_admin = {o["name"]: o for o in top["admin"]["options"]}
        assert {o["name"] for o in under_admin["circle"]["options"]} == {
            "create",
            "archive",
            "restore",
            "animator-add",
            "animator-remove",
        }
        assert {o["name"] for o in top["circle"]["options"]}.isdisjoint(
            {"create", "archive", "restore", "animator"}
        )
        # the menu is only a hint: the core refuses a member who is not an admin
        answer = await command(
            standin, BOB, admin_slash("circle", "archive", [opt("circle", "gent")]), locale="en-US"
        )
        assert answer["data"]["flags"] & 64
        assert "Only an admin of" in answer["data"]["content"]
        answer = await command(
            standin, BOB, admin_slash("circle", "archive", [opt("circle", "gent")]), locale="fr"
        )
        assert "Seul" in answer["data"]["content"]  # translated


async def test_usage_hints_and_help_show_the_slash_path_discord_registered(
    standin: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(standin, tmp_path / "s.db", monkeypatch, admins=(f"discord:{ALICE}",)):
        answer = await command(
            standin,
            ALICE,
            admin_slash("circle", "animator-add", [opt("circle", "nowhere"), opt("member", BOB)]),
            locale="en-US",
        )
        assert "Usage: /admin circle animator-add circle:… member:…" in answer["data"]["content"]
        answer = await command(
            standin,
            ALICE,
            slash("help", None, [opt("command", "circle animator add")]),
            locale="en-US",
        )
        embed = answer["data"]["embeds"][0]
        assert embed["title"] == "/admin circle animator-add"
        assert "`/admin circle animator-add circle:… member:…`" in embed["description"]
        answer = await command(standin, ALICE, slash("help", None, []), locale="en-US")
        listed = str(answer["data"]["embeds"][0])
        assert "/admin circle create" in listed and "/circle create" not in listed
