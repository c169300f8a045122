"""Claiming rows of an outbox (reminders, "did it work out?" questions, survey invitations)
for one sender: a lease that two instances, or two threads, never both get."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import ColumnElement
from sqlalchemy import update as sa_update
from sqlmodel import Session, SQLModel, col, select

Row = TypeVar("Row", bound=SQLModel)


def claim(
    session: Session,
    model: type[Row],
    due: ColumnElement[bool],
    order: tuple[Any, ...],
    limit: int,
    values: dict[str, Any],
) -> list[Row]:
    """The first ``limit`` rows of ``model`` (by ``order``) matching ``due``, given ``values``
    (their new state, who claims them and when) in this transaction, and returned. One UPDATE
    picks and claims them, so SQLite takes its write lock before it reads; on PostgreSQL, rows
    another instance holds are skipped (FOR UPDATE SKIP LOCKED)."""
    key = col(model.id)  # type: ignore[attr-defined]
    candidates = select(key).where(due).order_by(*order).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    claimed = session.execute(
        sa_update(model).where(key.in_(candidates), due).values(**values).returning(key)
    )
    ids = [row[0] for row in claimed]
    if not ids:
        return []
    return list(
        session.exec(
            select(model)
            .where(key.in_(ids))
            .order_by(*order)
            .execution_options(populate_existing=True)
        )
    )
