"""The audit trail: what admins and animators did to others' data, and when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer, String, or_
from sqlmodel import Field, Session, SQLModel, col, select

from storage.types import UTCDateTime


def _member_or_null() -> Column[int]:
    # the trail outlives the members in it: `privacy forget` empties the reference, the
    # subject ("post #12") stays
    return Column(Integer, ForeignKey("member.id", ondelete="SET NULL"), nullable=True)


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_entry"
    __table_args__ = (
        Index("ix_audit_entry_at", "at", "id"),
        Index("ix_audit_entry_actor", "actor_id", "at"),
        Index("ix_audit_entry_target", "target_member_id", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    actor_id: int | None = Field(default=None, sa_column=_member_or_null())
    action: str = Field(sa_column=Column(String(60), nullable=False))  # the command's name
    target_member_id: int | None = Field(default=None, sa_column=_member_or_null())
    subject: str = Field(default="", sa_column=Column(String(200), nullable=False))


def entries(
    session: Session,
    *,
    member_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_id: int | None = None,
    limit: int = 20,
) -> list[AuditEntry]:
    """The newest entries first, by or about ``member_id`` when given, within the dates."""
    statement = select(AuditEntry)
    if member_id is not None:
        statement = statement.where(
            or_(
                col(AuditEntry.actor_id) == member_id, col(AuditEntry.target_member_id) == member_id
            )
        )
    if since is not None:
        statement = statement.where(col(AuditEntry.at) >= since)
    if until is not None:
        statement = statement.where(col(AuditEntry.at) < until)
    if before_id is not None:
        statement = statement.where(col(AuditEntry.id) < before_id)
    ordered = statement.order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc())
    return list(session.exec(ordered.limit(limit)))
