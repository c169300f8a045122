"""The scheduler: one APScheduler ``AsyncIOScheduler`` that the app starts and stops, running
the periodic jobs (board expiry and digests now; reminders and more in later issues)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.services import Services
from scheduler import (
    board_jobs,
    digest,
    event_keys,
    held,
    outcome_checks,
    surveys,
    topics,
    waitlist,
)
from scheduler.leadership import Leadership
from scheduler.reminders import ReminderService, plan_due_meetups

log = logging.getLogger(__name__)

Job = Callable[[Services], Awaitable[int]]


@dataclass(frozen=True)
class Periodic:
    name: str
    job: Job
    minutes: float


DEFAULT_JOBS = (
    Periodic("board-expiry-warning", board_jobs.warn_before_expiry, 15),
    Periodic("board-expiry", board_jobs.expire_posts, 15),
    Periodic("board-digest", board_jobs.send_digests, 5),
    Periodic("reminder-planning", plan_due_meetups, 60),
    Periodic("waitlist-offers", waitlist.expire_offers, 5),
    Periodic("outcome-checks", outcome_checks.ask_due, 5),
    Periodic("weekly-digest", digest.send_weekly_digests, 5),
    Periodic("event-keys-pruning", event_keys.prune_event_keys, 6 * 60),
    Periodic("meetups-held", held.record_held_meetups, 10),
    Periodic("surveys", surveys.run_surveys, 1),
    Periodic("topics", topics.run_topics, 1),
)


class SchedulerService:
    def __init__(
        self,
        services: Services,
        jobs: tuple[Periodic, ...] = DEFAULT_JOBS,
        *,
        leadership: Leadership | None = None,
    ):
        self.services = services
        self.jobs = jobs
        self.scheduler: AsyncIOScheduler | None = None
        self.reminders = ReminderService(services)
        # several instances on one PostgreSQL: only the leader runs the periodic jobs
        self.leadership = leadership or Leadership(services.database.engine)

    async def _lead(self) -> None:
        """The leadership tick; a new leader runs every periodic job right away."""
        was_leading = self.leadership.leading
        if self.leadership.tick() and not was_leading and self.scheduler is not None:
            now = datetime.now(UTC)
            for periodic in self.jobs:
                if self.scheduler.get_job(periodic.name) is not None:
                    self.scheduler.modify_job(periodic.name, next_run_time=now)

    async def _run(self, periodic: Periodic) -> None:
        if not self.leadership.leading:
            log.debug("%s skipped: another instance leads the periodic jobs", periodic.name)
            return
        try:
            done = await periodic.job(self.services)
            if done:
                log.info("%s: %s done", periodic.name, done)
        except asyncio.CancelledError:
            # the bot is stopping (a piped console at its end of input, a signal): the job's
            # batch is a transaction of its own, so stopping it loses nothing; no traceback
            log.debug("scheduled job %s stopped by the shutdown", periodic.name)
        except Exception:
            log.exception("scheduled job %s failed", periodic.name)

    def start(self) -> None:
        """Start in the running event loop; every job also runs once right away (in the
        instance that leads)."""
        self.leadership.tick()
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        for periodic in self.jobs:
            self.scheduler.add_job(
                self._run,
                "interval",
                args=[periodic],
                minutes=periodic.minutes,
                id=periodic.name,
                next_run_time=datetime.now(UTC),
                coalesce=True,
                max_instances=1,
                misfire_grace_time=int(periodic.minutes * 60),
            )
        if not self.leadership.always_leads:
            self.scheduler.add_job(
                self._lead,
                "interval",
                seconds=self.leadership.retry_seconds,
                id="leadership",
                coalesce=True,
                max_instances=1,
            )
        self.scheduler.start()
        self.reminders.attach(self.scheduler)
        # a safety net: whatever happened to the timer, due reminders go out within a minute
        self.scheduler.add_job(
            self.reminders.wake,
            "interval",
            minutes=1,
            id="reminder-sweep",
            coalesce=True,
            max_instances=1,
        )

    def job_ids(self) -> list[str]:
        return [job.id for job in self.scheduler.get_jobs()] if self.scheduler else []

    def shutdown(self) -> None:
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        self.scheduler = None
        self.reminders.scheduler = None
        self.leadership.release()
