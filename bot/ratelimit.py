"""Rate limits: a token bucket per member and per class of command, checked in the core for
every way in (typed command, button, reaction, form).

Each instance counts in its own memory: cheap (no write per command) and enough against a
member, a script or a stuck client flooding the bot. With N instances behind one database a
member can go at most N times the configured rate; the buckets are not shared on purpose,
since sharing them would cost a database write for every command.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class RateClass(StrEnum):
    COMMAND = "command"  # everything, unless it says otherwise
    PUBLISH = "publish"  # what reaches other members: posts, answers, announcements, creations


@dataclass(frozen=True, slots=True)
class Limit:
    burst: int  # how many at once
    per_second: float  # how fast the bucket refills


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: datetime


class RateLimiter:
    MAX_BUCKETS = 100_000  # members seen recently; beyond it the full (oldest) buckets go

    def __init__(self, limits: dict[RateClass, Limit]):
        self.limits = limits
        self._buckets: dict[tuple[int, RateClass], _Bucket] = {}
        self._lock = threading.Lock()  # commands run in several worker threads

    def take(self, member_id: int, rate: RateClass, now: datetime) -> float:
        """Take one token: 0.0 when allowed, else the seconds until one is free again."""
        with self._lock:
            return self._take(member_id, rate, now)

    def _take(self, member_id: int, rate: RateClass, now: datetime) -> float:
        limit = self.limits[rate]
        key = (member_id, rate)
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.MAX_BUCKETS:
                self._forget_full(now)
            bucket = self._buckets[key] = _Bucket(float(limit.burst), now)
        elapsed = max(0.0, (now - bucket.at).total_seconds())
        bucket.tokens = min(float(limit.burst), bucket.tokens + elapsed * limit.per_second)
        bucket.at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / limit.per_second

    def _forget_full(self, now: datetime) -> None:
        for key, bucket in list(self._buckets.items()):
            limit = self.limits[key[1]]
            elapsed = (now - bucket.at).total_seconds()
            if bucket.tokens + elapsed * limit.per_second >= limit.burst:
                del self._buckets[key]
