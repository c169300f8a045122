"""An in-memory adapter: members say lines, Replies and notifications are recorded.

Used by the tests and the benchmarks to drive the whole core without a platform:

    bot = MemoryAdapter(app)
    reply = await bot.say("alice", "!profile set region=Gent")
    assert bot.inbox["bob"][-1].text ...
"""

from __future__ import annotations

import time
from collections import defaultdict

from bot.app import App
from bot.dispatch import Invocation
from bot.reply import Reply


class MemoryAdapter:
    def __init__(self, app: App, platform: str = "console"):
        self.app = app
        self.platform = platform
        self.replies: list[tuple[str, Reply]] = []
        self.inbox: defaultdict[str, list[Reply]] = defaultdict(list)
        self.places: defaultdict[str, list[Reply]] = defaultdict(list)
        self.delivered_keys: set[str] = set()
        self.invited: defaultdict[str, list[str]] = defaultdict(list)
        self.roles: dict[tuple[str, str], list[str]] = {}
        # everything in the order it was shown: ("reply", user), ("direct", user) or
        # ("place", place), with the Reply
        self.log: list[tuple[str, str, Reply]] = []
        # perf_counter() when the last answer was shown: what the member waited for (the
        # notifications of others follow it); benchmarks read it
        self.answered_at = 0.0
        app.notifier.register(self)

    async def say(
        self,
        user: str,
        line: str,
        *,
        place: str | None = None,
        locale: str | None = None,
        event_id: str | None = None,
    ) -> Reply:
        """``event_id``: the platform event that said it (a second one with the same id is
        dropped: nothing runs, nothing is answered)."""
        prefix = self.app.settings.platform_prefix(self.platform)
        text = line[len(prefix) :] if line.startswith(prefix) else line
        invocation = Invocation(
            platform=self.platform,
            user_id=user,
            display_name=user,
            text=text,
            place=place,
            locale=locale,
            is_direct=place is None,
            event_id=event_id,
        )

        async def answer(reply: Reply) -> None:
            self.answered_at = time.perf_counter()
            self.replies.append((user, reply))
            self.log.append(("reply", user, reply))

        return await self.app.dispatcher.dispatch(invocation, answer)

    def _first_time(self, key: str | None) -> bool:
        """Like a platform's transaction id: a key already delivered is dropped."""
        if key is None:
            return True
        if key in self.delivered_keys:
            return False
        self.delivered_keys.add(key)
        return True

    async def send_direct(
        self, platform_user_id: str, reply: Reply, key: str | None = None
    ) -> bool:
        if self._first_time(key):
            self.inbox[platform_user_id].append(reply)
            self.log.append(("direct", platform_user_id, reply))
        return True

    async def send_to_place(self, place_id: str, reply: Reply, key: str | None = None) -> bool:
        if self._first_time(key):
            self.places[place_id].append(reply)
            self.log.append(("place", place_id, reply))
        return True

    async def invite(
        self, place_id: str, platform_user_id: str, role_id: str = "", grant: bool = True
    ) -> bool:
        if grant:
            self.invited[place_id].append(platform_user_id)
        if role_id:
            self.roles[(place_id, role_id)] = [
                *(u for u in self.roles.get((place_id, role_id), []) if u != platform_user_id),
                *([platform_user_id] if grant else []),
            ]
        return True

    async def run(self) -> None:
        return None
