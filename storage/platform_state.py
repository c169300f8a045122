"""Small key–value state that an adapter keeps across restarts (a Matrix device id and sync
token, direct rooms, the actions behind a message's reactions, a Discord command hash)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, String, Text
from sqlmodel import Field, Session, SQLModel, col, delete, select

from storage.types import UTCDateTime


class PlatformState(SQLModel, table=True):
    __tablename__ = "platform_state"

    platform: str = Field(sa_column=Column(String(16), primary_key=True))
    key: str = Field(sa_column=Column(String(255), primary_key=True))
    value: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


def get_state(session: Session, platform: str, key: str) -> str | None:
    row = session.get(PlatformState, (platform, key))
    return row.value if row else None


def set_state(session: Session, platform: str, key: str, value: str, now: datetime) -> None:
    row = session.get(PlatformState, (platform, key))
    if row is None:
        row = PlatformState(platform=platform, key=key, value=value, updated_at=now)
    row.value, row.updated_at = value, now
    session.add(row)


def states_with_prefix(session: Session, platform: str, prefix: str) -> dict[str, str]:
    rows = session.exec(
        select(PlatformState).where(
            PlatformState.platform == platform, col(PlatformState.key).startswith(prefix)
        )
    )
    return {row.key: row.value for row in rows}


def forget_older_than(session: Session, platform: str, prefix: str, before: datetime) -> None:
    session.exec(
        delete(PlatformState).where(
            col(PlatformState.platform) == platform,
            col(PlatformState.key).startswith(prefix),
            col(PlatformState.updated_at) < before,
        )
    )
