"""Benchmark: the Matrix round trip of a command through Samen, beside a bare echo bot.

One Synapse on 127.0.0.1 (SQLite, no rate limits) in a temporary directory, with three
bots' worth of users: Samen (its MatrixAdapter run as ``samen run`` does, through
``tests.matrix_helpers.running_bot``), a bare matrix-nio echo bot that answers ``!ping`` with
an ``m.notice`` ``pong`` (the floor: what any Matrix bot on this machine costs), and members.
A member times each command from just before ``room_send`` until its own client's sync (a
long poll that returns as soon as events arrive) delivers the bot's notice in that room:

* pass 1 — N sequential ``!ping`` to the echo bot, then N sequential ``!profile show`` to Samen;
* pass 2 — the same, the bots taking turns in blocks of 10 (``--block``), which cancels slow
  drift (other work on the machine) without making one bot pay for the other's trailing work
  (its sync that brings back its own reply, its writes), as strict alternation would;
* burst — B ``!profile show`` from 5 members at once (B/5 each, every member sending its
  commands back to back without waiting for answers), and the same burst of ``!ping`` to the
  echo bot, in ``--burst-rounds`` rounds (2: Samen first, then the echo bot first); the time
  from the first send until every answer has been seen;
* breakdown — a pass with timestamps on both bots (event ``origin_server_ts`` → the bot's
  sync returns → handler → dispatch → ``room_send``) and the CPU both processes spent;
* ``--profile`` — one more Samen pass under cProfile (the whole process: bot and client).

The issue's target: Samen's p50 ≤ 1.2 × the echo bot's p50.

Run from the repository root (Synapse in its own virtual environment):

    SAMEN_SYNAPSE_PYTHON=/path/to/synapse-venv/bin/python \\
        .venv/bin/python bench/matrix_roundtrip.py [--count 200] [--burst 100] [--burst-rounds 2]
            [--warmup 10] [--block 10] [--breakdown 100] [--profile]

This is a benchmark, not a test: it never fails a build, it prints figures.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import cProfile
import importlib.metadata
import logging
import os
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# bench/ holds files named like the project's packages (bench/scheduler.py): the repository
# root must come before bench/ (the script's directory, which Python puts first).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() not in (ROOT, ROOT / "bench")]
sys.path.insert(0, str(ROOT))

from nio import (  # noqa: E402
    AsyncClient,
    AsyncClientConfig,
    InviteMemberEvent,
    MatrixRoom,
    RoomMessageText,
    RoomSendResponse,
    SyncResponse,
)

from adapters.matrix import MatrixAdapter  # noqa: E402
from bench.kit import (  # noqa: E402
    Targets,
    add_smoke,
    apply_smoke,
    machine_info,
    percentile,
    short_path,
    verdict,
)
from tests.matrix_helpers import Member, running_bot  # noqa: E402
from tests.synapse_server import Synapse, User, synapse_python  # noqa: E402

TARGET_RATIO = 1.2
SHOW = "!profile show"
PING = "!ping"
# What the members' clients and the echo bot ask of a sync: messages only, and enough of them
# (Synapse's default of 10 per room per sync silently drops commands in a burst).
FILTER: dict[str, Any] = {
    "room": {
        "timeline": {"limit": 1000, "types": ["m.room.message"]},
        "ephemeral": {"types": []},
    },
    "presence": {"types": []},
}
LONG_POLL_MS = 30_000
REPLY_TIMEOUT_S = 60.0


async def cancel(task: asyncio.Task[Any] | None) -> None:
    """Cancel a sync loop's task (if it runs) and wait until it has stopped."""
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def clock() -> float:
    return time.perf_counter()


# -- statistics ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stats:
    name: str
    latencies: tuple[float, ...]  # sorted, seconds

    @classmethod
    def of(cls, name: str, latencies: Sequence[float]) -> Stats:
        return cls(name, tuple(sorted(latencies)))

    @property
    def count(self) -> int:
        return len(self.latencies)

    def pct(self, p: float) -> float:
        """The p-th percentile (nearest rank), in milliseconds."""
        return percentile(self.latencies, p) * 1000

    @property
    def max_ms(self) -> float:
        return self.latencies[-1] * 1000 if self.latencies else float("nan")

    @property
    def mean_ms(self) -> float:
        return statistics.fmean(self.latencies) * 1000 if self.latencies else float("nan")


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


# -- the member's side -----------------------------------------------------------------------


@dataclass
class Notice:
    room_id: str
    sender: str
    body: str
    event_id: str
    server_ts: int  # origin_server_ts, ms
    seen: float  # clock() when the member's sync delivered it
    seen_wall: float  # time.time() at the same moment


@dataclass
class Sent:
    event_id: str
    start: float  # clock() just before room_send
    start_wall: float
    done_wall: float  # room_send answered


