"""Extract the messages with Babel's own tooling and update the nl/fr/en catalogues.

    python scripts/update_catalogues.py          # pybabel extract + update, English filled in
    python scripts/update_catalogues.py --check  # exit 1 if a message lacks a translation

The work is done by ``pybabel extract -F babel.cfg`` and ``pybabel update`` (the keywords
``N_`` and ``plural:1,2``); this script only runs them with the project's options, writes the
English catalogue's translations as the messages themselves (pybabel leaves them empty), and
checks. New messages get an empty translation: fill them in before committing
(tests/test_i18n.py and CI fail while any is empty).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALE_DIR = ROOT / "bot" / "locale"
LOCALES = ("nl", "fr", "en")
WIDTH = "100"


def pybabel(*arguments: str) -> None:
    command = [sys.executable, "-m", "babel.messages.frontend", *arguments]
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True)


def extract(template: Path | None = None) -> Catalog:
    """The messages of the source, as ``pybabel extract -F babel.cfg`` finds them."""
    with tempfile.TemporaryDirectory() as folder:
        path = template or Path(folder) / "samen.pot"
        pybabel(
            "extract", "-F", "babel.cfg", "-k", "N_", "-k", "plural:1,2",
            "--add-comments=TRANSLATORS:", "--no-wrap", "--project=samen",
            "-o", str(path), ".",
        )  # fmt: skip
        with path.open("rb") as handle:
            return read_po(handle)


def _strings(message: object) -> tuple[str, ...]:
    string = getattr(message, "string", "")
    return string if isinstance(string, tuple) else (string,)


def update(check_only: bool) -> int:
    if not check_only:
        with tempfile.TemporaryDirectory() as folder:
            template = Path(folder) / "samen.pot"
            extract(template)
            pybabel(
                "update", "-i", str(template), "-d", str(LOCALE_DIR), "-D", "samen",
                "-w", WIDTH, "--no-fuzzy-matching", "--ignore-obsolete",
            )  # fmt: skip
        english = LOCALE_DIR / "en" / "LC_MESSAGES" / "samen.po"
        with english.open("rb") as handle:
            catalog = read_po(handle, locale="en", domain="samen")
        for message in catalog:
            if message.id and not any(_strings(message)):
                message.string = message.id
        with english.open("wb") as handle:
            write_po(handle, catalog, width=int(WIDTH), omit_header=False)
    missing = 0
    for locale in LOCALES:
        with (LOCALE_DIR / locale / "LC_MESSAGES" / "samen.po").open("rb") as handle:
            catalog = read_po(handle, locale=locale, domain="samen")
        for message in catalog:
            if message.id and (not all(_strings(message)) or message.fuzzy):
                missing += 1
                print(f"{locale}: untranslated: {message.id!r}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(update("--check" in sys.argv))
