"""Replies as Discord messages: content, or an embed when there is a title or fields; actions
as buttons whose custom_id carries the invocation; attachments as files."""

from __future__ import annotations

import io
from typing import Any

import discord

from bot.reply import ActionStyle, Reply

CUSTOM_ID_PREFIX = "samen:"
MAX_CUSTOM_ID = 100
STYLES = {
    ActionStyle.PRIMARY: discord.ButtonStyle.primary,
    ActionStyle.SECONDARY: discord.ButtonStyle.secondary,
    ActionStyle.SUCCESS: discord.ButtonStyle.success,
    ActionStyle.DANGER: discord.ButtonStyle.danger,
}


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class ActionButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"samen:(?P<invocation>.+)"
):
    """A button that stands for a typed command; it keeps working after a restart because
    the command is in its custom_id, not in the bot's memory."""

    def __init__(
        self,
        invocation: str,
        label: str = "…",
        emoji: str | None = None,
        style: discord.ButtonStyle = discord.ButtonStyle.secondary,
    ):
        super().__init__(
            discord.ui.Button(
                label=clip(label, 80),
                emoji=emoji or None,
                style=style,
                custom_id=f"{CUSTOM_ID_PREFIX}{invocation}",
            )
        )
        self.invocation = invocation

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: Any
    ) -> ActionButton:
        return cls(match["invocation"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        handler = getattr(interaction.client, "samen", None)
        if handler is not None:
            await handler.on_action(interaction, self.invocation)


def view_for(reply: Reply) -> discord.ui.View | None:
    buttons = [a for a in reply.actions if len(CUSTOM_ID_PREFIX + a.invocation) <= MAX_CUSTOM_ID][
        :25
    ]
    if not buttons:
        return None
    view = discord.ui.View(timeout=None)
    for action in buttons:
        view.add_item(
            ActionButton(
                action.invocation, action.label, action.emoji or None, STYLES[action.style]
            )
        )
    return view


def message_parts(reply: Reply, mentions: str = "") -> dict[str, Any]:
    """Keyword arguments for ``send``/``send_message``/``edit``."""
    parts: dict[str, Any] = {}
    # an embed's description holds 4096 characters, a message's content 2000
    if reply.title or reply.fields or len(reply.text) > 2000:
        embed = discord.Embed(
            title=clip(reply.title, 256) or None,
            description=clip(reply.text, 4096) or None,
            colour=discord.Colour.red() if reply.is_error else discord.Colour.teal(),
        )
        for item in reply.fields[:25]:
            embed.add_field(
                name=clip(item.name, 256), value=clip(item.value or "—", 1024), inline=item.inline
            )
        # a chart travels as a file and is shown inside the embed (Discord's attachment:// URL)
        chart = next((a for a in reply.attachments if a.mimetype == "image/png"), None)
        if chart is not None:
            embed.set_image(url=f"attachment://{chart.filename}")
        parts["embed"] = embed
        parts["content"] = mentions or None
    else:
        parts["content"] = clip(f"{mentions} {reply.text}".strip(), 2000)
    view = view_for(reply)
    if view is not None:
        parts["view"] = view
    if reply.attachments:
        parts["files"] = [
            discord.File(io.BytesIO(a.content), filename=a.filename) for a in reply.attachments
        ]
    return parts
