"""Platform-neutral command modules, one per domain."""

from bot.spec import CommandSet
from commands import help, link, profile

ALL: tuple[CommandSet, ...] = (help.commands, profile.commands, link.commands)
