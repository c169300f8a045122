"""Profile details that a member has several of: sectors, skills, languages."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Column,
    Index,
    String,
    bindparam,
    delete,
    event,
    exists,
    func,
    literal,
    union_all,
    update,
)
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm.attributes import get_history
from sqlalchemy.sql.elements import BindParameter
from sqlmodel import Field, Session, SQLModel, col, select

from storage.circles import visible_to
from storage.identity import Account, Member, member_fk

COUNT_CAP = 200  # `members find` counts its matches up to this, then says "more than"


class MemberSector(SQLModel, table=True):
    """One sector of a member, with a copy of the member's region and folded name.

    The copies let `members find` read a page of a sector (and region) in name order straight
    from one index, and count its matches there, instead of probing every member of the region
    or sorting every member of the sector. They are kept in step by ``_keep_sectors_in_step``
    (any flush that changes a member's region or name, or adds sectors) and by
    ``resync_sectors`` (after bulk statements such as a merge of two members)."""

    __tablename__ = "member_sector"
    __table_args__ = (
        Index("ix_member_sector_name", "sector", "name_folded", "member_id"),
        Index("ix_member_sector_region_name", "sector", "region", "name_folded", "member_id"),
    )

    member_id: int = Field(sa_column=member_fk(primary_key=True))
    sector: str = Field(sa_column=Column(String(40), primary_key=True))
    region: str | None = Field(default=None, sa_column=Column(String(40), nullable=True))
    name_folded: str = Field(
        default="", sa_column=Column(String(80), nullable=False, server_default="")
    )


class MemberSkill(SQLModel, table=True):
    __tablename__ = "member_skill"

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(sa_column=member_fk(index=True))
    skill: str = Field(sa_column=Column(String(60), nullable=False))
    skill_folded: str = Field(sa_column=Column(String(60), nullable=False, index=True))


class MemberLanguage(SQLModel, table=True):
    __tablename__ = "member_language"

    member_id: int = Field(sa_column=member_fk(primary_key=True))
    language: str = Field(sa_column=Column(String(8), primary_key=True))


@dataclass
class ProfileDetails:
    sectors: list[str] = field(default_factory=list)
    skills: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    platforms: list[str] = field(default_factory=list)


_IDS: BindParameter[list[int]] = bindparam("ids", expanding=True)
_DETAILS = union_all(
    select(literal("s"), MemberSector.member_id, MemberSector.sector, literal(0)).where(
        col(MemberSector.member_id).in_(_IDS)
    ),
    select(literal("k"), MemberSkill.member_id, MemberSkill.skill, MemberSkill.id).where(
        col(MemberSkill.member_id).in_(_IDS)
    ),
    select(literal("l"), MemberLanguage.member_id, MemberLanguage.language, literal(0)).where(
        col(MemberLanguage.member_id).in_(_IDS)
    ),
    select(literal("p"), Account.member_id, Account.platform, literal(0)).where(
        col(Account.member_id).in_(_IDS)
    ),
)
_FIELDS = {"s": "sectors", "k": "skills", "l": "languages", "p": "platforms"}


def details_of(session: Session, member_ids: Iterable[int]) -> dict[int, ProfileDetails]:
    """Sectors, skills, languages and platforms of several members, in one query."""
    ids = list(dict.fromkeys(member_ids))
    found = {member_id: ProfileDetails() for member_id in ids}
    if not ids:
        return found
    rows = session.connection().execute(_DETAILS, {"ids": ids}).all()
    for what, member_id, value, _position in sorted(rows, key=lambda r: (r[0], r[3], r[2])):
        values: list[str] = getattr(found[member_id], _FIELDS[what])
        if value not in values:
            values.append(value)
    return found


def resync_sectors(session: Session, member_ids: Iterable[int]) -> None:
    """Copy the members' region and folded name into their member_sector rows (after bulk
    statements that the flush hook does not see, such as moving rows in a merge)."""
    ids = sorted(set(member_ids))
    if ids:
        session.connection().execute(_RESYNC, {"ids": ids})


_SECTORS = MemberSector.__table__  # type: ignore[attr-defined]
_MEMBERS = Member.__table__  # type: ignore[attr-defined]
_RESYNC = (
    update(_SECTORS)
    .where(_SECTORS.c.member_id.in_(bindparam("ids", expanding=True)))
    .values(
        region=select(_MEMBERS.c.region)
        .where(_MEMBERS.c.id == _SECTORS.c.member_id)
        .scalar_subquery(),
        name_folded=select(_MEMBERS.c.name_folded)
        .where(_MEMBERS.c.id == _SECTORS.c.member_id)
        .scalar_subquery(),
    )
)


def _moved_or_renamed(member: Member) -> bool:
    return any(get_history(member, name).has_changes() for name in ("region", "name_folded"))


@event.listens_for(OrmSession, "after_flush")
def _keep_sectors_in_step(session: OrmSession, _context: object) -> None:
    """After a flush that added sectors or changed a member's region or name, copy the
    member's values into its member_sector rows (the flush has written the member already)."""
    stale: set[int] = set()
    for obj in session.new:
        if isinstance(obj, MemberSector):
            stale.add(obj.member_id)
    for obj in session.dirty:
        if isinstance(obj, MemberSector):
            stale.add(obj.member_id)
        elif isinstance(obj, Member) and obj.id is not None and _moved_or_renamed(obj):
            stale.add(obj.id)
    if stale:
        session.connection().execute(_RESYNC, {"ids": sorted(stale)})


