"""Every table, imported in one place so that the metadata (and Alembic) sees them all."""

from sqlmodel import SQLModel

from storage import (
    audit,
    board,
    circles,
    digests,
    events,
    facts,
    identity,
    listing,
    meetups,
    outcome_checks,
    platform_state,
    profiles,
    projects,
    search,
    surveys,
    topics,
)

metadata = SQLModel.metadata

__all__ = [
    "audit",
    "board",
    "circles",
    "digests",
    "events",
    "facts",
    "identity",
    "listing",
    "meetups",
    "metadata",
    "outcome_checks",
    "platform_state",
    "profiles",
    "projects",
    "search",
    "surveys",
    "topics",
]
