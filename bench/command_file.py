"""Members' commands from a file, for worker processes driven by a benchmark or a test
(bench/instances.py ``--child``, tests/reminder_worker.py).

The file has one line per command: ``<user><TAB><command>``, optionally ``<TAB><event id>``
(the platform event that carried it, as every instance connected to the platform would see
it). Once ``<file>.go`` exists, the worker says every line through the whole core, all at
once (a thread each, ``THREADS`` at a time, as many connections would), appends each answer
to ``<file>.replies`` as a JSON line as soon as it is given, then touches ``<file>.done``."""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from adapters.memory import MemoryAdapter

THREADS = 16
GO_TIMEOUT_S = 600.0

Line = tuple[str, str, str | None]


def suffixed(commands: Path, suffix: str) -> Path:
    """``<file>.go``, ``<file>.replies``, ``<file>.done``."""
    return commands.with_suffix(commands.suffix + suffix)


def write_commands(commands: Path, lines: list[Line]) -> None:
    commands.write_text(
        "".join(
            "\t".join([user, command, *([event] if event else [])]) + "\n"
            for user, command, event in lines
        )
    )


def read_commands(commands: Path) -> list[Line]:
    lines: list[Line] = []
    for line in commands.read_text().splitlines():
        user, command, *event = line.split("\t")
        lines.append((user, command, event[0] if event else None))
    return lines


def read_replies(commands: Path) -> list[dict[str, object]]:
    """The answers a worker gave so far (see ``say_all_at_once``)."""
    replies = suffixed(commands, ".replies")
    if not replies.exists():
        return []
    return [json.loads(line) for line in replies.read_text().splitlines() if line.strip()]


def say_all_at_once(bot: MemoryAdapter, lines: list[Line], out: Path) -> None:
    """Every line through the whole core, ``THREADS`` at a time; each answer is appended to
    ``out`` as soon as it is given (a JSON line: user, event, pid, title, text, and the
    wall-clock ``asked`` and ``answered``), so that what a killed process answered is known.
    An event dropped as handled already gets no line."""
    lock = suffixed(out, ".lock")

    def one(line: Line) -> None:
        user, command, event = line
        asked = time.time()
        reply = asyncio.run(bot.say(user, command, event_id=event))
        answered = time.time()
        if event is not None and not (reply.text or reply.title):
            return  # another delivery (or instance) has it
        record = {
            "user": user,
            "event": event,
            "pid": os.getpid(),
            "title": reply.title,
            "text": reply.text,
            "asked": asked,
            "answered": answered,
        }
        with lock.open("a") as held:
            fcntl.flock(held, fcntl.LOCK_EX)
            with out.open("a") as handle:
                handle.write(json.dumps(record) + "\n")
                handle.flush()
                os.fsync(handle.fileno())

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        list(pool.map(one, lines))


def serve_commands(bot: MemoryAdapter, commands: Path) -> None:
    """In a thread of its own: wait for the go, answer every line, write the replies, then
    the done mark."""
    lines = read_commands(commands)
    go = suffixed(commands, ".go")
    deadline = time.monotonic() + GO_TIMEOUT_S
    while not go.exists() and time.monotonic() < deadline:
        time.sleep(0.005)
    say_all_at_once(bot, lines, suffixed(commands, ".replies"))
    suffixed(commands, ".done").touch()
