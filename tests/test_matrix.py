"""Samen on Matrix, end to end, against a real Synapse started by the tests."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bot.clock import FakeClock
from bot.config import Settings
from tests.matrix_helpers import Member, matrix_settings, notice_from, running_bot
from tests.synapse_server import Synapse, synapse_python

if TYPE_CHECKING:
    from adapters.matrix import MatrixAdapter
    from bot.app import App

pytestmark = pytest.mark.matrix


def started_synapse(
    tmp_path_factory: pytest.TempPathFactory, name: str, *, rate_limited: bool = False
) -> Iterator[Synapse]:
    """A Synapse of its own, for the tests of this module (skipped without Synapse)."""
    if synapse_python() is None:
        if os.environ.get("SAMEN_REQUIRE_SYNAPSE"):
            pytest.fail("SAMEN_REQUIRE_SYNAPSE is set but Synapse is not installed")
        pytest.skip("Synapse is not installed (.ci/run installs it in .synapse-venv)")
    server = Synapse(tmp_path_factory.mktemp(name), rate_limited=rate_limited)
    server.start()
    yield server
    server.cleanup()


@pytest.fixture(scope="module")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synapse]:
    yield from started_synapse(tmp_path_factory, "synapse")


@pytest.fixture(scope="module")
def limited_synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synapse]:
    """A Synapse with its default rate limits (the other one has none)."""
    yield from started_synapse(tmp_path_factory, "limited", rate_limited=True)


_counter = iter(range(1, 10**6))


def fresh(synapse: Synapse, name: str, *, admin: bool = False) -> Member:
    return Member(synapse, synapse.register(f"{name}{next(_counter)}", admin=admin))


class MatrixWorld:
    """What a test here works with: its Synapse, the bot's account (new for each test), its
    database file, and the members it makes (closed when the test ends)."""

    def __init__(self, synapse: Synapse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.synapse = synapse
        self.bot = synapse.register(f"samen{next(_counter)}")
        self.bot_id = self.bot.user_id
        self.database = tmp_path / "s.db"
        self.monkeypatch = monkeypatch
        self.made: list[Member] = []

    def person(self, name: str) -> Member:
        """A new member (their account: ``name`` and a number)."""
        self.made.append(fresh(self.synapse, name))
        return self.made[-1]

    async def english_room(self, member: Member) -> str:
        """A room of ``member`` with the bot (running), where they chose English."""
        room = await member.room_with(self.bot_id)
        await member.say(room, "!profile set locale=en")
        await member.wait_for(notice_from(self.bot_id, room, "Profile saved"))
        return room

    def samen(
        self, *, admin: Member | None = None, clock: FakeClock | None = None
    ) -> AbstractAsyncContextManager[tuple[App, MatrixAdapter]]:
        """Samen running as the bot on the test's database, with ``admin`` as its admin."""
        return running_bot(
            self.synapse,
            self.bot,
            self.database,
            monkeypatch=self.monkeypatch,
            admins=(f"matrix:{admin.user.user_id}",) if admin else (),
            clock=clock,
        )


