"""Samen on Discord, through discord.py's own gateway and HTTP code against a local stand-in."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import discord
import pytest
import yarl
from sqlmodel import select

from adapters.discord_bot import DiscordAdapter
from bot.app import App
from bot.clock import Clock, SystemClock
from storage.board import Post
from tests.conftest import make_settings, start_adapter
from tests.discord_standin import CHANNEL_ID, GUILD_ID, StandIn, opt, slash

ALICE = "920000000000000001"
BOB = "920000000000000002"


@pytest.fixture
async def standin(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[StandIn]:
    server = StandIn(members={ALICE: "alice", BOB: "bob"})
    await server.start()
    monkeypatch.setattr(discord.http.Route, "BASE", f"http://127.0.0.1:{server.port}/api/v10")
    monkeypatch.setattr(
        discord.gateway.DiscordWebSocket,
        "DEFAULT_GATEWAY",
        yarl.URL(f"ws://127.0.0.1:{server.port}/gateway"),
    )
    yield server
    await server.stop()


@contextlib.asynccontextmanager
async def running(
    standin: StandIn,
    database: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    clock: Clock | None = None,
    admins: tuple[str, ...] = (),
    mirror: bool = False,
) -> AsyncIterator[tuple[App, DiscordAdapter]]:
    settings = make_settings(f"sqlite:///{database}")
    settings = settings.model_copy(
        update={
            "discord": settings.discord.model_copy(
                update={
                    "enabled": True,
                    "guild_ids": (int(GUILD_ID),),
                    "token_env": "SAMEN_TEST_DISCORD",
                    "mirror_events": mirror,
                }
            ),
            "admins": admins,
        }
    )
    monkeypatch.setenv("SAMEN_TEST_DISCORD", "test-token")
    app = App(settings, clock=clock or SystemClock())
    app.prepare_database()
    adapter = DiscordAdapter(app, guild_ready_timeout=0.1)
    standin.identified.clear()
    task = await start_adapter(
        adapter.run(), adapter.client.wait_until_ready(), timeout=20, what="discord.py"
    )
    try:
        yield app, adapter
    finally:
        if task.done() and task.exception():  # a parser error ends client.start(): show it
            raise task.exception()  # type: ignore[misc]
        await adapter.client.close()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        app.database.dispose()


async def command(standin: StandIn, user_id: str, data: dict[str, Any], **kw: Any) -> Any:
    payload = standin.interaction(2, data, user_id, **kw)
    await standin.push(payload)
    return (await standin.answer_to(payload)).body


def modal_rows(modal: dict[str, Any], values: list[str]) -> list[dict[str, Any]]:
    """The rows of a submitted modal: its first text inputs, filled with ``values``."""
    return [
        {
            "type": 1,
            "components": [
                {"type": 4, "custom_id": row["components"][0]["custom_id"], "value": value}
            ],
        }
        for row, value in zip(modal["components"], values, strict=False)
    ]


async def submit_modal(
    standin: StandIn, user_id: str, modal: dict[str, Any], values: list[str]
) -> Any:
    rows = modal_rows(modal, values)
    submit = standin.interaction(5, {"custom_id": modal["custom_id"], "components": rows}, user_id)
    await standin.push(submit)
    return (await standin.answer_to(submit)).body


def slow_down(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every command takes 0.3 s longer (more than a lowered DEFER_AFTER)."""
    original = app.dispatcher.run

    async def slow(invocation: Any) -> Any:
        await asyncio.sleep(0.3)
        return await original(invocation)

    monkeypatch.setattr(app.dispatcher, "run", slow)


async def need_post_form(standin: StandIn, title: str = "A van") -> Any:
    """The modal that Alice's /need post (category logistics) opens for the description."""
    answer = await command(
        standin, ALICE, slash("need", "post", [opt("title", title), opt("category", "logistics")])
    )
    assert answer["type"] == 9  # a modal
    return answer["data"]


async def meetup_form(standin: StandIn, start: str, *options: dict[str, Any]) -> Any:
    """The modal that Alice's /meetup create of "Werkontbijt" in the Brussels circle opens for
    the description."""
    answer = await command(
        standin,
        ALICE,
        slash(
            "meetup",
            "create",
            [opt("title", "Werkontbijt"), opt("circle", "brussels"), opt("start", start), *options],
        ),
    )
    assert answer["type"] == 9  # the description is typed in a modal
    return answer["data"]


