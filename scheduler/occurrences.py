"""Occurrences of a meetup: its rule expanded in its zone, with cancelled and moved ones."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

from bot.i18n import N_, Translator
from storage.meetups import Meetup, OccurrenceChange, occurrence_key

MAX_EXPANSION = 5000
CANCELLED = N_("cancelled")
MOVED = N_("moved")


@dataclass(frozen=True, slots=True)
class Occurrence:
    key: str  # the original start, in UTC (the RECURRENCE-ID)
    original_start: datetime  # UTC
    start: datetime  # UTC, after a move
    end: datetime
    cancelled: bool = False

    @property
    def moved(self) -> bool:
        return self.start != self.original_start


def local_first_start(meetup: Meetup) -> datetime:
    return meetup.local_start.replace(tzinfo=ZoneInfo(meetup.timezone))


def original_starts(meetup: Meetup, after: datetime, before: datetime) -> Iterator[datetime]:
    """Original starts (UTC) in [after, before), in order."""
    first = local_first_start(meetup)
    if not meetup.rrule:
        moment = first.astimezone(UTC)
        if after <= moment < before:
            yield moment
        return
    try:
        rule = rrulestr(meetup.rrule, dtstart=first)
        local_after = after.astimezone(first.tzinfo) - timedelta(seconds=1)
        for count, moment in enumerate(rule.xafter(local_after, inc=True)):
            instant = moment.astimezone(UTC)
            if instant >= before or count >= MAX_EXPANSION:
                return
            if instant >= after:
                yield instant
    except (OverflowError, ValueError):
        return  # a stored date at the end of the calendar: no further dates, never an error


def occurrences(
    meetup: Meetup,
    changes: Iterable[OccurrenceChange],
    after: datetime,
    before: datetime,
    *,
    include_cancelled: bool = False,
) -> list[Occurrence]:
    """Occurrences whose (possibly moved) start falls in [after, before), by start."""
    duration = timedelta(minutes=meetup.duration_minutes)
    by_key = {occurrence_key(c.original_start): c for c in changes}
    found: dict[str, Occurrence] = {}
    for original in original_starts(meetup, after, before):
        key = occurrence_key(original)
        change = by_key.get(key)
        if change is not None and change.new_start is not None:
            continue  # a moved occurrence is placed where it moved to, below
        cancelled = bool(change and change.cancelled)
        if not cancelled or include_cancelled:
            found[key] = Occurrence(key, original, original, original + duration, cancelled)
    for key, change in by_key.items():
        start = change.new_start
        if start is None or not after <= start < before:
            continue
        if not change.cancelled or include_cancelled:
            found[key] = Occurrence(
                key, change.original_start, start, start + duration, change.cancelled
            )
    return sorted(found.values(), key=lambda o: o.start)


def next_occurrences(
    meetup: Meetup,
    changes: Iterable[OccurrenceChange],
    now: datetime,
    count: int,
    horizon_days: int = 400,
) -> list[Occurrence]:
    """The next ``count`` occurrences within the horizon (a far first start widens it)."""
    try:
        before = max(now + timedelta(days=horizon_days), meetup.first_start + timedelta(days=1))
    except OverflowError:  # a stored start at the end of the calendar
        before = datetime.max.replace(tzinfo=UTC)
    return occurrences(meetup, changes, now, before)[:count]


def find_occurrence(
    meetup: Meetup, changes: Iterable[OccurrenceChange], key: str
) -> Occurrence | None:
    """The occurrence with this original start, if the rule has it."""
    from storage.meetups import parse_occurrence_key

    original = parse_occurrence_key(key)
    for start in original_starts(meetup, original, original + timedelta(minutes=1)):
        if occurrence_key(start) == key:
            change = next((c for c in changes if occurrence_key(c.original_start) == key), None)
            moved = change.new_start if change and change.new_start else start
            return Occurrence(
                key,
                start,
                moved,
                moved + timedelta(minutes=meetup.duration_minutes),
                bool(change and change.cancelled),
            )
    return None


def describe(t: Translator, occurrence: Occurrence) -> str:
    """ "Monday 11 January 2027 08:30", with "cancelled" or "moved" when so."""
    local = occurrence.start.astimezone(t.zone)
    line = f"{t.date(local.date(), 'full')} {local:%H:%M}"
    if occurrence.cancelled:
        line += " · " + t(CANCELLED)
    elif occurrence.moved:
        line += " · " + t(MOVED)
    return line
