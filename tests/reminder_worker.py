"""A Samen process for the restart test: the real app and scheduler, with a file as the
platform. Run: python -m tests.reminder_worker <database-url> <sink-file> [<lease-seconds>]

The sink stands for a platform with idempotent sends (a Matrix transaction id, a Discord
nonce): it accepts each idempotency key once, appending it to the file, and drops a repeat.
Every attempt is also appended to <sink-file>.attempts, so duplicates can be counted."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from bot.app import App
from bot.reply import Reply
from tests.conftest import make_settings


class FileSink:
    platform = "console"

    def __init__(self, path: Path):
        self.path = path
        self.attempts = path.with_suffix(path.suffix + ".attempts")
        self.accepted = set(path.read_text().split()) if path.exists() else set()

    def _append(self, path: Path, line: str) -> None:
        with path.open("a") as handle:
            handle.write(line + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    async def send_direct(self, user: str, reply: Reply, key: str | None = None) -> bool:
        assert key is not None
        self._append(self.attempts, key)
        if key not in self.accepted:
            self.accepted.add(key)
            self._append(self.path, key)
        return True

    async def send_to_place(self, place: str, reply: Reply, key: str | None = None) -> bool:
        return await self.send_direct(place, reply, key)

    async def invite(
        self, place_id: str, platform_user_id: str, role_id: str = "", grant: bool = True
    ) -> bool:
        return False


async def main(url: str, sink: Path, lease: int) -> None:
    app = App(make_settings(url, reminder_lease_seconds=lease))
    app.notifier.register(FileSink(sink))
    app.scheduler.start()
    print("ready", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        app.scheduler.shutdown()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]) if sys.argv[3:] else 60))
