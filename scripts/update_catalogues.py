"""Extract the messages from the source and update the nl/fr/en catalogues.

    python scripts/update_catalogues.py          # add new messages, drop obsolete ones
    python scripts/update_catalogues.py --check  # exit 1 if a message lacks a translation

New messages get an empty translation (English gets the message itself); fill them in before
committing: tests/test_i18n.py fails while any is empty.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALE_DIR = ROOT / "bot" / "locale"
KEYWORDS = {"N_": None, "plural": (1, 2)}
SOURCE_DIRS = ("bot", "commands", "adapters", "scheduler")


def extract() -> Catalog:
    template = Catalog(project="samen", domain="samen")
    for folder in SOURCE_DIRS:
        for filename, lineno, message, comments, _context in extract_from_dir(
            ROOT / folder, keywords=KEYWORDS, comment_tags=("TRANSLATORS:",)
        ):
            template.add(
                message, locations=[(f"{folder}/{filename}", lineno)], auto_comments=comments
            )
    return template


def update(check_only: bool) -> int:
    template = extract()
    missing = 0
    for locale in ("nl", "fr", "en"):
        path = LOCALE_DIR / locale / "LC_MESSAGES" / "samen.po"
        if path.exists():
            with path.open("rb") as handle:
                catalog = read_po(handle, locale=locale, domain="samen")
        else:
            catalog = Catalog(locale=locale, domain="samen", project="samen")
        if not check_only:
            catalog.update(template, no_fuzzy_matching=True)
            for message in catalog:
                strings = message.string if isinstance(message.string, tuple) else (message.string,)
                if message.id and locale == "en" and not any(strings):
                    message.string = message.id
            catalog.obsolete.clear()
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("wb") as handle:
                write_po(handle, catalog, width=100, omit_header=False, sort_output=False)
        for message in catalog:
            if not message.id:
                continue
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if not all(strings) or message.fuzzy:
                missing += 1
                print(f"{locale}: untranslated: {message.id!r}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(update("--check" in sys.argv))
