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

    def emit(self, record: logging.LogRecord) -> None:
        now = time.monotonic()
        if now - self._last < self.every or record.name.startswith(("nio", "aiohttp", "discord")):
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._last = now
        text = f"⚠️ {record.levelname} {record.name}: {record.getMessage()}"[:1900]
        for place in self.places:
            task = loop.create_task(self.notifier.deliver(Notification(place, Reply(text=text))))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