class Listener:
    """A member's client with a sync loop always running, as a real client has: each notice
    from a bot resolves the oldest future waiting for a notice from that bot in that room."""

    def __init__(self, member: Member):
        self.member = member
        self.client = member.client
        self.token: str | None = None
        self.waiters: dict[tuple[str, str], collections.deque[asyncio.Future[Notice]]] = {}
        self.task: asyncio.Task[None] | None = None
        self.limited = 0

    async def start(self) -> None:
        answer = await self.client.sync(timeout=0, sync_filter=FILTER)
        if not isinstance(answer, SyncResponse):
            raise RuntimeError(f"{self.member.user.user_id}: first sync failed: {answer}")
        self.token = answer.next_batch
        self.task = asyncio.create_task(self._loop(), name=f"sync-{self.member.user.user_id}")

    async def stop(self) -> None:
        await cancel(self.task)
        await self.member.close()

    def expect(self, room_id: str, sender: str) -> asyncio.Future[Notice]:
        future: asyncio.Future[Notice] = asyncio.get_running_loop().create_future()
        self.waiters.setdefault((room_id, sender), collections.deque()).append(future)
        return future

    async def _loop(self) -> None:
        while True:
            try:
                answer = await self.client.sync(
                    timeout=LONG_POLL_MS, since=self.token, sync_filter=FILTER
                )
            except Exception:
                await asyncio.sleep(0.2)
                continue
            seen, seen_wall = clock(), time.time()
            if not isinstance(answer, SyncResponse):
                await asyncio.sleep(0.2)
                continue
            self.token = answer.next_batch
            for room_id, info in answer.rooms.join.items():
                if info.timeline.limited:
                    self.limited += 1
                for event in info.timeline.events:
                    source = event.source
                    content = source.get("content", {})
                    if content.get("msgtype") != "m.notice":
                        continue
                    queue = self.waiters.get((room_id, source.get("sender", "")))
                    if not queue:
                        continue
                    future = queue.popleft()
                    if not future.done():
                        future.set_result(
                            Notice(
                                room_id,
                                source["sender"],
                                content.get("body", ""),
                                source.get("event_id", ""),
                                int(source.get("origin_server_ts", 0)),
                                seen,
                                seen_wall,
                            )
                        )

    async def send(self, room_id: str, body: str) -> Sent:
        start, start_wall = clock(), time.time()
        answer = await self.client.room_send(
            room_id, "m.room.message", {"msgtype": "m.text", "body": body}
        )
        if not isinstance(answer, RoomSendResponse):
            raise RuntimeError(f"{self.member.user.user_id} could not send {body!r}: {answer}")
        return Sent(str(answer.event_id), start, start_wall, time.time())

    async def round_trip(self, room_id: str, bot: str, body: str) -> tuple[Sent, Notice]:
        future = self.expect(room_id, bot)
        sent = await self.send(room_id, body)
        notice = await asyncio.wait_for(future, REPLY_TIMEOUT_S)
        return sent, notice


# -- probes: timestamps and request counts on a bot's side (the breakdown pass only) ---------


def _request_kind(method: str, path: str) -> str:
    """`GET sync`, `PUT rooms/*/send`, …: a request's kind, without ids."""
    parts = [p for p in path.split("?", 1)[0].split("/") if p]
    for version in ("v3", "r0", "v1"):
        if version in parts:
            parts = parts[parts.index(version) + 1 :]
            break
    if parts and parts[0] == "rooms" and len(parts) > 2:
        return f"{method} rooms/*/{parts[2]}"
    return f"{method} {parts[0] if parts else path}"


class TransportProbe:
    """Wraps a nio client's transport (`AsyncClient.send`): counts requests by kind and notes
    when the homeserver answered the last /sync (before nio parses it and runs handlers)."""

    def __init__(self, client: AsyncClient):
        self.client = client
        self.last_sync = 0.0
        self.requests: collections.Counter[str] = collections.Counter()

    def install(self) -> None:
        send = self.client.send

        async def wrapped(method: str, path: str, *args: Any, **kwargs: Any) -> Any:
            answer = await send(method, path, *args, **kwargs)
            kind = _request_kind(method, path)
            if kind == "GET sync":
                self.last_sync = time.time()
            self.requests[kind] += 1
            return answer

        setattr(self.client, "send", wrapped)  # noqa: B010 (an instance attribute, undone below)

    def remove(self) -> None:
        if "send" in vars(self.client):
            delattr(self.client, "send")


@dataclass
class BotTrace:
    """Wall-clock seconds on the bot's side of one command (NaN where a bot has no such step)."""

    server_ts: float  # the command's origin_server_ts
    sync_answered: float
    handler_start: float
    dispatch_start: float = float("nan")
    dispatch_done: float = float("nan")
    send_start: float = float("nan")
    send_done: float = float("nan")


