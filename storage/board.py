"""The needs & offers board: posts, their tags, responses, subscriptions and digests."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    bindparam,
    delete,
    func,
    insert,
    update,
)
from sqlalchemy import select as sa_select
from sqlalchemy.sql.elements import BindParameter
from sqlmodel import Field, Session, SQLModel, col, select

from storage import listing
from storage.folding import fold
from storage.identity import member_fk
from storage.search import POST, SearchDocument, index_document
from storage.types import UTCDateTime, cascading_fk

COUNT_CAP = 1000
NEED = "need"
OFFER = "offer"
OPEN = "open"
CLOSED = "closed"
EXPIRED = "expired"
PENDING = "pending"
ACCEPTED = "accepted"
DECLINED = "declined"


def post_fk(*, primary_key: bool = False, index: bool = False) -> Column[int]:
    return cascading_fk("post", primary_key=primary_key, index=index)


class Post(SQLModel, table=True):
    __table_args__ = (
        Index("ix_post_listing", "status", "created_at"),
        Index("ix_post_author", "author_id", "created_at"),
        Index("ix_post_expiry", "status", "valid_until"),
        # one per filter of the board list, so a rare combination is found without a scan
        Index("ix_post_kind", "status", "kind", "created_at"),
        Index("ix_post_sector", "status", "sector", "created_at"),
        Index("ix_post_region", "status", "region", "created_at"),
        Index("ix_post_category", "status", "category", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(sa_column=Column(String(5), nullable=False))
    author_id: int = Field(sa_column=member_fk())
    title: str = Field(sa_column=Column(String(120), nullable=False))
    description: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    category: str = Field(sa_column=Column(String(12), nullable=False))
    sector: str | None = Field(default=None, sa_column=Column(String(40), nullable=True))
    region: str | None = Field(default=None, sa_column=Column(String(40), nullable=True))
    remote: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    status: str = Field(default=OPEN, sa_column=Column(String(8), nullable=False))
    outcome: str | None = Field(default=None, sa_column=Column(String(20), nullable=True))
    closed_with_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("member.id", ondelete="SET NULL"), nullable=True),
    )
    valid_until: datetime = Field(sa_type=UTCDateTime, nullable=False)
    expiry_warned: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)


class PostTag(SQLModel, table=True):
    __tablename__ = "post_tag"

    post_id: int = Field(sa_column=post_fk(primary_key=True))
    tag: str = Field(sa_column=Column(String(30), primary_key=True, index=True))


class Response(SQLModel, table=True):
    """ "I can help": a member answers a post; the author accepts or declines the intro."""

    __table_args__ = (UniqueConstraint("post_id", "responder_id"),)

    id: int | None = Field(default=None, primary_key=True)
    post_id: int = Field(sa_column=post_fk(index=True))
    responder_id: int = Field(sa_column=member_fk(index=True))
    message: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    status: str = Field(default=PENDING, sa_column=Column(String(10), nullable=False))
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)


class Subscription(SQLModel, table=True):
    """New posts that fit reach the member in a digest, at most one message an hour."""

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(sa_column=member_fk(index=True))
    kind: str | None = Field(default=None, sa_column=Column(String(5), nullable=True))
    sector: str | None = Field(default=None, sa_column=Column(String(40), nullable=True))
    region: str | None = Field(default=None, sa_column=Column(String(40), nullable=True))
    tags: str = Field(default="", sa_column=Column(String(400), nullable=False, server_default=""))
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class DigestItem(SQLModel, table=True):
    """A post waiting to be sent to a subscriber in the next digest."""

    __tablename__ = "digest_item"
    __table_args__ = (UniqueConstraint("member_id", "post_id"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(sa_column=member_fk(index=True))
    post_id: int = Field(sa_column=post_fk())
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)


# tags come from a small vocabulary and matching folds up to a few hundred per new post
_fold_tag = functools.lru_cache(maxsize=4096)(fold)


# -- posts ------------------------------------------------------------------------------------


def tags_of(session: Session, post_id: int) -> list[str]:
    rows = session.exec(
        select(PostTag.tag).where(PostTag.post_id == post_id).order_by(col(PostTag.tag))
    )
    return list(rows)


def set_tags(session: Session, post_id: int, tags: Iterable[str]) -> None:
    session.exec(delete(PostTag).where(col(PostTag.post_id) == post_id))
    session.add_all(PostTag(post_id=post_id, tag=tag) for tag in dict.fromkeys(tags))


def reindex(session: Session, post: Post) -> None:
    """Keep the post's search document and its place in the board list in step with its
    title, text, tags, filter values and status."""
    assert post.id is not None
    is_open = post.status == OPEN
    listing.relist(session, post.id, post.created_at, listing_values(post) if is_open else None)
    body = fold(" ".join([post.title, post.description, *tags_of(session, post.id)]))
    index_document(
        session,
        source=POST,
        source_id=post.id,
        kind=post.kind,
        is_open=is_open,
        sector=post.sector,
        region=post.region,
        body=body,
        created_at=post.created_at,
    )


def publish(session: Session, post: Post, tags: Iterable[str]) -> None:
    """Write a new open post's tags, its rows in the board list and its search document,
    each as one bulk insert: what ``set_tags`` and ``reindex`` store, without first reading
    or deleting what a post that was just inserted cannot have yet."""
    assert post.id is not None
    assert post.status == OPEN
    unique = list(dict.fromkeys(tags))
    # plain Core inserts on the session's connection (the post itself was flushed): the ORM's
    # bulk-insert path costs more than the statements do
    connection = session.connection()
    if unique:
        connection.execute(_INSERT_TAGS, [{"post_id": post.id, "tag": tag} for tag in unique])
    rows = listing.listing_rows(post.id, post.created_at, listing_values(post))
    connection.execute(_INSERT_LISTING, rows)
    body = fold(" ".join([post.title, post.description, *sorted(unique)]))
    document = {
        "source": POST,
        "source_id": post.id,
        "kind": post.kind,
        "sector": post.sector,
        "region": post.region,
        "body": body,
        "created_at": post.created_at,
    }
    connection.execute(_INSERT_DOCUMENT, document)


_INSERT_TAGS = insert(PostTag.__table__)  # type: ignore[attr-defined]
_INSERT_LISTING = insert(listing.PostListing.__table__)  # type: ignore[attr-defined]
_INSERT_DOCUMENT = insert(SearchDocument.__table__)  # type: ignore[attr-defined]


def listing_values(post: Post) -> dict[str, str | None]:
    """The values `board list` filters this post on."""
    return {
        "kind": post.kind,
        "category": post.category,
        "sector": post.sector,
        "region": post.region,
    }


@dataclass(frozen=True, slots=True)
class ListPage:
    posts: list[Post]
    total: int  # counted up to COUNT_CAP + 1
    has_more: bool  # posts older than the last of this page match too


def list_posts(
    session: Session,
    *,
    kind: str | None = None,
    category: str | None = None,
    sector: str | None = None,
    region: str | None = None,
    author_id: int | None = None,
    limit: int = 10,
    before: Post | None = None,
) -> ListPage:
    """The newest posts matching the filters, ``limit`` at a time, older than ``before`` when
    given (keyset pagination). Without an author only open posts, read through the board's
    listing index; a member's own posts (closed ones too) through ix_post_author."""
    filters = {"kind": kind, "category": category, "sector": sector, "region": region}
    after = None if before is None or before.id is None else (before.created_at, before.id)
    if author_id is None:
        ids = listing.page_ids(session, filters, limit=limit + 1, before=after)
        by_id = posts_by_ids(session, ids)
        found = [by_id[i] for i in ids if i in by_id and _matches(by_id[i], filters)]
        page = found[:limit]
        if after is None and len(found) <= limit:
            return ListPage(page, len(page), False)  # the first page holds them all
        total = listing.count_listed(session, filters, COUNT_CAP)
        return ListPage(page, total, len(found) > limit)
    statement = select(Post).where(Post.author_id == author_id)
    for name, value in filters.items():
        if value is not None:
            statement = statement.where(getattr(Post, name) == value)
    if after is not None:
        statement = statement.where(listing.older_than(col(Post.created_at), col(Post.id), after))
    ordered = statement.order_by(col(Post.created_at).desc(), col(Post.id).desc())
    found = list(session.exec(ordered.limit(limit + 1)))
    capped = statement.with_only_columns(col(Post.id)).limit(COUNT_CAP + 1).subquery()
    total = int(session.exec(select(func.count()).select_from(capped)).one())
    return ListPage(found[:limit], total, len(found) > limit)


