"""Venues, meetups (one-off or recurring), occurrence exceptions, RSVPs and the reminder outbox.

Instants are UTC. A recurring meetup keeps its first start as a local wall-clock time with its
zone and an RFC 5545 rule, so that a Monday 08:30 breakfast stays at 08:30 across daylight
saving changes. An occurrence is named by its original start (its RECURRENCE-ID): cancelling
or moving it adds an exception row. A series RSVP has an empty occurrence key.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    Boolean,
    Column,
    ColumnElement,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    func,
    update,
)
from sqlalchemy import update as sa_update
from sqlmodel import Field, Session, SQLModel, col, select

from storage import leases
from storage.identity import member_fk
from storage.types import UTCDateTime, cascading_fk

SERIES = ""  # the occurrence key of an RSVP for the whole series
GOING = "going"
MAYBE = "maybe"
NO = "no"
WAITING = "waiting"
OFFERED = "offered"
PENDING = "pending"
SENDING = "sending"
SENT = "sent"
MISSED = "missed"
CANCELLED = "cancelled"


def meetup_fk(*, index: bool = False) -> Column[int]:
    return cascading_fk("meetup", index=index)


class Venue(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(sa_column=Column(String(40), nullable=False, unique=True))
    name: str = Field(sa_column=Column(String(120), nullable=False))
    address: str = Field(
        default="", sa_column=Column(String(200), nullable=False, server_default="")
    )
    city: str = Field(default="", sa_column=Column(String(80), nullable=False, server_default=""))
    capacity: int | None = Field(default=None, nullable=True)
    accessibility: str = Field(
        default="", sa_column=Column(Text, nullable=False, server_default="")
    )
    online_link: str = Field(
        default="", sa_column=Column(String(300), nullable=False, server_default="")
    )
    # who added it, and may edit it (with the admins); NULL: admins only
    created_by: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("member.id", ondelete="SET NULL"), nullable=True),
    )
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class Meetup(SQLModel, table=True):
    __table_args__ = (Index("ix_meetup_circle", "circle_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    circle_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("circle.id", ondelete="SET NULL"), nullable=True),
    )
    project_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("project.id", ondelete="SET NULL"), nullable=True),
    )
    # the discussion topic it was planned from (storage/topics.py), if any
    topic_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True, index=True))
    title: str = Field(sa_column=Column(String(120), nullable=False))
    format: str = Field(sa_column=Column(String(40), nullable=False))
    description: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    venue_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("venue.id", ondelete="SET NULL"), nullable=True),
    )
    online_link: str = Field(
        default="", sa_column=Column(String(300), nullable=False, server_default="")
    )
    # the first start as a naive wall-clock time in ``timezone``
    local_start: datetime = Field(sa_column=Column(DateTime(timezone=False), nullable=False))
    timezone: str = Field(sa_column=Column(String(64), nullable=False))
    first_start: datetime = Field(sa_type=UTCDateTime, nullable=False)
    duration_minutes: int = Field(nullable=False)
    rrule: str = Field(default="", sa_column=Column(String(300), nullable=False, server_default=""))
    planned_until: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    capacity: int | None = Field(default=None, nullable=True)
    reminders: str = Field(
        default="", sa_column=Column(String(60), nullable=False, server_default="")
    )
    status: str = Field(default="active", sa_column=Column(String(10), nullable=False))
    created_by: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("member.id", ondelete="SET NULL"), nullable=True),
    )
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class OccurrenceChange(SQLModel, table=True):
    """One occurrence cancelled or moved (its original start is its RECURRENCE-ID)."""

    __tablename__ = "occurrence_change"
    __table_args__ = (UniqueConstraint("meetup_id", "original_start"),)

    id: int | None = Field(default=None, primary_key=True)
    meetup_id: int = Field(sa_column=meetup_fk(index=True))
    original_start: datetime = Field(sa_type=UTCDateTime, nullable=False)
    cancelled: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    new_start: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)


class Rsvp(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("meetup_id", "member_id", "occurrence"),
        Index("ix_rsvp_meetup", "meetup_id", "occurrence", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    meetup_id: int = Field(sa_column=meetup_fk())
    member_id: int = Field(sa_column=member_fk(index=True))
    occurrence: str = Field(default=SERIES, sa_column=Column(String(32), nullable=False))
    status: str = Field(sa_column=Column(String(10), nullable=False))
    offered_until: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    checked_in: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class Reminder(SQLModel, table=True):
    """The outbox: one ping for one member before one occurrence."""

    __table_args__ = (
        UniqueConstraint("meetup_id", "occurrence", "member_id", "offset_minutes"),
        Index("ix_reminder_due", "state", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    meetup_id: int = Field(sa_column=meetup_fk())
    occurrence: str = Field(sa_column=Column(String(32), nullable=False))
    starts_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    member_id: int = Field(sa_column=member_fk(index=True))
    offset_minutes: int = Field(nullable=False)
    due_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    state: str = Field(default=PENDING, sa_column=Column(String(10), nullable=False))
    # while ``sending``: when the row was claimed (or its lease last renewed) and by which
    # instance (bot/services.py new_instance_id); the claim is a lease, see release_expired
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    claimed_by: str | None = Field(default=None, sa_column=Column(String(80), nullable=True))
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)


def occurrence_key(original_start: datetime) -> str:
    """The stable name of an occurrence: its original start in UTC, ISO 8601."""
    return original_start.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def parse_occurrence_key(key: str) -> datetime:
    return datetime.strptime(key, "%Y-%m-%dT%H:%MZ").replace(tzinfo=UTC)


# -- queries ----------------------------------------------------------------------------------


def venue_by_key(session: Session, key: str) -> Venue | None:
    return session.exec(select(Venue).where(Venue.key == key)).first()


def changes_of(session: Session, meetup_id: int) -> list[OccurrenceChange]:
    return list(
        session.exec(select(OccurrenceChange).where(OccurrenceChange.meetup_id == meetup_id))
    )


def change_for(session: Session, meetup_id: int, original_start: datetime) -> OccurrenceChange:
    found = session.exec(
        select(OccurrenceChange).where(
            OccurrenceChange.meetup_id == meetup_id,
            OccurrenceChange.original_start == original_start,
        )
    ).first()
    return found or OccurrenceChange(meetup_id=meetup_id, original_start=original_start)


def active_meetups(
    session: Session, *, circle_id: int | None = None, circle_ids: list[int] | None = None
) -> list[Meetup]:
    statement = select(Meetup).where(Meetup.status == "active")
    if circle_id is not None:
        statement = statement.where(Meetup.circle_id == circle_id)
    if circle_ids is not None:
        statement = statement.where(col(Meetup.circle_id).in_(circle_ids))
    return list(session.exec(statement.order_by(col(Meetup.first_start))))


def lock_places(session: Session, meetup_id: int) -> Meetup | None:
    """Serialise capacity decisions on one meetup until the transaction ends; returns the
    meetup as it is now (the session's copy is re-read: a capacity an organiser changed while
    we waited for the lock counts).

    PostgreSQL: ``SELECT ... FOR UPDATE`` on the meetup row. SQLite: a no-op write takes the
    database's write lock (writes are serialised), so the places counted afterwards are current.
    """
    if session.get_bind().dialect.name != "postgresql":
        session.execute(sa_update(Meetup).where(col(Meetup.id) == meetup_id).values(id=Meetup.id))
    return session.exec(
        select(Meetup)
        .where(Meetup.id == meetup_id)
        .with_for_update()  # SQLite: no FOR UPDATE (the write above holds the lock)
        .execution_options(populate_existing=True)
    ).first()


def rsvps_of(session: Session, meetup_id: int) -> list[Rsvp]:
    return list(
        session.exec(
            select(Rsvp)
            .where(Rsvp.meetup_id == meetup_id)
            .order_by(col(Rsvp.updated_at), col(Rsvp.id))
        )
    )


def rsvp_for(session: Session, meetup_id: int, member_id: int, occurrence: str) -> Rsvp | None:
    return session.exec(
        select(Rsvp).where(
            Rsvp.meetup_id == meetup_id, Rsvp.member_id == member_id, Rsvp.occurrence == occurrence
        )
    ).first()


def expired_offers(session: Session, now: datetime) -> list[Rsvp]:
    statement = select(Rsvp).where(Rsvp.status == OFFERED, col(Rsvp.offered_until) <= now)
    return list(session.exec(statement.order_by(col(Rsvp.offered_until))))


# -- the reminder outbox ----------------------------------------------------------------------


def pending_reminders(session: Session, meetup_id: int) -> list[Reminder]:
    statement = select(Reminder).where(Reminder.meetup_id == meetup_id, Reminder.state == PENDING)
    return list(session.exec(statement))


def next_due(session: Session) -> datetime | None:
    value = session.exec(select(func.min(Reminder.due_at)).where(Reminder.state == PENDING)).one()
    if value is None:
        return None
    moment: datetime = value if value.tzinfo else value.replace(tzinfo=UTC)
    return moment


def next_lease_expiry(session: Session, lease: timedelta) -> datetime | None:
    """When the oldest lease on a row being sent runs out (it may have already): the moment
    another instance may take that row over."""
    value = session.exec(
        select(func.min(Reminder.claimed_at)).where(Reminder.state == SENDING)
    ).one()
    if value is None:
        return None
    moment: datetime = value if value.tzinfo else value.replace(tzinfo=UTC)
    return moment + lease


def release_expired(session: Session, now: datetime, lease: timedelta) -> int:
    """Rows whose lease ran out (claimed, or last renewed, more than ``lease`` ago: the instance
    sending them died or stalled) go back to pending, to be claimed and sent again with the same
    idempotency key. A conditional UPDATE: when several instances do it at once, each row goes
    back once (PostgreSQL re-checks the condition after waiting for the row's lock)."""
    expired = and_(col(Reminder.state) == SENDING, col(Reminder.claimed_at) < now - lease)
    statement = update(Reminder).where(expired)
    if session.get_bind().dialect.name == "postgresql":
        # the rows first, in one order, skipping those another instance is releasing or
        # renewing right now: two releasing at once never wait for each other (no deadlock)
        ids = list(
            session.exec(
                select(Reminder.id)
                .where(expired)
                .order_by(col(Reminder.id))
                .with_for_update(skip_locked=True)
            )
        )
        if not ids:
            return 0
        statement = statement.where(col(Reminder.id).in_(ids))
    released = session.exec(statement.values(state=PENDING, claimed_at=None, claimed_by=None))
    return int(released.rowcount or 0)


def recover_interrupted(
    session: Session, now: datetime, grace_start: datetime, lease: timedelta
) -> tuple[int, int]:
    """At start-up: reminders caught mid-send by an instance that stopped go back to pending once
    their lease ran out (a live instance's are left alone); pending ones older than the grace
    window are marked missed."""
    resumed = release_expired(session, now, lease)
    missed = session.exec(
        update(Reminder)
        .where(col(Reminder.state) == PENDING, col(Reminder.due_at) < grace_start)
        .values(state=MISSED)
    ).rowcount
    return resumed, int(missed or 0)


def claim_due(session: Session, now: datetime, limit: int, instance: str) -> list[Reminder]:
    """Due pending reminders, leased to ``instance`` (``sending``, claimed now by it) in this
    transaction, and only those: two instances (or two threads) claiming at once never get
    the same row. One UPDATE picks and claims them, so SQLite takes its write lock before it
    reads; on PostgreSQL, rows that another instance holds are skipped (FOR UPDATE SKIP
    LOCKED)."""
    return leases.claim(
        session,
        Reminder,
        and_(col(Reminder.state) == PENDING, col(Reminder.due_at) <= now),
        (col(Reminder.due_at), col(Reminder.id)),
        limit,
        {"state": SENDING, "claimed_at": now, "claimed_by": instance},
    )


def _held(ids: list[int], instance: str) -> tuple[ColumnElement[bool], ...]:
    """Those of these rows that ``instance`` is sending still (its lease not taken over)."""
    return (
        col(Reminder.id).in_(ids),
        col(Reminder.state) == SENDING,
        col(Reminder.claimed_by) == instance,
    )


def renew_leases(session: Session, ids: list[int], now: datetime, instance: str) -> int:
    """Extend the lease on these rows, for those ``instance`` still holds; returns how many."""
    if not ids:
        return 0
    renewed = session.exec(
        update(Reminder).where(*_held(ids, instance)).values(claimed_at=now)
    ).rowcount
    return int(renewed or 0)


def finish(session: Session, ids: list[int], state: str, now: datetime, instance: str) -> int:
    """Mark these rows ``state``, those ``instance`` still holds: a row whose lease another
    instance took over is that instance's to finish. Returns how many were marked."""
    if not ids:
        return 0
    done = session.exec(
        update(Reminder)
        .where(*_held(ids, instance))
        .values(state=state, sent_at=now if state == SENT else None)
    ).rowcount
    return int(done or 0)
