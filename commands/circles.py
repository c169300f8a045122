"""Circles: sector, theme and region groups with their animators, announcements, animation
guide (the vademecum) and linked rooms or channels."""

from __future__ import annotations

import re
from typing import Annotated

from sqlmodel import col, select

from bot.context import Context
from bot.errors import PermissionDenied, UserError
from bot.i18n import N_, Translator
from bot.params import Flag, Integer, MemberRef, OneOf, PlatformRole, Text
from bot.ratelimit import RateClass
from bot.reply import Action, ActionStyle, Field, Reply, Visibility
from bot.spec import CommandSet, Opt, Role
from bot.text import shorten
from commands.refs import CircleRef
from scheduler.occurrences import Occurrence, describe, next_occurrences
from storage import circles as store
from storage import facts
from storage.circles import ANIMATOR, MEMBER, Circle, CircleMembership, CirclePlace
from storage.identity import Member
from storage.meetups import Meetup, active_meetups, changes_of

commands = CommandSet()
commands.group("circle", help=N_("Circles of a sector, a theme or a region"))
commands.group("circle animator", help=N_("Name or remove the animators of a circle"))
commands.group("circle guide", help=N_("The animation guide of a circle"))

KINDS = {"sector": N_("sector"), "theme": N_("theme"), "region": N_("region")}
SWITCH = {"on": N_("on"), "off": N_("off")}
PAGE_SIZE = 15
MAX_GUIDE = 8000
MAX_ANNOUNCEMENT = 2000

ARCHIVED = CircleRef(include_archived=True)
CircleArg = Annotated[Circle, Opt(CircleRef(), N_("The circle"))]


def circle_line(t: Translator, circle: Circle, count: int) -> str:
    members = t.plural("{count} member", "{count} members", count)
    return f"**{circle.name}** (`{circle.key}`) · {t(KINDS[circle.kind])} · {members}"


def next_meetups(ctx: Context, circle_id: int, count: int) -> list[tuple[Occurrence, Meetup]]:
    found: list[tuple[Occurrence, Meetup]] = []
    for meetup in active_meetups(ctx.session, circle_id=circle_id):
        assert meetup.id is not None
        changes = changes_of(ctx.session, meetup.id)
        found.extend((o, meetup) for o in next_occurrences(meetup, changes, ctx.now(), count))
    return sorted(found, key=lambda pair: pair[0].start)[:count]


def circle_members_all(ctx: Context, circle_id: int) -> list[tuple[int, str]]:
    rows = ctx.session.exec(
        select(CircleMembership.member_id, CircleMembership.role).where(
            CircleMembership.circle_id == circle_id
        )
    )
    return list(rows)


def require_animator(ctx: Context, circle: Circle) -> None:
    """Animators of this circle and admins; the check the core makes for other commands."""
    assert circle.id is not None
    if not ctx.is_admin and not store.is_animator(ctx.session, ctx.actor_id, circle.id):
        raise PermissionDenied(N_("Only an animator of this circle may do this."))


def _joined(ctx: Context, circle: Circle) -> CircleMembership:
    assert circle.id is not None
    membership = store.membership(ctx.session, circle.id, ctx.actor_id)
    if membership is None:
        raise UserError(
            N_("You are not in {circle}. Join it first: {command}"),
            circle=circle.name,
            command=f"`!circle join {circle.key}`",
        )
    return membership


@commands.command(
    "circle list",
    help=N_("The circles you can join"),
    examples=("circle list", "circle list region"),
)
async def list_circles(
    ctx: Context,
    kind: Annotated[str | None, Opt(OneOf(KINDS), N_("Only circles of this kind"))] = None,
) -> Reply:
    found = store.circles(ctx.session, kind)
    if not found:
        return ctx.say(N_("There are no circles yet."))
    counts = store.member_counts(ctx.session)
    mine = {c.id for c in store.circles_of(ctx.session, ctx.actor_id)}
    lines = [
        ("✓ " if circle.id in mine else "- ")
        + circle_line(ctx.t, circle, counts.get(circle.id or 0, 0))
        for circle in found
    ]
    return Reply(
        title=ctx.t(N_("Circles")),
        text="\n".join(lines)
        + "\n\n"
        + ctx.t(N_("Join one with {command}."), command="`!circle join <circle>`"),
    )


