"""Replies as Matrix messages: a plain ``body`` and an HTML ``formatted_body``."""

from __future__ import annotations

import html
import re

from bot.reply import Action, Reply

_BOLD = re.compile(r"\*\*(.+?)\*\*")
_ITALIC = re.compile(r"(?<![*\w])\*(?!\s)(.+?)(?<!\s)\*(?![*\w])")
_CODE = re.compile(r"`([^`]+)`")
_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+)\)")
KEYCAPS = ("1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣", "6️⃣", "7️⃣", "8️⃣", "9️⃣")


def inline(text: str) -> str:
    """The Markdown subset of a line, as HTML (escaped first)."""
    escaped = html.escape(text, quote=False)
    escaped = _CODE.sub(r"<code>\1</code>", escaped)
    escaped = _BOLD.sub(r"<strong>\1</strong>", escaped)
    escaped = _ITALIC.sub(r"<em>\1</em>", escaped)
    return _LINK.sub(r'<a href="\2">\1</a>', escaped)


def block(text: str) -> str:
    """Lines, with "- " items grouped into a list and "> " lines quoted."""
    parts: list[str] = []
    items: list[str] = []

    def flush() -> None:
        if items:
            parts.append("<ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>")
            items.clear()

    for line in text.splitlines():
        if line.startswith("- "):
            items.append(inline(line[2:]))
            continue
        flush()
        if line.startswith("> "):
            parts.append(f"<blockquote>{inline(line[2:])}</blockquote>")
        elif line.startswith("#"):
            parts.append(f"<p><strong>{inline(line.lstrip('#').strip())}</strong></p>")
        elif line.strip():
            parts.append(f"<p>{inline(line)}</p>")
    flush()
    return "".join(parts)


def plain(text: str) -> str:
    return _CODE.sub(r"\1", _BOLD.sub(r"\1", text))


def action_emoji(index: int, action: Action) -> str:
    return action.emoji or KEYCAPS[index % len(KEYCAPS)]


def render(reply: Reply, prefix: str, mentions: dict[str, str] | None = None) -> tuple[str, str]:
    """(body, formatted_body). ``mentions``: Matrix id → display name, rendered as pills."""
    body: list[str] = []
    formatted: list[str] = []
    if reply.title:
        body.append(plain(reply.title))
        formatted.append(f"<h4>{inline(reply.title)}</h4>")
    if reply.text:
        body.append(plain(reply.text))
        formatted.append(block(reply.text))
    table: list[str] = []  # a run of inline fields (side by side on Discord): a table here

    def end_table() -> None:
        if table:
            formatted.append("<table>" + "".join(table) + "</table>")
            table.clear()

    for item in reply.fields:
        body.append(f"{item.name}: {plain(item.value)}")
        if item.inline and "\n" not in item.value:
            table.append(f"<tr><th>{html.escape(item.name)}</th><td>{inline(item.value)}</td></tr>")
            continue
        end_table()
        if "\n" in item.value:
            formatted.append(f"<p><strong>{html.escape(item.name)}</strong></p>{block(item.value)}")
        else:
            formatted.append(
                f"<p><strong>{html.escape(item.name)}</strong>: {inline(item.value)}</p>"
            )
    end_table()
    if mentions:
        body.append(" ".join(mentions))
        formatted.append(
            "<p>"
            + " ".join(
                f'<a href="https://matrix.to/#/{html.escape(user_id)}">{html.escape(name)}</a>'
                for user_id, name in mentions.items()
            )
            + "</p>"
        )
    if reply.tappable:
        hints = [
            f"{action_emoji(i, a)} {a.label} — {prefix}{a.invocation}"
            for i, a in enumerate(reply.tappable)
        ]
        body.append("\n".join(hints))
        formatted.append(
            "<p><small>"
            + "<br>".join(
                f"{action_emoji(i, a)} {html.escape(a.label)} — <code>{html.escape(prefix)}"
                f"{html.escape(a.invocation)}</code>"
                for i, a in enumerate(reply.tappable)
            )
            + "</small></p>"
        )
    return "\n".join(body), "".join(formatted)
