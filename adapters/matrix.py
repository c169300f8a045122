"""The Matrix adapter (matrix-nio): Matrix events in, Invocations to the core, Replies out.

It holds no domain logic. It keeps its device id, its sync token and the last event it
handled in the database, so a restart neither creates a device nor answers a command twice;
replies are sent with a transaction id derived from the command's event id, so that even a
reply sent again after a crash is dropped by the homeserver. Sends go through one ordered
queue per kind (replies before notifications) that waits out rate limits.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import struct
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import aiohttp
from nio import (
    AsyncClient,
    AsyncClientConfig,
    InviteMemberEvent,
    LoginResponse,
    ReactionEvent,
    RoomCreateResponse,
    RoomMessagesResponse,
    RoomMessageText,
    RoomSendResponse,
    SyncResponse,
    UploadResponse,
    WhoamiResponse,
)
from nio.api import RoomPreset

from adapters.matrix_render import action_emoji, render
from bot.app import App, StartupError
from bot.dispatch import Invocation
from bot.reply import Attachment, Reply, Visibility
from bot.state import AdapterState

log = logging.getLogger(__name__)


def sync_filter(own_id: str) -> dict[str, Any]:
    """A large timeline (no command of a burst is left out), messages and reactions only, and
    not the bot's own events (its replies would otherwise wake it up again)."""
    return {
        "room": {
            "timeline": {
                "limit": 1000,
                "types": ["m.room.message", "m.reaction"],
                "not_senders": [own_id],
            },
            "state": {"lazy_load_members": True},
            "ephemeral": {"types": []},
            "account_data": {"types": []},
        },
        "presence": {"types": []},
        "account_data": {"types": []},
    }


HANDLED_KEEP = 2000
NEW_ROOM_WINDOW_MS = 10 * 60 * 1000


class MatrixSetupError(StartupError):
    """The Matrix configuration cannot be used (the message says what to change)."""


@dataclass(order=True)
class Outgoing:
    priority: int
    sequence: int
    room_id: str = field(compare=False)
    content: dict[str, Any] = field(compare=False)
    txn_id: str | None = field(compare=False)
    done: asyncio.Future[str | None] = field(compare=False)
    event_type: str = field(default="m.room.message", compare=False)


def png_size(data: bytes) -> tuple[int, int] | None:
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    return None


