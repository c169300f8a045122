"""Periods of the follow-up's reports as members type them, in Dutch, French or English.

``this month``, ``vorige maand``, ``ce trimestre``, ``last year``, a year ``2026``, a month
``2026-03``, ``last 12 months`` / ``laatste 12 maanden`` / ``les 12 derniers mois``, and a
range ``2026-01-01..2026-03-31`` or ``from 1 January 2026 to 31 March 2026`` / ``van … tot …``
/ ``du … au …`` (both days included; the days are read by bot/timeparse.py). A period is
local days in the community's zone; ``start`` and ``end`` give its bounds in UTC, the end
excluded. Its ``previous`` period is the one before it of the same shape (the month, quarter
or year before; a range of days: as many days just before it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.text import fold
from bot.timeparse import parse_day

MONTH, QUARTER, YEAR, MONTHS, DAYS = "month", "quarter", "year", "months", "days"

_THIS = {
    MONTH: ("this month", "deze maand", "ce mois", "ce mois-ci", "ce mois ci"),
    QUARTER: ("this quarter", "dit kwartaal", "ce trimestre", "ce trimestre-ci"),
    YEAR: ("this year", "dit jaar", "cette annee", "cette annee-ci"),
}
_LAST = {
    MONTH: ("last month", "previous month", "vorige maand", "le mois dernier", "mois dernier"),
    QUARTER: (
        "last quarter",
        "previous quarter",
        "vorig kwartaal",
        "vorige kwartaal",
        "le trimestre dernier",
        "trimestre dernier",
    ),
    YEAR: (
        "last year",
        "previous year",
        "vorig jaar",
        "vorige jaar",
        "l'annee derniere",
        "l annee derniere",
        "annee derniere",
    ),
}
_LAST_MONTHS = re.compile(
    r"^(?:(?:the )?(?:last|past) (\d{1,2}) months"
    r"|(?:de )?(?:laatste|afgelopen) (\d{1,2}) maanden"
    r"|(?:les )?(\d{1,2}) derniers mois)$"
)
_YEAR = re.compile(r"^(\d{4})$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})[- ]?q([1-4])$")
_RANGE = re.compile(r"^(.+?)\s*\.\.\s*(.+)$")
_FROM_TO = re.compile(
    r"^(?:from|van|vanaf|du|de|d')\s*(.+?)\s+(?:to|until|tot|au|a|jusqu'au)\s+(.+)$"
)
_ISO_DAY = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")


class PeriodError(ValueError):
    """What was typed is no period: ``reason`` is "unknown", "reversed" or "future"."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    """Local days [first, after) in ``zone``, of a ``shape`` (month, quarter, year, months,
    days); ``months`` for the shapes made of whole months."""

    first: date
    after: date
    shape: str
    zone: ZoneInfo
    months: int = 0

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(0), self.zone).astimezone(UTC)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.after, time(0), self.zone).astimezone(UTC)

    @property
    def last(self) -> date:
        return self.after - timedelta(days=1)

    def previous(self) -> Period:
        if self.months:
            first = _add_months(self.first, -self.months)
            return Period(first, self.first, self.shape, self.zone, self.months)
        length = self.after - self.first
        return Period(self.first - length, self.first, self.shape, self.zone)

    def month_starts(self) -> list[date]:
        """The first day of each month the period touches (its own first day for the first)."""
        found = [self.first]
        current = _add_months(self.first, 1)
        while current < self.after:
            found.append(current)
            current = _add_months(current, 1)
        return found


def _months(first: date, count: int, shape: str, zone: ZoneInfo) -> Period:
    return Period(first, _add_months(first, count), shape, zone, count)


def _day(text: str, now: datetime, zone: ZoneInfo) -> date:
    iso = _ISO_DAY.match(text.strip())
    if iso:
        try:
            return date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
        except ValueError as error:
            raise PeriodError("unknown") from error
    found = parse_day(text, now, zone)
    if found is None:
        raise PeriodError("unknown")
    return found


def parse_period(text: str, now: datetime, zone: ZoneInfo) -> Period:
    """The period ``text`` names (this month when empty); PeriodError when it names none, or
    one that ends before it starts ("reversed"), or starts after today ("future")."""
    today = now.astimezone(zone).date()
    month = today.replace(day=1)
    quarter = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    year = date(today.year, 1, 1)
    said = " ".join(fold(text).replace("’", "'").split())
    period: Period | None = None
    starts = {MONTH: (month, 1), QUARTER: (quarter, 3), YEAR: (year, 12)}
    if not said:
        period = _months(month, 1, MONTH, zone)
    for shape, phrases in _THIS.items():
        if said in phrases:
            first, count = starts[shape]
            period = _months(first, count, shape, zone)
    for shape, phrases in _LAST.items():
        if said in phrases:
            first, count = starts[shape]
            period = _months(_add_months(first, -count), count, shape, zone)
    if period is None and (found := _LAST_MONTHS.match(said)):
        count = int(next(g for g in found.groups() if g))
        if not 1 <= count <= 36:
            raise PeriodError("unknown")
        period = _months(_add_months(month, 1 - count), count, MONTHS, zone)
    if period is None and (found := _YEAR.match(said)):
        period = _months(date(int(found.group(1)), 1, 1), 12, YEAR, zone)
    if period is None and (found := _MONTH.match(said)):
        number = int(found.group(2))
        if not 1 <= number <= 12:
            raise PeriodError("unknown")
        period = _months(date(int(found.group(1)), number, 1), 1, MONTH, zone)
    if period is None and (found := _QUARTER.match(said)):
        first = date(int(found.group(1)), (int(found.group(2)) - 1) * 3 + 1, 1)
        period = _months(first, 3, QUARTER, zone)
    if period is None and (found := (_RANGE.match(said) or _FROM_TO.match(said))):
        first, last = _day(found.group(1), now, zone), _day(found.group(2), now, zone)
        if last < first:
            raise PeriodError("reversed")
        period = Period(first, last + timedelta(days=1), DAYS, zone)
    if period is None:
        raise PeriodError("unknown")
    if period.first > today:
        raise PeriodError("future")
    return period
