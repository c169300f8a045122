"""Replies as Discord messages: content, or an embed when there is a title or fields; actions
as buttons whose custom_id carries the invocation; attachments as files."""

from __future__ import annotations

import io
from typing import Any

import discord

from bot.reply import Action, ActionStyle, Menu, Reply

CUSTOM_ID_PREFIX = "samen:"
MENU_PREFIX = "samen-menu:"
ASK_PREFIX = "samen-ask:"
ROWS = 5  # a message holds five rows: a menu fills one, buttons go five to a row
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


class AskButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"samen-ask:(?P<invocation>[^|]+)\|(?P<asks>.*)",
):
    """A button that opens a form for one text, then runs its command with the text in the
    place of ``{}``. Like an ActionButton it needs nothing kept in memory: the command and the
    form field's label are in its custom_id."""

    def __init__(
        self,
        invocation: str,
        asks: str,
        label: str = "…",
        emoji: str | None = None,
        style: discord.ButtonStyle = discord.ButtonStyle.primary,
    ):
        room = MAX_CUSTOM_ID - len(ASK_PREFIX + invocation) - 1
        self.invocation, self.asks = invocation, clip(asks, min(45, room))
        super().__init__(
            discord.ui.Button(
                label=clip(label, 80),
                emoji=emoji or None,
                style=style,
                custom_id=f"{ASK_PREFIX}{invocation}|{self.asks}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: Any
    ) -> AskButton:
        return cls(match["invocation"], match["asks"], str(getattr(item, "label", "") or "…"))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        handler = getattr(interaction.client, "samen", None)
        if handler is not None:
            label = self.item.label or "…"
            await handler.on_ask(interaction, self.invocation, label, self.asks or label)


class MenuSelect(
    discord.ui.DynamicItem[discord.ui.Select[Any]], template=r"samen-menu:(?P<invocation>.+)"
):
    """A select menu that stands for a typed command: the values picked fill its ``{}``."""

    def __init__(self, invocation: str, menu: Menu | None = None):
        select: discord.ui.Select[Any] = discord.ui.Select(custom_id=f"{MENU_PREFIX}{invocation}")
        if menu is not None:
            select.placeholder = clip(menu.placeholder, 150) or None
            for choice in menu.choices[:25]:
                select.add_option(label=clip(choice.label, 100), value=choice.value[:100])
            select.max_values = max(1, min(menu.most, len(select.options)))
        super().__init__(select)
        self.invocation = invocation

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: Any
    ) -> MenuSelect:
        return cls(match["invocation"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        handler = getattr(interaction.client, "samen", None)
        data: dict[str, Any] = dict(interaction.data or {})
        values = [str(v) for v in data.get("values", [])]
        if handler is not None and values:
            await handler.on_action(interaction, self.invocation.replace("{}", ",".join(values)))


def fits(prefix: str, invocation: str) -> bool:
    # an AskButton's custom_id also holds "|" and at least a few letters of its label
    return len(prefix + invocation) + (8 if prefix == ASK_PREFIX else 0) <= MAX_CUSTOM_ID


def button_for(action: Action) -> discord.ui.Item[Any]:
    emoji, style = action.emoji or None, STYLES[action.style]
    if action.asks:
        return AskButton(action.invocation, action.asks, action.label, emoji, style)
    return ActionButton(action.invocation, action.label, emoji, style)


def view_for(reply: Reply) -> discord.ui.View | None:
    menus = [m for m in reply.menus if m.choices and fits(MENU_PREFIX, m.invocation)][: ROWS - 1]
    buttons = [
        action
        for action in reply.actions
        if fits(ASK_PREFIX if action.asks else CUSTOM_ID_PREFIX, action.invocation)
    ][: (ROWS - len(menus)) * 5]
    if not buttons and not menus:
        return None
    view = discord.ui.View(timeout=None)
    for menu in menus:
        view.add_item(MenuSelect(menu.invocation, menu))
    for action in buttons:
        view.add_item(button_for(action))
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
