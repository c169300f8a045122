"""A Samen process for the restart tests: the real app and scheduler, with a file as the
platform. Run: python -m tests.reminder_worker <database-url> <sink-file> [<lease-seconds>]

The sink stands for a platform with idempotent sends (a Matrix transaction id, a Discord
nonce): it accepts each idempotency key once, appending it to the file, and drops a repeat,
also when several worker processes share it (they take turns under a file lock). Every attempt
is also appended to <sink-file>.attempts as ``<pid> <key>``, so duplicates can be counted and
told apart by process. SAMEN_SINK_PAUSE (seconds) makes each send take that long, as a real
platform's round trip does.

SAMEN_WORKER_COMMANDS=<file> also makes it a way in for members: once <file>.go exists, it says
each line of <file> (``<user><TAB><command>``) through the whole core, all at once (a thread
each, as many connections would), writes the replies to <file>.replies (JSON lines) and then
<file>.done, and goes on sending reminders (bench/command_file.py, which bench/instances.py
shares)."""

from __future__ import annotations

import asyncio
import fcntl
import os
import sys
from pathlib import Path

from adapters.memory import MemoryAdapter
from bench.command_file import serve_commands
from bot.app import App
from bot.reply import Reply
from tests.conftest import make_settings


class FileSink:
    platform = "console"

    def __init__(self, path: Path, pause: float = 0.0):
        self.path = path
        self.attempts = path.with_suffix(path.suffix + ".attempts")
        self.lock = path.with_suffix(path.suffix + ".lock")
        self.pause = pause

    def _append(self, path: Path, line: str) -> None:
        # written through to the kernel, which keeps it when the process is killed; no fsync:
        # a process blocked in one under load would not die at once on SIGKILL
        with path.open("a") as handle:
            handle.write(line + "\n")
            handle.flush()

    def _record(self, key: str) -> None:
        with self.lock.open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self._append(self.attempts, f"{os.getpid()} {key}")
            accepted = set(self.path.read_text().split()) if self.path.exists() else set()
            if key not in accepted:
                self._append(self.path, key)

    async def send_direct(self, user: str, reply: Reply, key: str | None = None) -> bool:
        assert key is not None
        if self.pause:
            await asyncio.sleep(self.pause)
        self._record(key)
        return True

    async def send_to_place(self, place: str, reply: Reply, key: str | None = None) -> bool:
        return await self.send_direct(place, reply, key)

    async def invite(
        self, place_id: str, platform_user_id: str, role_id: str = "", grant: bool = True
    ) -> bool:
        return False


async def main(url: str, sink: Path, lease: int) -> None:
    app = App(make_settings(url, reminder_lease_seconds=lease))
    file_sink = FileSink(sink, float(os.environ.get("SAMEN_SINK_PAUSE", "0")))
    commands = os.environ.get("SAMEN_WORKER_COMMANDS")
    serving = None
    if commands:
        bot = MemoryAdapter(app)  # the way in; it registers as the console platform, so:
        serving = asyncio.create_task(asyncio.to_thread(serve_commands, bot, Path(commands)))
    app.notifier.register(file_sink)  # the platform that reminders and notices go to
    app.scheduler.start()
    print("ready", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        if serving is not None:
            serving.cancel()
        app.scheduler.shutdown()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]) if sys.argv[3:] else 60))
