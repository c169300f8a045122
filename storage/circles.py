"""Circles (sector, theme, region) and who belongs to them, with which role.

The circle commands come with the board issue; the tables live here from the start because
roles (animator per circle) and profile visibility ("my circles") depend on them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Column, ForeignKey, Integer, String, Text
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Field, Session, SQLModel, and_, col, exists, or_, select

from storage.identity import Member, member_fk
from storage.types import UTCDateTime

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
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class CircleMembership(SQLModel, table=True):
    __tablename__ = "circle_membership"

    circle_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("circle.id", ondelete="CASCADE"), primary_key=True, nullable=False
        )
    )
    member_id: int = Field(sa_column=member_fk(primary_key=True, index=True))
    role: str = Field(
        default=MEMBER, sa_column=Column(String(10), nullable=False, server_default=MEMBER)
    )
    joined_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


def is_animator(session: Session, member_id: int, circle_id: int | None = None) -> bool:
    """Animator of that circle, or (without a circle) of any circle."""
    statement = select(CircleMembership.circle_id).where(
        CircleMembership.member_id == member_id, CircleMembership.role == ANIMATOR
    )
    if circle_id is not None:
        statement = statement.where(CircleMembership.circle_id == circle_id)
    return session.exec(statement.limit(1)).first() is not None


def visible_to(viewer_id: int) -> ColumnElement[bool]:
    """The condition under which a member's profile is visible to ``viewer_id``."""
    theirs = aliased(CircleMembership)
    mine = aliased(CircleMembership)
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
