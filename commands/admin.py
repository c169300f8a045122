"""``admin``: the community's admins look back at what admins and animators did."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated

from bot.context import Context
from bot.i18n import N_
from bot.params import Day, Integer, MemberRef
from bot.reply import Reply, Visibility
from bot.spec import CommandSet, Opt, Role
from storage import audit
from storage.identity import Member, members_by_ids

commands = CommandSet()
commands.group("admin", help=N_("Commands for the community's admins"))

PAGE = 20


@commands.command(
    "admin audit",
    help=N_("What admins and animators changed of others' data, newest first (admins)"),
    role=Role.ADMIN,
    examples=("admin audit", "admin audit member=#12 since=2027-01-01"),
    visibility=Visibility.PRIVATE,
    read_only=True,
)
async def audit_trail(
    ctx: Context,
    *,
    member: Annotated[Member | None, Opt(MemberRef(), N_("By or about this member"))] = None,
    since: Annotated[date | None, Opt(Day(allow_past=True), N_("From this day"))] = None,
    until: Annotated[date | None, Opt(Day(allow_past=True), N_("Up to this day"))] = None,
    before: Annotated[int | None, Opt(Integer(1, 10**12), N_("Older than entry #"))] = None,
) -> Reply:
    zone = ctx.settings.zone

    def start_of(day: date) -> datetime:
        return datetime.combine(day, time(0), zone)

    found = audit.entries(
        ctx.session,
        member_id=member.id if member else None,
        since=start_of(since) if since else None,
        until=start_of(until + timedelta(days=1)) if until else None,
        before_id=before,
        limit=PAGE + 1,
    )
    if not found:
        return ctx.say(N_("Nothing in the audit trail for this."))
    page = found[:PAGE]
    ids = {e.actor_id for e in page} | {e.target_member_id for e in page}
    found_members = members_by_ids(ctx.session, [i for i in ids if i])
    names = {i: m.display_name for i, m in found_members.items()}

    def who(member_id: int | None) -> str:
        if member_id is None:
            return ctx.t(N_("(forgotten member)"))
        return f"{names.get(member_id, '?')} (#{member_id})"

    lines = []
    for entry in page:
        about = f" → {who(entry.target_member_id)}" if entry.target_member_id else ""
        lines.append(
            f"#{entry.id} · {ctx.t.datetime(entry.at)} · {who(entry.actor_id)} · "
            f"`{entry.action}` {entry.subject}{about}".rstrip()
        )
    if len(found) > PAGE:
        prefix = ctx.settings.platform_prefix(ctx.platform)
        older = f"`{prefix}admin audit before={page[-1].id}`"
        lines.append(ctx.t(N_("Older entries: {command}"), command=older))
    return Reply(
        title=ctx.t(N_("Audit trail")), text="\n".join(lines), visibility=Visibility.PRIVATE
    )
