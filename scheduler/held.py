"""Meetups held: one ``meetup_held`` fact per occurrence that took place, once it has ended.

An occurrence counts as held when its end (its start, where it moved to, plus the meetup's
duration) has passed and neither it nor its meetup is cancelled. The periodic job looks back
``LOOKBACK`` (the start-up run catches up what ended while the bot was down, up to that far;
older occurrences came from migration 0018's backfill). Writing is idempotent (storage/facts
record_held: a unique index and ON CONFLICT DO NOTHING), so a restart, a second instance or a
run that overlaps the backfill never writes an occurrence twice. The database's part runs in a
worker thread, as the board's jobs do.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Boolean, DateTime, text
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select

from scheduler.occurrences import occurrences
from storage import facts
from storage.meetups import Meetup, OccurrenceChange
from storage.types import UTCDateTime

if TYPE_CHECKING:  # the migration imports this module: no more of the bot than it needs
    from bot.services import Services

LOOKBACK = timedelta(days=35)
BACKFILL_CAP = 1000  # the most recent occurrences of one meetup the backfill writes


def held_rows(
    meetup: Meetup,
    changes: Iterable[OccurrenceChange],
    after: datetime,
    now: datetime,
    scope: dict[str, Any],
) -> list[dict[str, Any]]:
    """The meetup_held facts of the occurrences that started in [after, now) and have ended."""
    return [
        {
            **scope,
            "meetup_id": meetup.id,
            "occurrence": occurrence.key,
            "occurred_at": occurrence.start,
        }
        for occurrence in occurrences(meetup, changes, after, now)
        if occurrence.end <= now
    ]


def record_held_meetups_now(session: Session, now: datetime) -> int:
    """Record the occurrences that ended within the look-back and are not recorded yet."""
    since = now - LOOKBACK
    known = facts.held_keys(session, since)
    meetups = session.exec(
        select(Meetup).where(Meetup.status == "active", col(Meetup.first_start) < now)
    ).all()
    ids = [m.id for m in meetups]
    changes: dict[int, list[OccurrenceChange]] = {}
    if ids:
        for change in session.exec(
            select(OccurrenceChange).where(col(OccurrenceChange.meetup_id).in_(ids))
        ):
            changes.setdefault(change.meetup_id, []).append(change)
    scopes: dict[int | None, dict[str, Any]] = {}
    rows: list[dict[str, Any]] = []
    for meetup in meetups:
        assert meetup.id is not None
        if meetup.circle_id not in scopes:
            scopes[meetup.circle_id] = facts.circle_facts(session, meetup.circle_id)
        found = held_rows(meetup, changes.get(meetup.id, ()), since, now, scopes[meetup.circle_id])
        rows += [r for r in found if (meetup.id, r["occurrence"]) not in known]
    counts = facts.registered_counts(
        session.connection(), [(r["meetup_id"], r["occurrence"], r["occurred_at"]) for r in rows]
    )
    for row in rows:
        row["amount"] = counts[(row["meetup_id"], row["occurrence"])]
    return facts.record_held(session, rows)


async def record_held_meetups(services: Services) -> int:
    """The periodic job (and, as every job, its run at start-up: the catch-up)."""
    return await asyncio.to_thread(_record, services)


def _record(services: Services) -> int:
    with services.database.session() as session:
        written = record_held_meetups_now(session, services.clock.now())
        session.commit()
    return written


def backfill_held(connection: Connection, now: datetime) -> int:
    """Migration 0018: the occurrences of the meetups already stored that ended before now
    (at most BACKFILL_CAP, the latest, per meetup), expanded by the same code as the job. The
    rows are read with plain SQL into unsaved models, so that later columns do not matter."""
    meetups = [
        Meetup(
            id=row.id,
            circle_id=row.circle_id,
            local_start=row.local_start,
            timezone=row.timezone,
            first_start=row.first_start,
            duration_minutes=row.duration_minutes,
            rrule=row.rrule,
            title="",  # not read: only what expansion needs
            format="",
            created_at=row.first_start,
        )
        for row in connection.execute(
            text(
                "SELECT id, circle_id, local_start, timezone, first_start, duration_minutes, "
                "rrule FROM meetup WHERE status = 'active'"
            ).columns(local_start=DateTime(), first_start=UTCDateTime())
        )
    ]
    changes: dict[int, list[OccurrenceChange]] = {}
    for row in connection.execute(
        text(
            "SELECT meetup_id, original_start, cancelled, new_start FROM occurrence_change"
        ).columns(original_start=UTCDateTime(), cancelled=Boolean(), new_start=UTCDateTime())
    ):
        changes.setdefault(row.meetup_id, []).append(
            OccurrenceChange(
                meetup_id=row.meetup_id,
                original_start=row.original_start,
                cancelled=row.cancelled,
                new_start=row.new_start,
            )
        )
    circles = {
        row.id: facts.circle_scope(row.kind, row.key)
        for row in connection.execute(text("SELECT id, kind, key FROM circle"))
    }
    rows: list[dict[str, Any]] = []
    for meetup in meetups:
        assert meetup.id is not None
        scope = {
            "circle_id": meetup.circle_id,
            **circles.get(meetup.circle_id, facts.circle_scope(None, None)),
        }
        found = held_rows(meetup, changes.get(meetup.id, ()), meetup.first_start, now, scope)
        rows += found[-BACKFILL_CAP:]
    return facts.record_held(connection, rows)
