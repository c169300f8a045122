"""Who is speaking: a Member per person, an Account per platform identity, and linking."""

from __future__ import annotations

import logging
import re
import secrets
import threading
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, update
from sqlalchemy import select as select_rows
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from bot.errors import NotFound, UserError
from bot.i18n import N_
from bot.text import fold
from storage import facts
from storage.circles import can_see
from storage.identity import (
    Account,
    LinkAttempt,
    LinkCode,
    Member,
    account_for,
    actor_for,
    members_named,
    record_seen,
)
from storage.profiles import resync_sectors
from storage.schema import metadata

if TYPE_CHECKING:
    from bot.context import Context

log = logging.getLogger(__name__)

_DISCORD_MENTION = re.compile(r"^<@!?(\d{5,25})>$")
_MATRIX_ID = re.compile(r"^@[^:\s]+:\S+$")
_MEMBER_NUMBER = re.compile(r"^#(\d{1,12})$")


def resolve_actor(
    session: Session, platform: str, platform_user_id: str, display_name: str, now: datetime
) -> tuple[Member, Account]:
    """The member behind a platform identity, created on first contact."""
    found = actor_for(session, platform, platform_user_id)
    if found is not None:
        account, member = found
        return member, account
    name = " ".join(display_name.split())[:80] or platform_user_id[:80]
    member = Member(display_name=name, name_folded=fold(name), created_at=now)
    session.add(member)
    session.flush()
    assert member.id is not None
    facts.record(session, facts.MEMBER_CREATED, now, member_id=member.id)
    account = Account(
        member_id=member.id,
        platform=platform,
        platform_user_id=platform_user_id,
        handle=platform_user_id,
        last_seen_at=now,
    )
    session.add(account)
    session.flush()
    return member, account


def find_member(ctx: Context, text: str) -> Member:
    """A member named by mention, number, platform id or display name, visible to the actor."""
    member = _lookup(ctx, text)
    if member is None or member.id is None or member.forgotten_at is not None:
        raise NotFound(N_("I know no member “{name}”."), name=text)
    visible = ctx.is_admin or member.visibility == "all" or member.id == ctx.actor_id
    if not visible and not can_see(ctx.session, ctx.actor_id, member.id):
        raise NotFound(N_("I know no member “{name}”."), name=text)
    return member


def _lookup(ctx: Context, text: str) -> Member | None:
    session = ctx.session
    if match := _MEMBER_NUMBER.match(text):
        return session.get(Member, int(match.group(1)))
    account: Account | None = None
    if match := _DISCORD_MENTION.match(text):
        account = account_for(session, "discord", match.group(1))
    elif _MATRIX_ID.match(text):
        account = account_for(session, "matrix", text)
    else:
        account = account_for(session, ctx.platform, text) or account_for(
            session, ctx.platform, text.lstrip("@")
        )
    if account is not None:
        return session.get(Member, account.member_id)
    named = members_named(session, fold(text.lstrip("@")))
    if len(named) > 1:
        raise UserError(
            N_("Several members are called “{name}”; use their number: {numbers}."),
            name=text,
            numbers=", ".join(f"#{m.id}" for m in named),
        )
    return named[0] if named else None


class SeenTracker:
    """When each account was last seen, written in batches off the command path.

    ``last_seen_at`` only decides which platform a notification goes to first, so a precision
    of minutes is plenty; a crash loses at most one batch of these hints, never a command.
    """

    precision = timedelta(minutes=15)
    interval = timedelta(seconds=30)

    def __init__(self) -> None:
        self.pending: dict[int, datetime] = {}
        self._last_flush: datetime | None = None
        self._lock = threading.Lock()  # commands run in several worker threads

    def seen(self, account: Account, now: datetime) -> None:
        if account.id is not None and now - account.last_seen_at > self.precision:
            with self._lock:
                self.pending[account.id] = now
            account.last_seen_at = now

    def due(self, now: datetime) -> bool:
        if not self.pending:
            return False
        return self._last_flush is None or now - self._last_flush >= self.interval

    def flush(self, session: Session, now: datetime) -> None:
        with self._lock:
            batch, self.pending = self.pending, {}
            self._last_flush = now
        record_seen(session, batch)


# -- linking accounts ----------------------------------------------------------------------


