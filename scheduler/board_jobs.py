"""Periodic jobs of the board: the expiry warning (once), expiry, and subscribers' digests.

Each job claims its rows in the transaction that changes them, so that a warning or a digest
is never sent twice, even with several instances running; the messages go out through the
Notifier after the commit. The database's part runs in a worker thread: the event loop
serves commands and the platforms meanwhile, even when the database is held.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from bot.i18n import N_, Translator
from bot.notifier import MemberTarget, Notification
from bot.reply import Action, ActionStyle, Reply
from bot.services import Services
from storage import board as store
from storage import facts
from storage.board import Post
from storage.identity import Member

log = logging.getLogger(__name__)

KINDS = {store.NEED: N_("need"), store.OFFER: N_("offer")}


def _line(t: Translator, post: Post) -> str:
    return f"#{post.id} · {t(KINDS[post.kind])} · **{post.title}**"


def _tell_author(
    t: Translator, post: Post, heading: str, footer: str, actions: tuple[Action, ...]
) -> Notification:
    """A message to the post's author: a heading, the post's line, what they can do."""
    return Notification(
        MemberTarget(post.author_id),
        Reply(text=f"{heading}\n{_line(t, post)}\n{footer}", actions=actions),
    )


async def _send(services: Services, notifications: list[Notification]) -> None:
    for notification in notifications:
        try:
            await services.notifier.deliver(notification)
        except Exception:
            log.exception("board notification to %s failed", notification.target)


async def warn_before_expiry(services: Services) -> int:
    """Tell authors, once, that their post leaves the board soon."""
    outgoing = await asyncio.to_thread(_claim_warnings, services)
    await _send(services, outgoing)
    return len(outgoing)


def _claim_warnings(services: Services) -> list[Notification]:
    now = services.clock.now()
    horizon = now + timedelta(days=services.settings.expiry_warning_days)
    outgoing: list[Notification] = []
    with services.database.session() as session:
        for post in store.due_for_warning(session, horizon):
            assert post.id is not None
            if post.valid_until <= now or not store.claim_warning(session, post.id):
                continue
            t = services.translator_for(session.get(Member, post.author_id))
            outgoing.append(
                _tell_author(
                    t,
                    post,
                    t(
                        N_("Your post leaves the board on {date}:"),
                        date=t.day_of(post.valid_until),
                    ),
                    t(
                        N_("Still looking? Keep it with {command}."),
                        command=f"`!board renew {post.id}`",
                    ),
                    (
                        Action(t(N_("Renew")), f"board renew {post.id}", ActionStyle.PRIMARY),
                        Action(
                            t(N_("Close: found in the community")),
                            f"board close {post.id} found_in_community",
                            ActionStyle.SUCCESS,
                        ),
                    ),
                )
            )
    return outgoing


async def expire_posts(services: Services) -> int:
    """Close the posts whose time is up, and tell their authors."""
    outgoing = await asyncio.to_thread(_claim_expired, services)
    await _send(services, outgoing)
    return len(outgoing)


def _claim_expired(services: Services) -> list[Notification]:
    now = services.clock.now()
    outgoing: list[Notification] = []
    with services.database.session() as session:
        for post in store.due_for_expiry(session, now):
            assert post.id is not None
            if not store.claim_expiry(session, post.id, now):
                continue
            post.status, post.outcome, post.closed_at = store.EXPIRED, store.EXPIRED, now
            store.reindex(session, post)
            facts.record_post(session, facts.POST_CLOSED, post, now, None)
            t = services.translator_for(session.get(Member, post.author_id))
            outgoing.append(
                _tell_author(
                    t,
                    post,
                    t(N_("Your post expired and left the board:")),
                    t(N_("Bring it back with {command}."), command=f"`!board renew {post.id}`"),
                    (Action(t(N_("Renew")), f"board renew {post.id}"),),
                )
            )
    return outgoing


async def send_digests(services: Services) -> int:
    """One message per subscriber with the new posts that fit, at most once per interval."""
    outgoing = await asyncio.to_thread(_claim_digests, services)
    await _send(services, outgoing)
    return len(outgoing)


def _claim_digests(services: Services) -> list[Notification]:
    now = services.clock.now()
    interval = timedelta(minutes=services.settings.digest_interval_minutes)
    outgoing: list[Notification] = []
    with services.database.session() as session:
        recipients = store.digest_recipients(session, now - interval)
    for member_id in recipients:
        with services.database.session() as session:
            post_ids = store.claim_digest(session, member_id, now)
            posts = store.posts_by_ids(session, post_ids)
            fresh = [posts[i] for i in post_ids if i in posts and posts[i].status == store.OPEN]
            if not fresh:
                continue
            member = session.get(Member, member_id)
            t = services.translator_for(member)
            lines = [f"- {_line(t, post)}" for post in fresh[:20]]
            if len(fresh) > 20:
                lines.append(t(N_("…and {count} more: !board list"), count=len(fresh) - 20))
            outgoing.append(
                Notification(
                    MemberTarget(member_id),
                    Reply(
                        title=t.plural(
                            "{count} new post for you", "{count} new posts for you", len(fresh)
                        ),
                        text="\n".join(lines),
                        actions=tuple(
                            Action(t(N_("Show #{number}"), number=p.id), f"board show {p.id}")
                            for p in fresh[:3]
                        ),
                    ),
                )
            )
    return outgoing