def _matches(post: Post, filters: dict[str, str | None]) -> bool:
    values = listing_values(post)
    return post.status == OPEN and all(
        value is None or values[name] == value for name, value in filters.items()
    )


# Statements of the posting path, built once: their values are bound parameters, so that
# neither building them nor their cache key costs anything per post.
_IDS: BindParameter[list[int]] = bindparam("ids", expanding=True)
_POSTS_BY_IDS = select(Post).where(col(Post.id).in_(_IDS))
_RECENT_OPEN = (
    select(Post.id)
    .where(Post.status == OPEN, Post.kind == bindparam("kind"), Post.sector == bindparam("sector"))
    .order_by(col(Post.created_at).desc())
    .limit(bindparam("limit", type_=Integer))
)


def posts_by_ids(session: Session, ids: Iterable[int]) -> dict[int, Post]:
    wanted = list(ids)
    if not wanted:
        return {}
    found = session.exec(_POSTS_BY_IDS, params={"ids": wanted})
    return {p.id: p for p in found if p.id}


def recent_open_ids(session: Session, kind: str, sector: str, limit: int) -> list[int]:
    """The newest open posts of ``kind`` in ``sector``: their numbers only."""
    params = {"kind": kind, "sector": sector, "limit": limit}
    return [post_id for post_id in session.exec(_RECENT_OPEN, params=params) if post_id is not None]