@commands.command(
    "circle info",
    help=N_("What a circle is about, who animates it, its guide"),
    examples=("circle info gent",),
)
async def info(ctx: Context, circle: CircleArg) -> Reply:
    assert circle.id is not None
    t = ctx.t
    animators = store.animators_of(ctx.session, circle.id)
    count = store.member_counts(ctx.session).get(circle.id, 0)
    guide = store.latest_guide(ctx.session, circle.id)
    fields = [
        Field(t(N_("Kind")), t(KINDS[circle.kind]), inline=True),
        Field(t(N_("Members")), t.number(count), inline=True),
        Field(
            t(N_("Animators")),
            ", ".join(f"{m.display_name} (#{m.id})" for m in animators) or t(N_("none yet")),
        ),
    ]
    if guide:
        fields.append(
            Field(
                t(N_("Guide")),
                shorten(guide.text, 300)
                + "\n"
                + t(N_("Read it all: {command}"), command=f"`!circle guide show {circle.key}`"),
            )
        )
    coming = next_meetups(ctx, circle.id, 3)
    if coming:
        fields.append(
            Field(
                t(N_("Next meetups")),
                "\n".join(
                    f"- {describe(t, occurrence)} · **{meetup.title}** (#{meetup.id})"
                    for occurrence, meetup in coming
                ),
            )
        )
    joined = store.membership(ctx.session, circle.id, ctx.actor_id) is not None
    action = (
        Action(t(N_("Leave")), f"circle leave {circle.key}")
        if joined
        else Action(t(N_("Join")), f"circle join {circle.key}", ActionStyle.PRIMARY)
    )
    return Reply(
        title=circle.name, text=circle.description, fields=tuple(fields), actions=(action,)
    )


@commands.command("circle join", help=N_("Join a circle"), examples=("circle join audiovisual",))
async def join(ctx: Context, circle: CircleArg) -> Reply:
    assert circle.id is not None
    if store.membership(ctx.session, circle.id, ctx.actor_id) is not None:
        return Reply(
            text=ctx.t(N_("You are already in {circle}."), circle=circle.name),
            visibility=Visibility.PRIVATE,
        )
    ctx.session.add(
        CircleMembership(circle_id=circle.id, member_id=ctx.actor_id, joined_at=ctx.now())
    )
    facts.record_circle_joined(ctx.session, circle, ctx.actor_id, ctx.now())
    for place in store.places_of(ctx.session, circle.id):
        ctx.invite(ctx.actor_id, place.platform, place.place_id, place.role_id)
    return Reply(
        text=ctx.t(
            N_("Welcome to {circle}! Say {command} to get its announcements by direct message."),
            circle=circle.name,
            command=f"`!circle announcements {circle.key} on`",
        ),
        actions=(Action(ctx.t(N_("Circle info")), f"circle info {circle.key}"),),
    )


@commands.command("circle leave", help=N_("Leave a circle"), examples=("circle leave gent",))
async def leave(ctx: Context, circle: CircleArg) -> Reply:
    membership = _joined(ctx, circle)
    ctx.session.delete(membership)
    assert circle.id is not None
    for place in store.places_of(ctx.session, circle.id):
        # out of the linked room (Matrix) or without the circle's role (Discord)
        ctx.invite(ctx.actor_id, place.platform, place.place_id, place.role_id, grant=False)
    return ctx.say(N_("You left {circle}."), circle=circle.name)


