"""Facts: what happened in the network, one row per event, recorded as it happens.

The follow-up (issue 12) draws its figures from this one table: it is written by the paths
that make things happen, in their own transaction (a command that fails records nothing), as
one cheap insert, and read by counting rows per kind over a period, per circle, sector or
region (indexed by (kind, occurred_at) and (circle_id, occurred_at)).

A fact names what it is about by plain numbers (post_id, meetup_id with its occurrence,
project_id, slot_id), not foreign keys: a figure stays when what it counted is gone. The one
reference to a person, ``member_id``, is there only to count active members; when the member
is forgotten it is replaced by ``member_alias``, a random number drawn once for that member,
so that counts (and distinct-member counts) stay what they were and no fact points to anyone.

Kinds and where they are recorded:

=================  ============================================  ===========================
kind               recorded by                                    member_id
=================  ============================================  ===========================
member_created     bot/identity.resolve_actor (first contact)     the new member
circle_joined      circle join, circle animator add (new member)  who joined
post_published     need post / offer post                         the author
post_responded     board respond                                  who responded
introduction_made  board intro … accept                           the author who accepted
post_closed        board close; expiry (outcome "expired");       the author (None when the
                   privacy forget (open posts, "withdrawn")       board or a forget closed it)
project_created    project create                                 the lead
slot_filled        project request accepted (slot filled)         who fills the slot
rsvp_going         meetup rsvp going (and a check-in without      who comes
                   one), each time an answer becomes "going"
checked_in         meetup checkin (by the member or an animator;  who was there
                   ``meetup absent`` takes a mistaken one back)
meetup_held        scheduler/held.py, once an occurrence has      None
                   ended; migration 0018 for past ones
outcome_answered   followup answer; "unknown" by the job          who answered (None for
                   (scheduler/outcome_checks.py), one per          unknown)
                   question: a new answer replaces the fact
=================  ============================================  ===========================

``meetup_held`` is one row per occurrence that took place: ``meetup_id``, ``occurrence`` (the
occurrence key, its original start as rsvp writes it, "2027-01-11T07:30Z"), ``occurred_at``
its start (where it moved to, for a moved one), circle_id/sector/region of the meetup's
circle (all None for a project meeting), member_id None. A unique index on (meetup_id,
occurrence) for that kind makes a second recording (a restart, another instance, the
backfill) write nothing. A cancelled occurrence or meetup is not held; a date cancelled once
it had taken place loses its fact (the organiser says it did not happen).

Attendance, as the follow-up counts it: registered = distinct members with ``rsvp_going`` for
the occurrence (or for the series, occurrence "", before its start), counted once when the
occurrence is recorded as held and kept in that fact's ``amount``; present = ``checked_in``
facts of the occurrence (at most one per member: a second mark writes nothing, ``meetup
absent`` deletes it); a walk-in = present without such an rsvp before the start.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    bindparam,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlmodel import Field, Session, SQLModel

from storage.types import UTCDateTime

if TYPE_CHECKING:
    from storage.board import Post
    from storage.circles import Circle
    from storage.meetups import Meetup
    from storage.projects import Project

MEMBER_CREATED = "member_created"
CIRCLE_JOINED = "circle_joined"
POST_PUBLISHED = "post_published"
POST_RESPONDED = "post_responded"
INTRODUCTION_MADE = "introduction_made"
POST_CLOSED = "post_closed"
PROJECT_CREATED = "project_created"
SLOT_FILLED = "slot_filled"
RSVP_GOING = "rsvp_going"
CHECKED_IN = "checked_in"
# an occurrence of a meetup that took place (recorded once, when it has ended); member_id None
MEETUP_HELD = "meetup_held"
# "did it work out?" answered (outcome: work / talking / no / unknown), about a post's
# introduction or response (post_id) or a filled slot (project_id, slot_id); by who answered
OUTCOME_ANSWERED = "outcome_answered"
# discussion topics: proposed (by its author), supported (by who), given a place of its own
TOPIC_PROPOSED = "topic_proposed"
TOPIC_SUPPORTED = "topic_supported"
TOPIC_OPENED = "topic_opened"
TOPIC_MESSAGE = "topic_message"  # said in its place, where the platform tells us
TOPIC_MEETUP = "topic_meetup"  # a meetup planned from it (meetup_id)
HELD_WHERE = "kind = 'meetup_held'"
KINDS = (
    MEMBER_CREATED,
    CIRCLE_JOINED,
    POST_PUBLISHED,
    POST_RESPONDED,
    INTRODUCTION_MADE,
    POST_CLOSED,
    PROJECT_CREATED,
    SLOT_FILLED,
    RSVP_GOING,
    CHECKED_IN,
    MEETUP_HELD,
    OUTCOME_ANSWERED,
    TOPIC_PROPOSED,
    TOPIC_SUPPORTED,
    TOPIC_OPENED,
    TOPIC_MESSAGE,
    TOPIC_MEETUP,
)


class Fact(SQLModel, table=True):
    __table_args__ = (
        # the reports count a period's facts per kind from this index alone (it holds every
        # column they group and filter by), and their active members from the next one
        Index(
            "ix_fact_kind",
            "kind",
            "occurred_at",
            "post_kind",
            "outcome",
            "circle_id",
            "sector",
            "region",
            "amount",
        ),
        Index(
            "ix_fact_active",
            "occurred_at",
            "member_id",
            "member_alias",
            "circle_id",
            "sector",
            "region",
        ),
        Index("ix_fact_circle", "circle_id", "occurred_at"),
        Index("ix_fact_member", "member_id"),
        # the follow-up's reports (storage/followup.py): a sector's or region's facts in a
        # period, and the "going" answers of an occurrence held
        Index("ix_fact_sector", "sector", "occurred_at"),
        Index("ix_fact_region", "region", "occurred_at"),
        Index("ix_fact_meetup", "meetup_id", "kind", "occurrence"),
        # one meetup_held per occurrence, whoever records it (see record_held)
        Index(
            "ux_fact_held",
            "meetup_id",
            "occurrence",
            unique=True,
            sqlite_where=text(HELD_WHERE),
            postgresql_where=text(HELD_WHERE),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(sa_column=Column(String(24), nullable=False))
    occurred_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    circle_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    sector: str | None = Field(default=None, sa_column=Column(String(40), nullable=True))
    region: str | None = Field(default=None, sa_column=Column(String(40), nullable=True))
    # a post's kind (need / offer) on the facts of a post; how it ended on post_closed
    post_kind: str | None = Field(default=None, sa_column=Column(String(5), nullable=True))
    outcome: str | None = Field(default=None, sa_column=Column(String(20), nullable=True))
    post_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    meetup_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    occurrence: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    project_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    slot_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    member_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("member.id", ondelete="SET NULL"), nullable=True),
    )
    member_alias: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    # meetup_held: the members registered for it (see registered_counts), counted once when it
    # is recorded, so that a report sums them instead of matching answers to dates
    amount: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))


FACT = Fact.__table__  # type: ignore[attr-defined]
_INSERT = insert(FACT)
COLUMNS = tuple(column.name for column in FACT.columns if column.name != "id")


def record(session: Session, kind: str, at: datetime, **values: Any) -> None:
    """Write one fact in the session's transaction: one plain insert, no read."""
    assert kind in KINDS, kind
    session.connection().execute(_INSERT, {"kind": kind, "occurred_at": at, **values})


