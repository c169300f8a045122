"""A local stand-in for Discord's REST API and gateway, so that discord.py's own, unmodified
HTTP and gateway code runs in the tests (see shared/recipes/discord-offline.md).

It answers what the bot asks, records every request for the assertions, and lets a test push
gateway events such as INTERACTION_CREATE."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

APP_ID = "900000000000000001"
BOT_ID = "900000000000000002"
GUILD_ID = "900000000000000003"
CHANNEL_ID = "900000000000000004"
OWNER_ID = "900000000000000005"
ROLE_ID = "900000000000000006"
STAMP = "2027-01-04T09:00:00.000000+00:00"
_ids = itertools.count(910000000000000000)


def snowflake() -> str:
    return str(next(_ids))


def user(user_id: str, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {
        "id": user_id,
        "username": name,
        "discriminator": "0",
        "global_name": name,
        "avatar": None,
        "bot": bot,
        "public_flags": 0,
        "flags": 0,
    }


def member(user_id: str, name: str) -> dict[str, Any]:
    return {
        "user": user(user_id, name),
        "roles": [],
        "joined_at": STAMP,
        "deaf": False,
        "mute": False,
        "flags": 0,
        "nick": None,
        "permissions": "2147483647",
    }


def channel(channel_id: str, name: str = "general") -> dict[str, Any]:
    return {
        "id": channel_id,
        "type": 0,
        "name": name,
        "position": 0,
        "guild_id": GUILD_ID,
        "permission_overwrites": [],
        "nsfw": False,
        "parent_id": None,
        "topic": None,
        "rate_limit_per_user": 0,
        "last_message_id": None,
        "flags": 0,
    }


def slash(group: str, sub: str | None, options: list[dict[str, Any]]) -> dict[str, Any]:
    """The data of a slash command interaction: ``/group sub`` (or ``/group``) with options."""
    if sub is None:
        return {"id": snowflake(), "name": group, "type": 1, "options": options}
    return {
        "id": snowflake(),
        "name": group,
        "type": 1,
        "options": [{"name": sub, "type": 1, "options": options}],
    }


def opt(name: str, value: Any, kind: int = 3) -> dict[str, Any]:
    """One option of a slash command (kind 3: a string)."""
    return {"name": name, "type": kind, "value": value}


def json_response(data: Any, status: int = 200) -> web.Response:
    # discord.py decodes JSON only with exactly this content type (no charset)
    return web.Response(
        body=json.dumps(data).encode(), status=status, headers={"Content-Type": "application/json"}
    )


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: Any


@dataclass
class StandIn:
    members: dict[str, str] = field(default_factory=lambda: {OWNER_ID: "owner"})
    requests: list[Request] = field(default_factory=list)
    closed_dms: set[str] = field(default_factory=set)  # users whose DMs answer 403
    dm_channels: dict[str, str] = field(default_factory=dict)  # channel id → user id
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: dict[str, dict[str, Any]] = field(default_factory=dict)  # scheduled events
    threads: dict[str, dict[str, Any]] = field(default_factory=dict)  # thread id → thread
    thread_members: dict[str, set[str]] = field(default_factory=dict)  # thread id → users
    application_id: str = APP_ID
    port: int = 0
    ws: web.WebSocketResponse | None = None
    identified: asyncio.Event = field(default_factory=asyncio.Event)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    sequence: int = 0
    gateways: int = 0  # how many gateway connections were opened
    runner: web.AppRunner | None = None

    # -- the server -------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/gateway", self.gateway)
        app.router.add_route("*", "/api/v10/{tail:.*}", self.rest)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self.ws is not None and not self.ws.closed:
            await self.ws.close()
        if self.runner is not None:
            await self.runner.cleanup()

    async def _body(self, request: web.Request) -> Any:
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            payload = form.get("payload_json")
            body = json.loads(str(payload)) if payload else {}
            body["__files__"] = [name for name in form if name.startswith("files[")]
            body["__file_texts__"] = {
                part.filename: part.file.read().decode("utf-8", "replace")
                for name, part in form.items()
                if name.startswith("files[") and isinstance(part, web.FileField)
            }
            return body
        text = await request.text()
        return json.loads(text) if text else None

    def message(self, channel_id: str, body: dict[str, Any], *, flags: int = 0) -> dict[str, Any]:
        message: dict[str, Any] = {
            "id": snowflake(),
            "channel_id": channel_id,
            "author": user(BOT_ID, "samen", bot=True),
            "content": body.get("content") or "",
            "timestamp": STAMP,
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": body.get("embeds") or [],
            "pinned": False,
            "type": 0,
            "components": body.get("components") or [],
            "flags": flags,
        }
        self.messages[str(message["id"])] = message
        return message

    async def rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        body = await self._body(request)
        self.requests.append(Request(request.method, path, dict(request.query), body))
        self.changed.set()
        parts = path.strip("/").split("/")
        method = request.method
        if path == "/users/@me":
            return json_response(user(BOT_ID, "samen", bot=True))
        if path == "/oauth2/applications/@me":
            return json_response(
                {
                    "id": self.application_id,
                    "name": "Samen",
                    "icon": None,
                    "description": "",
                    "bot_public": True,
                    "bot_require_code_grant": False,
                    "owner": user(OWNER_ID, "owner"),
                    "verify_key": "k",
                    "flags": 0,
                    "team": None,
                }
            )
        if path == "/gateway/bot":
            return json_response(
                {
                    "url": f"ws://127.0.0.1:{self.port}/gateway",
                    "shards": 1,
                    "session_start_limit": {
                        "total": 1000,
                        "remaining": 1000,
                        "reset_after": 0,
                        "max_concurrency": 1,
                    },
                }
            )
        if parts[0] == "applications" and parts[-1] == "commands" and method == "PUT":
            return json_response(
                [
                    {
                        **command,
                        "id": snowflake(),
                        "application_id": APP_ID,
                        "version": "1",
                        "default_member_permissions": None,
                        "type": command.get("type", 1),
                    }
                    for command in body
                ]
            )
        if parts[0] == "interactions" and parts[-1] == "callback":
            kind = body["type"]
            answer: dict[str, Any] = {"interaction": {"id": parts[1], "type": 2}}
            if kind in (4, 5, 7):
                flags = (body.get("data") or {}).get("flags") or 0
                message = self.message(CHANNEL_ID, body.get("data") or {}, flags=flags)
                answer["interaction"]["response_message_id"] = message["id"]
                answer["interaction"]["response_message_ephemeral"] = bool(flags & 64)
                answer["interaction"]["response_message_loading"] = kind == 5
                answer["resource"] = {"type": kind, "message": message}
                body["__message_id__"] = message["id"]  # what a later click is on
            else:
                answer["resource"] = {"type": kind}
            return json_response(answer)
        if parts[0] == "webhooks":
            return json_response(self.message(CHANNEL_ID, body or {}))
        if path == "/users/@me/channels" and method == "POST":
            recipient = str(body["recipient_id"])
            channel_id = next(
                (c for c, u in self.dm_channels.items() if u == recipient), snowflake()
            )
            self.dm_channels[channel_id] = recipient
            return json_response(
                {
                    "id": channel_id,
                    "type": 1,
                    "last_message_id": None,
                    "recipients": [user(recipient, self.members.get(recipient, "x"))],
                }
            )
        if parts[0] == "users" and len(parts) == 2 and method == "GET":
            return json_response(user(parts[1], self.members.get(parts[1], "someone")))
        if parts[0] == "channels" and len(parts) == 2 and method == "GET":
            return json_response(self.threads.get(parts[1]) or channel(parts[1]))
        if parts[0] == "channels" and len(parts) == 3 and parts[2] == "threads":
            thread_id = snowflake()
            self.threads[thread_id] = {
                **channel(thread_id, body["name"]),
                "type": body.get("type", 11),
                "parent_id": parts[1],
                "owner_id": BOT_ID,
                "member_count": 1,
                "message_count": 0,
                "thread_metadata": {
                    "archived": False,
                    "auto_archive_duration": body.get("auto_archive_duration", 1440),
                    "archive_timestamp": "2027-01-01T00:00:00+00:00",
                    "locked": False,
                },
            }
            return json_response(self.threads[thread_id], status=201)
        if parts[0] == "channels" and len(parts) == 4 and parts[2] == "thread-members":
            self.thread_members.setdefault(parts[1], set()).add(parts[3])
            return web.Response(status=204)
        if parts[0] == "guilds" and len(parts) == 6 and parts[4] == "roles":
            return web.Response(status=204)
        if parts[0] == "guilds" and parts[2] == "scheduled-events":
            if method == "DELETE":
                self.events.pop(parts[3], None)
                return web.Response(status=204)
            event_id = parts[3] if len(parts) > 3 else snowflake()
            self.events[event_id] = {**self.events.get(event_id, {}), **(body or {})}
            return json_response(
                {
                    "id": event_id,
                    "guild_id": GUILD_ID,
                    "creator_id": BOT_ID,
                    "status": 1,
                    "entity_id": None,
                    "channel_id": None,
                    "user_count": 0,
                    "image": None,
                    **self.events[event_id],
                }
            )
        if parts[0] == "channels" and parts[-1] == "messages" and method == "POST":
            if self.dm_channels.get(parts[1]) in self.closed_dms:
                return json_response(
                    {"code": 50007, "message": "Cannot send messages to this user"}, status=403
                )
            return json_response(self.message(parts[1], body or {}))
        return json_response(
            {"code": 0, "message": f"not in the stand-in: {method} {path}"}, status=404
        )

    async def gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.ws = ws
        self.gateways += 1
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": 45000}})
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                break
            data = json.loads(message.data)
            if data["op"] == 1:
                await ws.send_json({"op": 11})
            elif data["op"] == 2:
                await self.dispatch(
                    "READY",
                    {
                        "v": 10,
                        "user": user(BOT_ID, "samen", bot=True),
                        "guilds": [{"id": GUILD_ID, "unavailable": True}],
                        "session_id": "session",
                        "resume_gateway_url": f"ws://127.0.0.1:{self.port}/gateway",
                        "application": {"id": APP_ID, "flags": 0},
                        "private_channels": [],
                        "relationships": [],
                        "presences": [],
                        "shard": [0, 1],
                    },
                )
                await self.dispatch("GUILD_CREATE", self.guild())
                self.identified.set()
        return ws

    def guild(self) -> dict[str, Any]:
        return {
            "id": GUILD_ID,
            "name": "Coop",
            "icon": None,
            "splash": None,
            "owner_id": OWNER_ID,
            "roles": [
                {
                    "id": ROLE_ID,
                    "name": "sound-circle",
                    "permissions": "0",
                    "position": 1,
                    "color": 0,
                    "hoist": False,
                    "managed": False,
                    "mentionable": True,
                    "flags": 0,
                },
                {
                    "id": GUILD_ID,
                    "name": "@everyone",
                    "permissions": "2147483647",
                    "position": 0,
                    "color": 0,
                    "hoist": False,
                    "managed": False,
                    "mentionable": False,
                    "flags": 0,
                },
            ],
            "emojis": [],
            "stickers": [],
            "features": [],
            "channels": [channel(CHANNEL_ID)],
            "threads": [],
            "members": [member(uid, name) for uid, name in self.members.items()],
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "member_count": len(self.members),
            "large": False,
            "unavailable": False,
            "joined_at": STAMP,
            "premium_tier": 0,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "system_channel_flags": 0,
            "preferred_locale": "nl",
            "nsfw_level": 0,
            "afk_timeout": 300,
        }

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        assert self.ws is not None
        self.sequence += 1
        await self.ws.send_json({"op": 0, "t": event, "s": self.sequence, "d": data})

    # -- what a test does ------------------------------------------------------------------

    def interaction(
        self,
        kind: int,
        data: dict[str, Any],
        user_id: str,
        *,
        locale: str = "en-US",
        message: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        payload = {
            "id": snowflake(),
            "application_id": APP_ID,
            "type": kind,
            "data": data,
            "guild_id": GUILD_ID,
            "channel_id": CHANNEL_ID,
            "channel": channel(CHANNEL_ID),
            "member": member(user_id, self.members.get(user_id, "someone")),
            "token": f"token-{snowflake()}",
            "version": 1,
            "locale": locale,
            "guild_locale": "nl",
            "attachment_size_limit": 10485760,
            "app_permissions": "2147483647",
            "entitlements": [],
            "authorizing_integration_owners": {"0": GUILD_ID},
            "context": 0,
        }
        if message is not None:
            payload["message"] = message
        return payload

    async def push(self, payload: dict[str, Any]) -> None:
        await self.dispatch("INTERACTION_CREATE", payload)

    async def answer_to(self, payload: dict[str, Any], timeout: float = 10) -> Request:
        """The callback request the bot sent for an interaction (type 4, 5, 8, 9…)."""
        path = f"/interactions/{payload['id']}/{payload['token']}/callback"
        return await self.wait_request(lambda request: request.path == path, timeout)

    async def wait_request(self, predicate: Any, timeout: float = 10) -> Request:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for request in self.requests:
                if predicate(request):
                    return request
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("the bot did not send the expected request")
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), 0.5)
