"""Recurrence as people type it, in Dutch, French or English, turned into an RFC 5545 rule.

    "elke maandag", "chaque lundi", "every monday"         → FREQ=WEEKLY;BYDAY=MO
    "every 2 weeks", "om de 2 weken", "toutes les 2 semaines" → FREQ=WEEKLY;INTERVAL=2
    "first tuesday of the month", "eerste dinsdag van de maand",
    "premier mardi du mois"                                 → FREQ=MONTHLY;BYDAY=+1TU
    "le 15 de chaque mois", "de 15e van elke maand", "the 15th of every month"
                                                            → FREQ=MONTHLY;BYMONTHDAY=15
    "every other friday", "un vendredi sur deux", "tweewekelijks", "biweekly",
    "tous les 15 jours"                                     → FREQ=WEEKLY;...;INTERVAL=2
    "every weekday", "elke werkdag", "chaque jour ouvrable" → FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR
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


# Phrases that say an interval or a set of days in other words, one table per language
# (folded; matched as whole words and rewritten before the words are read).
_OTHER = "@other"  # every second one: "every other", "sur deux", "om de andere"
_WORKDAYS = "@workdays"  # Monday to Friday
PHRASES: dict[str, dict[str, str]] = {
    "nl": {
        "tweewekelijks": "2 weken",
        "veertien dagen": "2 weken",
        "14 dagen": "2 weken",
        "andere": _OTHER,
        "werkdag": _WORKDAYS,
        "werkdagen": _WORKDAYS,
        "weekdag": _WORKDAYS,
        "weekdagen": _WORKDAYS,
    },
    "fr": {
        "quinze jours": "2 semaines",
        "15 jours": "2 semaines",
        "huit jours": "1 semaine",
        "8 jours": "1 semaine",
        "sur deux": _OTHER,
        "sur 2": _OTHER,
        "jours ouvrables": _WORKDAYS,
        "jour ouvrable": _WORKDAYS,
        "jours ouvres": _WORKDAYS,
        "jour ouvre": _WORKDAYS,
        "jours de semaine": _WORKDAYS,
        "jour de semaine": _WORKDAYS,
        "un": "",
        "une": "",
    },
    "en": {
        "biweekly": "2 weeks",
        "bi-weekly": "2 weeks",
        "fortnightly": "2 weeks",
        "fortnight": "2 weeks",
        "other": _OTHER,
        "weekday": _WORKDAYS,
        "weekdays": _WORKDAYS,
        "workday": _WORKDAYS,
        "workdays": _WORKDAYS,
        "working day": _WORKDAYS,
        "working days": _WORKDAYS,
    },
}
_PHRASE = {phrase: meaning for table in PHRASES.values() for phrase, meaning in table.items()}
_PHRASE_PATTERN = re.compile(
    r"(?<![\w-])("
    + "|".join(re.escape(p) for p in sorted(_PHRASE, key=len, reverse=True))
    + r")(?![\w-])"
)
# "15th", "15e", "15de", "15ste", "1er", "15eme": a day of the month
_DAY_NUMBER = re.compile(r"^(\d{1,2})(?:st|nd|rd|th|e|de|ste|er|eme|ieme)$")


def parse_recurrence(text: str, start: datetime) -> Recurrence:
    """A rule for the typed text; the start gives the weekday or day of the month if needed."""
    folded = _PHRASE_PATTERN.sub(lambda m: f" {_PHRASE[m.group(1)]} ", fold(text))
    words = [w.rstrip(".") for w in re.split(r"[\s,]+", folded) if w.rstrip(".")]
    if not words:
        raise RecurrenceError(text)
    weekday = WEEKDAY_CODES[start.weekday()]
    days = list(dict.fromkeys(_DAY_OF[w] for w in words if w in _DAY_OF))
    if _WORKDAYS in words:
        days = list(dict.fromkeys([*days, *WEEKDAY_CODES[:5]]))
    units = [_UNIT_OF[w] for w in words if w in _UNIT_OF]
    known = set(_DAY_OF) | set(ORDINALS) | set(_UNIT_OF) | _FILLER | {_OTHER, _WORKDAYS}
    unknown = [w for w in words if w not in known and not w.isdigit() and not _DAY_NUMBER.match(w)]
    if unknown:
        raise RecurrenceError(text)
    # a number just before a unit is an interval ("every 2 weeks"); a numbered day ("15th")
    # or a lone number with "month" is a day of the month ("le 15 de chaque mois")
    intervals: list[int] = []
    month_days: list[int] = []
    for index, word in enumerate(words):
        following = words[index + 1] if index + 1 < len(words) else ""
        numbered = _DAY_NUMBER.match(word)
        if word.isdigit() and following in _UNIT_OF:
            intervals.append(int(word))
        elif word.isdigit() and "MONTHLY" in units:
            month_days.append(int(word))
        elif word.isdigit():
            intervals.append(int(word))
        elif numbered and word not in ORDINALS:
            month_days.append(int(numbered.group(1)))
    ordinal = next((ORDINALS[w] for w in words if w in ORDINALS), None)
    if ordinal is not None and not days and "WEEKLY" not in units and "DAILY" not in units:
        month_days.append(ordinal)  # "the first of the month", "le dernier du mois"
        ordinal = None
    if month_days:
        day = month_days[0]
        if days or not (1 <= day <= 31 or day == -1):
            raise RecurrenceError(text)
        return Recurrence(f"FREQ=MONTHLY;BYMONTHDAY={day}")
    if ordinal is not None and days:
        return Recurrence(f"FREQ=MONTHLY;BYDAY={ordinal:+d}{days[0]}")
    interval = intervals[0] if intervals else 1
    if _OTHER in words or (ordinal == 2 and "WEEKLY" in units):
        interval = 2
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