def record_post(
    session: Session, kind: str, post: Post, at: datetime, member_id: int | None
) -> None:
    """A fact about a post: published, answered, an introduction, closed (with its outcome)."""
    record(
        session,
        kind,
        at,
        sector=post.sector,
        region=post.region,
        post_kind=post.kind,
        outcome=post.outcome if kind == POST_CLOSED else None,
        post_id=post.id,
        member_id=member_id,
    )


def record_project(
    session: Session,
    kind: str,
    project: Project,
    at: datetime,
    member_id: int | None,
    slot_id: int | None = None,
) -> None:
    """A fact about a project: created, or one of its slots filled."""
    record(
        session,
        kind,
        at,
        sector=project.sector,
        region=project.region,
        project_id=project.id,
        slot_id=slot_id,
        member_id=member_id,
    )


def record_circle_joined(session: Session, circle: Circle, member_id: int, at: datetime) -> None:
    record(
        session,
        CIRCLE_JOINED,
        at,
        circle_id=circle.id,
        **circle_scope(circle.kind, circle.key),
        member_id=member_id,
    )


def record_meetup(
    session: Session, kind: str, meetup: Meetup, occurrence: str, member_id: int, at: datetime
) -> None:
    """A fact about a meetup's occurrence ("" for the whole series): going, checked in."""
    record(
        session,
        kind,
        at,
        **circle_facts(session, meetup.circle_id),
        meetup_id=meetup.id,
        occurrence=occurrence,
        member_id=member_id,
    )


