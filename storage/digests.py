"""The weekly digest's bookkeeping: which circle's digest (and which animator's figures) went
out for which week, and who turned digest messages off.

Exactly once per week: a sender claims ``(circle_id, week_start)`` with an insert that skips
a row already there (``INSERT … ON CONFLICT DO NOTHING … RETURNING``) in a transaction of its
own, before anything is sent; a second sender (a second run, another instance on the same
PostgreSQL) finds the row and sends nothing. ``sent_at`` is set once the messages went out; a
claim left without it by a crash is taken over after ``lease`` (a conditional update that
only one sender wins) and sent again with the same idempotency keys, which a platform drops
when the first attempt reached it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Column, Date, Index, String, UniqueConstraint, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, Session, SQLModel, col, delete, select

from storage.identity import member_fk
from storage.types import UTCDateTime, cascading_fk


class DigestSent(SQLModel, table=True):
    """A circle's weekly digest, claimed (and then sent) for the week starting on week_start."""

    __tablename__ = "digest_sent"
    __table_args__ = (
        UniqueConstraint("circle_id", "week_start"),
        Index("ix_digest_sent_week", "week_start"),
    )

    id: int | None = Field(default=None, primary_key=True)
    circle_id: int = Field(sa_column=cascading_fk("circle"))
    week_start: date = Field(sa_column=Column(Date, nullable=False))
    claimed_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    claimed_by: str = Field(default="", sa_column=Column(String(80), nullable=False))
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)


class DigestFiguresSent(SQLModel, table=True):
    """An animator's weekly figures (one message for all their circles), claimed and sent."""

    __tablename__ = "digest_figures_sent"
    __table_args__ = (UniqueConstraint("member_id", "week_start"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(sa_column=member_fk())
    week_start: date = Field(sa_column=Column(Date, nullable=False))
    claimed_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    claimed_by: str = Field(default="", sa_column=Column(String(80), nullable=False))
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)


class DigestOptOut(SQLModel, table=True):
    """A member who said ``followup digest off``: no digest by direct message (neither a
    circle's digest nor an animator's figures). A room's or channel's digest is not theirs to
    stop."""

    __tablename__ = "digest_opt_out"

    member_id: int = Field(sa_column=member_fk(primary_key=True))
    since: datetime = Field(sa_type=UTCDateTime, nullable=False)


Claimed = type[DigestSent] | type[DigestFiguresSent]


def _owner(table: Claimed) -> Any:
    return table.circle_id if table is DigestSent else table.member_id  # type: ignore[union-attr]


def settled(session: Session, table: Claimed, week_start: date, lease_start: datetime) -> set[int]:
    """The owners (circles, or animators) whose week needs nothing more: sent, or claimed by
    a sender whose lease still runs."""
    owner = _owner(table)
    rows = session.exec(
        select(owner).where(
            table.week_start == week_start,
            (col(table.sent_at).is_not(None)) | (col(table.claimed_at) > lease_start),
        )
    )
    return set(rows)


def claim(
    session: Session,
    table: Claimed,
    owner_id: int,
    week_start: date,
    now: datetime,
    instance: str,
    lease: timedelta,
) -> bool:
    """Take this owner's week, in the session's transaction (the caller commits before it
    sends): True for the one sender that got it. A claim older than ``lease`` that was never
    marked sent is taken over."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    sa_table: Any = table.__table__  # type: ignore[union-attr]
    owner = "circle_id" if table is DigestSent else "member_id"
    statement = (
        insert(sa_table)
        .values(
            {owner: owner_id, "week_start": week_start, "claimed_at": now, "claimed_by": instance}
        )
        .on_conflict_do_nothing(index_elements=[owner, "week_start"])
        .returning(sa_table.c.id)
    )
    if session.execute(statement).first() is not None:
        return True
    taken = session.execute(
        update(sa_table)
        .where(
            sa_table.c[owner] == owner_id,
            sa_table.c.week_start == week_start,
            sa_table.c.sent_at.is_(None),
            sa_table.c.claimed_at <= now - lease,
        )
        .values(claimed_at=now, claimed_by=instance)
    )
    return bool(getattr(taken, "rowcount", 0))


def mark_sent(
    session: Session, table: Claimed, owner_ids: list[int], week_start: date, now: datetime
) -> None:
    if not owner_ids:
        return
    owner = _owner(table)
    session.execute(
        update(table)
        .where(col(owner).in_(owner_ids), col(table.week_start) == week_start)
        .values(sent_at=now)
    )


def opted_out(session: Session, member_ids: list[int] | None = None) -> set[int]:
    statement = select(DigestOptOut.member_id)
    if member_ids is not None:
        statement = statement.where(col(DigestOptOut.member_id).in_(member_ids))
    return set(session.exec(statement))


def set_digest_dm(session: Session, member_id: int, wanted: bool, now: datetime) -> bool:
    """Turn the member's digest messages on or off; True when that changed something."""
    current = session.get(DigestOptOut, member_id)
    if wanted:
        if current is None:
            return False
        session.exec(delete(DigestOptOut).where(col(DigestOptOut.member_id) == member_id))
        return True
    if current is not None:
        return False
    session.add(DigestOptOut(member_id=member_id, since=now))
    return True
