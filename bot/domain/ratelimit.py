"""A token bucket per key: how many requests one web user may make, refilled over time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    at: dt.datetime


class RateLimit:
    """`burst` requests at once per key, refilled at `per_second`; pure (time is passed in)."""

    def __init__(self, *, burst: int, per_second: float, max_keys: int = 100_000) -> None:
        self.burst = burst
        self.per_second = per_second
        self.max_keys = max_keys
        self._buckets: dict[Hashable, _Bucket] = {}

    def allow(self, key: Hashable, now: dt.datetime) -> bool:
        """Take one token for `key` if it has one."""
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_keys:
                # Full buckets carry no information: forgetting them only forgives.
                self._buckets = {
                    k: b for k, b in self._buckets.items() if self._level(b, now) < self.burst
                }
            bucket = self._buckets[key] = _Bucket(float(self.burst), now)
        bucket.tokens = self._level(bucket, now)
        bucket.at = now
        if bucket.tokens < 1:
            return False
        bucket.tokens -= 1
        return True

    def _level(self, bucket: _Bucket, now: dt.datetime) -> float:
        elapsed = max(0.0, (now - bucket.at).total_seconds())
        return min(float(self.burst), bucket.tokens + elapsed * self.per_second)