@commands.command(
    "circle members", help=N_("Who is in a circle"), examples=("circle members gent",)
)
async def members(
    ctx: Context,
    circle: CircleArg,
    page: Annotated[int, Opt(Integer(1, 10_000), N_("Page of the results"))] = 1,
) -> Reply:
    assert circle.id is not None
    found, total = store.members_of(
        ctx.session,
        circle.id,
        None if ctx.is_admin else ctx.actor_id,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    if total and not found:
        raise UserError(N_("There is no page {page}."), page=page)
    animator = ctx.t(N_("animator"))
    lines = [
        f"- {m.display_name} (#{m.id})" + (f" · {animator}" if role == ANIMATOR else "")
        for m, role in found
    ]
    pages = (total + PAGE_SIZE - 1) // PAGE_SIZE
    if pages > 1:
        lines.append(ctx.t(N_("Page {page} of {pages}."), page=page, pages=pages))
    title = ctx.t(
        N_("{circle}: {members}"),
        circle=circle.name,
        members=ctx.t.plural("{count} member", "{count} members", total),
    )
    return Reply(title=title, text="\n".join(lines) or ctx.t(N_("Nobody you can see yet.")))


@commands.command(
    "circle announcements",
    help=N_("Get a circle's announcements by direct message, or stop"),
    examples=("circle announcements gent on",),
    visibility=Visibility.PRIVATE,
)
async def announcements(
    ctx: Context,
    circle: CircleArg,
    switch: Annotated[str, Opt(OneOf(SWITCH), N_("on or off"))],
) -> Reply:
    membership = _joined(ctx, circle)
    membership.announcements_by_dm = switch == "on"
    ctx.session.add(membership)
    message = (
        N_("You will get the announcements of {circle} by direct message.")
        if switch == "on"
        else N_("No more announcements of {circle} by direct message.")
    )
    return Reply(text=ctx.t(message, circle=circle.name), visibility=Visibility.PRIVATE)


# -- admins ------------------------------------------------------------------------------------


@commands.command(
    "circle create",
    help=N_("Create a circle (admins)"),
    role=Role.ADMIN,
    examples=('circle create podcast theme "Podcast makers"',),
)
async def create(
    ctx: Context,
    key: Annotated[str, Opt(Text(40), N_("Short name: lower case letters, digits, -"))],
    kind: Annotated[str, Opt(OneOf(KINDS), N_("sector, theme or region"))],
    name: Annotated[str, Opt(Text(80), N_("The name members see"), rest=True)],
    *,
    description: Annotated[str, Opt(Text(1000, long=True), N_("What the circle is about"))] = "",
) -> Reply:
    key = key.lower()
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,39}", key):
        raise UserError(N_("A key has lower-case letters, digits and dashes, like “podcast”."))
    if store.circle_by_key(ctx.session, key) is not None:
        raise UserError(N_("There is already a circle “{key}”."), key=key)
    circle = Circle(key=key, name=name, kind=kind, description=description, created_at=ctx.now())
    ctx.session.add(circle)
    return ctx.say(
        N_("Circle {circle} created. Name its animators with {command}."),
        circle=name,
        command=f"`!circle animator add {key} <member>`",
    )


@commands.command(
    "circle edit",
    help=N_("Change a circle's name, description or settings (animators)"),
    role=Role.ANIMATOR,
    scope="circle",
    examples=('circle edit gent description="Gent and around"', "circle edit gent open=yes"),
)
async def edit(
    ctx: Context,
    circle: Annotated[Circle, Opt(ARCHIVED, N_("The circle"))],
    *,
    name: Annotated[str | None, Opt(Text(80), N_("The name members see"))] = None,
    kind: Annotated[str | None, Opt(OneOf(KINDS), N_("sector, theme or region"))] = None,
    description: Annotated[str | None, Opt(Text(1000), N_("What the circle is about"))] = None,
    open_: Annotated[
        bool | None, Opt(Flag(), N_("May every member schedule meetups?"), name="open")
    ] = None,
) -> Reply:
    if name is None and kind is None and description is None and open_ is None:
        raise UserError(N_("Tell me what to change, for example name=…"), show_usage=True)
    if open_ is not None:
        circle.members_schedule = open_
    circle.name = name if name is not None else circle.name
    circle.kind = kind if kind is not None else circle.kind
    circle.description = description if description is not None else circle.description
    ctx.session.add(circle)
    return ctx.say(N_("Circle {circle} saved."), circle=circle.name)


@commands.command(
    "circle archive",
    help=N_("Archive a circle: it leaves the lists (admins)"),
    role=Role.ADMIN,
    examples=("circle archive podcast",),
)
async def archive(ctx: Context, circle: CircleArg) -> Reply:
    circle.archived = True
    ctx.session.add(circle)
    return ctx.say(
        N_("Circle {circle} archived; {command} brings it back."),
        circle=circle.name,
        command=f"`!circle restore {circle.key}`",
    )


@commands.command(
    "circle restore",
    help=N_("Bring an archived circle back (admins)"),
    role=Role.ADMIN,
    examples=("circle restore podcast",),
)
async def restore(
    ctx: Context, circle: Annotated[Circle, Opt(ARCHIVED, N_("The circle"))]
) -> Reply:
    circle.archived = False
    ctx.session.add(circle)
    return ctx.say(N_("Circle {circle} is back."), circle=circle.name)


@commands.command(
    "circle animator add",
    help=N_("Make a member an animator of a circle (admins)"),
    role=Role.ADMIN,
    examples=("circle animator add gent #12",),
)
async def animator_add(
    ctx: Context,
    circle: CircleArg,
    member: Annotated[Member, Opt(MemberRef(), N_("The member"))],
) -> Reply:
    assert circle.id is not None
    assert member.id is not None
    membership = store.membership(ctx.session, circle.id, member.id)
    if membership is None:
        membership = CircleMembership(circle_id=circle.id, member_id=member.id, joined_at=ctx.now())
        facts.record_circle_joined(ctx.session, circle, member.id, ctx.now())
    membership.role = ANIMATOR
    ctx.session.add(membership)
    t = ctx.translator_for(member)
    ctx.notify_member(
        member.id,
        Reply(
            text=t(
                N_("You are now an animator of {circle}. Thank you! Its guide: {command}"),
                circle=circle.name,
                command=f"`!circle guide show {circle.key}`",
            )
        ),
    )
    return ctx.say(
        N_("{name} is now an animator of {circle}."), name=member.display_name, circle=circle.name
    )