def new_link_code(session: Session, member_id: int, platform: str, expires_at: datetime) -> str:
    """A fresh six-digit code for this member; older codes of the member stop working."""
    session.exec(delete(LinkCode).where(LinkCode.member_id == member_id))  # type: ignore[arg-type]
    while True:
        code = f"{secrets.randbelow(1_000_000):06d}"
        if session.get(LinkCode, code) is None:
            break
    session.add(LinkCode(code=code, member_id=member_id, platform=platform, expires_at=expires_at))
    return code


LINK_WRONG_TRIES_PER_HOUR = 5  # wrong codes one member may say in an hour
LINK_CODE_WRONG_TRIES = 5  # wrong codes said while a code is live before that code dies


def link_tries_left(session: Session, member_id: int, now: datetime) -> int:
    """How many wrong codes the member may still say this hour."""
    since = now - timedelta(hours=1)
    tried = session.exec(
        select(func.count())
        .select_from(LinkAttempt)
        .where(col(LinkAttempt.member_id) == member_id, col(LinkAttempt.tried_at) > since)
    ).one()
    return max(0, LINK_WRONG_TRIES_PER_HOUR - int(tried))


def is_link_code(session: Session, code: str) -> bool:
    """Whether the code was given out (it may have expired)."""
    return session.get(LinkCode, code) is not None


def record_wrong_link_code(session: Session, account: Account, now: datetime) -> None:
    """A code nobody was given: counts against the member, and against every live code that
    this account could have redeemed (those made on another platform); such a code dies at
    LINK_CODE_WRONG_TRIES."""
    session.add(LinkAttempt(member_id=account.member_id, tried_at=now))
    session.exec(delete(LinkAttempt).where(col(LinkAttempt.tried_at) <= now - timedelta(hours=1)))
    live = (col(LinkCode.expires_at) >= now, col(LinkCode.platform) != account.platform)
    session.exec(update(LinkCode).where(*live).values(wrong_tries=col(LinkCode.wrong_tries) + 1))
    session.exec(delete(LinkCode).where(col(LinkCode.wrong_tries) >= LINK_CODE_WRONG_TRIES))


def redeem_link_code(session: Session, code: str, account: Account, now: datetime) -> Member:
    """Join the account's member into the member who asked for the code; returns the latter."""
    link = session.get(LinkCode, code)
    if link is None or link.expires_at < now:
        raise UserError(N_("That code is unknown or has expired. Ask for a new one with !link."))
    if link.member_id == account.member_id:
        raise UserError(N_("Say this code on your other platform, not here."))
    if link.platform == account.platform:
        raise UserError(
            N_("That code was made on {platform}; say it on another platform to link the two."),
            platform=link.platform,
        )
    keep = session.get(Member, link.member_id)
    drop = session.get(Member, account.member_id)
    assert keep is not None
    assert drop is not None
    session.delete(link)
    merge_members(session, keep, drop)
    return keep


def merge_members(session: Session, keep: Member, drop: Member) -> None:
    """Move everything that refers to ``drop`` to ``keep``, then delete ``drop``.

    Every table with a foreign key to member.id is handled, including those that later
    issues add; where ``keep`` already has the same row (the same circle, say), the copy of
    ``drop`` is removed. ``keep``'s profile wins; empty fields are filled from ``drop``.
    """
    assert keep.id is not None
    assert drop.id is not None
    for field in ("region", "locale"):
        if getattr(keep, field) is None and getattr(drop, field) is not None:
            setattr(keep, field, getattr(drop, field))
    if not keep.bio and drop.bio:
        keep.bio = drop.bio
    session.add(keep)
    session.flush()
    for table in metadata.sorted_tables:
        for column in table.columns:
            if not any(fk.column.table.name == "member" for fk in column.foreign_keys):
                continue
            primary = [c for c in table.primary_key.columns]
            rows = (
                session.connection().execute(select_rows(*primary).where(column == drop.id)).all()
            )
            for row in rows:
                where = [c == value for c, value in zip(primary, row, strict=True)]
                try:
                    with session.begin_nested():
                        session.exec(update(table).where(*where).values({column.name: keep.id}))
                except IntegrityError:
                    session.exec(delete(table).where(*where))
    resync_sectors(session, [keep.id])  # the moved sectors carried drop's region and name
    facts.after_merge(session, keep.id)
    session.expire_all()
    leftover = session.get(Member, drop.id)
    if leftover is not None:
        session.delete(leftover)
    session.flush()
    log.info("merged member %s into %s", drop.id, keep.id)
