"""``link``: one member across platforms, joined with a one-time code."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from bot.context import Context
from bot.errors import UserError
from bot.i18n import N_
from bot.identity import (
    is_link_code,
    link_tries_left,
    new_link_code,
    record_wrong_link_code,
    redeem_link_code,
)
from bot.params import Text
from bot.reply import Reply, Visibility
from bot.spec import CommandSet, Opt

commands = CommandSet()


@commands.command(
    "link",
    help=N_("Join your accounts on two platforms: get a code here, say it there"),
    examples=("link", "link 483921"),
    visibility=Visibility.PRIVATE,
)
async def link(
    ctx: Context,
    code: Annotated[
        str | None, Opt(Text(20), N_("The code you got on your other platform"))
    ] = None,
) -> Reply:
    minutes = ctx.settings.link_code_minutes
    prefix = ctx.settings.platform_prefix(ctx.platform)
    if code is None:
        expires = ctx.now() + timedelta(minutes=minutes)
        new_code = new_link_code(ctx.session, ctx.actor_id, ctx.platform, expires)
        return Reply(
            text=ctx.t(
                N_(
                    "Your code is {code}. Within {minutes} minutes, say {command} to me on your "
                    "other platform (Matrix, Discord or the console)."
                ),
                code=f"**{new_code}**",
                minutes=minutes,
                command=f"`{prefix}link {new_code}`",
            ),
            visibility=Visibility.DIRECT,
        )
    digits = re.sub(r"[\s-]", "", code)
    if not re.fullmatch(r"\d{6}", digits):
        raise UserError(N_("A link code has six digits, like 483921."))
    if link_tries_left(ctx.session, ctx.actor_id, ctx.now()) == 0:
        raise UserError(N_("Too many wrong codes. Try again in an hour."))
    if not is_link_code(ctx.session, digits):
        # answered (not raised) so that the wrong try is written down
        record_wrong_link_code(ctx.session, ctx.account, ctx.now())
        left = link_tries_left(ctx.session, ctx.actor_id, ctx.now())
        text = ctx.t(N_("That code is unknown or has expired. Ask for a new one with !link."))
        if left:
            text += " " + ctx.t.plural(
                "You can try {count} more time this hour.",
                "You can try {count} more times this hour.",
                left,
            )
        else:
            text += " " + ctx.t(N_("Too many wrong codes. Try again in an hour."))
        return Reply(text=text, visibility=Visibility.PRIVATE, is_error=True)
    member = redeem_link_code(ctx.session, digits, ctx.account, ctx.now())
    return Reply(
        text=ctx.t(
            N_("Linked: this account now belongs to {name} (#{number})."),
            name=member.display_name,
            number=member.id,
        ),
        visibility=Visibility.PRIVATE,
    )
