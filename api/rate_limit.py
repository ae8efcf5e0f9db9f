"""Token-bucket rate limiting, in memory, per key (a principal's ``sub`` or a client address).

Each key has a bucket of ``burst`` tokens refilled at ``rate`` tokens per second; a request
takes one token or is refused with the seconds to wait (``Retry-After``). Buckets are per
process: with N workers the effective limit is N times the configured one. Idle buckets are
dropped once the table grows past ``max_keys`` so memory stays bounded."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable


class RateLimiter:
    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.rate, self.burst, self.max_keys, self.clock = rate, max(1, burst), max_keys, clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, last refill)
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def take(self, key: str) -> float:
        """0 when allowed (one token taken), else the seconds until a token is available."""
        if not self.enabled:
            return 0.0
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                wait = 0.0
            else:
                self._buckets[key] = (tokens, now)
                wait = (1.0 - tokens) / self.rate
            if len(self._buckets) > self.max_keys:
                self._prune(now)
        return wait

    def _prune(self, now: float) -> None:
        """Drop buckets that have refilled completely (they hold no information)."""
        full_after = self.burst / self.rate
        for key, (_, last) in list(self._buckets.items()):
            if now - last >= full_after:
                del self._buckets[key]

    @staticmethod
    def retry_after(wait_s: float) -> str:
        return str(max(1, math.ceil(wait_s)))
