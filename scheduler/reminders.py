"""Reminder pings: planned as rows of an outbox, sent on time, never twice, never lost.

Planning: for each occurrence within the horizon, every member going (and, if they chose so,
maybe) gets one row per reminder offset (their own default, else the meetup's, else bot.toml's).
A change of RSVP, meetup or occurrence re-plans that meetup in the same transaction.

Sending: the service wakes at the next due time (an APScheduler date job), claims the due rows
(``pending`` → ``sending``, with ``claimed_by`` this instance and ``claimed_at`` now) and
commits, sends each through the Notifier with an idempotency key (``reminder:<id>``), then marks
it ``sent``. A claim is a lease of ``reminder_lease_seconds``, renewed while the batch is being
sent: when an instance dies or stalls, its rows go back to ``pending`` once their lease ran out
(at start-up, at the wake-up timed for that moment, and in the one-minute sweep of any instance)
and are sent again with the same key, which the platforms (Matrix transaction ids, Discord
nonces, the in-memory adapter) use to drop a duplicate. A live instance's rows are never taken
from it, and an instance marks only the rows it still holds: a late one whose lease was taken
over changes nothing. Rows older than the grace window are marked ``missed``.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import and_, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from bot.i18n import N_, Translator
from bot.notifier import MemberTarget, Notification, PlaceTarget
from bot.reply import Action, Reply
from bot.services import Services
from scheduler.occurrences import occurrences
from storage import meetups as store
from storage.circles import Circle, places_of
from storage.identity import Member
from storage.meetups import GOING, MAYBE, SERIES, Meetup, Reminder, Rsvp, Venue

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

log = logging.getLogger(__name__)

WAKE_JOB = "reminder-wake"
MIN_DELAY = 0.05  # seconds
PLAN_HORIZON = timedelta(days=8)
REMINDER_KEY = ("meetup_id", "occurrence", "member_id", "offset_minutes")
BATCH = 500
_OFFSET = re.compile(r"^(\d{1,4})\s*(m|min|h|u|d|j|w)$")
_UNIT_MINUTES = {"m": 1, "min": 1, "h": 60, "u": 60, "d": 1440, "j": 1440, "w": 10080}


def parse_offsets(text: str) -> list[int]:
    """``"1d,2h"`` → ``[1440, 120]`` (minutes before the start). Raises ValueError."""
    offsets: list[int] = []
    for part in re.split(r"[,;\s]+", text.strip().lower()):
        if not part:
            continue
        match = _OFFSET.match(part)
        if not match:
            raise ValueError(part)
        minutes = int(match.group(1)) * _UNIT_MINUTES[match.group(2)]
        if not 1 <= minutes <= 7 * 1440:
            raise ValueError(part)
        offsets.append(minutes)
    if not offsets or len(offsets) > 5:
        raise ValueError(text)
    return sorted(set(offsets), reverse=True)


def format_offset(minutes: int) -> str:
    if minutes % 1440 == 0:
        return f"{minutes // 1440}d"
    if minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}m"


def offsets_for(member: Member, meetup: Meetup, default: str) -> list[int]:
    for text in (member.reminder_offsets, meetup.reminders, default):
        if text:
            try:
                return parse_offsets(text)
            except ValueError:
                log.warning("ignoring bad reminder offsets %r", text)
    return [1440, 60]


# -- who is going -------------------------------------------------------------------------------


def effective_status(rsvps: Iterable[Rsvp], occurrence_key: str) -> dict[int, Rsvp]:
    """Each member's answer for one occurrence: their answer for it, else for the series."""
    found: dict[int, Rsvp] = {}
    for rsvp in rsvps:
        if rsvp.occurrence == SERIES:
            found.setdefault(rsvp.member_id, rsvp)
    for rsvp in rsvps:
        if rsvp.occurrence == occurrence_key:
            found[rsvp.member_id] = rsvp
    return found


