"""Full-text search over what members post: one table of documents, one search function,
SQLite FTS5 or PostgreSQL full-text search underneath.

The text is folded (lower case, accents removed) before it is stored and before it is
searched, so "theatre" finds "théâtre" on both databases; every word of a query matches as a
prefix ("geluid" finds "geluidstechnicus"). A document is a board post or an open project
slot; the functions that write those keep their document in step, in the same transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Column, String, Text, UniqueConstraint, delete, text
from sqlmodel import Field, Session, SQLModel, col, select

from storage.types import UTCDateTime

POST = "post"
SLOT = "slot"
FTS_TABLE = "search_fts"  # SQLite only, maintained by triggers
PG_VECTOR = "body_tsv"  # PostgreSQL only, a generated tsvector column (migration 0014)
PG_INDEX = "ix_search_document_tsv"  # PostgreSQL only, its GIN index

_WORD = re.compile(r"[0-9a-z]+")
RANK_WINDOW = 500


class SearchDocument(SQLModel, table=True):
    __tablename__ = "search_document"
    __table_args__ = (UniqueConstraint("source", "source_id"),)

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(sa_column=Column(String(8), nullable=False))
    source_id: int = Field(nullable=False)
    kind: str = Field(sa_column=Column(String(5), nullable=False))
    sector: str | None = Field(default=None, sa_column=Column(String(40), nullable=True))
    region: str | None = Field(default=None, sa_column=Column(String(40), nullable=True))
    body: str = Field(sa_column=Column(Text, nullable=False))  # folded text
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


# The full-text objects are made by the migrations (0002): on SQLite an FTS5 table
# ``search_fts`` over ``body`` (unicode61, diacritics removed, prefix indexes 2–4) kept in
# step by triggers; on PostgreSQL a generated column ``body_tsv`` (``to_tsvector('simple',
# body)``, stored) with a GIN index (0014).


def is_full_text_object(name: str | None) -> bool:
    """Objects the migrations manage by hand; Alembic's comparison leaves them alone."""
    return bool(name) and (name in (PG_INDEX, PG_VECTOR) or str(name).startswith(FTS_TABLE))


# -- writing and searching -------------------------------------------------------------------


def words(folded: str, limit: int = 12) -> list[str]:
    return _WORD.findall(folded)[:limit]


def index_document(
    session: Session,
    *,
    source: str,
    source_id: int,
    kind: str,
    is_open: bool,
    sector: str | None,
    region: str | None,
    body: str,
    created_at: datetime,
) -> None:
    """Insert or update the document of a post or slot (``body`` already folded); a closed
    one leaves the index, so that the index holds what can be found."""
    if not is_open:
        remove_document(session, source, source_id)
        return
    document = session.exec(
        select(SearchDocument).where(
            SearchDocument.source == source, SearchDocument.source_id == source_id
        )
    ).first()
    if document is None:
        document = SearchDocument(
            source=source, source_id=source_id, kind=kind, body=body, created_at=created_at
        )
    document.kind = kind
    document.sector, document.region, document.body = sector, region, body
    session.add(document)


def remove_document(session: Session, source: str, source_id: int) -> None:
    session.exec(
        delete(SearchDocument).where(
            col(SearchDocument.source) == source, col(SearchDocument.source_id) == source_id
        )
    )


@dataclass(frozen=True, slots=True)
class Hit:
    source: str
    source_id: int
    kind: str
    rank: float


def search(
    session: Session,
    query_folded: str,
    *,
    kind: str | None = None,
    sector: str | None = None,
    region: str | None = None,
    any_word: bool = False,
    limit: int = 10,
    offset: int = 0,
    exclude: tuple[str, int] | None = None,
) -> list[Hit]:
    """Documents (only open posts and slots are indexed) matching every word of the query as
    a prefix (or any word), best first."""
    terms = words(query_folded)
    if not terms:
        return []
    dialect = session.get_bind().dialect.name
    filters = ["1 = 1"]
    params: dict[str, object] = {"limit": limit, "offset": offset}
    for name, value in (("kind", kind), ("sector", sector), ("region", region)):
        if value is not None:
            filters.append(f"d.{name} = :{name}")
            params[name] = value
    if exclude is not None:
        filters.append("NOT (d.source = :ex_source AND d.source_id = :ex_id)")
        params["ex_source"], params["ex_id"] = exclude
    where = " AND ".join(filters)
    joiner = " OR " if any_word else " AND "
    # Only the newest RANK_WINDOW matches are ranked: a common word matches thousands of
    # posts, and ranking them all would make a search grow with the board.
    params["window"] = RANK_WINDOW
    if dialect == "sqlite":
        params["match"] = joiner.join(f'"{term}"*' for term in terms)
        sql = f"""
            SELECT d.source, d.source_id, d.kind, recent.rank FROM (
                SELECT {FTS_TABLE}.rowid AS id, bm25({FTS_TABLE}) AS rank
                FROM {FTS_TABLE} JOIN search_document d ON d.id = {FTS_TABLE}.rowid
                WHERE {FTS_TABLE} MATCH :match AND {where}
                ORDER BY {FTS_TABLE}.rowid DESC LIMIT :window) AS recent
            JOIN search_document d ON d.id = recent.id
            ORDER BY recent.rank LIMIT :limit OFFSET :offset"""
    else:
        params["match"] = (" | " if any_word else " & ").join(f"{term}:*" for term in terms)
        return _search_postgresql(session, where, params)
    rows = session.connection().execute(text(sql), params).all()
    return [Hit(row[0], int(row[1]), row[2], float(row[3])) for row in rows]


def _search_postgresql(session: Session, where: str, params: dict[str, object]) -> list[Hit]:
    # The matches are found through the GIN index first (a materialised step): asked for "the
    # newest 500 matching", a generic plan would rather walk every document in id order and
    # test each one (100 ms at 10,000 posts). The rank reads the stored vector, never the body.
    # The GIN index gives the matches in no order, so a search still reads every match of its
    # words: cheap for most, a few milliseconds per 1,000 matches for the commonest words.
    sql = f"""
        WITH matches AS MATERIALIZED (
            SELECT d.id, d.body_tsv FROM search_document d
            WHERE d.body_tsv @@ to_tsquery('simple', :match) AND {where}),
        recent AS (SELECT id, body_tsv FROM matches ORDER BY id DESC LIMIT :window)
        SELECT d.source, d.source_id, d.kind,
               -ts_rank(r.body_tsv, to_tsquery('simple', :match)) AS rank
        FROM recent r JOIN search_document d ON d.id = r.id
        ORDER BY rank, d.id DESC LIMIT :limit OFFSET :offset"""
    rows = session.connection().execute(text(sql), params).all()
    return [Hit(row[0], int(row[1]), row[2], float(row[3])) for row in rows]


def search_by_scan(session: Session, query_folded: str, limit: int = 10) -> list[tuple[str, int]]:
    """The same search done as a LIKE scan (for the benchmark's comparison only): like the
    full-text search it looks at every match before it returns the best (here: newest) ones."""
    statement = select(SearchDocument.source, SearchDocument.source_id)
    for term in words(query_folded):
        statement = statement.where(col(SearchDocument.body).contains(term, autoescape=True))
    matches = list(session.exec(statement))
    matches.reverse()  # newest first
    return [(s, i) for s, i in matches[:limit]]
