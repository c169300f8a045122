"""``help``: what the asker may do, grouped, and the usage of one command."""

from __future__ import annotations

from typing import Annotated

from bot.context import Context
from bot.discord_shape import example, shown_name, usage
from bot.errors import UserError
from bot.i18n import N_
from bot.params import Text
from bot.reply import Field, Reply
from bot.spec import CommandSet, CommandSpec, Opt, Role
from storage.circles import is_animator

commands = CommandSet()


def allowed(ctx: Context, spec: CommandSpec) -> bool:
    if spec.role is Role.ADMIN:
        return ctx.is_admin
    if spec.role is Role.ANIMATOR:
        return ctx.is_admin or is_animator(ctx.session, ctx.actor_id)
    return True


@commands.command(
    "help",
    help=N_("List what you can ask me, or explain one command"),
    examples=("help", "help profile set"),
)
async def help_command(
    ctx: Context,
    command: Annotated[str | None, Opt(Text(60), N_("The command to explain"), rest=True)] = None,
) -> Reply:
    prefix = ctx.settings.platform_prefix(ctx.platform)
    if command:
        found = ctx.registry.match(command.lstrip(prefix).split())
        if found is None:
            raise ctx.registry.unknown(command.lstrip(prefix).split())
        spec = found[0]
        if found[1] < len(command.split()) and not any(
            s.name.startswith(command.lower()) for s in ctx.registry
        ):
            raise ctx.registry.unknown(command.split())
        return _explain(ctx, spec, prefix)
    sections: dict[str, list[str]] = {}
    for spec in ctx.registry:
        if spec.hidden or not allowed(ctx, spec):
            continue
        shown = shown_name(ctx.registry, spec, prefix)
        sections.setdefault(spec.group, []).append(f"`{shown}` — {ctx.t(spec.help)}")
    fields = tuple(Field(name=group, value="\n".join(lines)) for group, lines in sections.items())
    return Reply(
        title=ctx.t(N_("What {community} can do for you"), community=ctx.settings.community_name),
        text=ctx.t(
            N_("Say {example} for the details of a command."), example=f"`{prefix}help profile set`"
        ),
        fields=fields,
    )


def _explain(ctx: Context, spec: CommandSpec, prefix: str) -> Reply:
    if not allowed(ctx, spec):
        raise UserError(N_("That command is not open to you."))
    shown = usage(ctx.registry, spec, prefix)
    lines = [ctx.t(spec.help), "", ctx.t(N_("Usage: {usage}"), usage=f"`{shown}`")]
    for param in spec.params:
        need = ctx.t(N_("required")) if param.required else ctx.t(N_("optional"))
        lines.append(f"- `{param.name}` ({need}): {ctx.t(param.help)}")
    for typed in spec.examples:
        shown = example(ctx.registry, spec, typed, prefix)
        lines.append(ctx.t(N_("Example: {example}"), example=f"`{shown}`"))
    return Reply(title=shown_name(ctx.registry, spec, prefix), text="\n".join(lines))
