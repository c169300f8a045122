"""The services that commands, jobs and adapters share, built once by the app."""

from __future__ import annotations

from dataclasses import dataclass

from bot.clock import Clock
from bot.config import Settings
from bot.i18n import Catalogues, Translator
from bot.notifier import Notifier
from storage.db import Database
from storage.identity import Member


@dataclass(frozen=True)
class Services:
    settings: Settings
    database: Database
    catalogues: Catalogues
    clock: Clock
    notifier: Notifier

    def translator_for(self, member: Member | None) -> Translator:
        return self.catalogues.translator(
            member.locale if member else None, self.settings.default_locale
        )
