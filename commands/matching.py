"""Matching: which posts and which members fit a need or an offer, best first.

Candidates come from full-text search (the words of the title and the tags, any of them) and
from the same sector; each is scored on sector, region, shared tags and text, and the best few
are suggested. Members are found by sector and by skills that share a word with the post.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, Select, Subquery, bindparam, case, func, literal, union_all
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, or_

from bot.text import fold
from storage import board as posts
from storage.board import NEED, OFFER, Post
from storage.circles import visible_to
from storage.identity import Member, members_by_ids
from storage.profiles import MemberSector, MemberSkill
from storage.search import POST, SLOT, search, words

STOPWORDS = frozenset(
    (
        "voor een het de van met die dat and the for with pour une des les avec dans aux sur "
        "zoek zoekt gezocht nodig need needs needed offer offre cherche recherche bied biedt "
        "looking wanted"
    ).split()
)
SECTOR_POINTS = 3
REGION_POINTS = 2
REMOTE_POINTS = 1
TAG_POINTS = 2
TEXT_POINTS = 2
SKILL_POINTS = 2
MIN_SCORE = 3


@dataclass(frozen=True, slots=True)
class Candidate:
    """A post (or a project slot) that fits, with its score."""

    source: str
    source_id: int
    score: int


def opposite(kind: str) -> str:
    return OFFER if kind == NEED else NEED


def key_words(text: str, limit: int = 8) -> list[str]:
    found = [w for w in words(fold(text), 40) if len(w) >= 4 and w not in STOPWORDS]
    return list(dict.fromkeys(found))[:limit]


def matching_posts(
    session: Session, post: Post, tags: list[str], limit: int = 5
) -> list[Candidate]:
    """Open posts of the other kind (and open project slots, for an offer) that fit."""
    assert post.id is not None
    wanted = opposite(post.kind)
    terms = key_words(f"{post.title} {' '.join(tags)}")
    text_rank: dict[tuple[str, int], int] = {}
    if terms:
        hits = search(
            session, " ".join(terms), kind=wanted, any_word=True, limit=40, exclude=(POST, post.id)
        )
        for position, hit in enumerate(hits):
            text_rank[(hit.source, hit.source_id)] = position
    nearby = posts.recent_open_ids(session, wanted, post.sector, 20) if post.sector else []
    ids = {sid for source, sid in text_rank if source == POST} | set(nearby)
    # score on a few columns; _suggestions loads the few posts it shows
    found = posts.open_match_facts(session, ids)
    mine = {fold(tag) for tag in tags}
    # the new post's values read once, not once per candidate (ORM attribute access)
    author_id, sector, region, remote = post.author_id, post.sector, post.region, post.remote
    scored: list[Candidate] = []
    for other in found:
        if other.author_id == author_id:
            continue
        score = 0
        if sector and other.sector == sector:
            score += SECTOR_POINTS
        if region and other.region == region:
            score += REGION_POINTS
        elif remote or other.remote:
            score += REMOTE_POINTS
        score += TAG_POINTS * len(mine & other.tags)
        rank = text_rank.get((POST, other.id))
        if rank is not None:
            score += TEXT_POINTS + (1 if rank < 5 else 0)
        if score >= MIN_SCORE:
            scored.append(Candidate(POST, other.id, score))
    for (source, source_id), position in text_rank.items():
        if source == SLOT:
            scored.append(Candidate(SLOT, source_id, TEXT_POINTS + (1 if position < 5 else 0)))
    scored.sort(key=lambda c: (-c.score, -c.source_id))
    return scored[:limit]


def matching_members(
    session: Session,
    *,
    sector: str | None,
    region: str | None,
    text: str,
    exclude: set[int],
    viewer_id: int | None,
    limit: int = 5,
) -> list[tuple[Member, int]]:
    """Members whose profile fits: sector, region, and skills sharing a word with the text.

    Scored in one query: each sector row is worth SECTOR_POINTS and each matching skill
    SKILL_POINTS (at most 200 and 400 rows, as indexes give them), the same region adds
    REGION_POINTS; only the best ``limit`` members are loaded."""
    terms = key_words(text, 6)
    if not sector and not terms:
        return []
    statement = _members_statement(bool(sector), len(terms), bool(region), viewer_id is not None)
    params: dict[str, Any] = {"sector": sector, "region": region, "exclude": list(exclude)}
    params["viewer"] = viewer_id
    params["limit"] = limit
    for index, term in enumerate(terms):
        params[f"lo{index}"], params[f"hi{index}"] = term, term + "\uffff"
    best = [(member_id, int(points)) for member_id, points in session.execute(statement, params)]
    loaded = members_by_ids(session, [row[0] for row in best])
    return [(loaded[member_id], points) for member_id, points in best if member_id in loaded]


@functools.lru_cache(maxsize=64)
def _members_statement(
    with_sector: bool, term_count: int, with_region: bool, with_viewer: bool
) -> Select[Any]:
    """The scoring query of ``matching_members`` for one shape of input, built once: its
    values (sector, skill ranges, region, excluded members, viewer, limit) are parameters."""
    parts: list[Subquery] = []
    if with_sector:
        in_sector: Select[Any] = sa_select(
            col(MemberSector.member_id).label("member_id"), literal(SECTOR_POINTS).label("points")
        ).where(col(MemberSector.sector) == bindparam("sector"))
        parts.append(in_sector.limit(200).subquery())
    if term_count:
        # a range, not LIKE 'x%', so that the index on skill_folded is used
        conditions = [
            (col(MemberSkill.skill_folded) >= bindparam(f"lo{index}"))
            & (col(MemberSkill.skill_folded) < bindparam(f"hi{index}"))
            for index in range(term_count)
        ]
        skilled: Select[Any] = sa_select(
            col(MemberSkill.member_id).label("member_id"), literal(SKILL_POINTS).label("points")
        ).where(or_(*conditions))
        parts.append(skilled.limit(400).subquery())
    hits = union_all(*(sa_select(part.c.member_id, part.c.points) for part in parts)).subquery()
    near = (
        case((col(Member.region) == bindparam("region"), REGION_POINTS), else_=0)
        if with_region
        else literal(0)
    )
    score = func.sum(hits.c.points) + near
    statement = (
        sa_select(col(Member.id), score)
        .join(hits, hits.c.member_id == col(Member.id))
        .where(col(Member.id).not_in(bindparam("exclude", expanding=True)))
        .group_by(col(Member.id))
        .having(score >= MIN_SCORE)
        .order_by(score.desc(), col(Member.name_folded))
        .limit(bindparam("limit", type_=Integer))
    )
    if with_viewer:
        statement = statement.where(visible_to(bindparam("viewer", type_=Integer)))
    return statement
