"""Errors a member can fix, carried as translatable messages."""

from __future__ import annotations

from bot.i18n import LazyText, Message
from bot.reply import Action


class UserError(Exception):
    """Bad input or a refused action: shown to the member, translated; nothing is written."""

    def __init__(
        self,
        message: Message,
        /,
        *,
        show_usage: bool = False,
        actions: tuple[Action, ...] = (),
        **params: object,
    ):
        super().__init__(message.msgid if isinstance(message, LazyText) else message)
        self.message = message
        self.params = params
        self.show_usage = show_usage
        self.actions = actions  # what to do instead, as buttons (e.g. "support the same topic")


class PermissionDenied(UserError):
    """The actor may not do this (role or ownership)."""


class NotFound(UserError):
    """The thing named does not exist (or is not visible to the actor)."""
