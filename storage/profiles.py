"""Profile details that a member has several of: sectors, skills, languages."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Column, Index, String, bindparam, delete, exists, func, literal, union_all
from sqlalchemy.sql.elements import BindParameter
from sqlmodel import Field, Session, SQLModel, col, select

from storage.circles import visible_to
from storage.identity import Account, Member, member_fk


class MemberSector(SQLModel, table=True):
    __tablename__ = "member_sector"
    __table_args__ = (Index("ix_member_sector_sector", "sector", "member_id"),)

    member_id: int = Field(sa_column=member_fk(primary_key=True))
    sector: str = Field(sa_column=Column(String(40), primary_key=True))


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


def sectors_of(session: Session, member_id: int) -> list[str]:
    rows = session.exec(
        select(MemberSector.sector)
        .where(MemberSector.member_id == member_id)
        .order_by(col(MemberSector.sector))
    )
    return list(rows)


def skills_of(session: Session, member_id: int) -> list[str]:
    rows = session.exec(
        select(MemberSkill.skill)
        .where(MemberSkill.member_id == member_id)
        .order_by(col(MemberSkill.id))
    )
    return list(rows)


def languages_of(session: Session, member_id: int) -> list[str]:
    rows = session.exec(
        select(MemberLanguage.language)
        .where(MemberLanguage.member_id == member_id)
        .order_by(col(MemberLanguage.language))
    )
    return list(rows)


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


def find_members(
    session: Session,
    *,
    sector: str | None = None,
    region: str | None = None,
    skill_folded: str | None = None,
    viewer_id: int | None = None,
    limit: int = 20,
    offset: int = 0,
) -> tuple[list[Member], int]:
    """Members matching every filter, by name, with the total; only those ``viewer_id`` may see
    (``None``: an admin, who sees everyone)."""
    statement = select(Member)
    if viewer_id is not None:
        statement = statement.where(visible_to(viewer_id))
    if sector:
        statement = statement.where(
            exists().where(
                col(MemberSector.member_id) == col(Member.id), col(MemberSector.sector) == sector
            )
        )
    if region:
        statement = statement.where(Member.region == region)
    if skill_folded:
        statement = statement.where(
            exists().where(
                col(MemberSkill.member_id) == col(Member.id),
                col(MemberSkill.skill_folded).contains(skill_folded, autoescape=True),
            )
        )
    total_statement = select(func.count()).select_from(statement.subquery())
    total = int(session.exec(total_statement).one())
    page = statement.order_by(col(Member.name_folded), col(Member.id)).offset(offset).limit(limit)
    return list(session.exec(page)), total
