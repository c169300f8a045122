"""PostgreSQL session-level advisory locks: the SQL under scheduler/leadership.py."""

from __future__ import annotations

from sqlalchemy import Connection, text


def try_advisory_lock(connection: Connection, key: int) -> bool:
    """Take the session-level lock ``key`` if it is free (or already ours); never waits."""
    taken = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar()
    return bool(taken)


def advisory_unlock(connection: Connection, key: int) -> None:
    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})


def ping(connection: Connection) -> None:
    """A cheap round trip; raises when the connection (and so its session's locks) is gone."""
    connection.execute(text("SELECT 1"))


def keep_alive(connection: Connection) -> None:
    """PostgreSQL probes this session's client every few seconds and ends the session (and so
    frees its locks) within about 25 s of the client's host vanishing without closing the
    connection (a crash, a network cut); by default that takes two hours."""
    for name, value in (
        ("tcp_keepalives_idle", 10),
        ("tcp_keepalives_interval", 5),
        ("tcp_keepalives_count", 3),
    ):
        connection.execute(text(f"SET {name} = {value}"))
