"""A command's answer is shown before the notifications it queued, and those go out only
once its transaction committed: a failed command pings nobody."""

from __future__ import annotations

import io

from adapters.console import ConsoleAdapter
from adapters.memory import MemoryAdapter
from bot.context import Context
from bot.errors import UserError
from bot.i18n import N_
from bot.reply import Reply
from bot.spec import CommandSet
from tests.helpers import Words, extra_commands


def _ping_commands() -> CommandSet:
    extra = extra_commands("ping")

    @extra.command("ping ok", help=N_("Find other members"))
    async def ping_ok(ctx: Context, who: Words) -> Reply:
        from storage.identity import account_for

        account = account_for(ctx.session, ctx.platform, who)
        assert account is not None
        ctx.notify_member(account.member_id, Reply(text=f"pinged by {ctx.actor.display_name}"))
        ctx.notify_place(ctx.platform, "hall", Reply(text="hall ping"))
        return Reply(text="answer")

    @extra.command("ping fail", help=N_("Find other members"))
    async def ping_fail(ctx: Context, who: Words) -> Reply:
        ctx.notify_member(ctx.actor_id, Reply(text="must not arrive"))
        ctx.notify_place(ctx.platform, "hall", Reply(text="must not arrive"))
        raise UserError(N_("Say !help to see what I can do."))

    @extra.command("ping explode", help=N_("Find other members"))
    async def ping_explode(ctx: Context, who: Words) -> Reply:
        ctx.notify_member(ctx.actor_id, Reply(text="must not arrive"))
        raise RuntimeError("boom")

    return extra


async def test_the_answer_comes_before_the_notifications(bot: MemoryAdapter) -> None:
    bot.app.registry.include(_ping_commands())
    await bot.say("bob", "!help")  # bob exists
    bot.log.clear()
    reply = await bot.say("alice", "!ping ok bob")
    assert reply.text == "answer"
    assert [(kind, who, r.text) for kind, who, r in bot.log] == [
        ("reply", "alice", "answer"),
        ("direct", "bob", "pinged by alice"),
        ("place", "hall", "hall ping"),
    ]


async def test_a_real_command_answers_before_it_notifies(bot: MemoryAdapter) -> None:
    await bot.say("carl", "!help")
    need = await bot.say("anna", "!need post A van for Saturday")
    number = need.title.split("#")[1].split()[0]
    bot.log.clear()
    await bot.say("anna", f"!board close {number} found_in_community with=carl")
    assert [(kind, who) for kind, who, _ in bot.log] == [("reply", "anna"), ("direct", "carl")]


async def test_a_failed_command_sends_no_notification(bot: MemoryAdapter) -> None:
    bot.app.registry.include(_ping_commands())
    bot.log.clear()
    refused = await bot.say("alice", "!ping fail bob")
    exploded = await bot.say("alice", "!ping explode bob")
    assert refused.is_error and exploded.is_error
    assert [kind for kind, _, _ in bot.log] == ["reply", "reply"]
    assert not bot.inbox and not bot.places


async def test_the_console_prints_the_answer_before_the_notifications(bot: MemoryAdapter) -> None:
    bot.app.registry.include(_ping_commands())
    out = io.StringIO()
    console = ConsoleAdapter(bot.app, "alice", stdin=io.StringIO(""), stdout=out)
    await console.handle_line("!help")
    await console.handle_line(":as bob")
    await console.handle_line("!help")
    await console.handle_line(":as alice")
    out.truncate(0)
    out.seek(0)
    await console.handle_line("!ping ok bob")
    printed = out.getvalue()
    assert printed.index("answer") < printed.index("pinged by alice") < printed.index("hall ping")
    out.truncate(0)
    out.seek(0)
    await console.handle_line("!ping fail bob")
    assert "must not arrive" not in out.getvalue()
