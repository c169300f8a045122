"""Small text helpers shared by the grammar, the converters and the commands."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from storage.folding import fold

__all__ = ["closest", "fold", "shorten"]


def closest(word: str, candidates: Iterable[str], limit: int = 3) -> list[str]:
    """The candidates that look most like ``word`` (for "did you mean …")."""
    by_folded: dict[str, str] = {}
    for candidate in candidates:
        by_folded.setdefault(fold(candidate), candidate)
    found = difflib.get_close_matches(fold(word), list(by_folded), n=limit, cutoff=0.6)
    return [by_folded[f] for f in found]


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 0)].rstrip() + "…"
