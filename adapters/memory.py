"""An in-memory adapter: members say lines, Replies and notifications are recorded.

Used by the tests and the benchmarks to drive the whole core without a platform:

    bot = MemoryAdapter(app)
    reply = await bot.say("alice", "!profile set region=Gent")
    assert bot.inbox["bob"][-1].text ...
"""

from __future__ import annotations

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
        app.notifier.register(self)

    async def say(
        self, user: str, line: str, *, place: str | None = None, locale: str | None = None
    ) -> Reply:
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
        )
        reply = await self.app.dispatcher.dispatch(invocation)
        self.replies.append((user, reply))
        return reply

    async def send_direct(self, platform_user_id: str, reply: Reply) -> bool:
        self.inbox[platform_user_id].append(reply)
        return True

    async def send_to_place(self, place_id: str, reply: Reply) -> bool:
        self.places[place_id].append(reply)
        return True

    async def run(self) -> None:
        return None