async def create_meetup(
    standin: StandIn, start: str, *options: dict[str, Any], description: str = "Coffee"
) -> Any:
    """Alice creates the meetup "Werkontbijt" (see meetup_form) and types its description;
    the answer to the modal."""
    modal = await meetup_form(standin, start, *options)
    return await submit_modal(standin, ALICE, modal, [description])


async def wait_for_events(standin: StandIn, count: int) -> None:
    """Wait (up to 5 s) until the stand-in holds ``count`` scheduled events."""
    for _ in range(100):
        if len(standin.events) == count:
            break
        await asyncio.sleep(0.05)


async def test_commands_are_synced_once_and_a_slash_command_answers_with_an_embed(
    standin: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "s.db"
    async with running(standin, database, monkeypatch):
        puts = [r for r in standin.requests if r.method == "PUT"]
        assert len(puts) == 1
        assert puts[0].path == f"/applications/900000000000000001/guilds/{GUILD_ID}/commands"
        names = {c["name"] for c in puts[0].body}
        assert {"profile", "board", "meetup", "circle", "help", "link"} <= names
        profile = next(c for c in puts[0].body if c["name"] == "profile")
        show = next(o for o in profile["options"] if o["name"] == "show")
        assert show["description_localizations"]["nl"] == "Toon je profiel of dat van een ander lid"
        await command(
            standin,
            ALICE,
            slash(
                "profile",
                "set",
                [opt("locale", "en"), opt("region", "gent"), opt("sectors", "audiovisual")],
            ),
        )
        answer = await command(standin, ALICE, slash("profile", "show", []))
        assert answer["type"] == 4
        embed = answer["data"]["embeds"][0]
        assert embed["title"].startswith("alice (#1)")
        assert {"name": "Region", "value": "Ghent", "inline": True} in embed["fields"]
    async with running(standin, database, monkeypatch):
        assert len([r for r in standin.requests if r.method == "PUT"]) == 1  # unchanged


async def test_a_bad_option_gets_an_ephemeral_translated_error(
    standin: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(standin, tmp_path / "s.db", monkeypatch):
        answer = await command(
            standin, BOB, slash("profile", "set", [opt("region", "Atlantis")]), locale="fr"
        )
        assert answer["data"]["flags"] & 64  # ephemeral
        assert "Je ne connais pas « Atlantis »" in answer["data"]["content"]
        assert "/profile set [name:…]" in answer["data"]["content"]  # slash syntax, not !
        assert "!profile" not in answer["data"]["content"]
        assert "/profile set region:Gent sectors:audiovisual" in answer["data"]["content"]


async def test_autocomplete_offers_choices_from_the_core(
    standin: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(standin, tmp_path / "s.db", monkeypatch):
        data = slash(
            "circle", "join", [{"name": "circle", "type": 3, "value": "ga", "focused": True}]
        )
        payload = standin.interaction(4, data, ALICE)
        await standin.push(payload)
        answer = (await standin.answer_to(payload)).body
        assert answer["type"] == 8
        values = [c["value"] for c in answer["data"]["choices"]]
        assert "gent" in values


async def test_the_rsvp_button_stores_the_answer_and_updates_the_message_after_a_restart(
    standin: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "s.db"
    async with running(standin, database, monkeypatch, admins=(f"discord:{ALICE}",)):
        answer = await create_meetup(
            standin, "2030-01-07 08:30", opt("capacity", 5, 4), description="Coffee and croissants"
        )
    buttons = answer["data"]["components"][0]["components"]
    going = next(b for b in buttons if b["custom_id"].endswith("going"))
    assert going["custom_id"] == "samen:meetup rsvp 1 going"
    message = next(m for m in standin.messages.values() if m["components"])
    async with running(standin, database, monkeypatch):  # a new process: no view in memory
        click = standin.interaction(
            3, {"custom_id": going["custom_id"], "component_type": 2}, BOB, message=message
        )
        await standin.push(click)
        update = (await standin.answer_to(click)).body
        assert update["type"] == 7  # the message is updated in place
        fields = {f["name"]: f["value"] for f in update["data"]["embeds"][0]["fields"]}
        assert "1/5" in fields["Volgende datums"]  # the shared message: the community's language
        followup = await standin.wait_request(lambda r: r.path.startswith("/webhooks/"))
        assert followup.body["flags"] & 64


async def test_a_modal_collects_the_description_of_a_post(
    standin: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(standin, tmp_path / "s.db", monkeypatch):
        modal = await need_post_form(standin, "A van for Saturday")
        posted = await submit_modal(standin, ALICE, modal, ["From Gent to Namur, 9h"])
        assert "#1" in posted["data"]["embeds"][0]["title"]
        shown = await command(standin, BOB, slash("board", "show", [opt("post", "1")]))
        assert shown["data"]["embeds"][0]["description"] == "From Gent to Namur, 9h"


async def test_a_reminder_is_a_dm_and_falls_back_to_the_circle_channel_when_dms_are_closed(
    standin: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.notifier import MemberTarget, Notification
    from bot.reply import Reply

    async with running(standin, tmp_path / "s.db", monkeypatch, admins=(f"discord:{ALICE}",)) as (
        app,
        _,
    ):
        await command(standin, ALICE, slash("circle", "link", [opt("circle", "gent")]))
        await command(standin, BOB, slash("circle", "join", [opt("circle", "gent")]))
        delivered = await app.notifier.deliver(Notification(MemberTarget(2), Reply(text="ping 1")))
        assert delivered
        dm = await standin.wait_request(
            lambda r: (
                r.method == "POST"
                and r.path.startswith("/channels/")
                and (r.body or {}).get("content") == "ping 1"
            )
        )
        assert dm.path.split("/")[2] in standin.dm_channels
        standin.closed_dms.add(BOB)
        delivered = await app.notifier.deliver(Notification(MemberTarget(2), Reply(text="ping 2")))
        assert delivered
        fallback = await standin.wait_request(
            lambda r: (
                r.method == "POST"
                and "ping 2" in ((r.body or {}).get("content") or "")
                and r.path == "/channels/900000000000000004/messages"
            )
        )
        assert fallback.body["content"].startswith(f"<@{BOB}>")


async def test_the_command_payload_fits_discords_limits_and_matches_the_core_shape(
    standin: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.discord_shape import command_payload, limit_problems

    async with running(standin, tmp_path / "s.db", monkeypatch) as (app, _):
        sent = next(r for r in standin.requests if r.method == "PUT").body
    assert limit_problems(sent) == []
    ours = command_payload(app.registry, app.catalogues)

    def shape(commands: list[dict[str, Any]]) -> Any:
        def walk(item: dict[str, Any]) -> Any:
            return (
                item["name"],
                item.get("type"),
                item["description"],
                tuple(sorted((item.get("description_localizations") or {}).items())),
                bool(item.get("required")),
                tuple(sorted(c["value"] for c in item.get("choices", []))),
                bool(item.get("autocomplete")),
                tuple(sorted(walk(o) for o in item.get("options", []))),
            )

        return sorted(walk(c) for c in commands)

    assert shape(sent) == shape(ours)
    assert json.dumps(sent)  # serialisable, as sent


async def test_a_slow_command_is_deferred_and_answered_by_follow_up(
    standin: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import adapters.discord_bot as discord_bot

    monkeypatch.setattr(discord_bot, "DEFER_AFTER", 0.05)
    async with running(standin, tmp_path / "s.db", monkeypatch) as (app, _):
        slow_down(app, monkeypatch)
        answer = await command(standin, ALICE, slash("profile", "show", []))
        assert answer["type"] == 5  # "thinking…"
        followup = await standin.wait_request(lambda r: r.path.startswith("/webhooks/"))
        assert followup.body["embeds"][0]["title"].startswith("alice")


async def test_errors_are_reported_in_the_admin_channel(
    standin: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import logging

    from tests import discord_standin

    admin_channel = discord_standin.CHANNEL_ID
    settings_patch = make_settings

    def with_admin_channel(url: str, **changes: object) -> Any:
        settings = settings_patch(url, **changes)
        return settings.model_copy(
            update={
                "discord": settings.discord.model_copy(
                    update={"admin_channel_id": int(admin_channel)}
                )
            }
        )

    monkeypatch.setattr(sys.modules[__name__], "make_settings", with_admin_channel)
    async with running(standin, tmp_path / "s.db", monkeypatch) as (app, _):
        reporter = app.error_reports()
        try:
            logging.getLogger("commands.test").error("the coffee machine is broken")
            posted = await standin.wait_request(
                lambda r: (
                    r.method == "POST" and "coffee machine" in str((r.body or {}).get("content"))
                )
            )
            assert posted.path == f"/channels/{admin_channel}/messages"
        finally:
            logging.getLogger().removeHandler(reporter)  # type: ignore[arg-type]


async def test_joining_and_leaving_a_circle_gives_and_takes_its_role(
    standin: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.discord_standin import ROLE_ID

    async with running(standin, tmp_path / "s.db", monkeypatch, admins=(f"discord:{ALICE}",)):
        linked = await command(
            standin,
            ALICE,
            slash("circle", "link", [opt("circle", "gent"), opt("role", ROLE_ID, 8)]),
        )
        assert "Gent" in linked["data"]["content"]
        await command(standin, BOB, slash("circle", "join", [opt("circle", "gent")]))
        role_path = f"/guilds/{GUILD_ID}/members/{BOB}/roles/{ROLE_ID}"
        await standin.wait_request(lambda r: r.method == "PUT" and r.path == role_path)
        await command(standin, BOB, slash("circle", "leave", [opt("circle", "gent")]))
        await standin.wait_request(lambda r: r.method == "DELETE" and r.path == role_path)


async def test_meetups_are_mirrored_as_scheduled_events(
    standin: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import UTC, datetime

    from bot.clock import FakeClock

    clock = FakeClock(datetime(2027, 1, 4, 9, 0, tzinfo=UTC))
    async with running(
        standin,
        tmp_path / "s.db",
        monkeypatch,
        admins=(f"discord:{ALICE}",),
        clock=clock,
        mirror=True,
    ) as (_, adapter):
        await create_meetup(
            standin, "2027-01-11 08:30", opt("every", "every monday"), description=""
        )
        await wait_for_events(standin, 4)
        starts = sorted(e["scheduled_start_time"] for e in standin.events.values())
        assert starts == [
            "2027-01-11T07:30:00+00:00",
            "2027-01-18T07:30:00+00:00",
            "2027-01-25T07:30:00+00:00",
            "2027-02-01T07:30:00+00:00",
        ]
        assert all(e["entity_metadata"] == {"location": "—"} for e in standin.events.values())
        await command(
            standin,
            ALICE,
            slash("meetup", "cancel", [opt("meetup", "1"), opt("occurrence", "2027-01-18")]),
        )
        await wait_for_events(standin, 3)
        assert len(standin.events) == 3
        assert adapter.state.get("events")


async def _meetup_message(standin: StandIn) -> tuple[dict[str, Any], str]:
    await create_meetup(standin, "2030-01-07 08:30", opt("capacity", 5, 4))
    message = next(m for m in standin.messages.values() if m["components"])
    going = next(
        b["custom_id"]
        for b in message["components"][0]["components"]
        if b["custom_id"].endswith("going")
    )
    return message, going


async def test_a_click_keeps_the_shared_message_in_the_community_language_without_you(
    standin: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(standin, tmp_path / "s.db", monkeypatch, admins=(f"discord:{ALICE}",)):
        message, going = await _meetup_message(standin)
        click = standin.interaction(
            3, {"custom_id": going, "component_type": 2}, BOB, message=message, locale="fr"
        )
        await standin.push(click)
        update = (await standin.answer_to(click)).body
        names = [f["name"] for f in update["data"]["embeds"][0]["fields"]]
        assert "Volgende datums" in names
        assert "Vous" not in names and "Jij" not in names  # nothing personal for everyone
        followup = await standin.wait_request(
            lambda r: r.path.startswith("/webhooks/") and r.method == "POST"
        )
        assert followup.body["flags"] & 64
        assert "Werkontbijt" in followup.body["content"]


async def test_a_slow_private_command_is_deferred_only_for_the_asker(
    standin: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import adapters.discord_bot as discord_bot

    monkeypatch.setattr(discord_bot, "DEFER_AFTER", 0.05)
    async with running(standin, tmp_path / "s.db", monkeypatch) as (app, _):
        await command(standin, BOB, slash("circle", "join", [opt("circle", "gent")]))
        slow_down(app, monkeypatch)
        answer = await command(
            standin,
            BOB,
            slash("circle", "announcements", [opt("circle", "gent"), opt("switch", "on")]),
        )
        assert answer["type"] == 5
        assert answer["data"]["flags"] & 64  # "thinking…" only for the asker
        followup = await standin.wait_request(lambda r: r.path.startswith("/webhooks/"))
        assert followup.body["flags"] & 64


async def test_a_slow_click_is_deferred_and_the_message_edited_after(
    standin: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import adapters.discord_bot as discord_bot

    async with running(standin, tmp_path / "s.db", monkeypatch, admins=(f"discord:{ALICE}",)) as (
        app,
        _,
    ):
        message, going = await _meetup_message(standin)
        monkeypatch.setattr(discord_bot, "DEFER_AFTER", 0.05)
        slow_down(app, monkeypatch)
        click = standin.interaction(
            3, {"custom_id": going, "component_type": 2}, BOB, message=message
        )
        await standin.push(click)
        answer = (await standin.answer_to(click)).body
        assert answer["type"] == 6  # deferred update: Discord does not fail the click
        edit = await standin.wait_request(
            lambda r: r.method == "PATCH" and r.path.endswith("/messages/@original")
        )
        names = [f["name"] for f in edit.body["embeds"][0]["fields"]]
        assert "Volgende datums" in names
        followup = await standin.wait_request(
            lambda r: r.path.startswith("/webhooks/") and r.method == "POST"
        )
        assert followup.body["flags"] & 64


async def test_modal_labels_are_english_for_en_us_and_a_new_application_is_synced(
    standin: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "s.db"
    async with running(standin, database, monkeypatch):
        modal = await need_post_form(standin)  # Alice's Discord is in English (en-US)
        label = modal["components"][0]["components"][0]["label"]
        assert label == "The details"  # English, not the community's Dutch
    standin.application_id = "900000000000000099"
    async with running(standin, database, monkeypatch):
        puts = [r for r in standin.requests if r.method == "PUT"]
        assert len(puts) == 2
        assert puts[1].path.startswith("/applications/900000000000000099/")


async def test_an_error_after_a_modal_shows_the_typed_text_back(
    standin: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(standin, tmp_path / "s.db", monkeypatch):
        typed = "x" * 2001  # over the core's 2000
        posted = await submit_modal(standin, ALICE, await need_post_form(standin), [typed])
        assert posted["data"]["flags"] & 64
        embed = posted["data"]["embeds"][0]
        assert "2001" in embed["description"]
        assert typed in embed["description"]  # given back whole


async def test_the_answer_is_sent_before_the_announcements_it_causes(
    standin: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(standin, tmp_path / "s.db", monkeypatch, admins=(f"discord:{ALICE}",)):
        await command(standin, ALICE, slash("circle", "link", [opt("circle", "brussels")]))
        await command(standin, BOB, slash("circle", "join", [opt("circle", "brussels")]))
        await command(
            standin,
            BOB,
            slash("circle", "announcements", [opt("circle", "brussels"), opt("switch", "on")]),
        )
        modal = await meetup_form(standin, "2030-01-07 08:30")
        rows = modal_rows(modal, ["Coffee"])
        submit = standin.interaction(
            5, {"custom_id": modal["custom_id"], "components": rows}, ALICE
        )
        await standin.push(submit)
        callback = await standin.answer_to(submit)

        def announcement(request: Any) -> bool:
            body = request.body if isinstance(request.body, dict) else {}
            title = str((body.get("embeds") or [{}])[0].get("title") or "")
            return (
                request.method == "POST"
                and request.path.startswith("/channels/")
                and "Werkontbijt" in title
                and "bijeenkomst ·" in title
            )

        dm = await standin.wait_request(
            lambda r: announcement(r) and r.path.split("/")[2] in standin.dm_channels
        )
        assert standin.requests.index(callback) < standin.requests.index(dm)
        # scheduled in the circle's own channel: the answer there is the announcement
        assert [r for r in standin.requests if announcement(r)] == [dm]


async def test_string_options_carry_length_limits_and_admin_commands_a_default_permission(
    standin: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(standin, tmp_path / "s.db", monkeypatch):
        body = next(r for r in standin.requests if r.method == "PUT").body

        def leaves(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
            found = []
            for item in items:
                if item.get("type") in (1, 2) and "options" in item:
                    found += leaves(item["options"])
                else:
                    found.append(item)
            return found

        strings = [o for o in leaves(body) if o.get("type") == 3 and not o.get("choices")]
        assert strings and all(o.get("max_length") for o in strings)
        assert all(o.get("min_length", 0) >= 1 for o in strings)
        # too long through the stand-in: refused with the limit, nothing written
        answer = await command(
            standin, ALICE, slash("profile", "set", [opt("region", "g" * 600)]), locale="en-US"
        )
        assert answer["data"]["flags"] & 64
        assert "the most is 500" in answer["data"]["content"]


async def test_a_form_opened_before_a_restart_gets_a_clear_answer_with_the_typed_text(
    standin: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "s.db"
    async with running(standin, database, monkeypatch):
        modal = await need_post_form(standin)
    async with running(standin, database, monkeypatch):  # a new process: the form is unknown
        rows = modal_rows(modal, ["From Gent to Namur, 9h"])
        submit = standin.interaction(
            5, {"custom_id": modal["custom_id"], "components": rows}, ALICE, locale="fr"
        )
        await standin.push(submit)
        expired = (await standin.answer_to(submit)).body
        assert expired["type"] == 4
        assert expired["data"]["flags"] & 64
        assert "Ce formulaire a expiré" in expired["data"]["content"]
        assert "/need post" in expired["data"]["content"]
        assert "From Gent to Namur, 9h" in expired["data"]["content"]  # nothing is lost
        # a form from an older version (a bare random id) and a button no one knows any more
        old = standin.interaction(5, {"custom_id": "ab" * 16, "components": rows}, BOB)
        await standin.push(old)
        answer = (await standin.answer_to(old)).body
        assert answer["data"]["flags"] & 64
        assert "This form has expired" in answer["data"]["content"]
        click = standin.interaction(
            3,
            {"custom_id": "ab" * 16, "component_type": 2},
            BOB,
            message=standin.message(
                CHANNEL_ID,
                {
                    "content": "old",
                    "components": [
                        {
                            "type": 1,
                            "components": [
                                {"type": 2, "style": 2, "label": "Old", "custom_id": "ab" * 16}
                            ],
                        }
                    ],
                },
            ),
            locale="nl",
        )
        await standin.push(click)
        answer = (await standin.answer_to(click)).body
        assert answer["data"]["flags"] & 64
        assert "Deze knop werkt niet meer" in answer["data"]["content"]


async def test_an_interaction_delivered_twice_is_answered_once(
    standin: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Discord may deliver an interaction again (a resumed gateway, a second instance during
    a takeover): the command runs once and only the first delivery gets an answer; a second
    delivery of a form's submit is not told that the form expired."""

    def callbacks(payload: dict[str, Any]) -> int:
        path = f"/interactions/{payload['id']}/{payload['token']}/callback"
        return sum(1 for r in standin.requests if r.path == path)

    async with running(standin, tmp_path / "s.db", monkeypatch) as (app, _):
        modal = await need_post_form(standin, "A van for Saturday")
        rows = modal_rows(modal, ["From Gent to Namur, 9h"])
        submit = standin.interaction(
            5, {"custom_id": modal["custom_id"], "components": rows}, ALICE
        )
        await standin.push(submit)
        posted = (await standin.answer_to(submit)).body
        assert "#1" in posted["data"]["embeds"][0]["title"]
        asked = standin.interaction(2, slash("profile", "set", [opt("region", "gent")]), BOB)
        await standin.push(asked)
        await standin.answer_to(asked)
        await standin.push(submit)  # the same two interactions, again
        await standin.push(asked)
        later = standin.interaction(2, slash("board", "show", [opt("post", "1")]), BOB)
        await standin.push(later)  # answered after both repeats were read
        await standin.answer_to(later)
        await asyncio.sleep(0.3)
        assert (callbacks(submit), callbacks(asked)) == (1, 1)
        with app.database.session() as session:
            assert len(session.exec(select(Post)).all()) == 1


@pytest.mark.postgres
async def test_one_of_two_instances_holds_the_gateway_and_the_other_takes_over(
    standin: StandIn, postgres_migrated: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two ``samen run`` on one PostgreSQL: both log in (each can send), one opens the
    gateway; when it stops, the other opens it and answers the interactions."""
    from scheduler import leadership
    from tests.conftest import _empty_postgres

    _empty_postgres(postgres_migrated)
    monkeypatch.setattr(leadership, "RETRY_SECONDS", 0.2)
    monkeypatch.setenv("SAMEN_TEST_DISCORD", "test-token")
    settings = make_settings(postgres_migrated)
    settings = settings.model_copy(
        update={
            "discord": settings.discord.model_copy(
                update={
                    "enabled": True,
                    "guild_ids": (int(GUILD_ID),),
                    "token_env": "SAMEN_TEST_DISCORD",
                }
            )
        }
    )
    apps = [App(settings), App(settings)]
    apps[0].prepare_database()
    adapters = [DiscordAdapter(app, guild_ready_timeout=0.1) for app in apps]
    first = asyncio.create_task(apps[0].serve(adapters[0]))
    second: asyncio.Task[None] | None = None
    try:
        await asyncio.wait_for(adapters[0].client.wait_until_ready(), 20)
        second = asyncio.create_task(apps[1].serve(adapters[1]))
        await asyncio.sleep(1)  # five tries of the second instance
        assert standin.gateways == 1
        assert adapters[1].client.user is not None  # logged in over HTTP, no gateway
        answer = await command(standin, ALICE, slash("profile", "set", [opt("locale", "en")]))
        assert "Profile saved" in answer["data"]["embeds"][0]["title"] + json.dumps(answer)
        standin.identified.clear()
        stopped = time.monotonic()
        first.cancel()  # the first instance stops (its gateway session is closed)
        with contextlib.suppress(asyncio.CancelledError):
            await first
        await asyncio.wait_for(standin.identified.wait(), 10)
        print(f"gateway taken over after {time.monotonic() - stopped:.2f} s")
        assert standin.gateways == 2
        shown = await command(standin, ALICE, slash("profile", "show", []))
        assert shown["data"]["embeds"][0]["title"].startswith("alice")
    finally:
        for task in (first, second):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        for app in apps:
            app.database.dispose()


async def test_an_interaction_while_the_database_is_write_locked_is_acknowledged_at_once(
    standin: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another connection holds SQLite's write lock for 2.5 s: the command is deferred
    ("thinking…") within a second, and its real answer follows once the lock is gone."""
    from tests.test_busy_database import write_locked

    database = tmp_path / "s.db"
    async with running(standin, database, monkeypatch):
        with write_locked(database, 2.5) as released:
            began = asyncio.get_running_loop().time()
            payload = standin.interaction(2, slash("circle", "join", [opt("circle", "gent")]), BOB)
            await standin.push(payload)
            answer = (await standin.answer_to(payload)).body
            acknowledged = asyncio.get_running_loop().time() - began
            assert not released.is_set()
            assert answer["type"] == 5  # deferred: Discord shows "thinking…", never "failed"
            assert acknowledged < 1.0
            followup = await standin.wait_request(
                lambda r: r.path.startswith("/webhooks/") and r.method == "POST"
            )
            assert released.is_set()  # the answer came once the lock was released
        text = followup.body.get("content") or followup.body["embeds"][0]["description"]
        assert "Gent" in text


async def test_a_command_that_waits_past_its_timeout_says_busy_only_to_the_asker(
    standin: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.test_busy_database import write_locked

    database = tmp_path / "s.db"
    async with running(standin, database, monkeypatch) as (app, _):
        app.dispatcher.pool.timeout = 1.0  # bot.toml's storage.command_timeout_seconds
        with write_locked(database, 2.5):
            payload = standin.interaction(2, slash("circle", "join", [opt("circle", "gent")]), BOB)
            await standin.push(payload)
            answer = (await standin.answer_to(payload)).body
            assert answer["type"] == 5
            assert not (answer.get("data") or {}).get("flags", 0) & 64  # a public "thinking…"
            followup = await standin.wait_request(
                lambda r: r.path.startswith("/webhooks/") and r.method == "POST"
            )
            # the busy answer is only for the asker: the public "thinking…" is taken away
            await standin.wait_request(
                lambda r: r.method == "DELETE" and r.path.endswith("/messages/@original")
            )
        assert followup.body["flags"] & 64
        assert followup.body["content"] == "Samen is busy, try again in a moment."  # en-US


async def test_a_report_is_an_embed_showing_its_chart_with_the_csv_beside(
    standin: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(standin, tmp_path / "s.db", monkeypatch):
        await command(standin, ALICE, slash("profile", "set", [opt("locale", "en")]))
        # Alice is a new member this month: the report has something to show
        answer = await command(standin, ALICE, slash("followup", "report", [opt("csv", True)]))
        assert answer["data"]["flags"] & 64  # only the asker sees it
        embed = answer["data"]["embeds"][0]
        field_names = [f["name"] for f in embed["fields"]]
        assert "Needs posted" in field_names
        names = [a["filename"] for a in answer["data"]["attachments"]]
        (chart,) = [name for name in names if name.endswith(".png")]
        assert len(answer["__files__"]) == 2  # the chart and the CSV
        assert "new_members" in answer["__file_texts__"][chart.replace(".png", ".csv")]
        assert embed["image"]["url"] == f"attachment://{chart}"


async def said(app: App, user_id: str, line: str) -> str:
    """A line typed by a Discord member, through the core (the survey is made so)."""
    from bot.dispatch import Invocation

    reply = await app.dispatcher.dispatch(
        Invocation(platform="discord", user_id=user_id, text=line, place=CHANNEL_ID)
    )
    assert not reply.is_error, reply.text
    return reply.plain()


async def test_a_survey_is_answered_with_a_select_menu_buttons_and_a_form(
    standin: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(standin, tmp_path / "s.db", monkeypatch, admins=(f"discord:{ALICE}",)) as (
        app,
        _,
    ):
        await command(standin, ALICE, slash("profile", "set", [opt("locale", "en")]))
        await command(standin, BOB, slash("profile", "set", [opt("locale", "en")]))
        await said(app, ALICE, 'survey create Networking needs everyone=yes closes="in 2 weeks"')
        await said(
            app, ALICE, 'survey add 1 multiple Which formats? choices="Walk | Breakfast | Fair"'
        )
        await said(app, ALICE, "survey add 1 scale How useful is the board?")
        await said(app, ALICE, "survey add 1 text What do you need?")
        await said(app, ALICE, "survey open 1")
        asked = await command(standin, BOB, slash("survey", "take", [opt("survey", 1, 4)]))
        rows = asked["data"]["components"]
        menu = rows[0]["components"][0]
        assert menu["type"] == 3 and menu["max_values"] == 3
        assert [o["label"] for o in menu["options"]] == ["Walk", "Breakfast", "Fair"]
        message = standin.messages[asked["__message_id__"]]
        pick = standin.interaction(
            3,
            {"custom_id": menu["custom_id"], "component_type": 3, "values": ["1", "3"]},
            BOB,
            message=message,
        )
        await standin.push(pick)
        scale = (await standin.answer_to(pick)).body
        assert (
            "How useful"
            in scale["data"]["embeds"][0]["title"] + scale["data"]["embeds"][0]["description"]
        )
        four = next(
            b for row in scale["data"]["components"] for b in row["components"] if b["label"] == "4"
        )
        tap = standin.interaction(
            3,
            {"custom_id": four["custom_id"], "component_type": 2},
            BOB,
            message=standin.messages[scale["__message_id__"]],
        )
        await standin.push(tap)
        text_question = (await standin.answer_to(tap)).body
        write = next(
            b
            for row in text_question["data"]["components"]
            for b in row["components"]
            if b["custom_id"].startswith("samen-ask:")
        )
        click = standin.interaction(
            3,
            {"custom_id": write["custom_id"], "component_type": 2},
            BOB,
            message=standin.messages[text_question["__message_id__"]],
        )
        await standin.push(click)
        modal = (await standin.answer_to(click)).body
        assert modal["type"] == 9  # a form opens
        assert modal["data"]["components"][0]["components"][0]["label"] == "What do you need?"
        done = await submit_modal(
            standin, BOB, modal["data"], ['A van, and "question=1" is just words']
        )
        assert "Thank you" in done["data"]["content"]
        results = await said(app, ALICE, "survey results 1")
        assert "Walk: 1" in results and "Fair: 1" in results and "Breakfast: 0" in results
        assert 'A van, and "question=1" is just words' in results
