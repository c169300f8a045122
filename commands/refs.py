"""Parameter types that name a thing of the community: a circle, a post, a project."""

from __future__ import annotations

import re
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


def _unknown(raw: str, names: list[str], with_guess: LazyText, without: LazyText) -> NotFound:
    """A named thing that does not exist: suggest the closest names, or where to look."""
    guesses = closest(raw, names)
    if guesses:
        return NotFound(with_guess, name=raw, guess=" / ".join(guesses))
    return NotFound(without, name=raw)


@dataclass(frozen=True)
class CircleRef(ParamType):
    """A circle by its key (``gent``), its name, or its number."""

    include_archived: bool = False

    @property
    def has_autocomplete(self) -> bool:
        return True

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
        wanted = fold(raw)
        number = _number(raw)
        circles = self._candidates(ctx)
        for circle in circles:
            names = {circle.key, fold(circle.name)} | {
                fold(part) for part in re.split(r"[·/|]", circle.name)
            }
            if wanted in names or circle.id == number:
                return circle
        raise _unknown(
            raw,
            [c.key for c in circles] + [c.name for c in circles],
            N_("There is no circle “{name}”. Did you mean {guess}?"),
            N_("There is no circle “{name}”. See !circle list."),
        )


@dataclass(frozen=True)
class PostRef(ParamType):
    """A post of the board by its number: ``12`` or ``#12``."""

    kind: ClassVar[OptionKind] = OptionKind.STRING

    @property
    def has_autocomplete(self) -> bool:
        return True

    async def autocomplete(self, ctx: Context, partial: str) -> list[Choice]:
        visible = or_(col(Post.author_id) == ctx.actor_id, col(Post.status) == "open")
        return _newest_titled(ctx, Post, visible, partial)

    async def convert(self, ctx: Context, raw: str) -> Post:
        number = _number(raw)
        post = ctx.session.get(Post, number) if number is not None else None
        if post is None:
            raise NotFound(N_("There is no post {number}."), number=raw)
        return post


@dataclass(frozen=True)
class ProjectRef(ParamType):
    """A project by its number or its title."""

    @property
    def has_autocomplete(self) -> bool:
        return True

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
class VenueRef(ParamType):
    """A venue by its key (``kop``), its name or its number."""

    @property
    def has_autocomplete(self) -> bool:
        return True

    async def autocomplete(self, ctx: Context, partial: str) -> list[Choice]:
        wanted = fold(partial)
        venues = ctx.session.exec(select(Venue).order_by(col(Venue.name)))
        return [
            Choice(v.key, shorten(f"{v.name} ({v.city})" if v.city else v.name, 100))
            for v in venues
            if not wanted or wanted in fold(v.name) or wanted in v.key
        ][:25]

    async def convert(self, ctx: Context, raw: str) -> Venue:
        wanted = fold(raw)
        number = _number(raw)
        venues = list(ctx.session.exec(select(Venue)))
        for venue in venues:
            if wanted in (venue.key, fold(venue.name)) or venue.id == number:
                return venue
        raise _unknown(
            raw,
            [v.key for v in venues] + [v.name for v in venues],
            N_("There is no venue “{name}”. Did you mean {guess}?"),
            N_("There is no venue “{name}”. See !venue list."),
        )


@dataclass(frozen=True)
class MeetupRef(ParamType):
    """A meetup by its number."""

    @property
    def has_autocomplete(self) -> bool:
        return True

    async def autocomplete(self, ctx: Context, partial: str) -> list[Choice]:
        return _newest_titled(ctx, Meetup, col(Meetup.status) == "active", partial)

    async def convert(self, ctx: Context, raw: str) -> Meetup:
        number = _number(raw)
        meetup = ctx.session.get(Meetup, number) if number is not None else None
        if meetup is None:
            raise NotFound(N_("There is no meetup {number}."), number=raw)
        return meetup
