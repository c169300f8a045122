"""Platform-neutral command modules, one per domain."""

from bot.spec import CommandSet
from commands import board, circles, help, link, profile, projects

ALL: tuple[CommandSet, ...] = (
    help.commands,
    profile.commands,
    link.commands,
    circles.commands,
    board.commands,
    projects.commands,
)
