"""Discussion topics (issue 13): proposed by a member, supported by others, and given a place
of their own (a Discord thread, a Matrix room) once enough members support them or an animator
accepts them.

States: ``proposed`` (gathering support) → ``opening`` (accepted: the topics job opens its
place, leased like an outbox row so that one instance does it once) → ``open`` → ``closed``
or ``archived`` (by the author, an animator of its circle or an admin). A topic's members are
its supporters and those who only follow it; both hear when its place opens, and on Matrix
they are invited into its room.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Boolean, Column, Index, String, Text, UniqueConstraint, and_, or_
from sqlalchemy import update as sa_update
from sqlmodel import Field, Session, SQLModel, col, func, select

from storage import facts, leases
from storage.identity import member_fk
from storage.types import UTCDateTime, cascading_fk, optional_fk

PROPOSED, OPENING, OPEN, CLOSED, ARCHIVED = "proposed", "opening", "open", "closed", "archived"
LIVE = (PROPOSED, OPENING, OPEN)  # not closed nor archived
MAX_TITLE = 100  # a Discord thread's name holds 100 characters


class Topic(SQLModel, table=True):
    __tablename__ = "topic"
    __table_args__ = (
        Index("ix_topic_state", "state", "circle_id"),
        Index("ix_topic_place", "place_platform", "place_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(sa_column=Column(String(MAX_TITLE), nullable=False))
    # the title folded (case, accents, spaces), so that the same topic is not proposed twice
    title_folded: str = Field(sa_column=Column(String(MAX_TITLE), nullable=False, index=True))
    text: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    circle_id: int | None = Field(default=None, sa_column=optional_fk("circle"))
    author_id: int | None = Field(default=None, sa_column=optional_fk("member"))
    state: str = Field(default=PROPOSED, sa_column=Column(String(8), nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(timezone=True), nullable=False))
    opened_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(timezone=True), nullable=True)
    )
    closed_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(timezone=True), nullable=True)
    )
    # where it was proposed: its place opens on that platform, beside it when its circle has
    # no room or channel there
    home_platform: str = Field(default="", sa_column=Column(String(16), nullable=False))
    home_place: str = Field(default="", sa_column=Column(String(255), nullable=False))
    # its own place, once opened ("" on the console, where the list is the place)
    place_platform: str = Field(default="", sa_column=Column(String(16), nullable=False))
    place_id: str = Field(default="", sa_column=Column(String(255), nullable=False))
    messages: int = Field(default=0, nullable=False)  # said in its place, where we are told
    claimed_by: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    claimed_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(timezone=True), nullable=True)
    )


class TopicMember(SQLModel, table=True):
    """A member who supports a topic (``supports``) or only follows it."""

    __tablename__ = "topic_member"
    __table_args__ = (UniqueConstraint("topic_id", "member_id"),)

    id: int | None = Field(default=None, primary_key=True)
    topic_id: int = Field(sa_column=cascading_fk("topic", index=True))
    member_id: int = Field(sa_column=member_fk(index=True))
    supports: bool = Field(sa_column=Column(Boolean, nullable=False))
    at: datetime = Field(sa_column=Column(UTCDateTime(timezone=True), nullable=False))


def membership(session: Session, topic_id: int, member_id: int) -> TopicMember | None:
    return session.exec(
        select(TopicMember).where(
            TopicMember.topic_id == topic_id, TopicMember.member_id == member_id
        )
    ).first()


def supporters(session: Session, topic_id: int) -> int:
    return int(
        session.exec(
            select(func.count())
            .select_from(TopicMember)
            .where(TopicMember.topic_id == topic_id, col(TopicMember.supports))
        ).one()
    )


def members_of(session: Session, topic_id: int) -> list[int]:
    """Its supporters and followers, in the order they came."""
    return list(
        session.exec(
            select(TopicMember.member_id)
            .where(TopicMember.topic_id == topic_id)
            .order_by(col(TopicMember.at), col(TopicMember.id))
        )
    )


def live_with_title(session: Session, folded: str, circle_id: int | None) -> Topic | None:
    """A topic not closed with the same folded title, in the same circle (or open to all)."""
    return session.exec(
        select(Topic).where(
            Topic.title_folded == folded,
            Topic.circle_id == circle_id
            if circle_id is not None
            else col(Topic.circle_id).is_(None),
            col(Topic.state).in_(LIVE),
        )
    ).first()


def support_counts(session: Session, topic_ids: list[int]) -> dict[int, int]:
    if not topic_ids:
        return {}
    rows = session.exec(
        select(TopicMember.topic_id, func.count())
        .where(col(TopicMember.topic_id).in_(topic_ids), col(TopicMember.supports))
        .group_by(col(TopicMember.topic_id))
    )
    return {topic_id: int(count) for topic_id, count in rows}


def claim_opening(session: Session, now: datetime, lease: timedelta, instance: str) -> list[Topic]:
    """Topics to open that no live instance holds, claimed for ``instance``."""
    due = and_(
        col(Topic.state) == OPENING,
        or_(col(Topic.claimed_at).is_(None), col(Topic.claimed_at) < now - lease),
    )
    return leases.claim(
        session,
        Topic,
        due,
        (col(Topic.id),),
        50,
        {"claimed_by": instance, "claimed_at": now},
    )


def is_place(session: Session, platform: str, place_id: str) -> bool:
    """Is this room or channel an open topic's place? (one indexed read)"""
    return (
        session.exec(
            select(Topic.id).where(
                Topic.place_platform == platform, Topic.place_id == place_id, Topic.state == OPEN
            )
        ).first()
        is not None
    )


def count_message(session: Session, platform: str, place_id: str, at: datetime) -> bool:
    """A message said in an open topic's place: counted on the topic and as a fact."""
    row = session.execute(
        sa_update(Topic)
        .where(
            col(Topic.place_platform) == platform,
            col(Topic.place_id) == place_id,
            col(Topic.state) == OPEN,
        )
        .values(messages=col(Topic.messages) + 1)
        .returning(col(Topic.circle_id))
    ).first()
    if row is None:
        return False
    facts.record(session, facts.TOPIC_MESSAGE, at, **facts.circle_facts(session, row[0]))
    return True


def place_reference(platform: str, place_id: str) -> str:
    """How a member reaches a topic's place from a message: a Discord channel mention, a
    matrix.to link (both open the place in the member's client)."""
    if platform == "discord":
        return f"<#{place_id}>"
    if platform == "matrix":
        return f"https://matrix.to/#/{place_id}"
    return place_id
