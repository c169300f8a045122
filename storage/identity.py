"""Members, their platform accounts, and one-time link codes: the tables and their queries."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import (
    Boolean,
    Column,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    bindparam,
    func,
    update,
)
from sqlmodel import Field, Session, SQLModel, col, select

from storage.types import UTCDateTime, cascading_fk


def member_fk(*, primary_key: bool = False, index: bool = False) -> Column[int]:
    return cascading_fk("member", primary_key=primary_key, index=index)


class Member(SQLModel, table=True):
    __table_args__ = (Index("ix_member_region_name", "region", "name_folded", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    display_name: str = Field(sa_column=Column(String(80), nullable=False))
    name_folded: str = Field(sa_column=Column(String(80), nullable=False, index=True))
    locale: str | None = Field(default=None, sa_column=Column(String(5), nullable=True))
    region: str | None = Field(
        default=None, sa_column=Column(String(40), nullable=True, index=True)
    )
    bio: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    visibility: str = Field(
        default="all", sa_column=Column(String(10), nullable=False, server_default="all")
    )
    reminder_offsets: str = Field(
        default="", sa_column=Column(String(60), nullable=False, server_default="")
    )
    remind_maybe: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default="0")
    )
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    # set by `privacy forget`: the row stays (posts and past attendance point to it), emptied
    forgotten_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)


class Account(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("platform", "platform_user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(sa_column=member_fk(index=True))
    platform: str = Field(sa_column=Column(String(16), nullable=False))
    platform_user_id: str = Field(sa_column=Column(String(255), nullable=False))
    handle: str = Field(sa_column=Column(String(255), nullable=False))
    last_seen_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class LinkCode(SQLModel, table=True):
    __tablename__ = "link_code"

    code: str = Field(sa_column=Column(String(16), primary_key=True))
    member_id: int = Field(sa_column=member_fk(index=True))
    platform: str = Field(sa_column=Column(String(16), nullable=False))
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    # wrong codes said (by anyone, on another platform) while this one was live; at
    # LINK_CODE_WRONG_TRIES the code is deleted, so guessing a six-digit code cannot pay off
    wrong_tries: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, default=0, server_default="0")
    )


class LinkAttempt(SQLModel, table=True):
    """A wrong link code said by a member: at most LINK_WRONG_TRIES_PER_HOUR an hour."""

    __tablename__ = "link_attempt"

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(sa_column=member_fk())
    tried_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    __table_args__ = (Index("ix_link_attempt_member_tried", "member_id", "tried_at"),)


_ACTOR = (
    select(Account, Member)
    .join(Member, col(Member.id) == col(Account.member_id))
    .where(
        col(Account.platform) == bindparam("platform"),
        col(Account.platform_user_id) == bindparam("user_id"),
    )
)
_TOUCH = (
    update(Account.__table__)  # type: ignore[attr-defined]
    .where(Account.__table__.c.id == bindparam("account_id"))  # type: ignore[attr-defined]
    .values(last_seen_at=bindparam("seen"))
)


def actor_for(
    session: Session, platform: str, platform_user_id: str
) -> tuple[Account, Member] | None:
    """The account and its member in one query (the hot path of every command)."""
    row = session.exec(_ACTOR, params={"platform": platform, "user_id": platform_user_id}).first()
    return (row[0], row[1]) if row else None


def record_seen(session: Session, seen: dict[int, datetime]) -> None:
    """Write when accounts were last seen, for many accounts at once."""
    if seen:
        session.connection().execute(
            _TOUCH, [{"account_id": account_id, "seen": at} for account_id, at in seen.items()]
        )


def account_for(session: Session, platform: str, platform_user_id: str) -> Account | None:
    statement = select(Account).where(
        Account.platform == platform, Account.platform_user_id == platform_user_id
    )
    return session.exec(statement).first()


def accounts_of(session: Session, member_id: int) -> list[Account]:
    """The member's accounts, most recently seen first."""
    return list(session.exec(_ACCOUNTS_OF, params={"member_id": member_id}))


# built once: each notification delivered reads it
_ACCOUNTS_OF = (
    select(Account)
    .where(Account.member_id == bindparam("member_id"))
    .order_by(col(Account.last_seen_at).desc())
)


_MEMBERS_BY_IDS = select(Member).where(col(Member.id).in_(bindparam("ids", expanding=True)))


def members_by_ids(session: Session, member_ids: Iterable[int]) -> dict[int, Member]:
    """Several members in one query (they stay in the session, so ``session.get`` finds them
    without another query)."""
    wanted = list(dict.fromkeys(member_ids))
    if not wanted:
        return {}
    found = session.exec(_MEMBERS_BY_IDS, params={"ids": wanted})
    return {member.id: member for member in found if member.id is not None}


def members_named(session: Session, name_folded: str, limit: int = 10) -> list[Member]:
    statement = select(Member).where(Member.name_folded == name_folded).limit(limit)
    return list(session.exec(statement))


def member_count(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(Member)).one())