@dataclass(frozen=True, slots=True)
class MatchFacts:
    """What matching scores an open post on, without loading the whole post."""

    id: int
    author_id: int
    sector: str | None
    region: str | None
    remote: bool
    tags: frozenset[str]  # folded


_OPEN_MATCH_FACTS = (
    sa_select(
        *(col(c) for c in (Post.id, Post.author_id, Post.sector, Post.region, Post.remote)),
        col(PostTag.tag),
    )
    .outerjoin(PostTag, col(PostTag.post_id) == col(Post.id))
    .where(col(Post.id).in_(_IDS), col(Post.status) == OPEN)
)
# PostgreSQL, told only "tags of these posts" through the join, hashes the whole tag table (a
# scan that grows with the board); the same list on the tag side lets it read the tags of
# those posts from the primary key. SQLite already does, and keeps the plain join.
_OPEN_MATCH_FACTS_PG = (
    sa_select(
        *(col(c) for c in (Post.id, Post.author_id, Post.sector, Post.region, Post.remote)),
        col(PostTag.tag),
    )
    .outerjoin(PostTag, (col(PostTag.post_id) == col(Post.id)) & col(PostTag.post_id).in_(_IDS))
    .where(col(Post.id).in_(_IDS), col(Post.status) == OPEN)
)


def open_match_facts(session: Session, ids: Iterable[int]) -> list[MatchFacts]:
    """The open ones among ``ids``, with their folded tags: one query (a row per tag), read
    as plain rows rather than ORM objects, as matching reads up to 60 posts per new post."""
    wanted = list(ids)
    if not wanted:
        return []
    columns: dict[int, tuple[int, str | None, str | None, bool]] = {}
    tags: dict[int, set[str]] = {}
    connection = session.connection()
    postgresql = connection.dialect.name == "postgresql"
    statement = _OPEN_MATCH_FACTS_PG if postgresql else _OPEN_MATCH_FACTS
    rows = connection.execute(statement, {"ids": wanted}).all()
    for post_id, author_id, sector, region, remote, name in rows:
        if post_id not in columns:
            columns[post_id] = (author_id, sector, region, bool(remote))
            tags[post_id] = set()
        if name is not None:
            tags[post_id].add(_fold_tag(name))
    return [
        MatchFacts(post_id, *values, frozenset(tags[post_id]))
        for post_id, values in columns.items()
    ]


