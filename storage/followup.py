"""The follow-up's figures: counts over the ``fact`` table, per period, scope and breakdown.

Everything here reads the one table (storage/facts.py), never the domain tables, with a few
statements per report whatever its breakdown: one GROUP BY over the counted kinds (meetups
held, check-ins, posts, answers, introductions, closes by outcome, "did it work out?"
answers, new members, circle joins; the registered members, which each occurrence held
carries), read from one covering index, and one for the active members (one more for their
total when the report has a breakdown: distinct members do not add up), from another.
SQLite and PostgreSQL alike.

What each figure counts, in [start, end):

- ``meetups``: occurrences held (``meetup_held``, at the occurrence's start);
- ``registered``: for those occurrences, the distinct members who said "going" to that date or
  to the whole series before it started (``rsvp_going``), counted once as the occurrence was
  recorded held (its fact's ``amount``);
- ``present``: check-ins (``checked_in``, one per member and occurrence);
- ``needs`` / ``offers``: posts published; ``needs_met_here`` / ``needs_met_elsewhere`` /
  ``needs_withdrawn`` / ``needs_expired``: needs closed in the period with that outcome;
- ``responses``, ``introductions``, ``circle_joins``, ``new_members``, ``topics_proposed``,
  ``topic_supports``, ``topics_opened``, ``topic_messages``, ``topic_meetups``: their
  facts;
- ``answered``: "did it work out?" answers by outcome (work / talking / no / unknown);
- ``active_members``: distinct members (or forgotten members' aliases) with any fact.

A scope is the whole cooperative, or facts of some circles, sectors or regions (a sector or
region scope is given with its descendants already expanded: bot/levels.Hierarchy). A fact
matches when its circle is one of the circles, or its sector or region one of the keys:
a circle's report counts what happened in the circle and, for a sector or region circle, the
board of that sector or region. New members belong to no circle, sector or region: they count
in the whole cooperative only.

A breakdown puts each fact in a bucket: the month it happened in (local months, given as
their UTC starts), its circle, or its sector or region rolled up (``mapping``: each key of the
column to the bucket it counts in; a key not in the mapping is a bucket of its own).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    distinct,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.sql import ColumnElement as Expression
from sqlmodel import Session

from storage import facts
from storage.facts import FACT

ANSWERS = ("work", "talking", "no", "unknown")
NEED_OUTCOMES = {
    "found_in_community": "needs_met_here",
    "found_elsewhere": "needs_met_elsewhere",
    "withdrawn": "needs_withdrawn",
    "expired": "needs_expired",
}
COUNTED = (
    facts.MEETUP_HELD,
    facts.CHECKED_IN,
    facts.POST_PUBLISHED,
    facts.POST_RESPONDED,
    facts.INTRODUCTION_MADE,
    facts.POST_CLOSED,
    facts.OUTCOME_ANSWERED,
    facts.MEMBER_CREATED,
    facts.CIRCLE_JOINED,
    facts.TOPIC_PROPOSED,
    facts.TOPIC_SUPPORTED,
    facts.TOPIC_OPENED,
    facts.TOPIC_MESSAGE,
    facts.TOPIC_MEETUP,
)
Bucket = str | int | None
TOPIC_FIGURES = {
    facts.TOPIC_PROPOSED: "topics_proposed",
    facts.TOPIC_SUPPORTED: "topic_supports",
    facts.TOPIC_OPENED: "topics_opened",
    facts.TOPIC_MESSAGE: "topic_messages",
    facts.TOPIC_MEETUP: "topic_meetups",
}


@dataclass
class Figures:
    """The figures of one period (or one bucket of it)."""

    meetups: int = 0
    registered: int = 0
    present: int = 0
    needs: int = 0
    needs_met_here: int = 0
    needs_met_elsewhere: int = 0
    needs_withdrawn: int = 0
    needs_expired: int = 0
    offers: int = 0
    responses: int = 0
    introductions: int = 0
    answered_work: int = 0
    answered_talking: int = 0
    answered_no: int = 0
    answered_unknown: int = 0
    active_members: int = 0
    new_members: int = 0
    circle_joins: int = 0
    topics_proposed: int = 0
    topic_supports: int = 0
    topics_opened: int = 0
    topic_messages: int = 0
    topic_meetups: int = 0

    @property
    def attendance_rate(self) -> float | None:
        """Present per registered member of the occurrences held, or None without any."""
        return self.present / self.registered if self.registered else None

    @property
    def answered(self) -> int:
        return self.answered_work + self.answered_talking + self.answered_no + self.answered_unknown

    def values(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def is_empty(self) -> bool:
        return not any(self.values().values())

    def add(self, other: Figures) -> None:
        for name, value in other.values().items():
            setattr(self, name, getattr(self, name) + value)


NAMES = tuple(f.name for f in fields(Figures))


@dataclass(frozen=True)
class Scope:
    """Which facts count: those of these circles, sectors or regions; all when empty."""

    circle_ids: tuple[int, ...] = ()
    sectors: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()

    @property
    def whole(self) -> bool:
        return not (self.circle_ids or self.sectors or self.regions)

    def condition(self, table: Any) -> ColumnElement[bool] | None:
        terms: list[ColumnElement[bool]] = []
        if self.circle_ids:
            terms.append(table.c.circle_id.in_(self.circle_ids))
        if self.sectors:
            terms.append(table.c.sector.in_(self.sectors))
        if self.regions:
            terms.append(table.c.region.in_(self.regions))
        if not terms:
            return None
        return terms[0] if len(terms) == 1 else or_(*terms)


@dataclass(frozen=True)
class Breakdown:
    """How a report is split: ``by`` "month" (``edges``: each month's UTC start, the first
    month's included, with its ``labels``), "circle", or "sector"/"region" (``mapping``)."""

    by: str
    edges: tuple[datetime, ...] = ()
    labels: tuple[str, ...] = ()
    mapping: Mapping[str, str] = field(default_factory=dict)

    def expression(self, table: Any) -> Expression[Any]:
        if self.by == "month":
            assert len(self.edges) == len(self.labels) > 0
            whens = [
                (table.c.occurred_at < edge, label)
                for edge, label in zip(self.edges[1:], self.labels, strict=False)
            ]
            if not whens:  # one month: every fact is in it
                return literal(self.labels[0])
            return case(*whens, else_=self.labels[-1])
        if self.by == "circle":
            return table.c.circle_id  # type: ignore[no-any-return]
        column = table.c.sector if self.by == "sector" else table.c.region
        if not self.mapping:
            return column  # type: ignore[no-any-return]
        return case(dict(self.mapping), value=column, else_=column)


@dataclass
class Report:
    """The figures of a period: in total, and per bucket (in no particular order)."""

    total: Figures
    buckets: dict[Bucket, Figures] = field(default_factory=dict)


def _period(table: Any, start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(table.c.occurred_at >= start, table.c.occurred_at < end)


def _where(statement: Select[Any], *conditions: ColumnElement[bool] | None) -> Select[Any]:
    for condition in conditions:
        if condition is not None:
            statement = statement.where(condition)
    return statement


def _who(table: Any) -> Expression[Any]:
    return func.coalesce(table.c.member_id, table.c.member_alias)


def _count_kinds(
    session: Session,
    scope: Scope,
    start: datetime,
    end: datetime,
    by: Breakdown | None,
    into: dict[Bucket, Figures],
) -> None:
    f = FACT
    bucket = by.expression(f) if by else None
    columns: list[Any] = [f.c.kind, f.c.post_kind, f.c.outcome]
    statement = select(
        *([bucket.label("bucket")] if bucket is not None else []),
        *columns,
        func.count(),
        func.sum(f.c.amount),
    )
    statement = _where(statement, _period(f, start, end), f.c.kind.in_(COUNTED))
    statement = _where(statement, scope.condition(f))
    grouping: list[Any] = ([bucket] if bucket is not None else []) + columns
    for row in session.connection().execute(statement.group_by(*grouping)):
        key: Bucket = row[0] if bucket is not None else None
        kind, post_kind, outcome, count, amount = row[-5:]
        figures = into.setdefault(key, Figures())
        name = _figure_of(kind, post_kind, outcome)
        if name:
            setattr(figures, name, getattr(figures, name) + int(count))
        if kind == facts.MEETUP_HELD:  # each held occurrence carries its registered members
            figures.registered += int(amount or 0)


def _figure_of(kind: str, post_kind: str | None, outcome: str | None) -> str | None:
    if kind == facts.MEETUP_HELD:
        return "meetups"
    if kind == facts.CHECKED_IN:
        return "present"
    if kind == facts.POST_PUBLISHED:
        return "needs" if post_kind == "need" else "offers"
    if kind == facts.POST_RESPONDED:
        return "responses"
    if kind == facts.INTRODUCTION_MADE:
        return "introductions"
    if kind == facts.POST_CLOSED:
        return NEED_OUTCOMES.get(outcome or "") if post_kind == "need" else None
    if kind == facts.OUTCOME_ANSWERED:
        return f"answered_{outcome}" if outcome in ANSWERS else None
    if kind == facts.MEMBER_CREATED:
        return "new_members"
    if kind == facts.CIRCLE_JOINED:
        return "circle_joins"
    return TOPIC_FIGURES.get(kind)


def _count_active(
    session: Session, scope: Scope, start: datetime, end: datetime, by: Breakdown | None
) -> dict[Bucket, int]:
    f = FACT
    bucket = by.expression(f) if by else None
    counted = func.count(distinct(_who(f)))
    statement = select(bucket.label("bucket"), counted) if bucket is not None else select(counted)
    statement = _where(statement, _period(f, start, end), scope.condition(f))
    if bucket is not None:
        statement = statement.group_by(bucket)
        return {key: int(n) for key, n in session.connection().execute(statement)}
    return {None: int(session.connection().execute(statement).scalar_one() or 0)}


def report(
    session: Session,
    scope: Scope,
    start: datetime,
    end: datetime,
    by: Breakdown | None = None,
) -> Report:
    """The figures of [start, end) in ``scope``: in total, and per bucket of ``by``."""
    buckets: dict[Bucket, Figures] = {}
    _count_kinds(session, scope, start, end, by, buckets)
    for key, active in _count_active(session, scope, start, end, by).items():
        if active:
            buckets.setdefault(key, Figures()).active_members = active
    if by is None:
        return Report(buckets.get(None, Figures()))
    total = Figures()
    for figures in buckets.values():
        total.add(figures)
    total.active_members = _count_active(session, scope, start, end, None)[None]
    return Report(total, buckets)


def totals(session: Session, scope: Scope, start: datetime, end: datetime) -> Figures:
    """The figures of [start, end) in ``scope``, without a breakdown."""
    return report(session, scope, start, end).total


def rollup(
    keys: Iterable[str],
    parent_of: Mapping[str, str | None],
    tops: Sequence[str],
) -> dict[str, str]:
    """Each of ``keys`` → the one of ``tops`` it is or is below (keys below none are left out):
    the mapping of a breakdown by sector or region. ``parent_of``: each key's parent."""
    wanted = set(tops)
    mapping: dict[str, str] = {}
    for key in keys:
        current: str | None = key
        seen: set[str] = set()
        while current is not None and current not in wanted and current not in seen:
            seen.add(current)
            current = parent_of.get(current)
        if current in wanted:
            mapping[key] = current
    return mapping
