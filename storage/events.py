"""Processed platform events: the key of every incoming event that can run a command, so
that one event is handled once, whichever instance (or which delivery) sees it first."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column, Engine, Index, Insert, String, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, Session, SQLModel, col, delete

from storage.types import UTCDateTime


class ProcessedEvent(SQLModel, table=True):
    __tablename__ = "processed_event"
    __table_args__ = (Index("ix_processed_event_received_at", "received_at"),)

    platform: str = Field(sa_column=Column(String(16), primary_key=True))
    # a Matrix event id, a Discord interaction id
    event_id: str = Field(sa_column=Column(String(255), primary_key=True))
    received_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


def _insert(dialect: str, platform: str, event_id: str, now: datetime) -> Insert:
    values = {"platform": platform, "event_id": event_id, "received_at": now}
    table = ProcessedEvent.__table__  # type: ignore[attr-defined]
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # RETURNING says whether the row went in (psycopg's rowcount is -1 here)
    return insert(table).values(values).on_conflict_do_nothing().returning(table.c.event_id)


def claim_event(
    session_or_engine: Session | Engine,
    platform: str,
    event_id: str,
    now: datetime | None = None,
) -> bool:
    """Record the event as taken; True when this caller is the first to take it. Given an
    engine, the claim is a transaction of its own (committed on return); given a session, it
    is part of the session's transaction, which the caller commits. On PostgreSQL a second
    claim waits for the first one's transaction and then finds the key: never two winners."""
    moment = now or datetime.now(UTC)
    if isinstance(session_or_engine, Session):
        bind = session_or_engine.get_bind()
        statement = _insert(bind.dialect.name, platform, event_id, moment)
        return session_or_engine.execute(statement).first() is not None
    dialect = session_or_engine.dialect.name
    with session_or_engine.begin() as connection:
        if dialect == "postgresql":
            # no wait for the disk: the key is seen by every other session at once all the
            # same, and it cannot be lost without the command's own (later) commit being lost
            # too, since PostgreSQL's log is written in order
            connection.execute(text("SET LOCAL synchronous_commit = off"))
        return connection.execute(_insert(dialect, platform, event_id, moment)).first() is not None


def prune_events(session: Session, before: datetime) -> int:
    """Forget the keys of events received before ``before``; how many were forgotten."""
    result = session.exec(delete(ProcessedEvent).where(col(ProcessedEvent.received_at) < before))
    return int(result.rowcount or 0)
