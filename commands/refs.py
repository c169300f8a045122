"""Parameter types that name a thing of the community: a circle, a post, a project."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, TypeVar

from sqlalchemy import ColumnElement
from sqlmodel import col, or_, select

from bot.errors import NotFound
from bot.i18n import N_, LazyText
from bot.params import Choice, OptionKind, ParamType
from bot.text import closest, fold, shorten
from storage.board import Post
from storage.circles import Circle
from storage.meetups import Meetup, Venue
from storage.projects import Project

if TYPE_CHECKING:
    from bot.context import Context

_NUMBER = re.compile(r"^#?(\d{1,12})$")


def _number(raw: str) -> int | None:
    match = _NUMBER.match(raw.strip())
    return int(match.group(1)) if match else None


Titled = TypeVar("Titled", Post, Project, Meetup)


def _newest_titled(
    ctx: Context, model: type[Titled], visible: ColumnElement[bool], partial: str
) -> list[Choice]:
    """Autocomplete for numbered things: the newest 25 visible ones whose title matches."""
    statement = select(model).where(visible)
    if partial.strip():
        statement = statement.where(col(model.title).ilike(f"%{partial.strip()}%"))
    found = ctx.session.exec(statement.order_by(col(model.id).desc()).limit(25))
    return [Choice(str(row.id), shorten(f"#{row.id} {row.title}", 100)) for row in found]


Named = TypeVar("Named", Circle, Venue)


def _by_name(
    raw: str,
    rows: list[Named],
    names: Callable[[Named], set[str]],
    with_guess: LazyText,
    without: LazyText,
) -> Named:
    """The circle or venue whose folded ``names`` (its key, name…) or number is ``raw``; if
    none is, suggest the closest keys and names, or where to look."""
    wanted = fold(raw)
    number = _number(raw)
    for row in rows:
        if wanted in names(row) or row.id == number:
            return row
    guesses = closest(raw, [r.key for r in rows] + [r.name for r in rows])
    if guesses:
        raise NotFound(with_guess, name=raw, guess=" / ".join(guesses))
    raise NotFound(without, name=raw)


class Lookup(ParamType):
    """A thing of the community, offered as the member types its name or number."""

    @property
    def has_autocomplete(self) -> bool:
        return True


def _by_number(ctx: Context, model: type[Titled], raw: str, missing: LazyText) -> Titled:
    """The post, project or meetup numbered ``raw`` (``12`` or ``#12``)."""
    number = _number(raw)
    found = ctx.session.get(model, number) if number is not None else None
    if found is None:
        raise NotFound(missing, number=raw)
    return found


@dataclass(frozen=True)
class CircleRef(Lookup):
    """A circle by its key (``gent``), its name, or its number."""

    include_archived: bool = False

    def _candidates(self, ctx: Context) -> list[Circle]:
        statement = select(Circle)
        if not self.include_archived:
            statement = statement.where(col(Circle.archived).is_(False))
        return list(ctx.session.exec(statement.order_by(col(Circle.name))))

    async def autocomplete(self, ctx: Context, partial: str) -> list[Choice]:
        wanted = fold(partial)
        return [
            Choice(circle.key, shorten(f"{circle.name} ({circle.key})", 100))
            for circle in self._candidates(ctx)
            if not wanted or wanted in fold(circle.name) or wanted in circle.key
        ][:25]

    async def convert(self, ctx: Context, raw: str) -> Circle:
        return _by_name(
            raw,
            self._candidates(ctx),
            lambda c: {c.key, fold(c.name)} | {fold(part) for part in re.split(r"[·/|]", c.name)},
            N_("There is no circle “{name}”. Did you mean {guess}?"),
            N_("There is no circle “{name}”. See !circle list."),
        )


@dataclass(frozen=True)
class PostRef(Lookup):
    """A post of the board by its number: ``12`` or ``#12``."""

    kind: ClassVar[OptionKind] = OptionKind.STRING

    async def autocomplete(self, ctx: Context, partial: str) -> list[Choice]:
        visible = or_(col(Post.author_id) == ctx.actor_id, col(Post.status) == "open")
        return _newest_titled(ctx, Post, visible, partial)

    async def convert(self, ctx: Context, raw: str) -> Post:
        return _by_number(ctx, Post, raw, N_("There is no post {number}."))


@dataclass(frozen=True)
class ProjectRef(Lookup):
    """A project by its number or its title."""

    async def autocomplete(self, ctx: Context, partial: str) -> list[Choice]:
        return _newest_titled(ctx, Project, col(Project.status) == "open", partial)

    async def convert(self, ctx: Context, raw: str) -> Project:
        number = _number(raw)
        if number is not None:
            project = ctx.session.get(Project, number)
        else:
            project = ctx.session.exec(
                select(Project).where(col(Project.title).ilike(raw.strip())).limit(1)
            ).first()
        if project is None:
            raise NotFound(N_("There is no project {number}."), number=raw)
        return project


@dataclass(frozen=True)
class VenueRef(Lookup):
    """A venue by its key (``kop``), its name or its number."""

    async def autocomplete(self, ctx: Context, partial: str) -> list[Choice]:
        wanted = fold(partial)
        venues = ctx.session.exec(select(Venue).order_by(col(Venue.name)))
        return [
            Choice(v.key, shorten(f"{v.name} ({v.city})" if v.city else v.name, 100))
            for v in venues
            if not wanted or wanted in fold(v.name) or wanted in v.key
        ][:25]

    async def convert(self, ctx: Context, raw: str) -> Venue:
        return _by_name(
            raw,
            list(ctx.session.exec(select(Venue))),
            lambda v: {v.key, fold(v.name)},
            N_("There is no venue “{name}”. Did you mean {guess}?"),
            N_("There is no venue “{name}”. See !venue list."),
        )


@dataclass(frozen=True)
class MeetupRef(Lookup):
    """A meetup by its number."""

    async def autocomplete(self, ctx: Context, partial: str) -> list[Choice]:
        return _newest_titled(ctx, Meetup, col(Meetup.status) == "active", partial)

    async def convert(self, ctx: Context, raw: str) -> Meetup:
        return _by_number(ctx, Meetup, raw, N_("There is no meetup {number}."))