def replace_sectors(session: Session, member_id: int, sectors: Iterable[str]) -> None:
    session.exec(delete(MemberSector).where(col(MemberSector.member_id) == member_id))
    session.add_all(MemberSector(member_id=member_id, sector=s) for s in dict.fromkeys(sectors))


def replace_skills(session: Session, member_id: int, skills: Sequence[tuple[str, str]]) -> None:
    """Skills as (shown, folded) pairs."""
    session.exec(delete(MemberSkill).where(col(MemberSkill.member_id) == member_id))
    session.add_all(
        MemberSkill(member_id=member_id, skill=shown, skill_folded=folded)
        for shown, folded in skills
    )


def replace_languages(session: Session, member_id: int, languages: Iterable[str]) -> None:
    session.exec(delete(MemberLanguage).where(col(MemberLanguage.member_id) == member_id))
    session.add_all(
        MemberLanguage(member_id=member_id, language=code) for code in dict.fromkeys(languages)
    )


@dataclass(frozen=True, slots=True)
class FoundMembers:
    members: list[Member]
    total: int  # exact up to COUNT_CAP; COUNT_CAP + 1 means "more than COUNT_CAP"
    has_more: bool  # members after the last of this page match too


def find_members(
    session: Session,
    *,
    sector: str | None = None,
    region: str | None = None,
    skill_folded: str | None = None,
    viewer_id: int | None = None,
    limit: int = 20,
    offset: int = 0,
) -> FoundMembers:
    """Members matching every filter, by name, with their number counted up to COUNT_CAP + 1;
    only those ``viewer_id`` may see (``None``: an admin, who sees everyone).

    With a sector the page is read from member_sector's (sector, [region,] name_folded,
    member_id) index in order, so it costs the rows of the page (and the offset), not the
    members of the sector; without one, from member's (region, name_folded, id) or name index.
    The count stops at COUNT_CAP + 1 matches, and is skipped when the page shows the last
    match."""
    statement: Any
    order: tuple[Any, ...]
    if sector:
        statement = (
            select(Member)
            .join(MemberSector, col(MemberSector.member_id) == col(Member.id))
            .where(col(MemberSector.sector) == sector)
        )
        if region:
            statement = statement.where(col(MemberSector.region) == region)
        order = (col(MemberSector.name_folded), col(MemberSector.member_id))
    else:
        statement = select(Member)
        if region:
            statement = statement.where(col(Member.region) == region)
        order = (col(Member.name_folded), col(Member.id))
    if viewer_id is not None:
        statement = statement.where(visible_to(viewer_id))
    if skill_folded:
        statement = statement.where(
            exists().where(
                col(MemberSkill.member_id) == col(Member.id),
                col(MemberSkill.skill_folded).contains(skill_folded, autoescape=True),
            )
        )
    page = list(session.exec(statement.order_by(*order).offset(offset).limit(limit + 1)))
    has_more = len(page) > limit
    if page and not has_more:
        return FoundMembers(page, offset + len(page), False)  # this page shows the last match
    if not page and offset == 0:
        return FoundMembers([], 0, False)
    capped = statement.with_only_columns(col(Member.id)).limit(COUNT_CAP + 1).subquery()
    total = int(session.exec(select(func.count()).select_from(capped)).one())
    return FoundMembers(page[:limit], total, has_more)