@dataclass
class SamenProbe:
    """Timestamps inside Samen's adapter, by wrapping methods of the running instances (no
    project code changes): handler, dispatch, and the reply's room_send."""

    adapter: MatrixAdapter
    transport: TransportProbe = field(init=False)
    traces: dict[str, BotTrace] = field(default_factory=dict)
    current: str | None = None

    def __post_init__(self) -> None:
        self.transport = TransportProbe(self.adapter.client)

    def install(self) -> None:
        adapter, traces = self.adapter, self.traces
        handle_event = adapter._handle_event
        dispatch_event = adapter._dispatch
        dispatcher = adapter.app.dispatcher
        run = dispatcher.run  # the core's part; the answer is sent, then the notifications
        room_send = adapter.client.room_send

        async def traced_handle_event(room_id: str, event: Any) -> None:
            if isinstance(event, RoomMessageText) and event.sender != adapter.settings.user_id:
                traces[event.event_id] = BotTrace(
                    event.server_timestamp / 1000, self.transport.last_sync, time.time()
                )
                self.current = event.event_id
            await handle_event(room_id, event)

        async def traced_dispatch_event(room_id: str, event: Any, text: str) -> None:
            trace = traces.get(event.event_id)
            if trace is not None:
                trace.dispatch_start = time.time()
            await dispatch_event(room_id, event, text)

        async def traced_dispatch(invocation: Any) -> Any:
            reply = await run(invocation)
            trace = traces.get(self.current or "")
            if trace is not None:
                trace.dispatch_done = time.time()
            return reply

        async def traced_room_send(
            room_id: str, message_type: str, content: dict[str, Any], *args: Any, **kwargs: Any
        ) -> Any:
            tx_id = str(kwargs.get("tx_id") or "")
            trace = traces.get(tx_id.removeprefix("reply-")) if tx_id.startswith("reply-") else None
            if trace is not None:
                trace.send_start = time.time()
            answer = await room_send(room_id, message_type, content, *args, **kwargs)
            if trace is not None:
                trace.send_done = time.time()
            return answer

        setattr(adapter, "_handle_event", traced_handle_event)  # noqa: B010
        setattr(adapter, "_dispatch", traced_dispatch_event)  # noqa: B010
        setattr(dispatcher, "run", traced_dispatch)  # noqa: B010
        setattr(adapter.client, "room_send", traced_room_send)  # noqa: B010
        self.transport.install()

    def remove(self) -> None:
        for owner, name in (
            (self.adapter, "_handle_event"),
            (self.adapter, "_dispatch"),
            (self.adapter.app.dispatcher, "run"),
            (self.adapter.client, "room_send"),
        ):
            if name in vars(owner):
                delattr(owner, name)
        self.transport.remove()


# -- the floor: a bare matrix-nio echo bot ---------------------------------------------------


class EchoBot:
    """The minimal bot: restore_login, sync_forever, join invites, answer `!ping` with an
    m.notice `pong` in the same room. Its only extra is FILTER (a large timeline, no presence),
    without which Synapse drops commands from a burst."""

    def __init__(self, synapse: Synapse, user: User):
        self.user_id = user.user_id
        self.client = AsyncClient(
            synapse.url,
            user.user_id,
            config=AsyncClientConfig(
                max_limit_exceeded=0,
                max_timeouts=0,
                encryption_enabled=False,
                store_sync_tokens=False,
            ),
        )
        self.client.restore_login(user.user_id, user.device_id, user.access_token)
        self.client.add_event_callback(self._on_invite, InviteMemberEvent)
        self.client.add_event_callback(self._on_message, RoomMessageText)
        self.client.add_response_callback(self._on_sync, SyncResponse)
        self.syncs = 0
        self.task: asyncio.Task[None] | None = None
        self.transport = TransportProbe(self.client)
        self.traces: dict[str, BotTrace] | None = None  # by command event id, while tracing

    async def _on_invite(self, room: MatrixRoom, event: InviteMemberEvent) -> None:
        if event.state_key == self.user_id and event.membership == "invite":
            await self.client.join(room.room_id)

    async def _on_sync(self, _answer: SyncResponse) -> None:
        self.syncs += 1

    async def _on_message(self, room: MatrixRoom, event: RoomMessageText) -> None:
        if event.sender == self.user_id or event.body.strip() != PING:
            return
        trace = None
        if self.traces is not None:
            trace = BotTrace(event.server_timestamp / 1000, self.transport.last_sync, time.time())
            trace.send_start = trace.dispatch_start = trace.dispatch_done = trace.handler_start
            self.traces[event.event_id] = trace
        await self.client.room_send(
            room.room_id, "m.room.message", {"msgtype": "m.notice", "body": "pong"}
        )
        if trace is not None:
            trace.send_done = time.time()

    def start(self) -> None:
        self.task = asyncio.create_task(
            self.client.sync_forever(timeout=LONG_POLL_MS, sync_filter=FILTER), name="echo-bot"
        )

    def trace(self, on: bool) -> None:
        if on:
            self.traces = {}
            self.transport.requests.clear()
            self.transport.install()
        else:
            self.transport.remove()

    async def stop(self) -> None:
        await cancel(self.task)
        await self.client.close()


