"""The coming dates of every active meetup, as a read model for calendars outside Samen
(Discord's scheduled events now; the web calendar and its .ics feeds later)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from scheduler.occurrences import occurrences
from storage.db import Database
from storage.meetups import Venue, active_meetups, changes_of


@dataclass(frozen=True, slots=True)
class AgendaItem:
    key: str  # meetup id and occurrence: stable across edits of the meetup
    meetup_id: int
    title: str
    start: datetime
    end: datetime
    location: str
    description: str

    def signature(self) -> str:
        """What a mirror compares to know whether its copy is out of date."""
        return f"{self.title}|{self.start.isoformat()}|{self.end.isoformat()}|{self.location}"


def upcoming(database: Database, now: datetime, days: int, limit: int) -> list[AgendaItem]:
    items: list[AgendaItem] = []
    with database.session() as session:
        for meetup in active_meetups(session):
            assert meetup.id is not None
            if meetup.project_id is not None:
                continue  # a project meeting is for its partners, not a public event
            venue = session.get(Venue, meetup.venue_id) if meetup.venue_id else None
            place = (
                ", ".join(p for p in (venue.name, venue.city) if p)
                if venue
                else (meetup.online_link or "—")
            )
            for occurrence in occurrences(
                meetup, changes_of(session, meetup.id), now, now + timedelta(days=days)
            ):
                items.append(
                    AgendaItem(
                        key=f"{meetup.id}:{occurrence.key}",
                        meetup_id=meetup.id,
                        title=meetup.title,
                        start=occurrence.start,
                        end=occurrence.end,
                        location=place[:100],
                        description=meetup.description[:1000],
                    )
                )
    items.sort(key=lambda item: item.start)
    return items[:limit]
