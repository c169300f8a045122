"""Forgetting the keys of processed platform events (storage/events.py) once no platform
delivers those events again: a Matrix sync or a Discord gateway replays minutes, not days."""

from __future__ import annotations

from datetime import timedelta

from bot.services import Services
from storage.events import prune_events

KEEP = timedelta(days=7)


async def prune_event_keys(services: Services) -> int:
    """Delete the keys older than KEEP; how many."""
    with services.database.session() as session:
        return prune_events(session, services.clock.now() - KEEP)