def record_held(session: Session | Connection, rows: list[dict[str, Any]]) -> int:
    """Write these meetup_held facts (each with circle_id, sector, region, meetup_id,
    occurrence and occurred_at), skipping those already there: INSERT … ON CONFLICT DO NOTHING
    on the partial unique index, so two instances (or a restart, or the backfill) recording the
    same occurrence write it once. Returns how many were written."""
    if not rows:
        return 0
    connection = session.connection() if isinstance(session, Session) else session
    values = [{"kind": MEETUP_HELD, "member_id": None, **row} for row in rows]
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(FACT)
        .on_conflict_do_nothing(
            index_elements=["meetup_id", "occurrence"], index_where=text(HELD_WHERE)
        )
        .returning(FACT.c.id)
    )
    written = 0
    for value in values:  # one by one: RETURNING tells which were new
        written += len(connection.execute(statement, value).all())
    return written


MEETUPS_PER_QUERY = 500  # the "going" answers are read for this many meetups at a time


def registered_counts(
    connection: Connection, held: list[tuple[int, str, datetime]]
) -> dict[tuple[int, str], int]:
    """For each (meetup_id, occurrence, its start) held: the distinct members who said "going"
    to that date, or to the whole series before it started (a member counted once)."""
    meetup_ids = sorted({meetup_id for meetup_id, _, _ in held})
    per_date: dict[tuple[int, str], set[Any]] = {}
    series: dict[int, dict[Any, datetime]] = {}
    who = func.coalesce(FACT.c.member_id, FACT.c.member_alias)
    for at in range(0, len(meetup_ids), MEETUPS_PER_QUERY):
        rows = connection.execute(
            select(FACT.c.meetup_id, FACT.c.occurrence, who, FACT.c.occurred_at).where(
                FACT.c.kind == RSVP_GOING,
                FACT.c.meetup_id.in_(meetup_ids[at : at + MEETUPS_PER_QUERY]),
            )
        )
        for meetup_id, occurrence, member, occurred_at in rows:
            if occurrence:
                per_date.setdefault((meetup_id, occurrence), set()).add(member)
            else:
                first = series.setdefault(meetup_id, {})
                if member not in first or occurred_at < first[member]:
                    first[member] = occurred_at
    counts: dict[tuple[int, str], int] = {}
    for meetup_id, occurrence, started_at in held:
        regulars = {m for m, since in series.get(meetup_id, {}).items() if since <= started_at}
        counts[(meetup_id, occurrence)] = len(
            regulars | per_date.get((meetup_id, occurrence), set())
        )
    return counts


def fill_registered(connection: Connection) -> int:
    """Count the registered members of every meetup_held fact that has no count yet (migration
    0023's backfill, and facts written in bulk); how many were filled."""
    held = [
        (int(meetup_id), str(occurrence), started_at)
        for meetup_id, occurrence, started_at in connection.execute(
            select(FACT.c.meetup_id, FACT.c.occurrence, FACT.c.occurred_at).where(
                FACT.c.kind == MEETUP_HELD, FACT.c.amount.is_(None)
            )
        )
    ]
    counts = registered_counts(connection, held)
    statement = (
        update(FACT)
        .where(
            FACT.c.kind == MEETUP_HELD,
            FACT.c.meetup_id == bindparam("m"),
            FACT.c.occurrence == bindparam("o"),
        )
        .values(amount=bindparam("n"))
    )
    values = [{"m": m, "o": o, "n": n} for (m, o), n in counts.items()]
    for at in range(0, len(values), 5000):
        connection.execute(statement, values[at : at + 5000])
    return len(values)


def held_keys(session: Session, since: Any) -> set[tuple[int, str]]:
    """(meetup_id, occurrence) of the meetup_held facts since ``since`` (their start)."""
    rows = session.connection().execute(
        select(FACT.c.meetup_id, FACT.c.occurrence).where(
            FACT.c.kind == MEETUP_HELD, FACT.c.occurred_at >= since
        )
    )
    return {(meetup_id, occurrence) for meetup_id, occurrence in rows}


def forget_held(session: Session, meetup_id: int, occurrence: str) -> int:
    """A date cancelled once it took place: it did not, after all."""
    result = session.connection().execute(
        delete(FACT).where(
            FACT.c.kind == MEETUP_HELD,
            FACT.c.meetup_id == meetup_id,
            FACT.c.occurrence == occurrence,
        )
    )
    return int(result.rowcount or 0)


