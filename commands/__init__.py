"""Platform-neutral command modules, one per domain."""

from bot.spec import CommandSet
from commands import (
    admin,
    board,
    circles,
    digest,
    followup,
    followup_ask,
    help,
    link,
    meetups,
    privacy,
    profile,
    projects,
    surveys,
    topics,
    venues,
)

ALL: tuple[CommandSet, ...] = (
    help.commands,
    profile.commands,
    link.commands,
    circles.commands,
    board.commands,
    projects.commands,
    venues.commands,
    meetups.commands,
    followup.commands,
    followup_ask.commands,
    surveys.commands,
    topics.commands,
    digest.commands,
    privacy.commands,
    admin.commands,
)
