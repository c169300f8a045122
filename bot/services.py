"""The services that commands, jobs and adapters share, built once by the app."""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass, field

from bot.clock import Clock
from bot.config import Settings
from bot.i18n import Catalogues, Translator
from bot.notifier import Notifier
from storage.db import Database
from storage.identity import Member


def new_instance_id() -> str:
    """A name for this running instance, unique among the instances sharing a database (and
    across restarts): ``host:pid:random``. Reminder leases (claimed_by) carry it."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:16]}"


@dataclass(frozen=True)
class Services:
    settings: Settings
    database: Database
    catalogues: Catalogues
    clock: Clock
    notifier: Notifier
    # one per App, that is one per ``samen run`` process
    instance_id: str = field(default_factory=new_instance_id)

    def translator_for(self, member: Member | None) -> Translator:
        return self.catalogues.translator(
            member.locale if member else None, self.settings.default_locale
        )
