"""Errors logged anywhere in Samen are posted to the admins' places (the Matrix room and the
Discord channel that bot.toml names), at most one a minute, through the Notifier."""

from __future__ import annotations

import asyncio
import logging
import time

from bot.notifier import Notification, Notifier, PlaceTarget
from bot.reply import Reply


class AdminReporter(logging.Handler):
    def __init__(self, notifier: Notifier, places: list[PlaceTarget], every: float = 60):
        super().__init__(logging.ERROR)
        self.notifier = notifier
        self.places = places
        self.every = every
        self._last = -every
        self.tasks: set[asyncio.Task[bool]] = set()
        try:  # the loop the notifier's platforms live on; commands log from worker threads
            self.loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            self.loop = None

    def emit(self, record: logging.LogRecord) -> None:
        now = time.monotonic()
        if now - self._last < self.every or record.name.startswith(("nio", "aiohttp", "discord")):
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        loop = self.loop or running
        if loop is None or loop.is_closed():
            return
        self._last = now
        text = f"⚠️ {record.levelname} {record.name}: {record.getMessage()}"[:1900]
        if running is loop:
            self._post(text)
        else:  # logged in a worker thread (a command): posted from the main loop
            loop.call_soon_threadsafe(self._post, text)

    def _post(self, text: str) -> None:
        for place in self.places:
            task = asyncio.get_running_loop().create_task(
                self.notifier.deliver(Notification(place, Reply(text=text)))
            )
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
