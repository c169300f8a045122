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
# One table per language: every weekday name and its usual abbreviations (folded; a final dot
# is dropped before looking up), also in the plural for "elke maandagen", "les lundis".
WEEKDAY_NAMES: dict[str, dict[str, int]] = {
    "nl": {
        **dict.fromkeys(("maandag", "maandagen", "ma", "maa"), 0),
        **dict.fromkeys(("dinsdag", "dinsdagen", "di", "din"), 1),
        **dict.fromkeys(("woensdag", "woensdagen", "wo", "woe"), 2),
        **dict.fromkeys(("donderdag", "donderdagen", "do", "don"), 3),
        **dict.fromkeys(("vrijdag", "vrijdagen", "vr", "vrij"), 4),
        **dict.fromkeys(("zaterdag", "zaterdagen", "za", "zat"), 5),
        **dict.fromkeys(("zondag", "zondagen", "zo", "zon"), 6),
    },
    "fr": {
        **dict.fromkeys(("lundi", "lundis", "lun"), 0),
        **dict.fromkeys(("mardi", "mardis", "mar"), 1),
        **dict.fromkeys(("mercredi", "mercredis", "mer"), 2),
        **dict.fromkeys(("jeudi", "jeudis", "jeu"), 3),
        **dict.fromkeys(("vendredi", "vendredis", "ven"), 4),
        **dict.fromkeys(("samedi", "samedis", "sam"), 5),
        **dict.fromkeys(("dimanche", "dimanches", "dim"), 6),
    },
    "en": {
        **dict.fromkeys(("monday", "mondays", "mon"), 0),
        **dict.fromkeys(("tuesday", "tuesdays", "tue", "tues"), 1),
        **dict.fromkeys(("wednesday", "wednesdays", "wed"), 2),
        **dict.fromkeys(("thursday", "thursdays", "thu", "thur", "thurs"), 3),
        **dict.fromkeys(("friday", "fridays", "fri"), 4),
        **dict.fromkeys(("saturday", "saturdays", "sat"), 5),
        **dict.fromkeys(("sunday", "sundays", "sun"), 6),
    },
}
# Phrases for a day that dateparser misses, one table per language (folded): "today" in the
# evening, and the week after this one ("volgende week dinsdag", "mardi de la semaine
# prochaine", "next week tuesday").
TODAY_PHRASES: dict[str, tuple[str, ...]] = {
    "nl": ("vanavond", "deze avond", "vannacht", "vanmiddag", "vanmorgen", "vanochtend"),
    "fr": ("ce soir", "cette nuit", "cet apres-midi", "cet apres midi", "ce matin"),
    "en": ("tonight", "this evening", "this afternoon", "this morning"),
}
NEXT_WEEK_PHRASES: dict[str, tuple[str, ...]] = {
    "nl": ("volgende week", "komende week"),
    "fr": ("de la semaine prochaine", "la semaine prochaine", "semaine prochaine"),
    "en": ("next week",),
}
_TODAY = {phrase for phrases in TODAY_PHRASES.values() for phrase in phrases}
_NEXT_WEEK = re.compile(
    r"(?<!\w)("
    + "|".join(
        re.escape(phrase)
        for phrases in NEXT_WEEK_PHRASES.values()
        for phrase in sorted(phrases, key=len, reverse=True)
    )
    + r")(?!\w)"
)
_WEEKDAYS = {word: day for table in WEEKDAY_NAMES.values() for word, day in table.items()}
# the dates a member may type: from today up to this many years ahead (the calendar, reminders
# and exports expand every stored date, so a date at the end of the calendar is never stored)
YEARS_AHEAD = 5


def last_allowed_day(today: date) -> date:
    """The last day a member may give: ``YEARS_AHEAD`` years after today."""
    try:
        return today.replace(year=today.year + YEARS_AHEAD)
    except ValueError:  # 29 February
        return today.replace(year=today.year + YEARS_AHEAD, day=28)


def weekday_of(word: str) -> int | None:
    """0 (Monday) to 6 for a weekday name or abbreviation in nl, fr or en, else None."""
    return _WEEKDAYS.get(fold(word).rstrip("."))


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
    folded = " ".join(fold(text).split())
    if folded in _TODAY:
        return today
    next_week, count = _NEXT_WEEK.subn(" ", folded)
    if count:  # the weekday in the week after this one (weeks start on Monday)
        words = next_week.split()
        weekday = weekday_of(words[0]) if len(words) == 1 else None
        if weekday is None:
            return None
        return today + timedelta(days=7 - today.weekday() + weekday)
    words = [w for w in folded.split() if w not in _NEXT_WORDS]
    weekday = weekday_of(words[0]) if len(words) == 1 else None
    if weekday is not None:
        ahead = (weekday - today.weekday()) % 7 or 7
        return today + timedelta(days=ahead)
    return None


def _dateparser(text: str, base: datetime) -> datetime | None:
    parsed = dateparser.parse(
        text,
        languages=_LANGUAGES,
        settings={
            "PREFER_DATES_FROM": "future",
            "RELATIVE_BASE": base,
            "DATE_ORDER": "DMY",
            "RETURN_AS_TIMEZONE_AWARE": False,
        },
    )
    return parsed if isinstance(parsed, datetime) else None


def parse_when(text: str, now: datetime, zone: ZoneInfo) -> tuple[datetime, bool] | None:
    """An aware instant for what was typed and whether it had a time of day, or None.
    A date without a time ("morgen", "31 januari") is at midnight."""
    local_now = now.astimezone(zone)
    rest, clock = _hour(text)
    day = _weekday_to_come(rest, local_now.date()) if rest else local_now.date()
    if day is not None:
        return datetime.combine(day, clock or time(0, 0), tzinfo=zone), clock is not None
    typed = text if clock is None else f"{rest} {clock:%H:%M}"
    base = local_now.replace(tzinfo=None)
    parsed = _dateparser(typed, base)
    if parsed is None:
        return None
    if clock is None:
        # dateparser gives "morgen" the clock time of its base: with a base at another
        # time of day, a date without a time moves with it
        other = _dateparser(typed, base + timedelta(minutes=7))
        moved = other is not None and other - parsed == timedelta(minutes=7)
        midnight = other is not None and parsed.time() == other.time() == time(0, 0)
        if (moved and parsed.time() == base.time()) or midnight:  # "2027-01-07": a day only
            return datetime.combine(parsed.date(), time(0, 0), tzinfo=zone), False
    return parsed.replace(tzinfo=zone), True


def parse_moment(text: str, now: datetime, zone: ZoneInfo) -> datetime | None:
    """An aware instant for what was typed, or None. A date without a time is midnight."""
    found = parse_when(text, now, zone)
    return found[0] if found else None


def parse_day(text: str, now: datetime, zone: ZoneInfo) -> date | None:
    moment = parse_moment(text, now, zone)
    return moment.date() if moment else None
