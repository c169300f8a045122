"""What Samen holds about one member, found through the schema itself: gathered for an export,
erased or anonymised when the member is forgotten.

Every table that refers to ``member.id`` is found from the metadata, so a table added later is
exported without more code, and `forget` refuses to run until the new table is placed in
ERASED or KEPT (a test keeps the two lists complete):

- ERASED: the member's own data that nobody else needs (accounts, profile details,
  subscriptions, memberships, their reminders, link codes); deleted.
- KEPT: rows others need to keep (a post and its history, a response to someone's post, the
  attendance of a past meetup, a project they led); they stay, pointing to the member's row,
  which is emptied of everything personal (name, bio, region, language, settings).
- PSEUDONYMISED: facts of the follow-up (storage/facts.py), which keep the figures: their
  member reference is replaced by one random alias for all the member's facts, so counts
  (active members too) stay and no fact names anyone.
- References that may be empty (``ON DELETE SET NULL``: "closed with", "created by", "filled
  by") are set to NULL: others' rows no longer say it was this member.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, Table, delete, select, update
from sqlmodel import Session, SQLModel

from storage import facts
from storage.identity import Member

ERASED = frozenset(
    {
        "account",
        "link_code",
        "link_attempt",
        "subscription",
        "digest_item",
        "member_sector",
        "member_skill",
        "member_language",
        "circle_membership",
        "reminder",
        "project_request",
        "outcome_check",
        "digest_figures_sent",
        "digest_opt_out",
        "survey_participant",
        "topic_member",  # their support of a topic (the fact of it stays, pseudonymised)
    }
)
KEPT = frozenset({"post", "response", "rsvp", "project"})
# figures that must outlive the member: the link becomes a random alias
PSEUDONYMISED = frozenset({"fact"})
# derived copies (search index, list index) rebuilt from their source: not the member's data
DERIVED = frozenset({"post_listing", "search_document"})
FORGOTTEN_NAME = "—"


def member_references() -> Iterator[tuple[Table, Column[Any]]]:
    """Every (table, column) whose column refers to ``member.id``."""
    for table in SQLModel.metadata.sorted_tables:
        for column in table.columns:
            if any(fk.column.table.name == "member" for fk in column.foreign_keys):
                yield table, column


def _required(column: Column[Any]) -> bool:
    return not column.nullable


def unplaced_tables() -> set[str]:
    """Tables with a required member reference that are neither ERASED nor KEPT."""
    return {
        table.name
        for table, column in member_references()
        if _required(column) and table.name not in ERASED | KEPT | PSEUDONYMISED
    }


def _plain(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


def _rows(session: Session, table: Table, condition: Any) -> list[dict[str, object]]:
    found = session.execute(select(table).where(condition)).mappings()
    return [{key: _plain(value) for key, value in row.items()} for row in found]


def export(session: Session, member_id: int) -> dict[str, Any]:
    """Everything stored about the member: their own row, every row that refers to them, and
    the rows that belong to those (a post's tags) when they name no other member."""
    member_table: Table = Member.__table__  # type: ignore[attr-defined]
    tables: dict[str, list[dict[str, object]]] = {}
    for table, column in member_references():
        if table.name not in DERIVED:
            tables.setdefault(table.name, []).extend(_rows(session, table, column == member_id))
    for table in SQLModel.metadata.sorted_tables:
        if table.name in DERIVED or table.name in tables or table is member_table:
            continue
        for column in table.columns:
            for fk in column.foreign_keys:
                parent = fk.column.table.name
                ids = [row["id"] for row in tables.get(parent, []) if "id" in row]
                if ids and parent in KEPT:
                    tables.setdefault(table.name, []).extend(_rows(session, table, column.in_(ids)))
    own = _rows(session, member_table, member_table.c.id == member_id)
    return {
        "member": own[0] if own else None,
        "tables": {name: rows for name, rows in sorted(tables.items()) if rows},
    }


def erase(session: Session, member_id: int, now: datetime) -> dict[str, int]:
    """Delete the member's own data, loosen others' optional references, empty the member's
    row; returns the rows deleted per table. KEPT rows are for the caller to settle first
    (future RSVPs, open posts), as that needs the domain's rules."""
    unplaced = unplaced_tables()
    if unplaced:
        raise RuntimeError(f"privacy: tables not placed in ERASED or KEPT: {sorted(unplaced)}")
    deleted: dict[str, int] = {}
    facts.pseudonymise(session, member_id)
    for table, column in member_references():
        if table.name in PSEUDONYMISED:
            continue
        if table.name in ERASED:
            result = session.execute(delete(table).where(column == member_id))
            deleted[table.name] = deleted.get(table.name, 0) + int(getattr(result, "rowcount", 0))
        elif not _required(column):
            session.execute(update(table).where(column == member_id).values({column.name: None}))
    member = session.get(Member, member_id)
    assert member is not None
    member.display_name, member.name_folded = FORGOTTEN_NAME, ""
    member.bio, member.region, member.locale = "", None, None
    member.visibility, member.reminder_offsets, member.remind_maybe = "circles", "", False
    member.forgotten_at = now
    session.add(member)
    session.flush()
    return {name: count for name, count in deleted.items() if count}
