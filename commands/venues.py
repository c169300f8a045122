"""Venues: where meetups happen (a shared space, a park, a café), or an online room."""

from __future__ import annotations

import re
from typing import Annotated

from sqlmodel import col, select

from bot.context import Context
from bot.errors import PermissionDenied, UserError
from bot.i18n import N_
from bot.params import Integer, Text
from bot.reply import Field, Reply
from bot.spec import CommandSet, Opt
from bot.text import fold
from commands.refs import VenueRef
from storage.circles import is_animator
from storage.meetups import Venue, venue_by_key

commands = CommandSet()
commands.group("venue", help=N_("Places where meetups happen"))

PLACES = N_("{count} places")
VenueArg = Annotated[Venue, Opt(VenueRef(), N_("The venue"))]


def ensure_can_manage(ctx: Context) -> None:
    if not ctx.is_admin and not is_animator(ctx.session, ctx.actor_id):
        raise PermissionDenied(N_("Only animators and admins manage venues."))


def ensure_owner(ctx: Context, venue: Venue) -> None:
    """A venue is changed (or removed) by the animator who added it, while still an animator,
    and by admins; a venue nobody owns (those from bot.toml, and those added before venues had
    an owner) only by admins."""
    if ctx.is_admin:
        ctx.acting_for(venue.created_by, f"venue {venue.key}")
        return
    if venue.created_by is None or venue.created_by != ctx.actor_id:
        raise PermissionDenied(
            N_("Only the animator who added {venue} and the admins may change it."),
            venue=venue.name,
        )
    ensure_can_manage(ctx)


def check_link(link: str | None) -> None:
    if link and not link.startswith(("https://", "http://")):
        raise UserError(N_("An online link starts with https://"))


@commands.command(
    "venue add",
    help=N_("Add a venue (animators)"),
    examples=('venue add kop "De KOP" address="Kopstraat 1" city=Brussel capacity=30',),
)
async def add(
    ctx: Context,
    key: Annotated[str, Opt(Text(40), N_("Short name: lower case letters, digits, -"))],
    name: Annotated[str, Opt(Text(120), N_("The name members see"), rest=True)],
    *,
    address: Annotated[str, Opt(Text(200), N_("Street and number"))] = "",
    city: Annotated[str, Opt(Text(80), N_("The city"))] = "",
    capacity: Annotated[int | None, Opt(Integer(1, 100_000), N_("How many people fit"))] = None,
    accessibility: Annotated[
        str, Opt(Text(1000, long=True), N_("Access: steps, lift, toilets…"))
    ] = "",
    online: Annotated[str, Opt(Text(300), N_("A link, for an online venue"))] = "",
) -> Reply:
    ensure_can_manage(ctx)
    key = key.lower()
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,39}", key):
        raise UserError(N_("A key has lower-case letters, digits and dashes, like “podcast”."))
    if venue_by_key(ctx.session, key) is not None:
        raise UserError(N_("There is already a venue “{key}”."), key=key)
    check_link(online)
    venue = Venue(
        key=key,
        name=name,
        address=address,
        city=city,
        capacity=capacity,
        accessibility=accessibility,
        online_link=online,
        created_by=ctx.actor_id,
        created_at=ctx.now(),
    )
    ctx.session.add(venue)
    return ctx.say(N_("Venue {name} added: use venue={key} in meetups."), name=name, key=key)


@commands.command(
    "venue edit", help=N_("Change a venue (animators)"), examples=("venue edit kop capacity=40",)
)
async def edit(
    ctx: Context,
    venue: VenueArg,
    *,
    name: Annotated[str | None, Opt(Text(120), N_("The name members see"))] = None,
    address: Annotated[str | None, Opt(Text(200), N_("Street and number"))] = None,
    city: Annotated[str | None, Opt(Text(80), N_("The city"))] = None,
    capacity: Annotated[int | None, Opt(Integer(1, 100_000), N_("How many people fit"))] = None,
    accessibility: Annotated[
        str | None, Opt(Text(1000), N_("Access: steps, lift, toilets…"))
    ] = None,
    online: Annotated[str | None, Opt(Text(300), N_("A link, for an online venue"))] = None,
) -> Reply:
    ensure_owner(ctx, venue)
    given = (name, address, city, capacity, accessibility, online)
    if all(value is None for value in given):
        raise UserError(N_("Tell me what to change, for example name=…"), show_usage=True)
    check_link(online)
    for field, value in zip(
        ("name", "address", "city", "capacity", "accessibility", "online_link"), given, strict=True
    ):
        if value is not None:
            setattr(venue, field, value)
    ctx.session.add(venue)
    return await show(ctx, venue)


@commands.command(
    "venue list", help=N_("Venues, of one city or all"), examples=("venue list", "venue list Gent")
)
async def venue_list(
    ctx: Context,
    city: Annotated[str | None, Opt(Text(80), N_("Only this city"))] = None,
) -> Reply:
    venues = list(ctx.session.exec(select(Venue).order_by(col(Venue.city), col(Venue.name))))
    if city:
        venues = [v for v in venues if fold(city) in fold(v.city)]
    if not venues:
        return ctx.say(
            N_("No venue yet. Animators add one with {command}."), command="`!venue add …`"
        )
    lines = [
        f"- **{v.name}** (`{v.key}`)"
        + (f" · {v.city}" if v.city else "")
        + (" · " + ctx.t(PLACES, count=v.capacity) if v.capacity else "")
        for v in venues
    ]
    return Reply(title=ctx.t(N_("Venues")), text="\n".join(lines))


@commands.command(
    "venue show", help=N_("A venue's address, capacity and access"), examples=("venue show kop",)
)
async def show(ctx: Context, venue: VenueArg) -> Reply:
    t = ctx.t
    fields = [
        Field(t(N_("Address")), ", ".join(p for p in (venue.address, venue.city) if p) or "—")
    ]
    if venue.capacity:
        fields.append(Field(t(N_("Capacity")), t.number(venue.capacity), inline=True))
    if venue.accessibility:
        fields.append(Field(t(N_("Accessibility")), venue.accessibility))
    if venue.online_link:
        fields.append(Field(t(N_("Online")), venue.online_link))
    return Reply(title=f"{venue.name} ({venue.key})", fields=tuple(fields))
