"""The weekly digest (issue 12): turn its direct messages off or on, and preview a circle's.

The rule: a circle's digest goes to its rooms or channels; a circle with none sends it to its
members by direct message, and animators get their circles' figures by direct message.
``followup digest off`` stops every digest direct message to you (circles' digests and, for
animators, the figures); a room's digest is not stopped by it. ``on`` brings them back.
See scheduler/digest.py for what a digest says and when it goes out.
"""

from __future__ import annotations

from typing import Annotated

from bot.context import Context
from bot.i18n import N_
from bot.reply import Reply, Visibility
from bot.spec import CommandSet, Opt, Role
from commands.refs import CircleRef
from scheduler import digest
from storage import digests as store
from storage.circles import Circle

commands = CommandSet()
commands.group("followup", help=N_("Follow-up of the network: reports and the weekly digest"))
commands.group(
    "followup digest", help=N_("The weekly digest: stop or resume its direct messages, preview")
)

CircleArg = Annotated[Circle, Opt(CircleRef(), N_("The circle"))]


@commands.command(
    "followup digest off",
    help=N_("No more weekly digests by direct message (rooms still get theirs)"),
    examples=("followup digest off",),
    visibility=Visibility.PRIVATE,
)
async def digest_off(ctx: Context) -> Reply:
    store.set_digest_dm(ctx.session, ctx.actor_id, False, ctx.now())
    return ctx.say(
        N_("No more weekly digests by direct message. Back on with {command}."),
        command="`!followup digest on`",
    )


@commands.command(
    "followup digest on",
    help=N_("Get the weekly digests by direct message again"),
    examples=("followup digest on",),
    visibility=Visibility.PRIVATE,
)
async def digest_on(ctx: Context) -> Reply:
    store.set_digest_dm(ctx.session, ctx.actor_id, True, ctx.now())
    return ctx.say(
        N_(
            "You will get the weekly digests by direct message: of your circles without a room, "
            "and your circles' figures if you animate some."
        )
    )


@commands.command(
    "followup digest preview",
    help=N_("What a circle's weekly digest would say now (animators)"),
    role=Role.ANIMATOR,
    scope="circle",
    examples=("followup digest preview brussels",),
    visibility=Visibility.PRIVATE,
    read_only=True,
)
async def digest_preview(ctx: Context, circle: CircleArg) -> Reply:
    week = digest.preview(ctx.session, ctx.settings, circle, ctx.now())
    shown = digest.render_digest(ctx.t, week, ctx.settings.followup.privacy_threshold)
    return Reply(
        title=ctx.t(N_("Preview · {title}"), title=shown.title),
        text=shown.text
        + "\n\n"
        + ctx.t(N_("Its animators get: {figures}"), figures=digest.figures_line(ctx.t, week)),
        visibility=Visibility.PRIVATE,
    )
