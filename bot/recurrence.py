"""Recurrence as people type it, in Dutch, French or English, turned into an RFC 5545 rule.

    "elke maandag", "chaque lundi", "every monday"         → FREQ=WEEKLY;BYDAY=MO
    "every 2 weeks", "om de 2 weken", "toutes les 2 semaines" → FREQ=WEEKLY;INTERVAL=2
    "first tuesday of the month", "eerste dinsdag van de maand",
    "premier mardi du mois"                                 → FREQ=MONTHLY;BYDAY=+1TU
    "daily", "weekly", "monthly" and their nl/fr words.

The end of a series (a date or a count) is given separately and added as UNTIL or COUNT.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from dateutil.rrule import rrulestr

from bot.timeparse import WEEKDAY_NAMES
from storage.folding import fold

WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
# the weekday names and abbreviations: the one table per language of bot.timeparse
_DAY_OF = {
    word: WEEKDAY_CODES[day] for table in WEEKDAY_NAMES.values() for word, day in table.items()
}
ORDINALS = {
    "first": 1,
    "eerste": 1,
    "premier": 1,
    "premiere": 1,
    "1st": 1,
    "1e": 1,
    "1er": 1,
    "second": 2,
    "tweede": 2,
    "deuxieme": 2,
    "2nd": 2,
    "2e": 2,
    "second.": 2,
    "third": 3,
    "derde": 3,
    "troisieme": 3,
    "3rd": 3,
    "3e": 3,
    "fourth": 4,
    "vierde": 4,
    "quatrieme": 4,
    "4th": 4,
    "4e": 4,
    "last": -1,
    "laatste": -1,
    "dernier": -1,
    "derniere": -1,
}
UNITS = {
    "DAILY": ("day", "days", "dag", "dagen", "jour", "jours", "daily", "dagelijks", "quotidien"),
    "WEEKLY": (
        "week",
        "weeks",
        "weken",
        "semaine",
        "semaines",
        "weekly",
        "wekelijks",
        "hebdomadaire",
    ),
    "MONTHLY": ("month", "months", "maand", "maanden", "mois", "monthly", "maandelijks", "mensuel"),
}
_UNIT_OF = {word: unit for unit, words in UNITS.items() for word in words}
_FILLER = {
    "every",
    "each",
    "elke",
    "iedere",
    "ieder",
    "om",
    "de",
    "chaque",
    "tous",
    "toutes",
    "les",
    "le",
    "la",
    "of",
    "the",
    "van",
    "du",
    "des",
    "month",
    "maand",
    "mois",
    "on",
    "op",
    "a",
    "all",
    "en",
    "et",
    "and",
}


class RecurrenceError(ValueError):
    """The text does not describe a recurrence this parser knows."""


@dataclass(frozen=True)
class Recurrence:
    rule: str  # without DTSTART, UNTIL or COUNT: "FREQ=WEEKLY;BYDAY=MO"

    def with_end(self, *, until_utc: datetime | None = None, count: int | None = None) -> str:
        rule = self.rule
        if count is not None:
            rule += f";COUNT={count}"
        elif until_utc is not None:
            rule += f";UNTIL={until_utc:%Y%m%dT%H%M%SZ}"
        return rule


def parse_recurrence(text: str, start: datetime) -> Recurrence:
    """A rule for the typed text; the start gives the weekday or day of the month if needed."""
    words = [w.rstrip(".") for w in re.split(r"[\s,]+", fold(text)) if w.rstrip(".")]
    if not words:
        raise RecurrenceError(text)
    weekday = WEEKDAY_CODES[start.weekday()]
    ordinal = next((ORDINALS[w] for w in words if w in ORDINALS), None)
    days = list(dict.fromkeys(_DAY_OF[w] for w in words if w in _DAY_OF))
    numbers = [int(w) for w in words if w.isdigit()]
    units = [_UNIT_OF[w] for w in words if w in _UNIT_OF]
    known = set(_DAY_OF) | set(ORDINALS) | set(_UNIT_OF) | _FILLER
    unknown = [w for w in words if w not in known and not w.isdigit()]
    if unknown:
        raise RecurrenceError(text)
    if ordinal is not None:
        day = days[0] if days else weekday
        return Recurrence(f"FREQ=MONTHLY;BYDAY={ordinal:+d}{day}")
    interval = numbers[0] if numbers else 1
    if interval < 1 or interval > 52:
        raise RecurrenceError(text)
    if days:
        rule = f"FREQ=WEEKLY;BYDAY={','.join(days)}"
        return Recurrence(rule + (f";INTERVAL={interval}" if interval > 1 else ""))
    if not units:
        raise RecurrenceError(text)
    unit = units[0]
    rule = f"FREQ={unit}"
    if unit == "WEEKLY":
        rule += f";BYDAY={weekday}"
    return Recurrence(rule + (f";INTERVAL={interval}" if interval > 1 else ""))


def validate_rule(rule: str, start: datetime) -> None:
    """Raise RecurrenceError if dateutil cannot expand the rule."""
    try:
        rrulestr(rule, dtstart=start)
    except (ValueError, TypeError) as error:
        raise RecurrenceError(rule) from error
