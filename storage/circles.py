"""Circles (sector, theme, region) and who belongs to them, with which role.

The circle commands come with the board issue; the tables live here from the start because
roles (animator per circle) and profile visibility ("my circles") depend on them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Column, String, Text, UniqueConstraint, func
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlmodel import Field, Session, SQLModel, and_, col, exists, or_, select

from storage.identity import Member, member_fk
from storage.types import UTCDateTime, cascading_fk, optional_fk

ANIMATOR = "animator"
MEMBER = "member"


class Circle(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(sa_column=Column(String(40), nullable=False, unique=True))
    name: str = Field(sa_column=Column(String(80), nullable=False))
    kind: str = Field(sa_column=Column(String(10), nullable=False, index=True))
    description: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    archived: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default="0")
    )
    members_schedule: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default="0")
    )
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class CircleMembership(SQLModel, table=True):
    __tablename__ = "circle_membership"

    circle_id: int = Field(sa_column=cascading_fk("circle", primary_key=True))
    member_id: int = Field(sa_column=member_fk(primary_key=True, index=True))
    role: str = Field(
        default=MEMBER, sa_column=Column(String(10), nullable=False, server_default=MEMBER)
    )
    announcements_by_dm: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default="0")
    )
    joined_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


def circle_fk(*, primary_key: bool = False, index: bool = False) -> Column[int]:
    return cascading_fk("circle", primary_key=primary_key, index=index)


class CirclePlace(SQLModel, table=True):
    """A room or channel linked to a circle: its announcements land there."""

    __tablename__ = "circle_place"
    __table_args__ = (UniqueConstraint("circle_id", "platform", "place_id"),)

    id: int | None = Field(default=None, primary_key=True)
    circle_id: int = Field(sa_column=circle_fk(index=True))
    platform: str = Field(sa_column=Column(String(16), nullable=False))
    place_id: str = Field(sa_column=Column(String(255), nullable=False))
    # a platform role given to the circle's members there (a Discord role), or ""
    role_id: str = Field(
        default="", sa_column=Column(String(64), nullable=False, server_default="")
    )
    linked_by: int | None = Field(default=None, sa_column=optional_fk("member"))
    linked_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class CircleGuideVersion(SQLModel, table=True):
    """The circle's animation guide (its vademecum); every version is kept."""

    __tablename__ = "circle_guide_version"
    __table_args__ = (UniqueConstraint("circle_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    circle_id: int = Field(sa_column=circle_fk(index=True))
    version: int = Field(nullable=False)
    text: str = Field(sa_column=Column(Text, nullable=False))
    author_id: int | None = Field(default=None, sa_column=optional_fk("member"))
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


def is_animator(session: Session, member_id: int, circle_id: int | None = None) -> bool:
    """Animator of that circle, or (without a circle) of any circle."""
    statement = select(CircleMembership.circle_id).where(
        CircleMembership.member_id == member_id, CircleMembership.role == ANIMATOR
    )
    if circle_id is not None:
        statement = statement.where(CircleMembership.circle_id == circle_id)
    return session.exec(statement.limit(1)).first() is not None


_THEIRS = aliased(CircleMembership)
_MINE = aliased(CircleMembership)


def visible_to(viewer_id: int | BindParameter[int]) -> ColumnElement[bool]:
    """The condition under which a member's profile is visible to ``viewer_id`` (a number, or
    a bound parameter for a statement built once and run with many viewers)."""
    theirs, mine = _THEIRS, _MINE
    shares_a_circle = exists().where(
        col(theirs.member_id) == col(Member.id),
        col(mine.member_id) == viewer_id,
        col(theirs.circle_id) == col(mine.circle_id),
    )
    return or_(
        col(Member.visibility) == "all",
        col(Member.id) == viewer_id,
        and_(col(Member.visibility) == "circles", shares_a_circle),
    )


def can_see(session: Session, viewer_id: int, member_id: int) -> bool:
    statement = select(Member.id).where(Member.id == member_id, visible_to(viewer_id))
    return session.exec(statement).first() is not None


def circle_by_key(session: Session, key: str) -> Circle | None:
    return session.exec(select(Circle).where(Circle.key == key)).first()


def circles(session: Session, kind: str | None = None, *, archived: bool = False) -> list[Circle]:
    statement = select(Circle).where(col(Circle.archived) == archived)
    if kind:
        statement = statement.where(Circle.kind == kind)
    return list(session.exec(statement.order_by(col(Circle.kind), col(Circle.name))))


def membership(session: Session, circle_id: int, member_id: int) -> CircleMembership | None:
    return session.get(CircleMembership, (circle_id, member_id))


def member_counts(session: Session) -> dict[int, int]:
    rows = session.exec(
        select(CircleMembership.circle_id, func.count()).group_by(col(CircleMembership.circle_id))
    )
    return {circle_id: int(count) for circle_id, count in rows}


def circles_of(session: Session, member_id: int) -> list[Circle]:
    statement = (
        select(Circle)
        .join(CircleMembership, col(CircleMembership.circle_id) == col(Circle.id))
        .where(CircleMembership.member_id == member_id, col(Circle.archived).is_(False))
        .order_by(col(Circle.name))
    )
    return list(session.exec(statement))


def members_of(
    session: Session, circle_id: int, viewer_id: int | None, *, limit: int, offset: int
) -> tuple[list[tuple[Member, str]], int]:
    """Members of a circle with their role, animators first; only those the viewer may see."""
    statement = (
        select(Member, CircleMembership.role)
        .join(CircleMembership, col(CircleMembership.member_id) == col(Member.id))
        .where(CircleMembership.circle_id == circle_id)
    )
    if viewer_id is not None:
        statement = statement.where(visible_to(viewer_id))
    total = int(session.exec(select(func.count()).select_from(statement.subquery())).one())
    page = (
        statement.order_by(col(CircleMembership.role), col(Member.name_folded))
        .offset(offset)
        .limit(limit)
    )
    return [(member, role) for member, role in session.exec(page)], total


def animators_of(session: Session, circle_id: int) -> list[Member]:
    statement = (
        select(Member)
        .join(CircleMembership, col(CircleMembership.member_id) == col(Member.id))
        .where(CircleMembership.circle_id == circle_id, CircleMembership.role == ANIMATOR)
        .order_by(col(Member.name_folded))
    )
    return list(session.exec(statement))


def places_of(session: Session, circle_id: int) -> list[CirclePlace]:
    return list(session.exec(select(CirclePlace).where(CirclePlace.circle_id == circle_id)))


def dm_subscribers(session: Session, circle_id: int) -> list[int]:
    statement = select(CircleMembership.member_id).where(
        CircleMembership.circle_id == circle_id, col(CircleMembership.announcements_by_dm)
    )
    return list(session.exec(statement))


def latest_guide(session: Session, circle_id: int) -> CircleGuideVersion | None:
    statement = (
        select(CircleGuideVersion)
        .where(CircleGuideVersion.circle_id == circle_id)
        .order_by(col(CircleGuideVersion.version).desc())
        .limit(1)
    )
    return session.exec(statement).first()


def add_guide_version(
    session: Session, circle_id: int, text: str, author_id: int | None, now: datetime
) -> CircleGuideVersion:
    latest = latest_guide(session, circle_id)
    version = CircleGuideVersion(
        circle_id=circle_id,
        version=(latest.version + 1) if latest else 1,
        text=text,
        author_id=author_id,
        created_at=now,
    )
    session.add(version)
    return version
