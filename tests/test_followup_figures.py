"""The follow-up's "registered" figure read from facts, on SQLite and PostgreSQL: the distinct
members going to an occurrence held, by its date or by the whole series before it started
(counted into the held fact, as the job and migration 0023 do), summed per scope, period and
breakdown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from storage import facts
from storage.db import Database
from storage.facts import FACT
from storage.followup import Breakdown, Scope, report
from storage.identity import Member

WEEK = timedelta(days=7)
T1 = datetime(2027, 1, 11, 7, 30, tzinfo=UTC)
T2, T3 = T1 + WEEK, T1 + 2 * WEEK
BEFORE = T1 - timedelta(days=3)


def held(meetup: int, circle: int, at: datetime) -> dict[str, Any]:
    return {
        "kind": facts.MEETUP_HELD,
        "meetup_id": meetup,
        "circle_id": circle,
        "occurrence": at.strftime("%Y-%m-%dT%H:%MZ"),
        "occurred_at": at,
    }


def going(meetup: int, circle: int, who: int, at: datetime, to: datetime | None) -> dict[str, Any]:
    """``who`` said "going" at ``at``: to the date ``to``, or to the whole series."""
    return {
        "kind": facts.RSVP_GOING,
        "meetup_id": meetup,
        "circle_id": circle,
        "occurrence": to.strftime("%Y-%m-%dT%H:%MZ") if to else "",
        "occurred_at": at,
        "member_alias": who,
    }


def seed(database: Database) -> int:
    """Meetup 1 (circle 1) held three Mondays; meetup 2 (circle 2) once; meetup 3 never."""
    with database.session() as session:
        member = Member(display_name="Ann", name_folded="ann", created_at=BEFORE)
        session.add(member)
        session.flush()
        assert member.id is not None
        ann = member.id
        ann_series = {**going(1, 1, 0, BEFORE, None), "member_alias": None, "member_id": ann}
        rows = [
            held(1, 1, T1),
            held(1, 1, T2),
            held(1, 1, T3),
            held(2, 2, T1),
            ann_series,  # ann, to the series from before the first
            going(1, 1, 3, BEFORE, None),  # a forgotten member (an alias), the same
            going(1, 1, 2, T1 + timedelta(days=1), None),  # to the series after the first
            going(1, 1, 4, BEFORE, T1),  # to the first date only
            {**going(1, 1, 0, BEFORE, T2), "member_alias": None, "member_id": ann},  # ann again
            going(1, 1, 5, T3 + timedelta(hours=1), T3),  # marked present after the third
            going(1, 1, 3, BEFORE, T1),  # the alias, to the first date as well
            going(2, 2, 7, BEFORE, T1),
            going(3, 1, 8, BEFORE, None),  # a meetup never held
        ]
        columns = {"member_id": None, "member_alias": None}
        session.connection().execute(insert(FACT), [{**columns, **row} for row in rows])
        # each occurrence held gets its registered count, as the job and the migration give it
        assert facts.fill_registered(session.connection()) == 4
        assert facts.fill_registered(session.connection()) == 0  # once
    return ann


def test_registered_counts_each_member_once_per_occurrence_held(database_url: str) -> None:
    database = Database(database_url)
    if database.is_sqlite:
        database.upgrade()
    seed(database)
    start, end = T1 - WEEK, T3 + WEEK
    with database.session() as session:
        # first date: ann, the alias, 4; second: ann, the alias, 2; third: ann, the alias, 2, 5
        whole = report(session, Scope(), start, end)
        assert (whole.total.meetups, whole.total.registered) == (4, 3 + 3 + 4 + 1)
        by_circle = report(session, Scope(), start, end, Breakdown("circle"))
        assert {key: f.registered for key, f in by_circle.buckets.items()} == {1: 10, 2: 1}
        assert by_circle.total.registered == 11
        assert report(session, Scope(circle_ids=(2,)), start, end).total.registered == 1
        # the period holds the first two dates: what was said later counts with the third
        assert report(session, Scope(circle_ids=(1,)), start, T3).total.registered == 6
        empty = report(session, Scope(), T3 + WEEK, T3 + 2 * WEEK)
        assert (empty.total.meetups, empty.total.registered) == (0, 0)
    database.dispose()
