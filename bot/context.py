"""The Context a handler runs in: who asks, where, in which language, and the services."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlmodel import Session

from bot.clock import Clock
from bot.config import Settings
from bot.i18n import Catalogues, Message, Translator
from bot.notifier import Invitation, MemberTarget, Notification, PlaceTarget
from bot.reply import Reply
from storage.audit import AuditEntry
from storage.identity import Account, Member

if TYPE_CHECKING:
    from bot.registry import Registry


@dataclass
class Context:
    settings: Settings
    session: Session
    clock: Clock
    catalogues: Catalogues
    registry: Registry
    actor: Member
    account: Account
    t: Translator
    is_admin: bool
    place: str | None = None
    is_direct: bool = False
    shared: bool = False  # the answer is shown to everyone: nothing personal in it
    outbox: list[Notification] = field(default_factory=list)
    changed: set[str] = field(default_factory=set)  # topics to tell listeners after commit
    invitations: list[Invitation] = field(default_factory=list)
    command: str = ""  # the name of the command being run
    audited: bool = False  # this command has written its entry in the audit trail

    @property
    def actor_id(self) -> int:
        assert self.actor.id is not None
        return self.actor.id

    @property
    def platform(self) -> str:
        return self.account.platform

    def now(self) -> datetime:
        return self.clock.now()

    def say(self, message: Message, /, **params: object) -> Reply:
        """A plain answer: the message in the asker's language, e.g.
        ``ctx.say(N_("You left {circle}."), circle=circle.name)``."""
        return Reply(text=self.t(message, **params))

    def audit(self, subject: str, target_member_id: int | None = None) -> None:
        """Record in the audit trail that the asker did this command to ``subject`` (and to
        that member's data): part of the command's transaction, so kept only if it is."""
        self.session.add(
            AuditEntry(
                at=self.now(),
                actor_id=self.actor_id,
                action=self.command,
                target_member_id=target_member_id,
                subject=subject[:200],
            )
        )
        self.audited = True

    def acting_for(self, owner_id: int | None, subject: str) -> None:
        """The asker changes what belongs to ``owner_id`` (an admin, an animator): audited."""
        if owner_id != self.actor_id:
            self.audit(subject, owner_id)

    def translator_for(self, member: Member) -> Translator:
        return self.catalogues.translator(member.locale, self.settings.default_locale)

    def notify_member(self, member_id: int, reply: Reply) -> None:
        """Queue a message to a member, sent once this command's changes are saved."""
        self.outbox.append(Notification(MemberTarget(member_id), reply))

    def notify_place(self, platform: str, place_id: str, reply: Reply) -> None:
        self.outbox.append(Notification(PlaceTarget(platform, place_id), reply))

    def invite(
        self, member_id: int, platform: str, place_id: str, role_id: str = "", grant: bool = True
    ) -> None:
        """Let a member into a room or channel (and give a role), or take the role back,
        once this command's changes are saved."""
        self.invitations.append(Invitation(member_id, platform, place_id, role_id, grant))