# -- measuring -------------------------------------------------------------------------------


class Env:
    """What running_bot needs of pytest's monkeypatch: setenv (undone at the end)."""

    def __init__(self) -> None:
        self.saved: dict[str, str | None] = {}

    def setenv(self, name: str, value: str) -> None:
        self.saved.setdefault(name, os.environ.get(name))
        os.environ[name] = value

    def undo(self) -> None:
        for name, value in self.saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@dataclass
class Cpu:
    """CPU seconds of this process (bots and clients) and of the Synapse process."""

    own: float
    synapse: float

    @classmethod
    def now(cls, synapse: Synapse) -> Cpu:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        server = float("nan")
        if synapse.process is not None:
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = Path(f"/proc/{synapse.process.pid}/stat").read_text()
                fields = stat.rsplit(")", 1)[1].split()
                server = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return cls(usage.ru_utime + usage.ru_stime, server)

    def __sub__(self, other: Cpu) -> Cpu:
        return Cpu(self.own - other.own, self.synapse - other.synapse)

    def __add__(self, other: Cpu) -> Cpu:
        return Cpu(self.own + other.own, self.synapse + other.synapse)


@dataclass
class Target:
    """A room with a bot, as one member sees it."""

    listener: Listener
    room_id: str
    bot: str
    body: str

    async def round_trip(self) -> tuple[Sent, Notice]:
        return await self.listener.round_trip(self.room_id, self.bot, self.body)


@dataclass
class Pass:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    cpu: dict[str, Cpu] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    samples: dict[str, list[tuple[Sent, Notice]]] = field(default_factory=dict)


async def sequential(
    targets: dict[str, Target], count: int, synapse: Synapse, *, block: int = 0
) -> Pass:
    """`count` round trips to each target, in blocks of `block` commands taking turns (0: all
    of one target, then all of the next; 1: strictly alternating). A bot's trailing work (its
    sync that brings back its own reply, its state writes) overlaps the next command, which
    is another bot's in the first command of each block; CPU is counted per block."""
    result = Pass()
    for name in targets:
        result.latencies[name] = []
        result.samples[name] = []
        result.cpu[name] = Cpu(0.0, 0.0)
        result.seconds[name] = 0.0
    size = block or count
    order: list[str] = []
    for first in range(0, count, size):
        for name in targets:
            order.extend([name] * min(size, count - first))
    segment: str | None = None
    cpu_start, started = Cpu.now(synapse), clock()
    for name in [*order, ""]:
        if name != segment:
            if segment is not None:
                result.cpu[segment] = result.cpu[segment] + (Cpu.now(synapse) - cpu_start)
                result.seconds[segment] += clock() - started
            segment, cpu_start, started = name, Cpu.now(synapse), clock()
        if not name:
            break
        sent, notice = await targets[name].round_trip()
        result.latencies[name].append(notice.seen - sent.start)
        result.samples[name].append((sent, notice))
    return result


@dataclass
class Burst:
    name: str
    commands: int
    members: int
    all_sent: float  # seconds from the first send
    all_answered: float
    latencies: Stats
    cpu: Cpu
    round: int = 1
    bot_syncs: int = 0  # the /sync answers the bot handled during the burst


async def burst(name: str, targets: Sequence[Target], total: int, synapse: Synapse) -> Burst:
    """`total` commands from the targets' members at once, each member sending its share back
    to back (as a client sends one message after another) without waiting for answers."""
    shares = [
        total // len(targets) + (1 if i < total % len(targets) else 0) for i in range(len(targets))
    ]
    futures = [
        [target.listener.expect(target.room_id, target.bot) for _ in range(share)]
        for target, share in zip(targets, shares, strict=True)
    ]
    cpu = Cpu.now(synapse)
    started = clock()

    async def send_all(target: Target, share: int) -> list[Sent]:
        return [await target.listener.send(target.room_id, target.body) for _ in range(share)]

    sends = await asyncio.gather(
        *(send_all(target, share) for target, share in zip(targets, shares, strict=True))
    )
    all_sent = clock() - started
    notices = await asyncio.wait_for(
        asyncio.gather(*(asyncio.gather(*member) for member in futures)), REPLY_TIMEOUT_S * 2
    )
    used = Cpu.now(synapse) - cpu
    last = max(notice.seen for member in notices for notice in member)
    latencies = [
        notice.seen - sent.start
        for member_sends, member_notices in zip(sends, notices, strict=True)
        for sent, notice in zip(member_sends, member_notices, strict=True)
    ]
    return Burst(
        name, total, len(targets), all_sent, last - started, Stats.of(name, latencies), used
    )


async def wait_joined(listener: Listener, room_id: str, user_id: str, limit: float = 30) -> None:
    deadline = clock() + limit
    while clock() < deadline:
        answer = await listener.client.joined_members(room_id)
        if any(m.user_id == user_id for m in getattr(answer, "members", [])):
            return
        await asyncio.sleep(0.05)
    raise RuntimeError(f"{user_id} did not join {room_id} in {limit}s")


