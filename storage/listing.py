"""The board list's index: one row per open post and per combination of list filters.

`board list` filters on any of four columns (kind, category, sector, region) and shows the
newest first. No single composite index serves every combination (an index on
(kind, sector, created_at) cannot skip a missing sector), and SQLite cannot AND two indexes,
so a rare combination used to walk every post of its best single filter, growing with the
board. Here each open post has one row per subset of its four filter values (16 rows), keyed
by a 64-bit hash of that subset: any combination of filters is one equality on ``facet``
followed by the rows in (created_at, post_id) order, on SQLite and PostgreSQL alike. A page is
a range of that primary key (keyset pagination: "before post #N"), and the capped count reads
at most COUNT_CAP + 1 index entries.

A hash collision could only add a stranger to a facet: the posts of a page are checked against
the filters again when they are read (``commands.board``/``storage.board.list_posts``), and a
collision among the board's few thousand facet values at 64 bits is not expected in practice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from itertools import combinations
from typing import Any

from sqlalchemy import BigInteger, Column, ColumnElement, Integer, delete, func, literal, tuple_
from sqlmodel import Field, Session, SQLModel, col, select

from storage.types import UTCDateTime, cascading_fk

FILTERS = ("kind", "category", "sector", "region")


class PostListing(SQLModel, table=True):
    __tablename__ = "post_listing"

    facet: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, primary_key=True))
    post_id: int = Field(sa_column=cascading_fk("post", primary_key=True, index=True))


def facet_of(filters: Mapping[str, str | None]) -> int:
    """The facet of the given filters (those that are None do not filter)."""
    chosen = "\x1f".join(f"{name}={filters[name]}" for name in FILTERS if filters.get(name))
    digest = hashlib.blake2b(chosen.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def facets_of(values: Mapping[str, str | None]) -> set[int]:
    """Every facet a post with these filter values is listed under (one per subset)."""
    present = [name for name in FILTERS if values.get(name)]
    return {
        facet_of({name: values[name] for name in subset})
        for size in range(len(present) + 1)
        for subset in combinations(present, size)
    }


def listing_rows(
    post_id: int, created_at: datetime, values: Mapping[str, str | None]
) -> list[dict[str, object]]:
    """The rows of one open post, as dicts for a bulk insert."""
    return [
        {"facet": facet, "created_at": created_at, "post_id": post_id}
        for facet in sorted(facets_of(values))
    ]


def relist(
    session: Session,
    post_id: int,
    created_at: datetime,
    values: Mapping[str, str | None] | None,
) -> None:
    """Put the post's rows in step with its filter values; ``None`` (a closed or expired post)
    takes it off the list."""
    session.exec(delete(PostListing).where(col(PostListing.post_id) == post_id))
    if values is not None:
        session.add_all(
            PostListing(facet=facet, created_at=created_at, post_id=post_id)
            for facet in facets_of(values)
        )


def page_ids(
    session: Session,
    filters: Mapping[str, str | None],
    *,
    limit: int,
    before: tuple[datetime, int] | None = None,
) -> list[int]:
    """The ids of the newest open posts matching the filters, older than ``before`` (the
    created_at and id of the last post of the previous page) when given."""
    statement = select(col(PostListing.post_id)).where(col(PostListing.facet) == facet_of(filters))
    if before is not None:
        statement = statement.where(
            older_than(col(PostListing.created_at), col(PostListing.post_id), before)
        )
    statement = statement.order_by(
        col(PostListing.created_at).desc(), col(PostListing.post_id).desc()
    ).limit(limit)
    return [int(post_id) for post_id in session.exec(statement)]


def count_listed(session: Session, filters: Mapping[str, str | None], cap: int) -> int:
    """How many open posts match the filters, counting at most ``cap + 1``."""
    capped = (
        select(col(PostListing.post_id))
        .where(col(PostListing.facet) == facet_of(filters))
        .limit(cap + 1)
        .subquery()
    )
    return int(session.exec(select(func.count()).select_from(capped)).one())


def older_than(created_at: Any, row_id: Any, before: tuple[datetime, int]) -> ColumnElement[bool]:
    """(created_at, id) strictly before the given pair, newest-first order's "after"."""
    moment, number = before
    return tuple_(created_at, row_id) < tuple_(
        literal(moment, UTCDateTime()), literal(number, Integer())
    )
