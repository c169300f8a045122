"""The console: a terminal chat with Samen as one member, for local use and scripts.

Interactive on a terminal (with a prompt); with stdin piped it runs one command per line and
exits at the end. ``:as NAME`` switches to another member, ``:quit`` leaves. Notifications for
the current member are shown inline; those for other console members are shown marked with
their name, so that a local scenario with several members can be followed.
"""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path
from typing import TextIO

from bot.app import App
from bot.dispatch import Invocation
from bot.i18n import N_
from bot.reply import Reply

_BOLD = re.compile(r"\*\*(.+?)\*\*")
_CODE = re.compile(r"`([^`]+)`")


def render(reply: Reply) -> str:
    """Plain text for a terminal: the Markdown marks are dropped."""
    text = reply.plain()
    return _CODE.sub(r"\1", _BOLD.sub(r"\1", text))


class ConsoleAdapter:
    platform = "console"

    def __init__(
        self,
        app: App,
        member: str,
        *,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
    ):
        self.app = app
        self.member = member
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.files_dir = Path(app.settings.console.files_dir)
        app.notifier.register(self)

    @property
    def user_id(self) -> str:
        return self.member.casefold()

    def _write(self, text: str) -> None:
        self.stdout.write(text.rstrip("\n") + "\n")
        self.stdout.flush()

    def _show(self, reply: Reply, heading: str = "") -> None:
        body = render(reply)
        for attachment in reply.attachments:
            self.files_dir.mkdir(parents=True, exist_ok=True)
            path = self.files_dir / attachment.filename
            path.write_bytes(attachment.content)
            body += f"\n   → {path}"
        self._write((heading + "\n" if heading else "") + body + "\n")

    async def _read(self, interactive: bool) -> str | None:
        if interactive:
            try:
                return await asyncio.to_thread(input, f"{self.member}> ")
            except EOFError:
                return None
        line = await asyncio.to_thread(self.stdin.readline)
        return line if line else None

    async def handle_line(self, line: str) -> None:
        line = line.strip()
        if not line or line.startswith("#"):
            return
        if line.startswith(":as "):
            self.member = line.removeprefix(":as ").strip() or self.member
            return
        prefix = self.app.settings.platform_prefix(self.platform)
        text = line.removeprefix(prefix)
        invocation = Invocation(
            platform=self.platform,
            user_id=self.user_id,
            display_name=self.member,
            text=text,
            place="console",
            is_direct=True,
        )

        async def answer(reply: Reply) -> None:
            self._show(reply)

        await self.app.dispatcher.dispatch(invocation, answer)  # the answer, then the pings

    async def run(self) -> None:
        interactive = self.stdin.isatty() and self.stdin is sys.stdin
        t = self.app.catalogues.translator(None, self.app.settings.default_locale)
        if interactive:
            self._write(
                t(
                    N_("{community} console. You are {name}. Type !help, or :quit to leave."),
                    community=self.app.settings.community_name,
                    name=self.member,
                )
            )
        while True:
            line = await self._read(interactive)
            if line is None or line.strip() in (":quit", ":q"):
                break
            await self.handle_line(line)

    async def send_direct(
        self, platform_user_id: str, reply: Reply, key: str | None = None
    ) -> bool:
        heading = "🔔" if platform_user_id == self.user_id else f"🔔 → {platform_user_id}"
        self._show(reply, heading)
        return True

    async def invite(
        self, place_id: str, platform_user_id: str, role_id: str = "", grant: bool = True
    ) -> bool:
        return False  # the console has no rooms

    async def send_to_place(self, place_id: str, reply: Reply, key: str | None = None) -> bool:
        self._show(reply, f"📣 [{place_id}]")
        return True