def plan(
    session: Session,
    meetup: Meetup,
    now: datetime,
    default_offsets: str,
    horizon: timedelta = PLAN_HORIZON,
    only: set[int] | None = None,
    locked: bool = False,
) -> int:
    """Make the reminders of a meetup (or of ``only`` these members) match its occurrences and
    RSVPs within the horizon; returns the number of rows added. A row that no longer fits is
    cancelled, and comes back if it fits again; a sent one is never sent again."""
    assert meetup.id is not None
    # The meetup's row first, then its reminders: the order of every writer (RSVPs, the
    # planning job, edits), so two never wait for each other (PostgreSQL deadlock).
    if not locked:
        store.lock_places(session, meetup.id)
    wanted: dict[tuple[str, int, int], tuple[datetime, datetime]] = {}
    changes = store.changes_of(session, meetup.id)
    coming = occurrences(meetup, changes, now, now + horizon, include_cancelled=True)
    if meetup.status == "active":
        rsvps = [
            r for r in store.rsvps_of(session, meetup.id) if only is None or r.member_id in only
        ]
        members = {
            m.id: m
            for m in session.exec(
                select(Member).where(col(Member.id).in_({r.member_id for r in rsvps}))
            )
        }
        for occurrence in coming:
            if occurrence.cancelled:
                continue
            for member_id, rsvp in effective_status(rsvps, occurrence.key).items():
                member = members.get(member_id)
                if member is None:
                    continue
                if rsvp.status != GOING and not (rsvp.status == MAYBE and member.remind_maybe):
                    continue
                for offset in offsets_for(member, meetup, default_offsets):
                    due = occurrence.start - timedelta(minutes=offset)
                    if due > now:
                        wanted[(occurrence.key, member_id, offset)] = (due, occurrence.start)
    statement = select(Reminder).where(
        Reminder.meetup_id == meetup.id,
        col(Reminder.occurrence).in_([o.key for o in coming]),
    )
    if only is not None:
        statement = statement.where(col(Reminder.member_id).in_(only))
    rows = {(r.occurrence, r.member_id, r.offset_minutes): r for r in session.exec(statement)}
    # Another planner (a second instance, or a command re-planning) may change the same rows at
    # the same time, and the sender claims them: each change applies only to a row still in the
    # state it was read in, and a new row is added unless it is already there.
    for key, reminder in rows.items():
        if key in wanted and reminder.state in (store.PENDING, store.CANCELLED):
            due, starts = wanted[key]
            if (reminder.state, reminder.due_at, reminder.starts_at) != (
                store.PENDING,
                due,
                starts,
            ):
                session.execute(
                    update(Reminder)
                    .where(
                        col(Reminder.id) == reminder.id,
                        col(Reminder.state).in_((store.PENDING, store.CANCELLED)),
                    )
                    .values(state=store.PENDING, due_at=due, starts_at=starts)
                )
        elif key not in wanted and reminder.state == store.PENDING:
            session.execute(
                update(Reminder)
                .where(col(Reminder.id) == reminder.id, col(Reminder.state) == store.PENDING)
                .values(state=store.CANCELLED)
            )
    new = [
        Reminder(
            meetup_id=meetup.id,
            occurrence=key[0],
            member_id=key[1],
            offset_minutes=key[2],
            due_at=due,
            starts_at=starts,
        ).model_dump(exclude={"id"})
        for key, (due, starts) in sorted(wanted.items())  # one order: no deadlock between two
        if key not in rows
    ]
    added = insert_new(session, new)
    if only is not None:
        return added
    meetup.planned_until = now + horizon
    session.add(meetup)
    return added


def insert_new(session: Session, rows: list[dict[str, object]]) -> int:
    """Add these reminders, skipping those already there (by their unique key); returns the
    number added."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(Reminder)
        .on_conflict_do_nothing(index_elements=REMINDER_KEY)
        .returning(col(Reminder.id))
    )
    return len(session.execute(statement, rows).all())  # executemany, in batches (cached)


def plan_batch(services: Services, limit: int = 200) -> tuple[int, int]:
    """Extend the plan of the meetups whose horizon runs out soonest (within a day);
    returns (meetups planned, reminders added).

    Each meetup is planned in its own short transaction holding its row (PostgreSQL:
    ``FOR UPDATE SKIP LOCKED``): a second planner (another instance) takes other meetups, or
    finds them planned already, and a meetup a command holds (an RSVP being answered) waits
    for the next round instead of making the command wait for the whole batch."""
    now = services.clock.now()
    added = planned = 0
    due = and_(
        col(Meetup.status) == "active",
        col(Meetup.planned_until).is_(None)
        | (col(Meetup.planned_until) < now + PLAN_HORIZON - timedelta(days=1)),
    )
    with services.database.session() as session:
        candidates = list(
            session.exec(
                select(Meetup.id)
                .where(due)
                .order_by(
                    col(Meetup.planned_until).is_not(None),
                    col(Meetup.planned_until),
                    col(Meetup.id),
                )
                .limit(limit)
            )
        )
    for meetup_id in candidates:
        with services.database.session() as session:
            meetup = session.exec(
                select(Meetup)
                .where(col(Meetup.id) == meetup_id, due)
                .with_for_update(skip_locked=True)
            ).first()
            if meetup is None:  # planned meanwhile, or held by someone else: next round
                continue
            # PostgreSQL: the row is ours already; SQLite: plan takes the write lock first
            locked = session.get_bind().dialect.name == "postgresql"
            added += plan(session, meetup, now, services.settings.default_reminders, locked=locked)
            planned += 1
    return planned, added


async def plan_due_meetups(services: Services, batch: int = 50) -> int:
    """Plan every meetup that needs it, a batch at a time, each batch's database work in a
    worker thread: the event loop keeps serving commands and reminders meanwhile, and a batch
    holds the database's write lock only briefly (SQLite has one writer)."""
    added = 0
    while True:
        planned, new = await asyncio.to_thread(plan_batch, services, batch)
        added += new
        if planned < batch:  # all done (or the rest is another planner's this round)
            return added


