"""The command pool: each command's transaction runs in a worker thread, off the event loop.

A handler is an ``async def`` that does synchronous database work; run on the event loop, a
command waiting for SQLite's write lock (or a slow PostgreSQL query) would stall everything
else the loop serves: Discord's gateway heartbeat, other members' commands, reminders. Here a
few worker threads (``storage.workers``) each run the command's coroutine on a private event
loop of their own; what needs the main loop (notifications, invitations, listeners) is queued
by the command and done by the caller on the main loop afterwards.

Waiting is bounded: a command that has not finished ``storage.command_timeout_seconds`` after
it was handed in, or that finds too many commands queued already, raises :class:`Busy` to
its caller, who answers "busy, try again". The worker may still be waiting (for SQLite's lock,
say); its :class:`Ticket` is then abandoned, and the command rolls back instead of committing:
nothing it did is kept, since its member was told it did not happen.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

QUEUED_PER_WORKER = 8  # beyond workers × this many waiting commands, answer "busy" at once

_WAITING, _RUNNING, _COMMITTING, _ABANDONED = "waiting", "running", "committing", "abandoned"


class Busy(Exception):
    """The command could not run in time: the pool is full, or it ran past its timeout."""


class Ticket:
    """One command handed to the pool: whether its caller still waits for it. The worker asks
    :meth:`may_commit` right before committing; after that, the caller waits for the commit
    (a moment) rather than say "busy" about a command that is kept."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = _WAITING

    def start(self) -> bool:
        with self._lock:
            if self._state == _ABANDONED:
                return False
            self._state = _RUNNING
            return True

    def may_commit(self) -> bool:
        with self._lock:
            if self._state == _ABANDONED:
                return False
            self._state = _COMMITTING
            return True

    def abandon(self) -> bool:
        """The caller stops waiting; False when the command is committing already."""
        with self._lock:
            if self._state == _COMMITTING:
                return False
            self._state = _ABANDONED
            return True

    @property
    def abandoned(self) -> bool:
        return self._state == _ABANDONED


Work = Callable[[Ticket], Coroutine[Any, Any, T]]


class CommandPool:
    def __init__(self, workers: int, timeout: float, *, queued: int | None = None):
        self.workers = workers
        self.timeout = timeout
        self.capacity = workers + (workers * QUEUED_PER_WORKER if queued is None else queued)
        self.pending = 0  # handed in and not finished (the main loop's count)
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="samen-db")
        self._local = threading.local()
        self._loops: list[asyncio.AbstractEventLoop] = []
        self._loops_lock = threading.Lock()
        self._closed = False

    async def run(self, work: Work[T], deadline: float | None = None) -> T:
        """``work(ticket)`` in a worker thread, on that thread's own event loop; its result,
        or :class:`Busy` when it is not done within the pool's timeout or by ``deadline``
        (the running loop's time), whichever is first. A caller that stops waiting sooner,
        cancelled by ``asyncio.wait_for``, abandons it the same way."""
        if self._closed or self.pending >= self.capacity:
            raise Busy("the command pool is full")
        loop = asyncio.get_running_loop()
        seconds = self.timeout if deadline is None else min(self.timeout, deadline - loop.time())
        if seconds <= 0:
            raise Busy("the command ran past its timeout")
        ticket = Ticket()
        self.pending += 1
        future = loop.run_in_executor(self._executor, self._work, work, ticket)
        future.add_done_callback(self._finished)
        try:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancellation
            # that comes as the result does, and the cancelled caller (the Matrix sync loop as
            # the bot stops) would go on for ever
            async with asyncio.timeout(seconds):
                return await asyncio.shield(future)
        except TimeoutError:
            if ticket.abandon():
                raise Busy("the command ran past its timeout") from None
            return await future  # it is committing: a moment more
        except asyncio.CancelledError:
            if not ticket.abandon():  # committing: its outcome stands, and nobody waits
                log.info("a command was committing as its caller stopped waiting")
            raise

    def _finished(self, future: asyncio.Future[Any]) -> None:
        self.pending -= 1
        if not future.cancelled():
            future.exception()  # retrieved: an abandoned command's error is not "never retrieved"

    def _work(self, work: Work[T], ticket: Ticket) -> T:
        if not ticket.start():
            raise Busy("its caller stopped waiting before it started")
        return self._loop().run_until_complete(work(ticket))

    def _loop(self) -> asyncio.AbstractEventLoop:
        loop: asyncio.AbstractEventLoop | None = getattr(self._local, "loop", None)
        if loop is None:
            loop = self._local.loop = asyncio.new_event_loop()
            with self._loops_lock:
                self._loops.append(loop)
        return loop

    def close(self) -> None:
        """Finish what runs (a command that waits for a lock gives up at its busy timeout),
        drop what waits, and close the workers' loops."""
        if self._closed:
            return
        self._closed = True
        self._executor.shutdown(wait=True, cancel_futures=True)
        with self._loops_lock:
            for loop in self._loops:
                loop.close()
            self._loops.clear()
