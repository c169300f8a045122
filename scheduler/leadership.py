"""Which instance runs the periodic jobs when several ``samen run`` share one PostgreSQL, and
which one holds each platform's connection (bot/ownership.py): one lock, one key each.

The leader holds a session-level advisory lock on a connection of its own, kept open (not
returned to the pool) for as long as it leads; PostgreSQL releases the lock when that session
ends, so a leader that dies or loses its connection frees the place. Every instance calls
:meth:`Leadership.tick` every ``RETRY_SECONDS``: a follower tries to take the lock, the leader
checks with a cheap query that its connection still works, and stops leading when it does not.
On SQLite (one running instance, see bot/instance.py) the instance always leads.
"""

from __future__ import annotations

import hashlib
import logging

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from storage.leader_lock import advisory_unlock, keep_alive, ping, try_advisory_lock

log = logging.getLogger(__name__)

# how often a follower tries to lead, and a leader checks its connection: a dead leader is
# replaced within this (plus PostgreSQL noticing the closed connection)
RETRY_SECONDS = 5.0


# the advisory lock's key: a fixed signed 64-bit integer, the same in every instance
def lock_key(name: str) -> int:
    """The advisory lock's key of ``name``: a fixed signed 64-bit integer."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


LEADER_KEY = lock_key("samen-leader")


def platform_key(platform: str) -> int:
    """The key of a platform's connection (the Matrix sync, the Discord gateway)."""
    return lock_key(f"samen-platform:{platform}")


class Leadership:
    def __init__(
        self,
        engine: Engine,
        *,
        key: int = LEADER_KEY,
        retry_seconds: float | None = None,
        task: str = "the periodic jobs",
    ):
        self.engine = engine
        self.key = key
        self.task = task  # what leading means, for the log
        self._retry_seconds = retry_seconds
        self.connection: Connection | None = None
        self.leading = False
        self._unreachable = False

    @property
    def retry_seconds(self) -> float:
        return RETRY_SECONDS if self._retry_seconds is None else self._retry_seconds

    @property
    def always_leads(self) -> bool:
        """Only PostgreSQL is shared by several instances."""
        return self.engine.dialect.name != "postgresql"

    def tick(self) -> bool:
        """One try: keep leading if the lock's connection still works, else try to take the
        lock; returns whether this instance leads now."""
        if self.always_leads:
            self._now_leading()
            return True
        if self.leading:
            try:
                assert self.connection is not None
                ping(self.connection)
                return True
            except SQLAlchemyError as error:
                self.leading = False
                self._drop_connection()
                log.warning(
                    "this instance no longer leads %s: its connection broke (%s)",
                    self.task,
                    error.__class__.__name__,
                )
        try:
            if self.connection is None:
                self.connection = self.engine.connect().execution_options(
                    isolation_level="AUTOCOMMIT"
                )
                keep_alive(self.connection)
            taken = try_advisory_lock(self.connection, self.key)
        except SQLAlchemyError as error:
            # once per outage, not every few seconds while the database stays unreachable
            log.log(
                logging.DEBUG if self._unreachable else logging.WARNING,
                "cannot try to lead %s: %s",
                self.task,
                error.__class__.__name__,
            )
            self._unreachable = True
            self._drop_connection()
            return False
        self._unreachable = False
        if taken:
            self._now_leading()
        return self.leading

    def _now_leading(self) -> None:
        if not self.leading:
            self.leading = True
            log.info("this instance now leads %s", self.task)

    def _drop_connection(self) -> None:
        """Close the connection for good (never back to the pool, where its session would keep
        the lock)."""
        connection, self.connection = self.connection, None
        if connection is None:
            return
        try:
            connection.invalidate()
            connection.close()
        except SQLAlchemyError:
            log.debug("closing the leadership connection failed", exc_info=True)

    def release(self) -> None:
        """Stop leading (at shutdown): unlock and close the connection."""
        was_leading, self.leading = self.leading, False
        if self.connection is not None and was_leading:
            try:
                advisory_unlock(self.connection, self.key)
            except SQLAlchemyError:
                log.debug("unlocking the leadership lock failed", exc_info=True)
        self._drop_connection()
        if was_leading:
            log.info("this instance no longer leads %s (stopping)", self.task)