@pytest.fixture
async def matrix(
    synapse: Synapse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[MatrixWorld]:
    world = MatrixWorld(synapse, tmp_path, monkeypatch)
    yield world
    for member in world.made:
        await member.close()


async def wait_for_bodies(
    member: Member,
    room: str,
    sender: str,
    enough: Callable[[list[str]], bool],
    *,
    seconds: float,
    wait_ms: int = 500,
) -> None:
    """Sync ``member`` until the bodies that ``sender`` sent to ``room`` are ``enough``."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not enough(member.bodies(room, sender)):
        assert asyncio.get_running_loop().time() < deadline, member.bodies(room)
        await member.sync(wait_ms=wait_ms)


async def join_linked_circle(
    matrix: MatrixWorld, admin: Member, circle_room: str, member: Member
) -> str:
    """``admin`` links ``circle_room`` to the Gent circle, then ``member`` joins Gent in their
    own room with the bot and is invited to the circle room; that own room."""
    await admin.sync()
    await asyncio.sleep(0.5)
    await admin.say(circle_room, "!circle link gent")
    await admin.wait_for(notice_from(matrix.bot_id, circle_room, "Gent"))
    own = await member.room_with(matrix.bot_id)
    await member.say(own, "!circle join gent")
    await member.wait_for(lambda room_id, source: room_id == circle_room)
    return own


async def test_help_profile_and_a_thread(matrix: MatrixWorld) -> None:
    alice = matrix.person("alice")
    async with matrix.samen():
        room = await alice.room_with(matrix.bot_id)
        await alice.sync()
        await alice.say(room, "!profile set locale=en region=Gent sectors=audiovisual")
        _, saved = await alice.wait_for(notice_from(matrix.bot_id, room, "Profile saved"))
        assert "<h4>Profile saved</h4>" in saved["content"]["formatted_body"]
        await alice.say(room, "!help")
        _, helped = await alice.wait_for(notice_from(matrix.bot_id, room, "!profile show"))
        assert "<strong>" in helped["content"]["formatted_body"]
        root = await alice.say(room, "a question in a thread")
        await alice.say(
            room,
            "Samen: profile show",
            **{"m.relates_to": {"rel_type": "m.thread", "event_id": root}},
        )
        in_thread = notice_from(matrix.bot_id, room, "Audiovisual")
        _, shown = await alice.wait_for(
            lambda r, s: in_thread(r, s) and "m.relates_to" in s["content"]
        )
        assert shown["content"]["m.relates_to"]["rel_type"] == "m.thread"
        assert shown["content"]["m.relates_to"]["event_id"] == root


async def test_circle_join_invites_to_the_circle_room(matrix: MatrixWorld) -> None:
    admin, bob = matrix.person("admin"), matrix.person("bob")
    async with matrix.samen(admin=admin):
        circle_room = await admin.room_with(matrix.bot_id)
        await join_linked_circle(matrix, admin, circle_room, bob)
        assert circle_room in bob.client.rooms


async def test_circle_leave_removes_the_member_from_the_circle_room(matrix: MatrixWorld) -> None:
    admin, bob = matrix.person("admin"), matrix.person("bob")
    async with matrix.samen(admin=admin):
        circle_room = await admin.room_with(matrix.bot_id)
        levels = await admin.client.room_get_state_event(circle_room, "m.room.power_levels")
        content = dict(levels.content)
        content["users"] = {**content.get("users", {}), matrix.bot_id: 50}  # a moderator
        await admin.client.room_put_state(circle_room, "m.room.power_levels", content)
        own = await join_linked_circle(matrix, admin, circle_room, bob)
        await bob.say(own, "!circle leave gent")
        await bob.wait_for(notice_from(matrix.bot_id, own, "Gent"))

        def bob_is_out(room_id: str, source: dict[str, object]) -> bool:
            content = source.get("content")
            return (
                room_id == circle_room
                and source.get("type") == "m.room.member"
                and source.get("state_key") == bob.user.user_id
                and isinstance(content, dict)
                and content.get("membership") == "leave"
            )

        _, kicked = await admin.wait_for(bob_is_out)
        assert kicked["sender"] == matrix.bot_id


async def test_need_answered_and_intro_accepted_in_direct_messages(matrix: MatrixWorld) -> None:
    anna, carl = matrix.person("anna"), matrix.person("carl")
    async with matrix.samen():
        room_a = await anna.room_with(matrix.bot_id)
        room_c = await carl.room_with(matrix.bot_id)
        await anna.say(room_a, "!profile set locale=en")
        await carl.say(room_c, "!profile set locale=en")
        await anna.say(room_a, "!need post A van for Saturday")
        await anna.wait_for(notice_from(matrix.bot_id, room_a, "posted"))
        await carl.wait_for(notice_from(matrix.bot_id, room_c, "Profile saved"))
        await carl.say(room_c, "!board respond 1 I have one")
        _, _ask = await anna.wait_for(notice_from(matrix.bot_id, None, "can help"))
        await anna.say(room_a, "!board intro 1 accept")
        _, to_anna = await anna.wait_for(notice_from(matrix.bot_id, None, "Introduction"))
        _, to_carl = await carl.wait_for(notice_from(matrix.bot_id, None, "Introduction"))
        assert carl.user.user_id in to_anna["content"]["body"]
        assert anna.user.user_id in to_carl["content"]["body"]


async def test_rsvp_by_reaction_and_a_reminder_by_direct_message(matrix: MatrixWorld) -> None:
    anim, dora = matrix.person("anim"), matrix.person("dora")
    clock = FakeClock(datetime.now(UTC))
    async with matrix.samen(admin=anim, clock=clock) as (app, _):
        room = await anim.room_with(matrix.bot_id, dora.user.user_id)
        await dora.sync()
        await asyncio.sleep(0.5)
        start = (clock.now() + timedelta(days=3)).astimezone(app.settings.zone)
        await anim.say(room, "!profile set locale=en")
        await anim.say(
            room,
            f'!meetup create Breakfast circle=brussels start="{start:%Y-%m-%d 08:30}" reminders=1h',
        )
        _room_id, created = await dora.wait_for(notice_from(matrix.bot_id, room, "scheduled"))
        await dora.wait_for(
            lambda r, s: (
                s.get("type") == "m.reaction"
                and s["content"]["m.relates_to"]["event_id"] == created["event_id"]
            )
        )
        await dora.react(room, created["event_id"], "✅")
        await dora.wait_for(notice_from(matrix.bot_id, None, "Genoteerd"))
        local = start.replace(hour=8, minute=30)
        clock.set(local.astimezone(UTC) - timedelta(minutes=59))
        assert await app.scheduler.reminders.send_due() == 1
        _, reminder = await dora.wait_for(
            notice_from(matrix.bot_id, None, "Herinnering: Breakfast")
        )
        assert "❌" in reminder["content"]["body"]  # "not coming after all", as a reaction


async def test_restarting_the_bot_loses_nothing_and_repeats_nothing(matrix: MatrixWorld) -> None:
    eve = matrix.person("eve")
    async with matrix.samen():
        room = await matrix.english_room(eve)
    await eve.say(room, "!profile set region=namur")  # said while the bot is down
    async with matrix.samen():
        await eve.wait_for(notice_from(matrix.bot_id, room, "Namur"))
        await asyncio.sleep(2)
        await eve.sync()
    replies = [b for b in eve.bodies(room, matrix.bot_id) if b.startswith("Profile saved")]
    assert len(replies) == 2, replies


async def test_a_burst_of_100_commands_from_5_members_gets_100_answers(matrix: MatrixWorld) -> None:
    members = [matrix.person(f"burst{i}") for i in range(5)]
    async with matrix.samen():
        rooms = [await m.room_with(matrix.bot_id) for m in members]
        await asyncio.sleep(1)
        await asyncio.gather(
            *(
                m.say(r, f"!profile set name=B{i}x0")
                for i, (m, r) in enumerate(zip(members, rooms, strict=True))
            )
        )
        for member, room in zip(members, rooms, strict=True):
            await member.wait_for(notice_from(matrix.bot_id, room))
        await asyncio.gather(
            *(
                m.say(r, "!profile show")
                for _ in range(20)
                for m, r in zip(members, rooms, strict=True)
            )
        )
        for member, room in zip(members, rooms, strict=True):
            await wait_for_bodies(
                member, room, matrix.bot_id, lambda bodies: len(bodies) >= 21, seconds=60
            )


async def test_the_bot_recovers_when_the_homeserver_restarts(matrix: MatrixWorld) -> None:
    fay = matrix.person("fay")
    async with matrix.samen():
        room = await matrix.english_room(fay)
        matrix.synapse.stop()
        await asyncio.sleep(2)
        matrix.synapse.start()
        await fay.say(room, "!profile set region=gent")
        await fay.wait_for(notice_from(matrix.bot_id, room, "Ghent"), timeout=60)


async def test_files_are_uploaded_and_direct_rooms_are_marked(matrix: MatrixWorld) -> None:
    gil = matrix.person("gil")
    async with matrix.samen(admin=gil):
        room = await gil.room_with(matrix.bot_id)
        await gil.say(room, "!profile set locale=en")
        await gil.say(room, '!meetup create Talk circle=brussels start="2030-01-07 18:00"')
        await gil.wait_for(notice_from(matrix.bot_id, room, "scheduled"))
        await gil.say(room, "!meetup ics 1")
        _, file_event = await gil.wait_for(
            lambda r, s: s.get("content", {}).get("msgtype") == "m.file"
        )
        assert file_event["content"]["url"].startswith("mxc://")
        assert file_event["content"]["info"]["mimetype"] == "text/calendar"
        await gil.say(room, "!link")  # a code is private: it goes to a direct room
        direct_room, _ = await gil.wait_for(notice_from(matrix.bot_id, None, "Your code"))
        assert direct_room != room
        member = Member(matrix.synapse, matrix.bot)
        answer = await member.client.send(
            "GET",
            f"/_matrix/client/v3/user/{matrix.bot_id}/account_data/m.direct",
            headers={"Authorization": f"Bearer {matrix.bot.access_token}"},
        )
        direct = await answer.json()
        assert direct == {gil.user.user_id: [direct_room]}
        await member.close()


async def test_a_report_comes_as_an_image_a_csv_file_and_an_html_table(
    matrix: MatrixWorld,
) -> None:
    """Issue 12: `followup report` on Matrix: the chart as m.image (with its size), the CSV as
    m.file, and the figures as an HTML table in the notice."""
    hal = matrix.person("hal")
    async with matrix.samen(admin=hal):
        room = await hal.room_with(matrix.bot_id)
        await hal.say(room, "!profile set locale=en")
        await hal.wait_for(notice_from(matrix.bot_id, room, "Profile saved"))
        await hal.say(room, "!need post A sound engineer for Friday sector=audiovisual")
        await hal.wait_for(notice_from(matrix.bot_id, None, "#1 posted"))
        await hal.say(room, "!followup report csv=yes")
        _, notice = await hal.wait_for(notice_from(matrix.bot_id, None, "Needs posted"))
        formatted = notice["content"]["formatted_body"]
        assert "<table>" in formatted
        assert "<tr><th>Needs posted</th><td>1" in formatted
        assert "Needs posted: 1" in notice["content"]["body"]
        _, image = await hal.wait_for(lambda r, s: s.get("content", {}).get("msgtype") == "m.image")
        assert image["content"]["url"].startswith("mxc://")
        assert image["content"]["info"]["mimetype"] == "image/png"
        assert image["content"]["info"]["w"] > 0 and image["content"]["info"]["h"] > 0
        _, table = await hal.wait_for(
            lambda r, s: s.get("content", {}).get("info", {}).get("mimetype") == "text/csv"
        )
        assert table["content"]["msgtype"] == "m.file"
        assert table["content"]["body"].endswith(".csv")


async def test_password_login_keeps_one_device_across_restarts(matrix: MatrixWorld) -> None:
    from adapters.matrix import MatrixAdapter
    from bot.app import App

    settings = matrix_settings(
        matrix.synapse,
        matrix.bot,
        matrix.database,
        password_env="SAMEN_TEST_MATRIX_PASSWORD",
        access_token_env="UNSET_TOKEN_ENV",
    )
    matrix.monkeypatch.setenv("SAMEN_TEST_MATRIX_PASSWORD", matrix.bot.password)
    devices = []
    for _ in range(2):
        app = App(settings)
        app.prepare_database()
        adapter = MatrixAdapter(app)
        await adapter.login()
        devices.append(adapter.client.device_id)
        await adapter.client.close()
        app.database.dispose()
    assert devices[0] == devices[1]


@pytest.mark.slow
async def test_with_synapses_default_rate_limits_every_command_is_answered(
    limited_synapse: Synapse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synapse = limited_synapse
    bot_user = synapse.register("samen")
    members = [fresh(synapse, "lim") for _ in range(3)]
    async with running_bot(synapse, bot_user, tmp_path / "s.db", monkeypatch=monkeypatch) as (
        _,
        adapter,
    ):
        rooms = [await m.room_with(bot_user.user_id) for m in members]
        await asyncio.sleep(1)
        for index in range(5):
            await asyncio.gather(
                *(
                    m.say(r, f"!profile set name=L{index}x")
                    for m, r in zip(members, rooms, strict=True)
                )
            )
        for member, room in zip(members, rooms, strict=True):
            await wait_for_bodies(
                member,
                room,
                bot_user.user_id,
                lambda bodies: sum(b.startswith("Profiel bewaard") for b in bodies) >= 5,
                seconds=90,
                wait_ms=1000,
            )
        assert adapter.rate_limited > 0, "the test should have met the homeserver's limit"
    for member in members:
        await member.close()


async def test_errors_are_reported_in_the_admin_room(matrix: MatrixWorld) -> None:
    import logging

    admin = matrix.person("boss")
    room = await admin.room_with(matrix.bot_id)
    from tests import matrix_helpers
    from tests.conftest import make_settings as original

    def with_admin_room(url: str, **changes: object) -> Settings:
        settings = original(url, **changes)
        return settings.model_copy(
            update={"matrix": settings.matrix.model_copy(update={"admin_room": room})}
        )

    matrix.monkeypatch.setattr(matrix_helpers, "make_settings", with_admin_room)
    async with matrix.samen():
        await asyncio.sleep(1)
        logging.getLogger("commands.test").error("the printer is on fire")
        await admin.wait_for(notice_from(matrix.bot_id, room, "the printer is on fire"))


async def test_a_takeover_never_replays_old_commands(matrix: MatrixWorld) -> None:
    """The instance that takes the Matrix connection over may start from an older sync than
    the last one handled (its predecessor died before saving the token), or from none at all:
    Synapse then sends the room's recent commands again. They were handled: none runs again
    (the homeserver would drop a repeated answer, not a repeated write); a command said after
    the takeover runs and is answered."""
    from sqlmodel import col, delete, func, select

    from storage.board import Post
    from storage.db import Database
    from storage.platform_state import PlatformState

    ida = matrix.person("ida")
    async with matrix.samen():
        room = await matrix.english_room(ida)
        await ida.say(room, "!need post A van for Saturday")
        await ida.wait_for(notice_from(matrix.bot_id, room, "A van"))
    database = Database(f"sqlite:///{matrix.database}")
    with database.session() as session:  # all the adapter knew of its sync, gone
        session.exec(
            delete(PlatformState).where(
                col(PlatformState.key).in_(("sync_token", "handled", "room_ts"))
            )
        )
    async with matrix.samen():
        await ida.say(room, "!offer post A bike")
        _, posted = await ida.wait_for(notice_from(matrix.bot_id, room, "A bike"))
        await asyncio.sleep(2)
    assert "#2" in posted["content"]["body"]  # not #3: the van was not posted again
    with database.session() as session:
        assert session.exec(select(func.count()).select_from(Post)).one() == 2
    database.dispose()


@pytest.mark.postgres
async def test_two_instances_on_postgresql_sync_one_at_a_time_and_hand_over(
    matrix: MatrixWorld, postgres_migrated: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two ``samen run`` on one PostgreSQL: one syncs and answers, the other stands by; when
    the first stops, the second takes over from where it was, answers what is said next, and
    replays nothing."""
    from sqlmodel import func, select

    from adapters.matrix import MatrixAdapter
    from bot.app import App
    from scheduler import leadership
    from storage.board import Post
    from tests.conftest import _empty_postgres

    _empty_postgres(postgres_migrated)
    monkeypatch.setattr(leadership, "RETRY_SECONDS", 0.2)
    monkeypatch.setenv("SAMEN_TEST_MATRIX_TOKEN", matrix.bot.access_token)
    settings = matrix_settings(
        matrix.synapse, matrix.bot, matrix.database, access_token_env="SAMEN_TEST_MATRIX_TOKEN"
    )
    storage = settings.storage.model_copy(update={"url": postgres_migrated})
    settings = settings.model_copy(update={"storage": storage})
    apps = [App(settings), App(settings)]
    apps[0].prepare_database()
    adapters = [MatrixAdapter(app) for app in apps]
    tasks = [asyncio.create_task(apps[0].serve(adapters[0]))]
    ida = matrix.person("ida")
    try:
        await asyncio.wait_for(adapters[0].ready.wait(), 30)
        tasks.append(asyncio.create_task(apps[1].serve(adapters[1])))
        room = await matrix.english_room(ida)
        await ida.say(room, "!need post A van for Saturday")
        await ida.wait_for(notice_from(matrix.bot_id, room, "A van"))
        assert adapters[1].sync_count == 0  # standing by
        tasks[0].cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await tasks[0]
        await asyncio.wait_for(adapters[1].ready.wait(), 30)
        await ida.say(room, "!offer post A bike")
        _, posted = await ida.wait_for(notice_from(matrix.bot_id, room, "A bike"))
        await asyncio.sleep(2)
        await ida.sync()
        assert "#2" in posted["content"]["body"]  # the van was not posted again
        replies = [b for b in ida.bodies(room, matrix.bot_id) if "A van" in b]
        assert len(replies) == 1, replies
        with apps[1].database.session() as session:
            assert session.exec(select(func.count()).select_from(Post)).one() == 2
    finally:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for app in apps:
            app.database.dispose()