async def open_room(listener: Listener, bot: str, body: str) -> Target:
    room_id = await listener.member.room_with(bot, direct=True)
    await wait_joined(listener, room_id, bot)
    return Target(listener, room_id, bot, body)


# -- the breakdown ---------------------------------------------------------------------------

STAGES = (
    ("member room_send → command's origin_server_ts", "start", "server_ts"),
    ("origin_server_ts → bot's /sync answered", "server_ts", "sync_answered"),
    ("/sync answered → handler starts (nio parse, earlier events)", "sync_answered", "handler"),
    ("handler → dispatch starts (dedupe, state writes)", "handler", "dispatch_start"),
    ("dispatch (the core: `Dispatcher.dispatch`)", "dispatch_start", "dispatch_done"),
    ("dispatch done → reply's room_send starts (render, queue)", "dispatch_done", "send_start"),
    ("bot's room_send (PUT until Synapse answers)", "send_start", "send_done"),
    ("room_send answered → member's sync delivers the reply", "send_done", "seen"),
    ("total", "start", "seen"),
)


def stage_times(samples: Sequence[tuple[Sent, Notice]], traces: dict[str, BotTrace]) -> list[float]:
    """The median of each stage (ms) over the samples traced on the bot's side."""
    columns: list[list[float]] = [[] for _ in STAGES]
    for sent, notice in samples:
        trace = traces.get(sent.event_id)
        if trace is None:
            continue
        stamps = {
            "start": sent.start_wall,
            "server_ts": trace.server_ts,
            "sync_answered": trace.sync_answered,
            "handler": trace.handler_start,
            "dispatch_start": trace.dispatch_start,
            "dispatch_done": trace.dispatch_done,
            "send_start": trace.send_start,
            "send_done": trace.send_done,
            "seen": notice.seen_wall,
        }
        for column, (_label, begin, end) in zip(columns, STAGES, strict=True):
            value = (stamps[end] - stamps[begin]) * 1000
            if value == value:  # not NaN
                column.append(value)
    return [median(column) for column in columns]


# -- cProfile --------------------------------------------------------------------------------


def _area(file: str, func: str) -> str:
    if file == "~":
        if "sqlite3" in func:
            return "sqlite3 (C calls)"
        if "poll" in func or "select" in func:
            return "event loop: waiting in epoll"
        return "other C builtins"
    if str(ROOT) in file and "/.venv/" not in file:
        if "/tests/" in file or "/bench/" in file:
            return "benchmark and test helpers (the members)"
        return "Samen (adapters/, bot/, commands/, storage/)"
    for marker, area in (
        ("/sqlalchemy/", "SQLAlchemy"),
        ("/sqlmodel/", "SQLAlchemy"),
        ("/nio/", "matrix-nio"),
        ("/aiohttp/", "aiohttp, yarl, multidict"),
        ("/yarl/", "aiohttp, yarl, multidict"),
        ("/multidict/", "aiohttp, yarl, multidict"),
        ("/asyncio/", "asyncio"),
        ("/json/", "json"),
        ("/jsonschema/", "jsonschema (nio validates every response)"),
        ("/pydantic", "pydantic"),
        ("/babel/", "babel"),
        ("/logging/", "logging"),
    ):
        if marker in file:
            return area
    return "other Python"


def print_profile(stats: pstats.Stats, wall: float, commands: int, top: int = 30) -> None:
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    areas: collections.Counter[str] = collections.Counter()
    rows = []
    for (file, line, func), (_cc, calls, own, cum, _callers) in raw.items():
        areas[_area(file, func)] += own
        rows.append((cum, own, calls, f"{func} ({short_path(file)}:{line})", file))
    idle = sum(own for area, own in areas.items() if area.startswith("event loop: waiting"))
    busy = sum(areas.values()) - idle
    print(f"\n### cProfile of a Samen pass ({commands} sequential `{SHOW}`, {wall:.2f} s wall)\n")
    print(
        f"This process was busy {busy:.2f} s of {wall:.2f} s, waiting in epoll {idle:.2f} s "
        f"({busy / commands * 1000:.2f} ms busy per command: Samen, the idle echo bot and the "
        "member's client, all slowed down by cProfile).\n"
    )
    print("| where the process's own time went | s | ms per command | share of busy |")
    print("|---|---:|---:|---:|")
    for area, own in areas.most_common():
        if area.startswith("event loop: waiting"):
            continue
        print(f"| {area} | {own:.3f} | {own / commands * 1000:.2f} | {own / busy:.1%} |")
    print(f"\n#### top {top} by cumulative time (Samen's code and what it calls)\n")
    print("| cum s | cum ms/command | own s | calls | function |")
    print("|---:|---:|---:|---:|---|")
    interesting = [r for r in rows if "/tests/" not in r[4] and "/bench/" not in r[4]]
    interesting.sort(key=lambda r: r[0], reverse=True)
    shown = 0
    for cum, own, calls, where, file in interesting:
        if file == "~" or "/asyncio/" in file or "selectors" in file:
            continue
        print(f"| {cum:.3f} | {cum / commands * 1000:.2f} | {own:.3f} | {calls} | `{where}` |")
        shown += 1
        if shown >= top:
            break
    print("\n#### top 20 by own time (excluding the epoll wait)\n")
    print("| own s | own ms/command | calls | function |")
    print("|---:|---:|---:|---|")
    rows.sort(key=lambda r: r[1], reverse=True)
    shown = 0
    for _cum, own, calls, where, file in rows:
        if _area(file, where).startswith("event loop: waiting"):
            continue
        print(f"| {own:.3f} | {own / commands * 1000:.3f} | {calls} | `{where}` |")
        shown += 1
        if shown >= 20:
            break
    print(
        "\n(cProfile slows Python code down several-fold: read the shares, not the absolute times.)"
    )


