"""Driving Samen's Matrix adapter against a real Synapse, with matrix-nio clients as members."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nio import (
    AsyncClient,
    AsyncClientConfig,
    RoomCreateResponse,
    RoomSendResponse,
    SyncResponse,
)
from nio.api import RoomPreset

from adapters.matrix import MatrixAdapter
from bot.app import App
from bot.clock import Clock, SystemClock
from bot.config import Settings
from tests.conftest import make_settings, start_adapter
from tests.synapse_server import Synapse, User

FILTER = {"room": {"timeline": {"limit": 1000}}, "presence": {"types": []}}


@dataclass
class Member:
    """A person on Matrix, as a matrix-nio client."""

    synapse: Synapse
    user: User
    client: AsyncClient = field(init=False)
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    token: str | None = None

    def __post_init__(self) -> None:
        self.client = AsyncClient(
            self.synapse.url,
            self.user.user_id,
            config=AsyncClientConfig(max_limit_exceeded=0, max_timeouts=0, request_timeout=20),
        )
        self.client.restore_login(self.user.user_id, self.user.device_id, self.user.access_token)

    async def sync(self, wait_ms: int = 0) -> None:
        try:
            answer = await self.client.sync(timeout=wait_ms, since=self.token, sync_filter=FILTER)
        except Exception:
            await asyncio.sleep(0.5)
            return
        if not isinstance(answer, SyncResponse):
            return
        self.token = answer.next_batch
        for room_id in answer.rooms.invite:
            await self.client.join(room_id)
        for room_id, info in answer.rooms.join.items():
            for event in info.timeline.events:
                self.events.append((room_id, event.source))

    async def wait_for(
        self, predicate: Callable[[str, dict[str, Any]], bool], timeout: float = 20
    ) -> tuple[str, dict[str, Any]]:
        deadline = asyncio.get_running_loop().time() + timeout
        seen = 0
        while True:
            for room_id, source in self.events[seen:]:
                if predicate(room_id, source):
                    return room_id, source
            seen = len(self.events)
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{self.user.user_id}: nothing matched in {timeout}s")
            await self.sync(wait_ms=500)

    def bodies(self, room_id: str | None = None, sender: str | None = None) -> list[str]:
        return [
            s.get("content", {}).get("body", "")
            for r, s in self.events
            if (room_id is None or r == room_id) and (sender is None or s["sender"] == sender)
        ]

    async def say(self, room_id: str, body: str, **content: Any) -> str:
        """Send, trying again while the homeserver is away (as a member's client does)."""
        deadline = asyncio.get_running_loop().time() + 90  # a homeserver away that long fails
        while asyncio.get_running_loop().time() < deadline:
            try:
                answer = await self.client.room_send(
                    room_id, "m.room.message", {"msgtype": "m.text", "body": body, **content}
                )
            except Exception:
                answer = None
            if isinstance(answer, RoomSendResponse):
                return str(answer.event_id)
            await asyncio.sleep(0.5)
        raise AssertionError(f"could not send {body!r}")

    async def react(self, room_id: str, event_id: str, key: str) -> None:
        await self.client.room_send(
            room_id,
            "m.reaction",
            {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": key}},
        )

    async def room_with(self, *user_ids: str, direct: bool = False) -> str:
        answer = await self.client.room_create(
            invite=list(user_ids),
            is_direct=direct,
            preset=RoomPreset.trusted_private_chat if direct else RoomPreset.private_chat,
        )
        assert isinstance(answer, RoomCreateResponse), answer
        return str(answer.room_id)

    async def close(self) -> None:
        await self.client.close()


def notice_from(
    bot: str, room: str | None = None, contains: str = ""
) -> Callable[[str, dict[str, Any]], bool]:
    def match(room_id: str, source: dict[str, Any]) -> bool:
        content = source.get("content", {})
        return (
            source.get("sender") == bot
            and content.get("msgtype") == "m.notice"
            and (room is None or room_id == room)
            and contains in content.get("body", "")
        )

    return match


def matrix_settings(
    synapse: Synapse,
    bot: User,
    database: Path,
    *,
    admins: tuple[str, ...] = (),
    **matrix: object,
) -> Settings:
    """The settings of Samen on this Synapse as ``bot``, on an SQLite file; ``matrix`` adds to
    the [matrix] section (how the bot logs in)."""
    settings = make_settings(f"sqlite:///{database}")
    section = settings.matrix.model_copy(
        update={"enabled": True, "homeserver": synapse.url, "user_id": bot.user_id, **matrix}
    )
    return settings.model_copy(update={"matrix": section, "admins": admins})


@contextlib.asynccontextmanager
async def running_bot(
    synapse: Synapse,
    bot: User,
    database: Path,
    *,
    admins: tuple[str, ...] = (),
    clock: Clock | None = None,
    monkeypatch: Any = None,
) -> AsyncIterator[tuple[App, MatrixAdapter]]:
    """Samen on Matrix as `samen run` starts it, until the block ends."""
    settings = matrix_settings(
        synapse, bot, database, admins=admins, access_token_env="SAMEN_TEST_MATRIX_TOKEN"
    )
    monkeypatch.setenv("SAMEN_TEST_MATRIX_TOKEN", bot.access_token)
    app = App(settings, clock=clock or SystemClock())
    app.prepare_database()
    adapter = MatrixAdapter(app)
    reporter = app.error_reports()
    task = await start_adapter(
        adapter.run(), adapter.ready.wait(), timeout=30, what="the Matrix adapter"
    )
    try:
        yield app, adapter
    finally:
        if reporter is not None:
            logging.getLogger().removeHandler(reporter)
        task.cancel()
        # a bot that does not stop fails the test (it used to hang the whole run)
        async with asyncio.timeout(60):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        app.database.dispose()