class MatrixAdapter:
    platform = "matrix"

    def __init__(self, app: App, *, client: AsyncClient | None = None):
        settings = app.settings.matrix
        if not settings.homeserver or not settings.user_id:
            raise MatrixSetupError(f"{app.settings.source}: [matrix] needs homeserver and user_id")
        self.app = app
        self.settings = settings
        self.prefix = app.settings.platform_prefix(self.platform)
        self.state = AdapterState(app.database, self.platform)
        self.client = client or AsyncClient(
            settings.homeserver,
            settings.user_id,
            config=AsyncClientConfig(
                max_limit_exceeded=0,
                max_timeouts=0,
                request_timeout=60,
                encryption_enabled=False,
                store_sync_tokens=False,
            ),
        )
        self._filter = sync_filter(settings.user_id)
        self.queue: asyncio.PriorityQueue[Outgoing] = asyncio.PriorityQueue()
        self._sequence = 0
        self._dm_rooms: dict[str, str] = {}
        self._dm_lock = asyncio.Lock()
        self._handled: dict[str, None] = {}
        self._room_ts: dict[str, int] = {}  # per room: the newest event handled
        self._direct_rooms: set[str] = set()
        self._sender: asyncio.Task[None] | None = None
        self.ready = asyncio.Event()
        self.sync_count = 0
        self.rate_limited = 0  # how often the homeserver asked us to wait
        app.notifier.register(self)

    # -- start-up ---------------------------------------------------------------------------

    async def login(self) -> None:
        token = os.environ.get(self.settings.access_token_env, "")
        device_id = self.state.get("device_id")
        if token:
            if not device_id:
                self.client.access_token = token
                answer = await self.client.whoami()
                if not isinstance(answer, WhoamiResponse) or not answer.device_id:
                    raise MatrixSetupError(
                        f"the token in ${self.settings.access_token_env} was refused: {answer}"
                    )
                device_id = answer.device_id
            self.client.restore_login(self.settings.user_id, device_id, token)
        else:
            password = os.environ.get(self.settings.password_env, "")
            if not password:
                raise MatrixSetupError(
                    f"set ${self.settings.access_token_env} or ${self.settings.password_env}"
                )
            if device_id:
                self.client.device_id = device_id  # log in again as the same device
            answer = await self.client.login(password, device_name="Samen")
            if not isinstance(answer, LoginResponse):
                raise MatrixSetupError(f"Matrix login failed: {answer}")
            device_id = answer.device_id
        self.state.set("device_id", device_id)

    async def run(self) -> None:
        """Log in, sync until cancelled, log out (one instance: bot/ownership.py does the
        three steps itself when several may run)."""
        await self.start()
        try:
            await self.listen()
        finally:
            await self.close()

    async def start(self) -> None:
        """Log in and start sending (every instance: each can send notifications)."""
        await self.login()
        self._load_state()
        self._sender = asyncio.create_task(self._send_loop(), name="matrix-send")

    async def listen(self) -> None:
        """The sync loop, only in the instance that owns the Matrix connection; it goes on
        from what the previous owner stored (its sync token, the events it handled)."""
        self._load_state()
        await self._sync_loop()

    async def close(self) -> None:
        if self._sender is not None:
            self._sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sender
            self._sender = None
        await self.client.close()

    def _load_state(self) -> None:
        self._room_ts = json.loads(self.state.get("room_ts") or "{}")
        self._direct_rooms = set(json.loads(self.state.get("direct_rooms") or "[]"))
        self._handled = dict.fromkeys(json.loads(self.state.get("handled") or "[]"))
        self._dm_rooms = json.loads(self.state.get("dm_rooms") or "{}")

    async def _sync_loop(self) -> None:
        token = self.state.get("sync_token")
        delay = 0.5
        while True:
            try:
                answer = await self.client.sync(
                    timeout=30000, sync_filter=self._filter, since=token
                )
            except Exception as error:  # a homeserver away: wait and try again
                log.warning("matrix sync failed (%s); retrying in %.1fs", error, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30)
                continue
            if not isinstance(answer, SyncResponse):
                log.warning("matrix sync error: %s; retrying in %.1fs", answer, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30)
                continue
            delay = 0.5
            try:
                await self._handle_sync(answer)
            except Exception:  # one bad event must not stop the bot; it is not handled twice
                log.exception("handling a Matrix sync failed")
            if token is None or self._has_events(answer):
                # off the loop: a held database must not stall the sync (nor Discord)
                await asyncio.to_thread(self.state.set, "sync_token", answer.next_batch)
            token = answer.next_batch
            self.sync_count += 1
            self.ready.set()

    @staticmethod
    def _has_events(answer: SyncResponse) -> bool:
        return bool(answer.rooms.invite) or any(
            info.timeline.events for info in answer.rooms.join.values()
        )

    # -- incoming ----------------------------------------------------------------------------

    def _allowed(self, room_id: str, inviter: str | None) -> bool:
        rooms, servers = self.settings.allowed_rooms, self.settings.allowed_servers
        if not rooms and not servers:
            return True
        server = inviter.split(":", 1)[1] if inviter and ":" in inviter else ""
        return room_id in rooms or server in servers

    async def _handle_sync(self, answer: SyncResponse) -> None:
        for room_id, info in answer.rooms.invite.items():
            invites = [e for e in info.invite_state if isinstance(e, InviteMemberEvent)]
            inviter = next((e.sender for e in invites), None)
            if any(
                e.content.get("is_direct") for e in invites if e.state_key == self.settings.user_id
            ):
                self._direct_rooms.add(room_id)
                rooms = json.dumps(sorted(self._direct_rooms))
                await asyncio.to_thread(self.state.set, "direct_rooms", rooms)
            if self._allowed(room_id, inviter):
                joined = await self.client.join(room_id)
                log.info("joined %s (invited by %s): %s", room_id, inviter, joined)
        for room_id, info in answer.rooms.join.items():
            events = list(info.timeline.events)
            if info.timeline.limited and info.timeline.prev_batch:
                events = await self._backfill(room_id, info.timeline.prev_batch) + events
            for event in events:
                await self._handle_event(room_id, event)

    async def _backfill(self, room_id: str, start: str) -> list[Any]:
        """Events a limited sync left out, back to the last one handled, oldest first."""
        found: list[Any] = []
        token: str | None = start
        for _ in range(20):
            answer = await self.client.room_messages(room_id, start=token or "", limit=500)
            if not isinstance(answer, RoomMessagesResponse) or not answer.chunk:
                break
            since = self._since(room_id)
            older = [e for e in answer.chunk if getattr(e, "server_timestamp", 0) >= since]
            found.extend(older)
            if len(older) < len(answer.chunk) or not answer.end:
                break
            token = answer.end
        return list(reversed(found))

    def _since(self, room_id: str) -> int:
        """Events older than this are history, not commands: in a room seen before, what came
        before the last event handled there; in a room new to the bot, what came more than
        NEW_ROOM_WINDOW before it first looked (a join replays the room's recent past)."""
        if room_id not in self._room_ts:
            self._room_ts[room_id] = int(time.time() * 1000) - NEW_ROOM_WINDOW_MS
        return self._room_ts[room_id]

    async def _seen(self, room_id: str, event: Any) -> bool:
        """True for an event already handled or from before; else mark it handled."""
        event_id = getattr(event, "event_id", "")
        stamp = int(getattr(event, "server_timestamp", 0))
        if event_id in self._handled or stamp < self._since(room_id):
            return True
        self._handled[event_id] = None
        while len(self._handled) > HANDLED_KEEP:
            self._handled.pop(next(iter(self._handled)))
        self._room_ts[room_id] = max(self._room_ts[room_id], stamp - 1)
        await asyncio.to_thread(
            self.state.set_many,
            {
                "handled": json.dumps(list(self._handled)[-200:]),
                "room_ts": json.dumps(self._room_ts),
            },
        )
        return False

    def _command_text(self, body: str) -> str | None:
        text = body.strip()
        if text.startswith(self.prefix):
            return text[len(self.prefix) :]
        localpart = self.settings.user_id.split(":")[0].lstrip("@")
        mention = re.match(
            rf"^(?:@?{re.escape(localpart)}(?::\S+)?|{re.escape(self.app.settings.community_name)})"
            r"\s*[:,]\s*(.+)$",
            text,
            re.IGNORECASE | re.DOTALL,
        )
        return mention.group(1) if mention else None

    async def _handle_event(self, room_id: str, event: Any) -> None:
        if getattr(event, "sender", None) == self.settings.user_id:
            return
        if isinstance(event, RoomMessageText):
            text = self._command_text(event.body)
            if text is None:
                if int(getattr(event, "server_timestamp", 0)) >= self._since(room_id):
                    # a discussion topic's room counts what is said in it (the core decides)
                    await self.app.dispatcher.place_message(self.platform, room_id, event.event_id)
                return
            if await self._seen(room_id, event):
                return
            await self._dispatch(room_id, event, text)
        elif isinstance(event, ReactionEvent):
            stored = await asyncio.to_thread(self.state.get, f"actions:{event.reacts_to}")
            actions = json.loads(stored or "{}")
            invocation = actions.get(event.key)
            if invocation is None or await self._seen(room_id, event):
                return
            await self._dispatch(room_id, event, invocation)

    def _is_direct(self, room_id: str) -> bool:
        """A direct conversation: one the bot made, or one it was invited to as direct."""
        return room_id in self._direct_rooms or room_id in self._dm_rooms.values()

    async def _dispatch(self, room_id: str, event: Any, text: str) -> None:
        room = self.client.rooms.get(room_id)
        name = room.user_name(event.sender) if room else None
        invocation = Invocation(
            platform=self.platform,
            user_id=event.sender,
            display_name=name or event.sender,
            text=text,
            place=room_id,
            is_direct=self._is_direct(room_id),
            event_id=event.event_id,  # handled once, by whichever instance claims it first
        )
        relates = event.source.get("content", {}).get("m.relates_to", {})

        async def answer(reply: Reply) -> None:
            thread = relates.get("event_id") if relates.get("rel_type") == "m.thread" else None
            target = room_id
            if reply.visibility is not Visibility.PUBLIC and not invocation.is_direct:
                target = await self.direct_room(event.sender)
                thread = None
            await self.send_reply(
                target,
                reply,
                txn_id=f"reply-{event.event_id}",
                thread_root=thread,
                in_reply_to=event.event_id,
                priority=0,
            )

        # the answer is sent (queued first) before the notifications the command queued
        await self.app.dispatcher.dispatch(invocation, answer)

    # -- outgoing ----------------------------------------------------------------------------

    async def _send_loop(self) -> None:
        while True:
            item = await self.queue.get()
            try:
                event_id = await self._send_now(item)
                if not item.done.done():
                    item.done.set_result(event_id)
            except Exception as error:
                log.exception("matrix send to %s failed", item.room_id)
                if not item.done.done():
                    item.done.set_exception(error)

    async def _send_now(self, item: Outgoing) -> str | None:
        delay = 1.0
        while True:
            try:
                answer = await self.client.room_send(
                    item.room_id, item.event_type, item.content, tx_id=item.txn_id
                )
            except (TimeoutError, OSError, aiohttp.ClientError) as error:
                log.warning("matrix send failed (%s); retrying in %.0fs", error, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30)
                continue
            if isinstance(answer, RoomSendResponse):
                return str(answer.event_id)
            if getattr(answer, "status_code", None) == "M_LIMIT_EXCEEDED":
                wait = (getattr(answer, "retry_after_ms", None) or 1000) / 1000
                log.info("rate limited by the homeserver; waiting %.2fs", wait)
                self.rate_limited += 1
                await asyncio.sleep(wait)
                continue
            log.warning("matrix send to %s refused: %s", item.room_id, answer)
            return None

    async def _enqueue(
        self,
        room_id: str,
        content: dict[str, Any],
        txn_id: str | None,
        priority: int,
        event_type: str = "m.room.message",
    ) -> str | None:
        self._sequence += 1
        done: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        await self.queue.put(
            Outgoing(priority, self._sequence, room_id, content, txn_id, done, event_type)
        )
        return await done

    async def _upload(self, attachment: Attachment) -> dict[str, Any] | None:
        answer, _keys = await self.client.upload(
            lambda *_: attachment.content,
            content_type=attachment.mimetype,
            filename=attachment.filename,
            filesize=len(attachment.content),
        )
        if not isinstance(answer, UploadResponse):
            log.warning("upload of %s failed: %s", attachment.filename, answer)
            return None
        info: dict[str, Any] = {"mimetype": attachment.mimetype, "size": len(attachment.content)}
        size = png_size(attachment.content)
        kind = "m.file"
        if attachment.mimetype == "image/png" and size:
            kind = "m.image"
            info["w"], info["h"] = size
        return {
            "msgtype": kind,
            "body": attachment.filename,
            "filename": attachment.filename,
            "url": answer.content_uri,
            "info": info,
        }

    async def send_reply(
        self,
        room_id: str,
        reply: Reply,
        *,
        txn_id: str | None = None,
        thread_root: str | None = None,
        in_reply_to: str | None = None,
        priority: int = 1,
    ) -> str | None:
        mentions: dict[str, str] = {}
        if reply.mentions:
            ids = self.state.platform_ids(list(reply.mentions))
            mentions = {user_id: user_id.split(":")[0].lstrip("@") for user_id in ids.values()}
        body, formatted = render(reply, self.prefix, mentions)
        content: dict[str, Any] = {
            "msgtype": "m.notice",
            "body": body,
            "format": "org.matrix.custom.html",
            "formatted_body": formatted,
        }
        if mentions:
            content["m.mentions"] = {"user_ids": list(mentions)}
        if thread_root:
            content["m.relates_to"] = {
                "rel_type": "m.thread",
                "event_id": thread_root,
                "is_falling_back": True,
                "m.in_reply_to": {"event_id": in_reply_to},
            }
        event_id = await self._enqueue(room_id, content, txn_id, priority)
        for index, attachment in enumerate(reply.attachments):
            file_content = await self._upload(attachment)
            if file_content is not None:
                if thread_root:
                    file_content["m.relates_to"] = content["m.relates_to"]
                await self._enqueue(
                    room_id, file_content, f"{txn_id}-file{index}" if txn_id else None, priority
                )
        if event_id and reply.tappable:
            actions = {action_emoji(i, a): a.invocation for i, a in enumerate(reply.tappable)}
            await asyncio.to_thread(self.state.set, f"actions:{event_id}", json.dumps(actions))
            for emoji in actions:
                await self._enqueue(
                    room_id,
                    {
                        "m.relates_to": {
                            "rel_type": "m.annotation",
                            "event_id": event_id,
                            "key": emoji,
                        }
                    },
                    f"{txn_id}-react-{emoji}" if txn_id else None,
                    priority,
                    "m.reaction",
                )
        return event_id

    async def direct_room(self, user_id: str) -> str:
        """The direct room with a member: created once, reused, marked in m.direct."""
        async with self._dm_lock:
            known = self._dm_rooms.get(user_id)
            if known:
                return known
            answer = await self.client.room_create(
                is_direct=True, preset=RoomPreset.trusted_private_chat, invite=[user_id]
            )
            if not isinstance(answer, RoomCreateResponse):
                raise RuntimeError(f"cannot create a direct room with {user_id}: {answer}")
            self._dm_rooms[user_id] = answer.room_id
            await asyncio.to_thread(self.state.set, "dm_rooms", json.dumps(self._dm_rooms))
            direct: dict[str, list[str]] = {}
            for user, room in self._dm_rooms.items():
                direct.setdefault(user, []).append(room)
            await self._put_direct(direct)
            return str(answer.room_id)

    async def _put_direct(self, direct: dict[str, list[str]]) -> None:
        """nio has no setter for the m.direct account data: PUT it ourselves."""
        path = f"/_matrix/client/v3/user/{quote(self.settings.user_id)}/account_data/m.direct"
        response = await self.client.send(
            "PUT",
            path,
            json.dumps(direct),
            headers={
                "Authorization": f"Bearer {self.client.access_token}",
                "Content-Type": "application/json",
            },
        )
        response.release()

    # -- the Notifier's side -------------------------------------------------------------------

    async def send_direct(
        self, platform_user_id: str, reply: Reply, key: str | None = None
    ) -> bool:
        room = await self.direct_room(platform_user_id)
        return await self.send_reply(room, reply, txn_id=key, priority=1) is not None

    async def send_to_place(self, place_id: str, reply: Reply, key: str | None = None) -> bool:
        return await self.send_reply(place_id, reply, txn_id=key, priority=1) is not None

    async def open_place(
        self, home_place_id: str, title: str, reply: Reply, platform_user_ids: list[str]
    ) -> str | None:
        """A discussion topic's room: private, named after it, its members invited."""
        answer = await self.client.room_create(
            name=title[:100],
            topic=reply.text[:300],
            preset=RoomPreset.private_chat,
            invite=[u for u in platform_user_ids if u != self.client.user_id],
        )
        if not isinstance(answer, RoomCreateResponse):
            log.warning("could not create a room for %r: %s", title, answer)
            return None
        await self.send_reply(answer.room_id, reply, priority=1)
        return str(answer.room_id)

    async def invite(
        self, place_id: str, platform_user_id: str, role_id: str = "", grant: bool = True
    ) -> bool:
        if not grant:
            # the member left the circle: out of its room too (the bot needs the power to kick)
            kicked = await self.client.room_kick(place_id, platform_user_id, reason="Samen")
            if type(kicked).__name__ != "RoomKickResponse":
                log.warning("could not remove %s from %s: %s", platform_user_id, place_id, kicked)
                return False
            return True
        answer = await self.client.room_invite(place_id, platform_user_id)
        return type(answer).__name__ == "RoomInviteResponse"