# -- reporting -------------------------------------------------------------------------------


def synapse_row(synapse: Synapse) -> tuple[str, str]:
    try:
        version = subprocess.run(
            [str(synapse.python), "-c", "import synapse; print(synapse.__version__)"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        version = "?"
    return ("Synapse", f"{version} (SQLite, no rate limits, 127.0.0.1)")


@dataclass
class Results:
    info: list[tuple[str, str]]
    args: argparse.Namespace
    passes: list[tuple[str, Pass]]
    bursts: list[Burst]
    breakdown: tuple[list[float], list[float], dict[str, float], dict[str, float]] | None = None
    setup_seconds: float = 0.0
    sample_reply: str = ""
    profile: tuple[pstats.Stats, float] | None = None


def report(results: Results) -> None:
    args = results.args
    print("\n## Samen on Matrix: command round trip beside a bare matrix-nio echo bot\n")
    print("| machine | |")
    print("|---|---|")
    for key, value in results.info:
        print(f"| {key} | {value} |")
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"| load average at the end | {load} (other work on the machine skews the figures) |")
    print(
        "| setup | one Synapse for the whole run; Samen's MatrixAdapter (via `running_bot`, "
        "SQLite) and the echo bot (`sync_forever`) in this process; each member a matrix-nio "
        f"client with a {LONG_POLL_MS // 1000} s long-poll sync always running; direct rooms; "
        f"{args.warmup} warm-up commands each; latency = just before `room_send` → the "
        "member's sync delivers the bot's notice |"
    )
    print(f"| setup time | {results.setup_seconds:.1f} s (Synapse start, users, rooms) |")

    print("\n### Sequential round trips\n")
    print("| pass | bot | command | n | p50 ms | p95 ms | p99 ms | max ms | mean ms |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|")
    for label, result in results.passes:
        for name, latencies in result.latencies.items():
            stats = Stats.of(name, latencies)
            command = PING if name == "echo" else SHOW
            print(
                f"| {label} | {name} | `{command}` | {stats.count} | {stats.pct(50):.1f} "
                f"| {stats.pct(95):.1f} | {stats.pct(99):.1f} | {stats.max_ms:.1f} "
                f"| {stats.mean_ms:.1f} |"
            )
    print()
    print("| pass | Samen p50 / echo p50 | Samen p99 / echo p99 | target | met |")
    print("|---|---:|---:|---|:-:|")
    targets = Targets("matrix_roundtrip")
    for label, result in results.passes:
        samen = Stats.of("samen", result.latencies["Samen"])
        echo = Stats.of("echo", result.latencies["echo"])
        ratio = samen.pct(50) / echo.pct(50)
        targets.add(
            f"Matrix `{SHOW}` round trip p50 ÷ echo bot ({label}, {samen.count} commands)",
            f"{ratio:.2f}× ({samen.pct(50):.1f} ms)",
            f"≤ {TARGET_RATIO:g}×",
            ratio <= TARGET_RATIO,
        )
        print(
            f"| {label} | {ratio:.2f} ({samen.pct(50) - echo.pct(50):+.1f} ms) "
            f"| {samen.pct(99) / echo.pct(99):.2f} | p50 ≤ {TARGET_RATIO:g} × echo "
            f"| {verdict(ratio <= TARGET_RATIO)} |"
        )
    targets.write(args.json)
    print("\n### CPU per command\n")
    print("| pass | bot | this process ms (both bots + clients) | Synapse ms | wall s |")
    print("|---|---|---:|---:|---:|")
    for label, result in results.passes:
        for name, cpu in result.cpu.items():
            n = len(result.latencies[name])
            print(
                f"| {label} | {name} | {cpu.own / n * 1000:.1f} | {cpu.synapse / n * 1000:.1f} "
                f"| {result.seconds[name]:.1f} |"
            )

    if results.bursts:
        print("\n### Burst\n")
        print(
            "| round | burst | commands | members | all sent s | all answered s | p50 ms "
            "| p95 ms | p99 ms | bot's syncs | this process CPU s | Synapse CPU s |"
        )
        print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for b in results.bursts:
            command = PING if b.name == "echo" else SHOW
            print(
                f"| {b.round} | {b.name} `{command}` | {b.commands} | {b.members} "
                f"| {b.all_sent:.2f} | **{b.all_answered:.2f}** | {b.latencies.pct(50):.0f} "
                f"| {b.latencies.pct(95):.0f} | {b.latencies.pct(99):.0f} | {b.bot_syncs} "
                f"| {b.cpu.own:.2f} | {b.cpu.synapse:.2f} |"
            )
        for name in ("Samen", "echo"):
            times = [b.all_answered for b in results.bursts if b.name == name]
            if len(times) > 1:
                print(f"| all | {name} | | | | median {median(times):.2f} | | | | | | |")

    if results.breakdown is not None:
        echo_stages, samen_stages, echo_requests, samen_requests = results.breakdown
        turns = "strictly alternating" if (args.block or 1) == 1 else f"in blocks of {args.block}"
        print(f"\n### Where the time goes ({args.breakdown} commands each, {turns}, medians)\n")
        print("| stage | echo ms | Samen ms | Samen − echo ms |")
        print("|---|---:|---:|---:|")
        for (label, _b, _e), echo_ms, samen_ms in zip(
            STAGES, echo_stages, samen_stages, strict=True
        ):
            bold = "**" if label == "total" else ""
            print(
                f"| {bold}{label}{bold} | {echo_ms:.1f} | {samen_ms:.1f} "
                f"| {samen_ms - echo_ms:+.1f} |"
            )
        print(
            "\n(Stamps are wall clock on one machine; `origin_server_ts` has 1 ms resolution. "
            "Medians of stages need not add up to the median total.)\n"
        )
        print("| bot | HTTP requests per command, by kind |")
        print("|---|---|")
        for name, counts in (("echo", echo_requests), ("Samen", samen_requests)):
            text = ", ".join(f"`{kind}` {n:.2f}" for kind, n in sorted(counts.items()))
            print(f"| {name} | {text} |")
    if results.sample_reply:
        print(f"\n(Samen's answer to `{SHOW}`, first line: “{results.sample_reply}”.)")


# -- main ------------------------------------------------------------------------------------


async def bench(args: argparse.Namespace, directory: Path) -> Results:
    setup_started = clock()
    synapse = Synapse(directory / "synapse")
    synapse.start()
    env = Env()
    listeners: list[Listener] = []
    echo: EchoBot | None = None
    try:
        samen_user = synapse.register("samen")
        echo_user = synapse.register("echo")
        member = Listener(Member(synapse, synapse.register("member")))
        crowd = [
            Listener(Member(synapse, synapse.register(f"crowd{i}")))
            for i in range(args.members if args.burst else 0)
        ]
        listeners = [member, *crowd]
        info = machine_info(
            synapse_row(synapse), ("matrix-nio", importlib.metadata.version("matrix-nio"))
        )
        echo = EchoBot(synapse, echo_user)
        echo.start()
        async with running_bot(synapse, samen_user, directory / "samen.db", monkeypatch=env) as (
            _app,
            adapter,
        ):
            for listener in listeners:
                await listener.start()
            samen_rooms = await asyncio.gather(
                *(open_room(listener, samen_user.user_id, SHOW) for listener in listeners)
            )
            echo_rooms = await asyncio.gather(
                *(open_room(listener, echo_user.user_id, PING) for listener in listeners)
            )
            # The profile must exist; then warm up (imports, caches, Synapse's own caches).
            for target in samen_rooms:
                target.body = "!profile set locale=en"
            saved = await asyncio.gather(*(target.round_trip() for target in samen_rooms))
            for target, (_sent, notice) in zip(samen_rooms, saved, strict=True):
                if "saved" not in notice.body.lower():
                    raise RuntimeError(f"unexpected answer to !profile set: {notice.body!r}")
                target.body = SHOW
            targets = {"echo": echo_rooms[0], "Samen": samen_rooms[0]}
            warm = await sequential(targets, args.warmup, synapse, block=1)
            sample = warm.samples["Samen"][-1][1].body
            if "profile" not in sample.lower() and "locale" not in sample.lower():
                raise SystemExit(f"failed: Samen answered {SHOW!r} with {sample!r}")
            await asyncio.gather(*(t.round_trip() for t in [*samen_rooms[1:], *echo_rooms[1:]]))
            setup_seconds = clock() - setup_started
            for listener in listeners:  # a new room's first sync is limited: not a loss
                listener.limited = 0
            print(f"set up in {setup_seconds:.1f} s", file=sys.stderr)

            passes: list[tuple[str, Pass]] = []
            passes.append(("1 one after the other", await sequential(targets, args.count, synapse)))
            print("pass 1 done", file=sys.stderr)
            if args.block:
                label = "strictly alternating" if args.block == 1 else f"blocks of {args.block}"
                passes.append(
                    (
                        f"2 taking turns, {label}",
                        await sequential(targets, args.count, synapse, block=args.block),
                    )
                )
                print("pass 2 done", file=sys.stderr)

            bursts: list[Burst] = []
            crowds = {"Samen": samen_rooms[1:], "echo": echo_rooms[1:]}
            syncs = {"Samen": lambda: adapter.sync_count, "echo": lambda: echo.syncs}
            for turn in range(args.burst_rounds if args.burst else 0):
                # Samen first in odd rounds, the echo bot first in even ones.
                for name in ("Samen", "echo") if turn % 2 == 0 else ("echo", "Samen"):
                    await asyncio.sleep(1)
                    before = syncs[name]()
                    result = await burst(name, crowds[name], args.burst, synapse)
                    result.round = turn + 1
                    result.bot_syncs = syncs[name]() - before
                    bursts.append(result)
                    print(f"{name} burst: {result.all_answered:.2f} s", file=sys.stderr)
            await asyncio.sleep(1)

            breakdown = None
            if args.breakdown:
                probe = SamenProbe(adapter)
                probe.install()
                echo.trace(True)
                try:
                    traced = await sequential(
                        targets, args.breakdown, synapse, block=args.block or 1
                    )
                finally:
                    probe.remove()
                    echo.trace(False)
                n = args.breakdown
                breakdown = (
                    stage_times(traced.samples["echo"], echo.traces or {}),
                    stage_times(traced.samples["Samen"], probe.traces),
                    {kind: count / n for kind, count in echo.transport.requests.items()},
                    {kind: count / n for kind, count in probe.transport.requests.items()},
                )
                print("breakdown done", file=sys.stderr)

            if args.profile:
                profiler = cProfile.Profile()
                only_samen = {"Samen": targets["Samen"]}
                started = clock()
                profiler.enable()
                try:
                    profiled = await sequential(only_samen, args.count, synapse)
                finally:
                    profiler.disable()
                wall = clock() - started
                stats = Stats.of("Samen", profiled.latencies["Samen"])
                print(
                    f"\n(profiled pass: Samen p50 {stats.pct(50):.1f} ms with cProfile on)",
                    file=sys.stderr,
                )
                results_profile: tuple[pstats.Stats, float] | None = (
                    pstats.Stats(profiler),
                    wall,
                )
            else:
                results_profile = None
        limited = sum(listener.limited for listener in listeners)
        if limited:
            print(f"warning: {limited} limited syncs on the members' side", file=sys.stderr)
        return Results(
            info,
            args,
            passes,
            bursts,
            breakdown,
            setup_seconds,
            sample.splitlines()[0][:120],
            results_profile,
        )
    finally:
        for listener in listeners:
            with contextlib.suppress(Exception):
                await listener.stop()
        if echo is not None:
            await echo.stop()
        synapse.stop()
        env.undo()


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200, help="sequential commands per bot")
    parser.add_argument("--burst", type=int, default=100, help="commands in the burst (0: none)")
    parser.add_argument("--members", type=int, default=5, help="members sending the burst")
    parser.add_argument(
        "--burst-rounds",
        type=int,
        default=2,
        help="bursts per bot, taking turns (Samen first in odd rounds, echo first in even ones)",
    )
    parser.add_argument("--warmup", type=int, default=10, help="warm-up commands per bot")
    parser.add_argument(
        "--breakdown", type=int, default=100, help="traced commands per bot (0: no breakdown)"
    )
    parser.add_argument(
        "--block",
        type=int,
        default=10,
        help="pass 2 (and the breakdown): the bots take turns in blocks of this many commands"
        " (1: strictly alternating; 0: no pass 2)",
    )
    parser.add_argument("--profile", action="store_true", help="one more Samen pass under cProfile")
    add_smoke(parser)
    args = parser.parse_args(argv)
    apply_smoke(args, count=5, warmup=2, burst=4, members=2, burst_rounds=1, breakdown=3, block=2)
    if args.count < 1 or args.warmup < 1 or args.burst < 0 or args.members < 1 or args.block < 0:
        parser.error("--count and --warmup must be at least 1, --members at least 1")
    if args.burst and args.burst < args.members:
        parser.error("--burst must be 0 or at least --members")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if synapse_python() is None:
        raise SystemExit(
            "Synapse is not installed: set SAMEN_SYNAPSE_PYTHON to the python of a virtual "
            "environment with matrix-synapse (or run .ci/run, which makes .synapse-venv)"
        )
    with tempfile.TemporaryDirectory(prefix="samen-bench-matrix-") as tmp:
        results = asyncio.run(bench(args, Path(tmp)))
    report(results)
    if results.profile is not None:
        print_profile(*results.profile, args.count)


if __name__ == "__main__":
    main()