def going_before(session: Session, meetup_id: int, occurrence: str, before: Any) -> set[int]:
    """Members who said "going" to this occurrence (or to the whole series) before ``before``
    (its start): those who registered; one present without it walked in."""
    rows = session.connection().execute(
        select(FACT.c.member_id).where(
            FACT.c.kind == RSVP_GOING,
            FACT.c.meetup_id == meetup_id,
            FACT.c.occurrence.in_((occurrence, "")),
            FACT.c.occurred_at < before,
            FACT.c.member_id.is_not(None),
        )
    )
    return {member_id for (member_id,) in rows}


def take_back_check_in(session: Session, meetup_id: int, occurrence: str, member_id: int) -> int:
    """A check-in marked by mistake (``meetup absent``): its fact goes, so present counts it
    no more."""
    result = session.connection().execute(
        delete(FACT).where(
            FACT.c.kind == CHECKED_IN,
            FACT.c.meetup_id == meetup_id,
            FACT.c.occurrence == occurrence,
            FACT.c.member_id == member_id,
        )
    )
    return int(result.rowcount or 0)


def circle_scope(kind: str | None, key: str | None) -> dict[str, str | None]:
    """The sector or region a circle stands for: a sector circle's key is a sector key, a
    region circle's key a region key (as bot.toml seeds them); a theme circle has neither."""
    return {
        "sector": key if kind == "sector" else None,
        "region": key if kind == "region" else None,
    }


def circle_facts(session: Session, circle_id: int | None) -> dict[str, Any]:
    """circle_id, sector and region of a fact about something in this circle."""
    if circle_id is None:
        return {"circle_id": None, "sector": None, "region": None}
    from storage.circles import Circle

    circle = session.get(Circle, circle_id)
    scope = circle_scope(circle.kind, circle.key) if circle else circle_scope(None, None)
    return {"circle_id": circle_id, **scope}


# -- privacy and merges ---------------------------------------------------------------------


def pseudonymise(session: Session | Connection, member_id: int) -> int:
    """The member is forgotten: their facts no longer name them, but all carry one random
    alias (drawn now, kept nowhere else), so past figures, active members included, stay."""
    alias = secrets.randbelow(2**62) + 1
    statement = text(
        "UPDATE fact SET member_id = NULL, member_alias = :alias WHERE member_id = :member"
    )
    result = session.execute(statement, {"alias": alias, "member": member_id})
    return int(getattr(result, "rowcount", 0) or 0)


def after_merge(session: Session, member_id: int) -> None:
    """Two members became one: it was one new member, the earlier of the two."""
    session.execute(
        text(
            "DELETE FROM fact WHERE kind = :kind AND member_id = :member AND id <> "
            "(SELECT MIN(id) FROM fact WHERE kind = :kind AND member_id = :member)"
        ),
        {"kind": MEMBER_CREATED, "member": member_id},
    )


# -- backfill ---------------------------------------------------------------------------------

_CIRCLE_SECTOR = "CASE WHEN c.kind = 'sector' THEN c.key END"
_CIRCLE_REGION = "CASE WHEN c.kind = 'region' THEN c.key END"

