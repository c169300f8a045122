"""The Notifier port: how commands and the scheduler reach a member or a place.

Commands queue notifications on their Context; the dispatcher hands them to the Notifier only
after the command's transaction committed (a failed command notifies nobody) and after the
adapter showed the command's answer (the asker hears first, see ``Dispatcher.dispatch``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from bot.reply import Reply
from storage.db import Database
from storage.identity import Account, accounts_of

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class MemberTarget:
    member_id: int


@dataclass(frozen=True, slots=True)
class PlaceTarget:
    """A room (Matrix), a channel (Discord) or the console itself."""

    platform: str
    place_id: str


Target = MemberTarget | PlaceTarget


@dataclass(frozen=True, slots=True)
class Notification:
    target: Target
    reply: Reply
    key: str | None = None  # an idempotency key: the same key is delivered at most once


@dataclass(frozen=True, slots=True)
class Invitation:
    """Let a member into a room or channel (a circle's linked place)."""

    member_id: int
    platform: str
    place_id: str
    role_id: str = ""  # also give (or take back) this platform role
    grant: bool = True  # False: the member left; take the role back


class Notifier(Protocol):
    async def deliver(self, notification: Notification) -> bool:
        """Send it; False when nobody could be reached."""
        ...

    async def invite(self, invitation: Invitation) -> bool:
        """Let the member into the place; False when that is not possible."""
        ...

    async def open_place(
        self, platform: str, home_place_id: str, title: str, reply: Reply, member_ids: list[int]
    ) -> str | None:
        """A new place (a thread, a room) for these members: its id, "" or None (failed)."""
        ...


class PlatformSender(Protocol):
    """What an adapter offers the hub: sending to one of its users or places."""

    platform: str

    async def send_direct(
        self, platform_user_id: str, reply: Reply, key: str | None = None
    ) -> bool: ...

    async def send_to_place(self, place_id: str, reply: Reply, key: str | None = None) -> bool: ...

    async def invite(
        self, place_id: str, platform_user_id: str, role_id: str = "", grant: bool = True
    ) -> bool: ...


class NotifierHub:
    """Routes a notification to the platform where the member was seen last."""

    def __init__(self, database: Database):
        self._database = database
        self._senders: dict[str, PlatformSender] = {}
        self.undelivered: Callable[[Notification], None] | None = None

    def register(self, sender: PlatformSender) -> None:
        self._senders[sender.platform] = sender

    def unregister(self, platform: str) -> None:
        self._senders.pop(platform, None)

    async def deliver(self, notification: Notification) -> bool:
        target = notification.target
        if isinstance(target, PlaceTarget):
            sender = self._senders.get(target.platform)
            delivered = bool(sender) and await sender.send_to_place(  # type: ignore[union-attr]
                target.place_id, notification.reply, notification.key
            )
        else:
            delivered = await self._deliver_to_member(
                target.member_id, notification.reply, notification.key
            )
        if not delivered:
            log.info("notification for %s could not be delivered", target)
            if self.undelivered:
                self.undelivered(notification)
        return delivered

    async def invite(self, invitation: Invitation) -> bool:
        """Invite the member's account on that platform into the place, if they have one."""
        sender = self._senders.get(invitation.platform)
        if sender is None:
            return False
        accounts = [
            a
            for a in await asyncio.to_thread(self._accounts, invitation.member_id)
            if a.platform == invitation.platform
        ]
        for account in accounts:
            if await sender.invite(
                invitation.place_id, account.platform_user_id, invitation.role_id, invitation.grant
            ):
                return True
        return False

    async def open_place(
        self, platform: str, home_place_id: str, title: str, reply: Reply, member_ids: list[int]
    ) -> str | None:
        """A place of its own for a discussion topic on that platform (a Discord thread
        beside ``home_place_id``, a Matrix room), its members let in, ``reply`` said first:
        its id; "" when the platform has no such places (the console); None when it failed."""
        sender = self._senders.get(platform)
        opener = getattr(sender, "open_place", None)
        if opener is None:
            return ""
        users: list[str] = []
        for member_id in member_ids:
            accounts = await asyncio.to_thread(self._accounts, member_id)
            users += [a.platform_user_id for a in accounts if a.platform == platform][:1]
        try:
            place: str | None = await opener(home_place_id, title, reply, users)
        except Exception:
            log.exception("opening a place for %r on %s failed", title, platform)
            return None
        return place

    def _accounts(self, member_id: int) -> list[Account]:
        """The member's accounts, most recently seen first (in a worker thread: off the
        event loop)."""
        with self._database.session() as session:
            return list(accounts_of(session, member_id))

    async def _deliver_to_member(self, member_id: int, reply: Reply, key: str | None) -> bool:
        accounts = await asyncio.to_thread(self._accounts, member_id)
        for account in accounts:  # most recently seen first
            sender = self._senders.get(account.platform)
            if sender and await sender.send_direct(account.platform_user_id, reply, key):
                return True
        return False
