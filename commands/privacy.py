"""``privacy``: a member's right to see everything Samen holds about them, and to be forgotten.

``privacy export`` sends it all as JSON in a direct message. ``privacy forget`` erases the
member's own data and anonymises what others need to keep (see storage/privacy.py for which
is which); it asks first, and an admin can run it for a member who asked by other means.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Annotated

from sqlmodel import col, select

from bot.context import Context
from bot.errors import PermissionDenied
from bot.i18n import N_
from bot.params import Flag, MemberRef
from bot.reply import Action, ActionStyle, Attachment, Reply, Visibility
from bot.spec import CommandSet, Opt
from scheduler.waitlist import HOLDS_PLACE, offer_next
from storage import board as board_store
from storage import facts, privacy
from storage.board import OPEN, Post
from storage.identity import Member
from storage.meetups import SERIES, Meetup, Rsvp, parse_occurrence_key

log = logging.getLogger(__name__)
commands = CommandSet()
commands.group("privacy", help=N_("What Samen keeps about you: see it all, or be forgotten"))

WHOM = Annotated[
    Member | None, Opt(MemberRef(), N_("The member (admins, for a member who asked them)"))
]


def _subject(ctx: Context, member: Member | None) -> Member:
    if member is None or member.id == ctx.actor_id:
        return ctx.actor
    if not ctx.is_admin:
        raise PermissionDenied(N_("Only admins may do this for another member."))
    return member


@commands.command(
    "privacy export",
    help=N_("Get everything Samen keeps about you, as a file in a direct message"),
    examples=("privacy export",),
    visibility=Visibility.DIRECT,
)
async def export(ctx: Context) -> Reply:
    data = privacy.export(ctx.session, ctx.actor_id)
    data["exported_at"] = ctx.now().isoformat()
    content = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")
    rows = sum(len(rows) for rows in data["tables"].values())
    return Reply(
        text=ctx.t(
            N_(
                "Here is everything Samen keeps about you: your profile and {rows} records "
                "(accounts, posts, answers, meetups, projects), as JSON."
            ),
            rows=rows,
        ),
        attachments=(Attachment(f"samen-export-{ctx.actor_id}.json", content, "application/json"),),
        visibility=Visibility.DIRECT,
    )


@commands.command(
    "privacy forget",
    help=N_("Be forgotten: erase your profile and accounts (asks first)"),
    examples=("privacy forget", "privacy forget confirm=yes"),
    visibility=Visibility.PRIVATE,
)
async def forget(
    ctx: Context,
    *,
    member: WHOM = None,
    confirm: Annotated[bool, Opt(Flag(), N_("Yes, really forget"))] = False,
) -> Reply:
    subject = _subject(ctx, member)
    assert subject.id is not None
    yourself = subject.id == ctx.actor_id
    if not confirm:
        again = "privacy forget confirm=yes" + ("" if yourself else f" member=#{subject.id}")
        warning = (
            N_(
                "This erases your profile, linked accounts, subscriptions, circle memberships "
                "and coming RSVPs, and closes your open posts. Posts, answers and past "
                "attendance stay, without a name, so that others keep their history and the "
                "network's figures stay right. It cannot be undone."
            )
            if yourself
            else N_(
                "This erases the profile, linked accounts, subscriptions, circle memberships "
                "and coming RSVPs of member #{number}, and closes their open posts. Posts, "
                "answers and past attendance stay, without a name. It cannot be undone."
            )
        )
        return Reply(
            text=ctx.t(warning, number=subject.id),
            actions=(Action(ctx.t(N_("Forget")), again, ActionStyle.DANGER, "🗑"),),
            visibility=Visibility.PRIVATE,
        )
    ctx.audit(f"member #{subject.id}", subject.id)
    closed = _close_open_posts(ctx, subject.id)
    freed = _drop_coming_rsvps(ctx, subject.id)
    erased = privacy.erase(ctx.session, subject.id, ctx.now())
    log.info(
        "privacy forget: member %s by member %s, rows erased %s", subject.id, ctx.actor_id, erased
    )
    done = (
        N_(
            "Done: Samen has forgotten you. Open posts closed: {posts}. Places given back: "
            "{places}."
        )
        if yourself
        else N_(
            "Done: member #{number} is forgotten. Open posts closed: {posts}. Places given "
            "back: {places}."
        )
    )
    return ctx.say(done, number=subject.id, posts=closed, places=freed)


def _close_open_posts(ctx: Context, member_id: int) -> int:
    """Nobody can answer a post whose author is gone: it closes as withdrawn."""
    statement = select(Post).where(Post.author_id == member_id, Post.status == OPEN)
    posts = list(ctx.session.exec(statement))
    for post in posts:
        post.status, post.outcome, post.closed_at = board_store.CLOSED, "withdrawn", ctx.now()
        ctx.session.add(post)
        board_store.reindex(ctx.session, post)
        facts.record_post(ctx.session, facts.POST_CLOSED, post, ctx.now(), None)
    return len(posts)


def _is_coming(key: str, now: datetime) -> bool:
    return key == SERIES or parse_occurrence_key(key) >= now


def _drop_coming_rsvps(ctx: Context, member_id: int) -> int:
    """RSVPs for what is still to come go (a place held is offered to the waitlist); those of
    past dates stay, so that a meetup's attendance stays what it was."""
    now = ctx.now()
    rsvps = ctx.session.exec(select(Rsvp).where(col(Rsvp.member_id) == member_id))
    coming = [r for r in rsvps if _is_coming(r.occurrence, now)]
    freed: list[tuple[int, str]] = []
    for rsvp in coming:
        if rsvp.status in HOLDS_PLACE:
            freed.append((rsvp.meetup_id, rsvp.occurrence))
        ctx.session.delete(rsvp)
    ctx.session.flush()
    for meetup_id, key in freed:
        meetup = ctx.session.get(Meetup, meetup_id)
        if meetup is not None and meetup.status == "active":
            offer_next(
                ctx.session,
                meetup,
                key,
                now,
                ctx.settings.waitlist_offer_hours,
                ctx.translator_for,
                ctx.notify_member,
            )
    return len(freed)
