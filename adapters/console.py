"""The console: a terminal chat with Samen as one member, for local use and scripts.

Interactive on a terminal (with a prompt); with stdin piped it runs one command per line,
echoing each line ("> !help") before its answer, and exits at the end; ``failures`` counts the
commands that were refused, so that a script can tell. When the output is closed early
(``samen console < file | head -1``) it stops reading, quietly. ``:as NAME`` switches to
another member, ``:quit`` leaves. Notifications for the current member are shown inline;
those for other console members are shown marked with their name, so that a local scenario
with several members can be followed.
"""

from __future__ import annotations

import asyncio
import io
import os
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
        self.failures = 0  # commands answered with an error (unknown, bad input, refused)
        self.output_closed = False  # the reader went away (a closed pipe)
        app.notifier.register(self)

    @property
    def user_id(self) -> str:
        return self.member.casefold()

    def _write(self, text: str) -> None:
        if self.output_closed:
            return
        try:
            self.stdout.write(text.rstrip("\n") + "\n")
            self.stdout.flush()
        except BrokenPipeError:
            self._close_output()

    def _close_output(self) -> None:
        """The reader is gone: stop writing, and point the file at /dev/null so that the
        interpreter's last flush does not complain either."""
        self.output_closed = True
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.stdout.fileno())
            os.close(devnull)
        except (OSError, ValueError, io.UnsupportedOperation):
            pass

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

    async def handle_line(self, line: str, *, echo: bool = False) -> None:
        line = line.strip()
        if not line or line.startswith("#"):
            return
        if echo:
            self._write(f"> {line}")
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

        reply = await self.app.dispatcher.dispatch(invocation, answer)  # answer, then pings
        if reply.is_error:
            self.failures += 1

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
        while not self.output_closed:
            line = await self._read(interactive)
            if line is None or line.strip() in (":quit", ":q"):
                break
            await self.handle_line(line, echo=not interactive)

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