# One INSERT … SELECT per kind: what recording would have written, from the rows that the
# first wave stored (a row's own time where it has one).
BACKFILL: dict[str, str] = {
    MEMBER_CREATED: (
        "INSERT INTO fact (kind, occurred_at, member_id) "
        "SELECT :kind, m.created_at, m.id FROM member m"
    ),
    CIRCLE_JOINED: (
        "INSERT INTO fact (kind, occurred_at, circle_id, sector, region, member_id) "
        f"SELECT :kind, cm.joined_at, cm.circle_id, {_CIRCLE_SECTOR}, {_CIRCLE_REGION}, "
        "cm.member_id FROM circle_membership cm JOIN circle c ON c.id = cm.circle_id"
    ),
    POST_PUBLISHED: (
        "INSERT INTO fact (kind, occurred_at, sector, region, post_kind, post_id, member_id) "
        "SELECT :kind, p.created_at, p.sector, p.region, p.kind, p.id, p.author_id FROM post p"
    ),
    POST_RESPONDED: (
        "INSERT INTO fact (kind, occurred_at, sector, region, post_kind, post_id, member_id) "
        "SELECT :kind, r.created_at, p.sector, p.region, p.kind, p.id, r.responder_id "
        "FROM response r JOIN post p ON p.id = r.post_id"
    ),
    INTRODUCTION_MADE: (
        "INSERT INTO fact (kind, occurred_at, sector, region, post_kind, post_id, member_id) "
        "SELECT :kind, COALESCE(r.decided_at, r.created_at), p.sector, p.region, p.kind, p.id, "
        "p.author_id FROM response r JOIN post p ON p.id = r.post_id "
        "WHERE r.status = 'accepted'"
    ),
    POST_CLOSED: (
        "INSERT INTO fact (kind, occurred_at, sector, region, post_kind, outcome, post_id, "
        "member_id) "
        "SELECT :kind, p.closed_at, p.sector, p.region, p.kind, p.outcome, p.id, "
        "CASE WHEN p.outcome = 'expired' THEN NULL ELSE p.author_id END FROM post p "
        "WHERE p.closed_at IS NOT NULL AND p.outcome IS NOT NULL"
    ),
    PROJECT_CREATED: (
        "INSERT INTO fact (kind, occurred_at, sector, region, project_id, member_id) "
        "SELECT :kind, p.created_at, p.sector, p.region, p.id, p.lead_id FROM project p"
    ),
    SLOT_FILLED: (  # a slot keeps no time of its filling: the accepted request's, or its own
        "INSERT INTO fact (kind, occurred_at, sector, region, project_id, slot_id, member_id) "
        "SELECT :kind, COALESCE((SELECT MAX(q.created_at) FROM project_request q "
        "WHERE q.slot_id = s.id AND q.member_id = s.filled_by AND q.status = 'accepted'), "
        "s.created_at), p.sector, p.region, p.id, s.id, s.filled_by "
        "FROM project_slot s JOIN project p ON p.id = s.project_id "
        "WHERE s.status = 'filled' AND s.filled_by IS NOT NULL"
    ),
    RSVP_GOING: (
        "INSERT INTO fact (kind, occurred_at, circle_id, sector, region, meetup_id, "
        "occurrence, member_id) "
        f"SELECT :kind, r.updated_at, mt.circle_id, {_CIRCLE_SECTOR}, {_CIRCLE_REGION}, "
        "r.meetup_id, r.occurrence, r.member_id FROM rsvp r JOIN meetup mt ON mt.id = r.meetup_id "
        "LEFT JOIN circle c ON c.id = mt.circle_id WHERE r.status = 'going'"
    ),
}


def backfill(connection: Connection) -> dict[str, int]:
    """Write the facts of what is already stored (posts, answers and introductions, closed
    posts with their outcome, projects and filled slots, members, circle memberships, RSVPs
    and check-ins), then pseudonymise those of forgotten members; returns the count per kind.
    Run once, on an empty fact table, by migration 0017 (SQLite and PostgreSQL alike)."""
    counts: dict[str, int] = {}
    for kind, statement in BACKFILL.items():
        result = connection.execute(text(statement), {"kind": kind})
        counts[kind] = int(result.rowcount or 0)
    counts[CHECKED_IN] = _backfill_check_ins(connection)
    forgotten = connection.execute(text("SELECT id FROM member WHERE forgotten_at IS NOT NULL"))
    for (member_id,) in forgotten.all():
        pseudonymise(connection, member_id)
    return counts


def _backfill_check_ins(connection: Connection) -> int:
    """A check-in keeps no time of its own: it happened at its occurrence's start (the key),
    or, for one on the whole series, at the answer's last change."""
    from storage.meetups import SERIES, parse_occurrence_key

    rows = connection.execute(
        text(
            "SELECT r.meetup_id, r.occurrence, r.member_id, r.updated_at, mt.circle_id, c.kind, "
            "c.key FROM rsvp r JOIN meetup mt ON mt.id = r.meetup_id "
            "LEFT JOIN circle c ON c.id = mt.circle_id WHERE r.checked_in = :yes"
        ).columns(updated_at=UTCDateTime()),
        {"yes": True},
    ).all()
    facts = []
    for meetup_id, occurrence, member_id, updated_at, circle_id, circle_kind, circle_key in rows:
        at = parse_occurrence_key(occurrence) if occurrence != SERIES else updated_at
        facts.append(
            {
                "kind": CHECKED_IN,
                "occurred_at": at,
                "circle_id": circle_id,
                **circle_scope(circle_kind, circle_key),
                "meetup_id": meetup_id,
                "occurrence": occurrence,
                "member_id": member_id,
            }
        )
    if facts:
        connection.execute(_INSERT, facts)
    return len(facts)
