"""The application: builds the services once and runs the configured platforms."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Protocol

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.dispatch import Dispatcher
from bot.i18n import Catalogues
from bot.notifier import NotifierHub
from bot.registry import Registry
from commands import ALL
from storage.db import Database

log = logging.getLogger(__name__)


class StartupError(Exception):
    """The app cannot start; the message says what to do."""


class Adapter(Protocol):
    platform: str

    async def run(self) -> None:
        """Serve until cancelled or finished."""
        ...


def build_registry(catalogues: Catalogues) -> Registry:
    registry = Registry(catalogues)
    for command_set in ALL:
        registry.include(command_set)
    return registry


class App:
    def __init__(
        self, settings: Settings, *, clock: Clock | None = None, database: Database | None = None
    ):
        self.settings = settings
        self.clock = clock or SystemClock()
        self.database = database or Database(settings.storage.url, echo=settings.storage.echo_sql)
        self.catalogues = Catalogues(settings.zone)
        self.registry = build_registry(self.catalogues)
        self.notifier = NotifierHub(self.database)
        self.dispatcher = Dispatcher(
            settings, self.database, self.registry, self.catalogues, self.clock, self.notifier
        )

    def prepare_database(self) -> None:
        """SQLite is brought up to date by itself; PostgreSQL must be upgraded on purpose."""
        if self.database.is_current():
            return
        if self.database.is_sqlite:
            log.info("upgrading the SQLite database to the latest schema")
            self.database.upgrade()
            return
        raise StartupError(
            f"{self.settings.source}: the database at storage.url is not at the latest schema; "
            "run `samen db upgrade` first"
        )

    async def run(self, adapters: Sequence[Adapter]) -> None:
        self.prepare_database()
        try:
            async with asyncio.TaskGroup() as group:
                for adapter in adapters:
                    group.create_task(adapter.run(), name=f"adapter-{adapter.platform}")
        finally:
            self.dispatcher.flush_seen()
            self.database.dispose()