# -- sending ------------------------------------------------------------------------------------


def _when(t: Translator, minutes: int) -> str:
    if minutes >= 1440 and minutes % 1440 == 0:
        return t.plural("in {count} day", "in {count} days", minutes // 1440)
    if minutes >= 60 and minutes % 60 == 0:
        return t.plural("in {count} hour", "in {count} hours", minutes // 60)
    return t.plural("in {count} minute", "in {count} minutes", minutes)


def reminder_reply(
    t: Translator,
    meetup: Meetup,
    venue: Venue | None,
    reminder: Reminder,
    mentions: tuple[int, ...] = (),
) -> Reply:
    where = venue.name if venue else (meetup.online_link or "—")
    text = t(
        N_("{title} starts {when}: {start}, {place}."),
        title=f"**{meetup.title}**",
        when=_when(t, reminder.offset_minutes),
        start=t.datetime(reminder.starts_at, "short"),
        place=where,
    )
    return Reply(
        title=t(N_("Reminder: {title}"), title=meetup.title),
        text=text,
        mentions=mentions,
        actions=(
            Action.no(
                t(N_("Not coming after all")), f"meetup rsvp {meetup.id} no {reminder.occurrence}"
            ),
        ),
    )


class ReminderService:
    def __init__(self, services: Services):
        self.services = services
        self.scheduler: AsyncIOScheduler | None = None
        self._lock = asyncio.Lock()
        self._pokes: set[asyncio.Task[None]] = set()
        self._generation = 0  # of pokes: only the latest one's look-up is applied
        self._loop: asyncio.AbstractEventLoop | None = None  # the scheduler's

    @property
    def grace(self) -> timedelta:
        return timedelta(minutes=self.services.settings.reminder_grace_minutes)

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.services.settings.reminder_lease_seconds)

    @property
    def instance(self) -> str:
        return self.services.instance_id

    def attach(self, scheduler: AsyncIOScheduler) -> None:
        """Recover after a stop, then wake at the next due time (now, if some are due)."""
        self.scheduler = scheduler
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:
            self._loop = None
        now = self.services.clock.now()
        with self.services.database.session() as session:
            resumed, missed = store.recover_interrupted(session, now, now - self.grace, self.lease)
        if resumed or missed:
            log.info("reminders: %s resumed after an interruption, %s missed", resumed, missed)
        self._wake_at(self._next_due())  # at start-up, before anything else is served

    def poke(self) -> None:
        """Reschedule the wake-up at the earliest pending reminder, or the moment the oldest
        lease on a row being sent runs out (when it is another instance's, and that instance
        died, this one takes the row over then), whichever comes first. On the event loop
        (after a command), the look-up runs in a worker thread and the wake-up is set after."""
        if self.scheduler is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if self._loop is not None and loop is not self._loop and not self._loop.is_closed():
            # called from another thread (a command run by a caller with a loop of its own):
            # the wake-up belongs to the scheduler's loop, and a task made on a loop that is
            # about to end would be cancelled with it, its look-up never applied
            self._loop.call_soon_threadsafe(self.poke)
            return
        self._generation += 1
        if loop is None:
            self._wake_at(self._next_due())
            return
        task = loop.create_task(self._poke(self._generation))
        self._pokes.add(task)
        task.add_done_callback(self._pokes.discard)

    async def _poke(self, generation: int) -> None:
        try:
            due = await asyncio.to_thread(self._next_due)
        except Exception:  # the sweep, every minute, finds it anyway
            log.exception("could not look up the next reminder")
            return
        if generation == self._generation:  # a later poke's look-up is fresher
            self._wake_at(due)

    def _next_due(self) -> datetime | None:
        with self.services.database.session() as session:
            moments = [store.next_due(session), store.next_lease_expiry(session, self.lease)]
        return min((m for m in moments if m is not None), default=None)

    def _wake_at(self, due: datetime | None) -> None:
        if self.scheduler is None:
            return
        if due is None:
            if self.scheduler.get_job(WAKE_JOB):
                self.scheduler.remove_job(WAKE_JOB)
            return
        # the clock may be a test clock: wake after the same delay in real time; never "now",
        # which APScheduler would skip while the wake that called this is still returning
        delay = max((due - self.services.clock.now()).total_seconds(), MIN_DELAY)
        run_at = datetime.now(UTC) + timedelta(seconds=delay)
        self.scheduler.add_job(
            self.wake,
            "date",
            run_date=run_at,
            id=WAKE_JOB,
            replace_existing=True,
            misfire_grace_time=None,
        )

    async def wake(self) -> int:
        """Send everything that is due (in batches), then sleep until the next one."""
        sent = 0
        async with self._lock:
            while True:
                sent += await self.send_due()
                due = await asyncio.to_thread(self._next_pending)
                if due is None or due > self.services.clock.now():
                    break
        self.poke()
        return sent

    def _next_pending(self) -> datetime | None:
        with self.services.database.session() as session:
            return store.next_due(session)

    async def send_due(self) -> int:
        """Claim the due reminders, send them, mark them; returns how many were sent. The
        database's part runs in worker threads: a held database holds up no other work."""
        services = self.services
        now = services.clock.now()
        fresh, plans = await asyncio.to_thread(self._claim, now)
        if not plans:
            return 0
        held = [r.id for r in fresh if r.id]
        renew_every = self.lease.total_seconds() / 3
        renewed = time.monotonic()
        sent: list[int] = []
        failed: list[int] = []
        for notification, ids in plans:
            if time.monotonic() - renewed >= renew_every:  # a long batch keeps its lease
                await asyncio.to_thread(self._renew, held)
                renewed = time.monotonic()
            try:
                ok = await services.notifier.deliver(notification)
            except Exception:
                log.exception("reminder delivery failed for %s", notification.target)
                ok = False
            (sent if ok else failed).extend(ids)
        marked = await asyncio.to_thread(self._finish, sent, failed)
        if marked < len(sent) + len(failed):
            log.warning(
                "reminders: %s sent after their lease ran out; another instance took them over",
                len(sent) + len(failed) - marked,
            )
        return len(sent)

    def _claim(self, now: datetime) -> tuple[list[Reminder], list[tuple[Notification, list[int]]]]:
        """Take over expired leases, then claim what is due (a lease of this instance's)."""
        with self.services.database.session() as session:
            released = store.release_expired(session, now, self.lease)
        if released:
            log.warning(
                "reminders: %s taken over from an instance whose lease ran out (resent with "
                "the same idempotency key)",
                released,
            )
        with self.services.database.session() as session:
            claimed = store.claim_due(session, now, BATCH, self.instance)
            if not claimed:
                return [], []
            too_old = [r for r in claimed if r.due_at < now - self.grace]
            fresh = [r for r in claimed if r.due_at >= now - self.grace]
            store.finish(session, [r.id for r in too_old if r.id], store.MISSED, now, self.instance)
            return fresh, self._prepare(session, fresh)

    def _renew(self, held: list[int]) -> None:
        with self.services.database.session() as session:
            store.renew_leases(session, held, self.services.clock.now(), self.instance)

    def _finish(self, sent: list[int], failed: list[int]) -> int:
        now = self.services.clock.now()
        with self.services.database.session() as session:
            marked = store.finish(session, sent, store.SENT, now, self.instance)
            return marked + store.finish(session, failed, store.MISSED, now, self.instance)

    def _prepare(
        self, session: Session, reminders: list[Reminder]
    ) -> list[tuple[Notification, list[int]]]:
        """One notification per reminder, or one per place when many are due together."""
        settings = self.services.settings
        groups: dict[tuple[int, str, int], list[Reminder]] = defaultdict(list)
        for reminder in reminders:
            groups[(reminder.meetup_id, reminder.occurrence, reminder.offset_minutes)].append(
                reminder
            )
        plans: list[tuple[Notification, list[int]]] = []
        for (meetup_id, _occurrence, _offset), group in groups.items():
            meetup = session.get(Meetup, meetup_id)
            if meetup is None:
                continue
            venue = session.get(Venue, meetup.venue_id) if meetup.venue_id else None
            circle = session.get(Circle, meetup.circle_id) if meetup.circle_id else None
            places = places_of(session, circle.id) if circle and circle.id else []
            if places and len(group) >= settings.reminder_group_threshold:
                t = self.services.translator_for(None)
                mentions = tuple(r.member_id for r in group)
                for place in places:
                    plans.append(
                        (
                            Notification(
                                PlaceTarget(place.platform, place.place_id),
                                reminder_reply(t, meetup, venue, group[0], mentions),
                                key=f"reminder-group:{group[0].id}:{place.id}",
                            ),
                            [r.id for r in group if r.id],
                        )
                    )
                continue
            for reminder in group:
                member = session.get(Member, reminder.member_id)
                t = self.services.translator_for(member)
                plans.append(
                    (
                        Notification(
                            MemberTarget(reminder.member_id),
                            reminder_reply(t, meetup, venue, reminder),
                            key=f"reminder:{reminder.id}",
                        ),
                        [reminder.id] if reminder.id else [],
                    )
                )
        return plans
