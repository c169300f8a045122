"""Projects a member leads, their named slots ("scenographer", "van with driver") and the
requests of members who want to fill one."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, String, Text, UniqueConstraint, func
from sqlmodel import Field, Session, SQLModel, col, select

from storage.identity import member_fk
from storage.search import SLOT, index_document
from storage.types import UTCDateTime, cascading_fk, optional_fk

OPEN = "open"
CLOSED = "closed"  # a project, or a slot the lead no longer needs
FILLED = "filled"
PENDING = "pending"
ACCEPTED = "accepted"
DECLINED = "declined"


class Project(SQLModel, table=True):
    __table_args__ = (Index("ix_project_listing", "status", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    lead_id: int = Field(sa_column=member_fk(index=True))
    title: str = Field(sa_column=Column(String(120), nullable=False))
    pitch: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    sector: str | None = Field(default=None, sa_column=Column(String(40), nullable=True))
    region: str | None = Field(default=None, sa_column=Column(String(40), nullable=True))
    status: str = Field(default=OPEN, sa_column=Column(String(8), nullable=False))
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)


class ProjectSlot(SQLModel, table=True):
    __tablename__ = "project_slot"

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(sa_column=cascading_fk("project", index=True))
    role: str = Field(sa_column=Column(String(80), nullable=False))
    status: str = Field(default=OPEN, sa_column=Column(String(8), nullable=False))
    filled_by: int | None = Field(default=None, sa_column=optional_fk("member"))
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class ProjectRequest(SQLModel, table=True):
    """A member asks to fill a slot, or is introduced for it; the lead accepts or declines."""

    __tablename__ = "project_request"
    __table_args__ = (UniqueConstraint("slot_id", "member_id"),)

    id: int | None = Field(default=None, primary_key=True)
    slot_id: int = Field(sa_column=cascading_fk("project_slot", index=True))
    member_id: int = Field(sa_column=member_fk(index=True))
    introduced_by: int | None = Field(default=None, sa_column=optional_fk("member"))
    message: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    status: str = Field(default=PENDING, sa_column=Column(String(10), nullable=False))
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


def slots_of(session: Session, project_id: int) -> list[ProjectSlot]:
    return list(
        session.exec(
            select(ProjectSlot)
            .where(ProjectSlot.project_id == project_id)
            .order_by(col(ProjectSlot.id))
        )
    )


def reindex_slot(session: Session, project: Project, slot: ProjectSlot, body: str) -> None:
    """An open slot of an open project is searchable as a need (``body`` already folded)."""
    assert slot.id is not None
    index_document(
        session,
        source=SLOT,
        source_id=slot.id,
        kind="need",
        is_open=project.status == OPEN and slot.status == OPEN,
        sector=project.sector,
        region=project.region,
        body=body,
        created_at=slot.created_at,
    )


def list_projects(
    session: Session,
    *,
    sector: str | None,
    region: str | None,
    lead_id: int | None,
    include_closed: bool,
    limit: int,
    offset: int,
) -> tuple[list[Project], int]:
    statement = select(Project)
    if not include_closed:
        statement = statement.where(Project.status == OPEN)
    for column, value in (
        (Project.sector, sector),
        (Project.region, region),
        (Project.lead_id, lead_id),
    ):
        if value is not None:
            statement = statement.where(col(column) == value)
    total = int(session.exec(select(func.count()).select_from(statement.subquery())).one())
    page = statement.order_by(col(Project.created_at).desc(), col(Project.id).desc())
    return list(session.exec(page.offset(offset).limit(limit))), total


def pending_requests_of(session: Session, slot_id: int) -> list[ProjectRequest]:
    return list(
        session.exec(
            select(ProjectRequest)
            .where(ProjectRequest.slot_id == slot_id, ProjectRequest.status == PENDING)
            .order_by(col(ProjectRequest.id))
        )
    )


def request_for(session: Session, slot_id: int, member_id: int) -> ProjectRequest | None:
    return session.exec(
        select(ProjectRequest).where(
            ProjectRequest.slot_id == slot_id, ProjectRequest.member_id == member_id
        )
    ).first()