@commands.command(
    "circle animator remove",
    help=N_("Remove an animator of a circle (admins)"),
    role=Role.ADMIN,
    examples=("circle animator remove gent #12",),
)
async def animator_remove(
    ctx: Context,
    circle: CircleArg,
    member: Annotated[Member, Opt(MemberRef(), N_("The member"))],
) -> Reply:
    assert circle.id is not None
    assert member.id is not None
    membership = store.membership(ctx.session, circle.id, member.id)
    if membership is None or membership.role != ANIMATOR:
        raise UserError(
            N_("{name} is not an animator of {circle}."),
            name=member.display_name,
            circle=circle.name,
        )
    membership.role = MEMBER
    ctx.session.add(membership)
    return ctx.say(
        N_("{name} is no longer an animator of {circle}."),
        name=member.display_name,
        circle=circle.name,
    )


# -- animators ---------------------------------------------------------------------------------


@commands.command(
    "circle announce",
    help=N_("Announce something to a circle (animators)"),
    role=Role.ANIMATOR,
    scope="circle",
    examples=("circle announce gent Work breakfast moves to the KOP on Monday!",),
    rate=RateClass.PUBLISH,
)
async def announce(
    ctx: Context,
    circle: CircleArg,
    text: Annotated[str, Opt(Text(MAX_ANNOUNCEMENT, long=True), N_("The announcement"), rest=True)],
) -> Reply:
    assert circle.id is not None

    def announcement(t: Translator) -> Reply:
        return Reply(
            title=t(N_("Announcement · {circle}"), circle=circle.name),
            text=f"{text}\n\n— {ctx.actor.display_name}",
        )

    places = store.places_of(ctx.session, circle.id)
    for place in places:
        ctx.notify_place(place.platform, place.place_id, announcement(ctx.t))
    recipients = [m for m in store.dm_subscribers(ctx.session, circle.id) if m != ctx.actor_id]
    for member_id in recipients:
        member = ctx.session.get(Member, member_id)
        assert member is not None
        ctx.notify_member(member_id, announcement(ctx.translator_for(member)))
    return ctx.say(
        N_("Announced in {places} and to {members}."),
        places=ctx.t.plural("{count} room", "{count} rooms", len(places)),
        members=ctx.t.plural("{count} member", "{count} members", len(recipients)),
    )


@commands.command(
    "circle link",
    help=N_("Link this room or channel to a circle (animators)"),
    role=Role.ANIMATOR,
    scope="circle",
    examples=("circle link gent",),
)
async def link(
    ctx: Context,
    circle: CircleArg,
    role: Annotated[
        str | None, Opt(PlatformRole(), N_("A role for its members here (Discord)"))
    ] = None,
) -> Reply:
    assert circle.id is not None
    if not ctx.place or ctx.is_direct:
        raise UserError(
            N_("Say this in the room or channel you want to link, not in a direct conversation.")
        )
    existing = ctx.session.exec(
        select(CirclePlace).where(
            CirclePlace.circle_id == circle.id,
            CirclePlace.platform == ctx.platform,
            CirclePlace.place_id == ctx.place,
        )
    ).first()
    if existing is None:
        existing = CirclePlace(
            circle_id=circle.id,
            platform=ctx.platform,
            place_id=ctx.place,
            linked_by=ctx.actor_id,
            linked_at=ctx.now(),
        )
    if role is not None:
        existing.role_id = role
        for member_id in [m for m, _ in circle_members_all(ctx, circle.id)]:
            ctx.invite(member_id, ctx.platform, ctx.place, role)
    ctx.session.add(existing)
    return ctx.say(
        N_("This place is linked to {circle}: its announcements land here."), circle=circle.name
    )


@commands.command(
    "circle unlink",
    help=N_("Unlink this room or channel from a circle (animators)"),
    role=Role.ANIMATOR,
    scope="circle",
    examples=("circle unlink gent",),
)
async def unlink(ctx: Context, circle: CircleArg) -> Reply:
    places = ctx.session.exec(
        select(CirclePlace).where(
            CirclePlace.circle_id == circle.id,
            CirclePlace.platform == ctx.platform,
            CirclePlace.place_id == (ctx.place or ""),
        )
    ).all()
    if not places:
        raise UserError(N_("This place is not linked to {circle}."), circle=circle.name)
    for place in places:
        ctx.session.delete(place)
    return ctx.say(N_("This place is no longer linked to {circle}."), circle=circle.name)