def due_for_warning(session: Session, before: datetime, limit: int = 500) -> list[Post]:
    statement = select(Post).where(
        Post.status == OPEN, col(Post.expiry_warned).is_(False), col(Post.valid_until) <= before
    )
    return list(session.exec(statement.order_by(col(Post.valid_until)).limit(limit)))


def claim_warning(session: Session, post_id: int) -> bool:
    """Mark the expiry warning as sent; False if another run already did (never twice)."""
    result = session.exec(
        update(Post)
        .where(col(Post.id) == post_id, col(Post.expiry_warned).is_(False))
        .values(expiry_warned=True)
    )
    return bool(result.rowcount == 1)


def due_for_expiry(session: Session, now: datetime, limit: int = 500) -> list[Post]:
    statement = select(Post).where(Post.status == OPEN, col(Post.valid_until) <= now)
    return list(session.exec(statement.order_by(col(Post.valid_until)).limit(limit)))


def claim_expiry(session: Session, post_id: int, now: datetime) -> bool:
    result = session.exec(
        update(Post)
        .where(col(Post.id) == post_id, col(Post.status) == OPEN)
        .values(status=EXPIRED, outcome=EXPIRED, closed_at=now)
    )
    return bool(result.rowcount == 1)


# -- responses --------------------------------------------------------------------------------


def response_of(session: Session, post_id: int, responder_id: int) -> Response | None:
    return session.exec(
        select(Response).where(Response.post_id == post_id, Response.responder_id == responder_id)
    ).first()


def responses_to(session: Session, post_id: int) -> list[Response]:
    return list(
        session.exec(select(Response).where(Response.post_id == post_id).order_by(col(Response.id)))
    )


# -- subscriptions and digests --------------------------------------------------------------


def subscriptions_of(session: Session, member_id: int) -> list[Subscription]:
    return list(session.exec(select(Subscription).where(Subscription.member_id == member_id)))


def subscriptions_matching(
    session: Session, kind: str, sector: str | None, region: str | None
) -> list[Subscription]:
    params = {"kind": kind, "sector": sector, "region": region}
    return list(session.exec(_SUBSCRIPTIONS_MATCHING, params=params))


_SUBSCRIPTIONS_MATCHING = select(Subscription).where(
    (col(Subscription.kind).is_(None)) | (col(Subscription.kind) == bindparam("kind")),
    (col(Subscription.sector).is_(None)) | (col(Subscription.sector) == bindparam("sector")),
    (col(Subscription.region).is_(None)) | (col(Subscription.region) == bindparam("region")),
)


def queue_digest(session: Session, member_id: int, post_id: int, now: datetime) -> None:
    exists = session.exec(
        select(DigestItem.id).where(
            DigestItem.member_id == member_id, DigestItem.post_id == post_id
        )
    ).first()
    if exists is None:
        session.add(DigestItem(member_id=member_id, post_id=post_id, created_at=now))


def digest_recipients(session: Session, sent_before: datetime) -> list[int]:
    """Members with waiting items whose last digest went out before ``sent_before``."""
    waiting = select(DigestItem.member_id).where(col(DigestItem.sent_at).is_(None)).distinct()
    recent = select(DigestItem.member_id).where(col(DigestItem.sent_at) > sent_before)
    statement = waiting.where(col(DigestItem.member_id).not_in(recent))
    return list(session.exec(statement))


def claim_digest(session: Session, member_id: int, now: datetime) -> list[int]:
    """The waiting post ids of a member, marked as sent in this transaction."""
    items = list(
        session.exec(
            select(DigestItem)
            .where(DigestItem.member_id == member_id, col(DigestItem.sent_at).is_(None))
            .order_by(col(DigestItem.id))
        )
    )
    claimed = session.exec(
        update(DigestItem)
        .where(col(DigestItem.id).in_([i.id for i in items]), col(DigestItem.sent_at).is_(None))
        .values(sent_at=now)
    )
    if claimed.rowcount != len(items):
        return []
    return [item.post_id for item in items]
