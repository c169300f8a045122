"""The neutral Reply: what the core answers, rendered by each adapter as its platform can."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Visibility(StrEnum):
    PUBLIC = "public"  # where the command was said
    PRIVATE = "private"  # only the asker sees it (ephemeral on Discord)
    DIRECT = "direct"  # a direct message to the asker


class ActionStyle(StrEnum):
    PRIMARY = "primary"
    SECONDARY = "secondary"
    SUCCESS = "success"
    DANGER = "danger"


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    value: str
    inline: bool = False


@dataclass(frozen=True, slots=True)
class Action:
    """A button (or reaction) that stands for a typed command, e.g. ``meetup rsvp 3 going``."""

    label: str
    invocation: str
    style: ActionStyle = ActionStyle.SECONDARY
    emoji: str = ""
    # a text the member types first: ``invocation`` holds ``{}`` where it goes (Discord opens a
    # form with one field labelled ``asks``; elsewhere the reply's text says what to type)
    asks: str = ""

    @classmethod
    def yes(cls, label: str, invocation: str) -> Action:
        """A green ✅ button: accept, going."""
        return cls(label, invocation, ActionStyle.SUCCESS, "✅")

    @classmethod
    def no(cls, label: str, invocation: str) -> Action:
        """A red ❌ button: decline, not going."""
        return cls(label, invocation, ActionStyle.DANGER, "❌")


@dataclass(frozen=True, slots=True)
class MenuChoice:
    label: str
    value: str


@dataclass(frozen=True, slots=True)
class Menu:
    """A pick-list that stands for a typed command: the values picked, comma-separated, take
    the place of ``{}`` in ``invocation`` (a Discord select menu; elsewhere the reply's text
    numbers the choices)."""

    placeholder: str
    invocation: str
    choices: tuple[MenuChoice, ...]
    most: int = 1  # how many may be picked


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content: bytes
    mimetype: str


@dataclass(frozen=True, slots=True)
class Reply:
    """Text in a small Markdown subset (``**bold**``, ``*italic*``, ``- lists``, links)."""

    text: str = ""
    title: str = ""
    fields: tuple[Field, ...] = ()
    actions: tuple[Action, ...] = ()
    menus: tuple[Menu, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    visibility: Visibility = Visibility.PUBLIC
    is_error: bool = False
    mentions: tuple[int, ...] = field(default=())  # member ids the text speaks to
    # after an action (a button, a reaction): the command whose answer replaces the message
    # the action was on, e.g. "meetup show 3" to show the new RSVP counts
    refresh: str = ""

    @property
    def tappable(self) -> tuple[Action, ...]:
        """The actions one tap or one reaction runs (not those that ask for a text first)."""
        return tuple(action for action in self.actions if not action.asks)

    def plain(self) -> str:
        """A readable plain-text form, used by the console and as a fallback body."""
        parts: list[str] = []
        if self.title:
            parts.append(self.title)
            parts.append("─" * min(len(self.title), 60))
        if self.text:
            parts.append(self.text)
        for item in self.fields:
            if "\n" in item.value:
                indented = "\n".join(f"  {line}" for line in item.value.splitlines())
                parts.append(f"{item.name}:\n{indented}")
            else:
                parts.append(f"{item.name}: {item.value}")
        for action in self.tappable:
            parts.append(f"[{action.label}] → {action.invocation}")
        for attachment in self.attachments:
            parts.append(f"📎 {attachment.filename}")
        return "\n".join(parts)
