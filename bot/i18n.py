"""Translations (gettext catalogues compiled with Babel) and locale-aware formatting.

Messages are written in English in the source, marked with ``N_`` where they are declared
(command help, parameter help, error messages) and translated when a Reply is rendered for a
member, in that member's locale. Placeholders use ``str.format`` names: ``{name}``.
"""

from __future__ import annotations

import gettext
import io
import logging
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from bot.config import SUPPORTED_LOCALES

log = logging.getLogger(__name__)

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "samen"


@dataclass(frozen=True, slots=True)
class LazyText:
    """A message id marked for translation, translated later in the reader's locale."""

    msgid: str

    def __str__(self) -> str:  # pragma: no cover - a reminder for whoever prints it raw
        return self.msgid


def N_(msgid: str) -> LazyText:
    """Mark a message for extraction; it is translated when shown."""
    return LazyText(msgid)


Message = str | LazyText


def load_catalogue(locale: str, directory: Path = LOCALE_DIR) -> gettext.NullTranslations:
    """Read ``<locale>/LC_MESSAGES/samen.po`` and compile it in memory with Babel."""
    po_path = directory / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po_path.exists():
        log.warning("no catalogue for locale %s at %s; messages stay in English", locale, po_path)
        return gettext.NullTranslations()
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=locale, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


Moment = datetime


# The catalogue is "en"; its dates, times and numbers follow en_GB (22 Dec 2026, 08:30).
FORMAT_LOCALES = {"en": "en_GB"}


class Translator:
    """Translate and format for one locale and time zone."""

    def __init__(self, locale: str, translations: gettext.NullTranslations, zone: ZoneInfo):
        self.locale = locale
        self.zone = zone
        self._translations = translations

    @cached_property
    def babel_locale(self) -> Locale:
        """The locale dates and numbers are formatted in: English as in Britain (day before
        month, 24-hour clock), as Belgian members read it, not the US default of "en"."""
        return Locale.parse(FORMAT_LOCALES.get(self.locale, self.locale))

    def __call__(self, message: Message, /, **params: object) -> str:
        msgid = message.msgid if isinstance(message, LazyText) else message
        text = self._translations.gettext(msgid)
        return text.format(**self._translated(params)) if params else text

    def _translated(self, params: dict[str, object]) -> dict[str, object]:
        """Parameters that are messages themselves (a LazyText, or a tuple of them: a list
        such as the names of missing parameters) are translated too."""
        return {
            key: self(value)
            if isinstance(value, LazyText)
            else ", ".join(self(v) if isinstance(v, LazyText) else str(v) for v in value)
            if isinstance(value, tuple)
            else value
            for key, value in params.items()
        }

    def plural(self, singular: str, plural: str, count: int, /, **params: object) -> str:
        text = self._translations.ngettext(singular, plural, count)
        return text.format(count=self.number(count), **params)

    def number(self, value: int | float) -> str:
        return format_decimal(value, locale=self.babel_locale)

    def datetime(self, moment: datetime, style: str = "medium") -> str:
        """A moment shown in the configured zone (naive values are taken as UTC)."""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ZoneInfo("UTC"))
        return babel_format_datetime(
            moment, format=style, tzinfo=self.zone, locale=self.babel_locale
        )

    def day_of(self, moment: Moment, style: str = "medium") -> str:
        """The local calendar day of a moment: "31 Mar 2027", "31 mrt 2027"."""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ZoneInfo("UTC"))
        return self.date(moment.astimezone(self.zone).date(), style)

    def date(self, day: date, style: str = "medium") -> str:
        return babel_format_date(day, format=style, locale=self.babel_locale)

    def language_name(self, code: str) -> str:
        return str(self.babel_locale.languages.get(code, code))


class Catalogues:
    """The three catalogues, loaded once; a Translator per (locale, zone)."""

    def __init__(self, zone: ZoneInfo, directory: Path = LOCALE_DIR):
        self.zone = zone
        self._translators = {
            code: Translator(code, load_catalogue(code, directory), zone)
            for code in SUPPORTED_LOCALES
        }

    def translator(self, locale: str | None, fallback: str) -> Translator:
        if locale in self._translators:
            return self._translators[locale]
        return self._translators[fallback]


def normalise_locale(value: str | None) -> str | None:
    """Map a platform locale such as ``fr``, ``nl-BE`` or ``en-GB`` to a supported one."""
    if not value:
        return None
    code = value.replace("_", "-").split("-")[0].lower()
    return code if code in SUPPORTED_LOCALES else None
