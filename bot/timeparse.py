"""Dates and times as members type them, in Dutch, French or English.

dateparser does the work; a few everyday forms it misses are rewritten first:
"volgende vrijdag", "vendredi prochain", "komende maandag" (the weekday to come) and the
hour written "8h30" or "8u30".
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import dateparser

from bot.text import fold

_LANGUAGES = ["nl", "fr", "en"]
_NEXT_WORDS = ("volgende", "komende", "prochain", "prochaine", "next", "this", "deze", "ce")
_WEEKDAYS = {
    "maandag": 0,
    "dinsdag": 1,
    "woensdag": 2,
    "donderdag": 3,
    "vrijdag": 4,
    "zaterdag": 5,
    "zondag": 6,
    "lundi": 0,
    "mardi": 1,
    "mercredi": 2,
    "jeudi": 3,
    "vendredi": 4,
    "samedi": 5,
    "dimanche": 6,
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
}
_HOUR = re.compile(r"\b(\d{1,2})\s*[hu](?:\s*(\d{2}))?\b")
_CLOCK = re.compile(r"\b(\d{1,2})[:.](\d{2})\b")


def _hour(text: str) -> tuple[str, time | None]:
    """Take a time of day out of the text: "8h30", "8u", "08:30"."""
    for pattern in (_HOUR, _CLOCK):
        match = pattern.search(text)
        if match:
            hours, minutes = int(match.group(1)), int(match.group(2) or 0)
            if hours < 24 and minutes < 60:
                rest = (text[: match.start()] + " " + text[match.end() :]).strip()
                rest = re.sub(r"\b(om|à|a|at|vers)\s*$", "", rest).strip()
                return rest, time(hours, minutes)
    return text, None


def _weekday_to_come(text: str, today: date) -> date | None:
    words = [w for w in fold(text).split() if w not in _NEXT_WORDS]
    if len(words) == 1 and words[0] in _WEEKDAYS:
        ahead = (_WEEKDAYS[words[0]] - today.weekday()) % 7 or 7
        return today + timedelta(days=ahead)
    return None


def parse_moment(text: str, now: datetime, zone: ZoneInfo) -> datetime | None:
    """An aware instant for what was typed, or None. A date without a time is midnight."""
    local_now = now.astimezone(zone)
    rest, clock = _hour(text)
    day = _weekday_to_come(rest, local_now.date()) if rest else local_now.date()
    if day is not None:
        return datetime.combine(day, clock or time(0, 0), tzinfo=zone)
    parsed = dateparser.parse(
        text if clock is None else f"{rest} {clock:%H:%M}",
        languages=_LANGUAGES,
        settings={
            "PREFER_DATES_FROM": "future",
            "RELATIVE_BASE": local_now.replace(tzinfo=None),
            "DATE_ORDER": "DMY",
            "RETURN_AS_TIMEZONE_AWARE": False,
        },
    )
    if not isinstance(parsed, datetime):
        return None
    return parsed.replace(tzinfo=zone)


def parse_day(text: str, now: datetime, zone: ZoneInfo) -> date | None:
    moment = parse_moment(text, now, zone)
    return moment.date() if moment else None
