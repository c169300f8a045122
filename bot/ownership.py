"""One instance at a time holds each platform's connection (the Matrix sync loop, the Discord
gateway) when several ``samen run`` share one PostgreSQL; the others stand by.

Every instance starts each platform (logs in: it can send notifications and reminders), but
only the instance that holds the platform's lock listens. The lock is a session-level advisory
lock, held as scheduler/leadership.py holds the periodic jobs' (one key per platform): an
instance that does not hold it tries again every ``retry_seconds`` and starts listening once it
gets it; one whose lock connection breaks stops listening. An owner that dies frees the lock
with its connection, so another instance takes over within one retry period (plus the time
PostgreSQL needs to see the connection gone; see storage/leader_lock.keep_alive). On SQLite (one
instance, bot/instance.py) the instance always owns every platform.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol, runtime_checkable

from sqlalchemy import Engine

from scheduler.leadership import Leadership, platform_key

log = logging.getLogger(__name__)


@runtime_checkable
class OwnedAdapter(Protocol):
    """An adapter whose receiving connection must be held by one instance at a time."""

    platform: str

    async def start(self) -> None:
        """Log in: afterwards the adapter can send (every instance does this)."""
        ...

    async def listen(self) -> None:
        """Receive events until cancelled (only the instance that owns the platform)."""
        ...

    async def close(self) -> None:
        """Log out, free what start() took."""
        ...


def ownership(engine: Engine, platform: str, retry_seconds: float | None = None) -> Leadership:
    """The lock on ``platform``'s connection, for this instance."""
    return Leadership(
        engine,
        key=platform_key(platform),
        retry_seconds=retry_seconds,
        task=f"the {platform} connection",
    )


async def serve_owned(adapter: OwnedAdapter, lock: Leadership) -> None:
    """Start the adapter, listen while this instance owns its platform, stand by while it does
    not; returns (or raises) when listening ends by itself. The lock is released and the
    adapter closed on the way out."""
    listening: asyncio.Task[None] | None = None
    await adapter.start()
    try:
        while True:
            if not lock.tick():
                await asyncio.sleep(lock.retry_seconds)
                continue
            listening = asyncio.create_task(adapter.listen(), name=f"listen-{adapter.platform}")
            while True:
                done, _ = await asyncio.wait({listening}, timeout=lock.retry_seconds)
                if done:
                    return listening.result()  # it ended by itself: so does the platform
                if not lock.tick():
                    break
            log.warning("stopped listening on %s: another instance may take it", adapter.platform)
            await _stop(listening)
            listening = None
    finally:
        if listening is not None:
            await _stop(listening)
        lock.release()
        await adapter.close()


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