# -- the guide (vademecum) ---------------------------------------------------------------------


@commands.command(
    "circle guide show",
    help=N_("Read a circle's animation guide"),
    examples=("circle guide show gent", "circle guide show gent version=2"),
)
async def guide_show(
    ctx: Context,
    circle: CircleArg,
    *,
    version: Annotated[int | None, Opt(Integer(1, 100_000), N_("An earlier version"))] = None,
) -> Reply:
    assert circle.id is not None
    latest = store.latest_guide(ctx.session, circle.id)
    if latest is None:
        return ctx.say(
            N_("{circle} has no guide yet. Animators write it with {command}."),
            circle=circle.name,
            command=f"`!circle guide set {circle.key} …`",
        )
    shown = latest
    if version is not None:
        found = ctx.session.exec(
            select(store.CircleGuideVersion).where(
                store.CircleGuideVersion.circle_id == circle.id,
                store.CircleGuideVersion.version == version,
            )
        ).first()
        if found is None:
            raise UserError(
                N_("There is no version {version}; the latest is {latest}."),
                version=version,
                latest=latest.version,
            )
        shown = found
    author = ctx.session.get(Member, shown.author_id) if shown.author_id else None
    footer = ctx.t(
        N_("Version {version} of {latest}, {when}, by {name}."),
        version=shown.version,
        latest=latest.version,
        when=ctx.t.datetime(shown.created_at, "short"),
        name=author.display_name if author else "—",
    )
    return Reply(
        title=ctx.t(N_("Guide · {circle}"), circle=circle.name), text=f"{shown.text}\n\n*{footer}*"
    )


@commands.command(
    "circle guide set",
    help=N_("Write a circle's guide: objectives, formats, frequency (animators)"),
    role=Role.ANIMATOR,
    scope="circle",
    examples=("circle guide set gent ## Objectives …",),
)
async def guide_set(
    ctx: Context,
    circle: CircleArg,
    text: Annotated[str, Opt(Text(MAX_GUIDE, long=True), N_("The guide, in Markdown"), rest=True)],
) -> Reply:
    assert circle.id is not None
    version = store.add_guide_version(ctx.session, circle.id, text, ctx.actor_id, ctx.now())
    return ctx.say(
        N_("Guide of {circle} saved as version {version}."),
        circle=circle.name,
        version=version.version,
    )


@commands.command(
    "circle guide copy",
    help=N_("Start a circle's guide from another circle's (animators)"),
    role=Role.ANIMATOR,
    scope="target",
    examples=("circle guide copy gent antwerpen",),
)
async def guide_copy(
    ctx: Context,
    source: Annotated[Circle, Opt(CircleRef(), N_("The circle to copy from"))],
    target: Annotated[Circle, Opt(CircleRef(), N_("The circle to copy to"))],
) -> Reply:
    assert source.id is not None
    assert target.id is not None
    if source.id == target.id:
        raise UserError(N_("Choose two different circles."))
    original = store.latest_guide(ctx.session, source.id)
    if original is None:
        raise UserError(N_("{circle} has no guide to copy."), circle=source.name)
    version = store.add_guide_version(
        ctx.session, target.id, original.text, ctx.actor_id, ctx.now()
    )
    return ctx.say(
        N_(
            "The guide of {source} is now version {version} of {target}'s; adapt it with {command}."
        ),
        source=source.name,
        target=target.name,
        version=version.version,
        command=f"`!circle guide set {target.key} …`",
    )


@commands.command(
    "circle guide history",
    help=N_("The versions of a circle's guide"),
    examples=("circle guide history gent",),
)
async def guide_history(ctx: Context, circle: CircleArg) -> Reply:
    versions = ctx.session.exec(
        select(store.CircleGuideVersion)
        .where(store.CircleGuideVersion.circle_id == circle.id)
        .order_by(col(store.CircleGuideVersion.version).desc())
        .limit(20)
    ).all()
    if not versions:
        return ctx.say(N_("{circle} has no guide yet."), circle=circle.name)
    lines = []
    for version in versions:
        author = ctx.session.get(Member, version.author_id) if version.author_id else None
        lines.append(
            f"- v{version.version} · {ctx.t.datetime(version.created_at, 'short')} · "
            f"{author.display_name if author else '—'}"
        )
    return Reply(title=ctx.t(N_("Guide · {circle}"), circle=circle.name), text="\n".join(lines))
