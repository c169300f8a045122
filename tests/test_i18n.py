"""Every message has a translation in nl, fr and en, with the same placeholders."""

from __future__ import annotations

import re
import string
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.pofile import read_po

from bot.i18n import Catalogues, normalise_locale
from scripts.update_catalogues import extract

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ("nl", "fr", "en")


def _catalogue(locale: str):  # type: ignore[no-untyped-def]
    path = ROOT / "bot" / "locale" / locale / "LC_MESSAGES" / "samen.po"
    with path.open("rb") as handle:
        return read_po(handle, locale=locale, domain="samen")


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("locale", LOCALES)
def test_every_message_in_the_source_is_translated(locale: str) -> None:
    catalogue = _catalogue(locale)
    missing = []
    for message in extract():
        if not message.id:
            continue
        found = catalogue.get(message.id)
        strings = (
            ()
            if found is None
            else (found.string if isinstance(found.string, tuple) else (found.string,))
        )
        if found is None or found.fuzzy or not strings or not all(strings):
            missing.append(message.id)
    assert not missing, f"{locale}: untranslated: {missing}"


@pytest.mark.parametrize("locale", LOCALES)
def test_translations_keep_the_placeholders(locale: str) -> None:
    for message in _catalogue(locale):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = _fields(ids[-1])
        for text in strings:
            assert _fields(text) == expected, (locale, message.id, text)


def test_the_catalogue_check_script_passes() -> None:
    result = subprocess.run(
        [sys.executable, "scripts/update_catalogues.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout


def test_dates_and_numbers_are_formatted_for_the_locale_in_brussels_time() -> None:
    catalogues = Catalogues(ZoneInfo("Europe/Brussels"))
    moment = datetime(2027, 3, 29, 6, 30, tzinfo=UTC)  # 08:30 in Brussels (summer time)
    nl = catalogues.translator("nl", "nl")
    fr = catalogues.translator("fr", "nl")
    en = catalogues.translator("en", "nl")
    assert "08:30" in nl.datetime(moment, "short")
    assert re.search(r"29[/-]0?3", nl.datetime(moment, "short"))
    assert "mars" in fr.datetime(moment, "long")
    assert "March" in en.datetime(moment, "long")
    # English dates read day before month on a 24-hour clock, never US style (03/29/27, 8:30 AM)
    assert en.datetime(moment, "short") == "29/03/2027, 08:30"
    assert en.datetime(moment, "long").startswith("29 March 2027")
    assert nl.number(12345) == "12.345"
    assert fr.number(12345).replace("\u202f", " ") == "12 345"
    assert en.number(12345) == "12,345"
    assert nl.plural("{count} member found", "{count} members found", 2) == "2 leden gevonden"


def test_platform_locales_map_to_supported_ones() -> None:
    assert normalise_locale("en-GB") == "en"
    assert normalise_locale("nl_BE") == "nl"
    assert normalise_locale("fr") == "fr"
    assert normalise_locale("de") is None
    assert normalise_locale(None) is None


def test_french_puts_a_narrow_no_break_space_before_high_punctuation() -> None:
    """French typography: « Il manque : … », « Vraiment ? », never "Il manque: …" nor a
    normal space that a line break can separate from its colon."""
    wrong = []
    for message in _catalogue("fr"):
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in strings:
            prose = re.sub(r"`[^`]*`|https?://\S+|\{[^}]*\}", "x", text)
            if re.search(r"(?:[ \u00a0]|[^\s\u202f\d])[;:!?](?=\s|$|[\"»)*])", prose):
                wrong.append(text)
    assert not wrong, f"{len(wrong)} French messages without U+202F: {wrong[:5]}"
