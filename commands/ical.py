"""iCalendar (RFC 5545) export of meetups: VTIMEZONE, RRULE, EXDATE for cancelled dates and a
RECURRENCE-ID event for each moved one."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vRecur

from bot.context import Context
from scheduler.occurrences import local_first_start
from storage import meetups as store
from storage.meetups import Meetup, Venue

_LAST_ZONE_YEAR = date(9900, 1, 1)


def _event(meetup: Meetup, start: datetime, place: str, domain: str) -> Event:
    event = Event()
    event.add("uid", f"meetup-{meetup.id}@{domain}")
    event.add("summary", meetup.title)
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(minutes=meetup.duration_minutes))
    event.add("dtstamp", meetup.created_at)
    if meetup.description:
        event.add("description", meetup.description)
    if place:
        event.add("location", place)
    if meetup.online_link:
        event.add("url", meetup.online_link)
    return event


def calendar_for(ctx: Context, meetups: list[Meetup]) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", f"-//{ctx.settings.community_name}//Samen//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", ctx.settings.community_name)
    domain = "samen.invalid"
    first = min((m.local_start.date() for m in meetups), default=date.today())
    for meetup in meetups:
        assert meetup.id is not None
        zone = ZoneInfo(meetup.timezone)
        venue = ctx.session.get(Venue, meetup.venue_id) if meetup.venue_id else None
        place = ", ".join(p for p in (venue.name, venue.address, venue.city) if p) if venue else ""
        start = local_first_start(meetup)
        main = _event(meetup, start, place, domain)
        if meetup.status != "active":
            main.add("status", "CANCELLED")
        changes = store.changes_of(ctx.session, meetup.id)
        if meetup.rrule:
            main.add("rrule", vRecur.from_ical(meetup.rrule))
            cancelled = [c.original_start.astimezone(zone) for c in changes if c.cancelled]
            if cancelled:
                main.add("exdate", cancelled)
        calendar.add_component(main)
        for change in changes:
            if change.cancelled or change.new_start is None:
                continue
            moved = _event(meetup, change.new_start.astimezone(zone), place, domain)
            moved.add("recurrence-id", change.original_start.astimezone(zone))
            calendar.add_component(moved)
    calendar.add_missing_timezones(
        # a stored date near the end of the calendar must not make the export fail: the
        # time zone rules are written for a window that the calendar can still hold
        first_date=min(first, _LAST_ZONE_YEAR) - timedelta(days=1),
        last_date=date(min(first.year + 10, _LAST_ZONE_YEAR.year), 12, 31),
    )
    return bytes(calendar.to_ical())
