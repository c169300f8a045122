"""The application: builds the services once and runs the configured platforms."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Sequence
from typing import Protocol

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.dispatch import COMMAND_LOCK_WAIT, Dispatcher
from bot.i18n import Catalogues
from bot.notifier import NotifierHub, PlaceTarget
from bot.ownership import OwnedAdapter, ownership, serve_owned
from bot.registry import Registry
from bot.reporting import AdminReporter
from bot.services import Services
from commands import ALL
from scheduler.service import SchedulerService
from storage.circles import Circle, circle_by_key
from storage.db import Database
from storage.meetups import Venue, venue_by_key

log = logging.getLogger(__name__)


# Young-generation threshold: a command allocates thousands of short-lived objects (rows,
# ORM states, rendered text); with CPython's default of 700, each command triggers several
# collections, and every tenth of those escalates. A larger first threshold makes the older
# generations' passes rare; gen 2 still runs, but over what the process made after start-up.
GC_THRESHOLDS = (50_000, 20, 100)


def keep_start_up_out_of_collections() -> None:
    """Freeze what start-up built (catalogues, registry, imports, caches): it lives as long as
    the process, so full passes need not walk it; then set thresholds that keep full passes
    rare. Without this, a full collection over ~300k long-lived objects paused a command by
    150 ms (bench/discord_interactions.py)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


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
        self.database = database or Database(
            settings.storage.url,
            echo=settings.storage.echo_sql,
            busy_timeout=settings.storage.command_timeout_seconds,
            command_wait=COMMAND_LOCK_WAIT,
        )
        self.catalogues = Catalogues(settings.zone)
        self.registry = build_registry(self.catalogues)
        self.notifier = NotifierHub(self.database)
        self.dispatcher = Dispatcher(
            settings, self.database, self.registry, self.catalogues, self.clock, self.notifier
        )
        self.services = Services(
            settings, self.database, self.catalogues, self.clock, self.notifier
        )
        self.scheduler = SchedulerService(self.services)
        self.dispatcher.listen("reminders", self.scheduler.reminders.poke)

    def prepare_database(self) -> None:
        """SQLite is brought up to date by itself; PostgreSQL must be upgraded on purpose.
        Then the circles that bot.toml seeds are created if they do not exist yet."""
        if not self.database.is_current():
            if not self.database.is_sqlite:
                raise StartupError(
                    f"{self.settings.source}: the database at storage.url is not at the latest "
                    "schema; run `samen db upgrade` first"
                )
            log.info("upgrading the SQLite database to the latest schema")
            self.database.upgrade()
        self.seed()

    def seed(self) -> None:
        with self.database.session() as session:
            for seed in self.settings.circles:
                if circle_by_key(session, seed.key) is None:
                    session.add(
                        Circle(
                            key=seed.key,
                            kind=seed.kind,
                            name=seed.name,
                            description=seed.description,
                            created_at=self.clock.now(),
                        )
                    )
            for place in self.settings.venues:
                if venue_by_key(session, place.key) is None:
                    session.add(Venue(**place.model_dump(), created_at=self.clock.now()))

    def error_reports(self) -> AdminReporter | None:
        """Send logged errors to the admins' room or channel (bot.toml); returns the handler."""
        places = []
        matrix, discord = self.settings.matrix, self.settings.discord
        if matrix.enabled and matrix.admin_room:
            places.append(PlaceTarget("matrix", matrix.admin_room))
        if discord.enabled and discord.admin_channel_id:
            places.append(PlaceTarget("discord", str(discord.admin_channel_id)))
        if not places:
            return None
        reporter = AdminReporter(self.notifier, places)
        logging.getLogger().addHandler(reporter)
        return reporter

    async def serve(self, adapter: Adapter) -> None:
        """Run one adapter: a platform connection only while this instance owns it (several
        instances on one PostgreSQL, bot/ownership.py); the console always."""
        if isinstance(adapter, OwnedAdapter):
            await serve_owned(adapter, ownership(self.database.engine, adapter.platform))
        else:
            await adapter.run()

    async def run(self, adapters: Sequence[Adapter]) -> None:
        self.prepare_database()
        # what start-up built (catalogues, registry, imports) lives as long as the process:
        # keep it out of the garbage collector's full passes, which otherwise pause commands
        keep_start_up_out_of_collections()
        self.scheduler.start()
        reporter = self.error_reports()
        try:
            async with asyncio.TaskGroup() as group:
                for adapter in adapters:
                    group.create_task(self.serve(adapter), name=f"adapter-{adapter.platform}")
        finally:
            if reporter is not None:
                logging.getLogger().removeHandler(reporter)
            self.scheduler.shutdown()
            self.dispatcher.flush_seen()
            self.database.dispose()
