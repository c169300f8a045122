"""Full-text search on both databases: prefixes match, and only the newest window of matches
is ranked (the same rule on SQLite's FTS5 and PostgreSQL's GIN index)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from storage import search as search_module
from storage.db import Database
from storage.search import POST, index_document, search


def seed(database: Database, bodies: list[str]) -> None:
    with database.session() as session:
        for number, body in enumerate(bodies, start=1):
            index_document(
                session,
                source=POST,
                source_id=number,
                kind="need" if number % 2 else "offer",
                is_open=True,
                sector=None,
                region=None,
                body=body,
                created_at=datetime(2026, 12, 1, tzinfo=UTC),
            )
        session.commit()


def found(database: Database, query: str, **filters: object) -> list[int]:
    with database.session() as session:
        return [hit.source_id for hit in search(session, query, limit=50, **filters)]  # type: ignore[arg-type]


# 120 documents: "van" in every third (common), "piano" in a few old ones (rare), "geluid"
# ("sound") as a prefix of longer words in between
BODIES = [
    " ".join(
        word
        for word, wanted in (
            ("van", number % 3 == 0),
            ("piano", number in (4, 9, 17)),
            ("geluidstechnicus", number % 7 == 0),
            ("festival", number % 5 == 0),
            ("tekst", True),
        )
        if wanted
    )
    for number in range(1, 121)
]


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    database.upgrade()
    seed(database, BODIES)
    yield database
    database.dispose()


@pytest.mark.parametrize(
    ("query", "filters"),
    [
        ("van", {}),
        ("piano", {}),
        ("geluid", {}),
        ("van festival", {}),
        ("van festival", {"any_word": True}),
        ("van", {"kind": "need"}),
        ("tekst", {}),
    ],
)
def test_a_small_window_ranks_the_newest_matches(
    database: Database, monkeypatch: pytest.MonkeyPatch, query: str, filters: dict[str, object]
) -> None:
    monkeypatch.setattr(search_module, "RANK_WINDOW", 6)
    whole = found(database, query, **filters)
    # only the newest six matches are ranked: every hit is among them
    words = query.split()
    matching = [
        number
        for number, body in enumerate(BODIES, start=1)
        if (any if filters.get("any_word") else all)(w in body for w in words)
        and (filters.get("kind") is None or (number % 2 == 1) == (filters["kind"] == "need"))
    ]
    assert matching, query
    assert sorted(whole) == sorted(matching[-6:])


def test_a_rare_word_in_old_documents_is_still_found(database: Database) -> None:
    assert sorted(found(database, "piano")) == [4, 9, 17]
    assert found(database, "submarine") == []
