"""Per-sender rate limiting for the public channels (REST, SMS).

A token bucket per sender: BURST messages at once, then one every 60/PER_MINUTE seconds. A
flood from one sender is slowed (429 with Retry-After) while everyone else is answered as
before. With CLINIC_REDIS_URL set, the buckets live in Redis (one atomic script per message),
so a sender is limited across replicas; otherwise in this process. Keys are the conversation
ids the channels already use (for SMS the keyed hash, never the phone number).

A crisis message is never refused: the channel scans a limited message for crisis language
first (the crisis policy: the reply first, on every message).
"""

from __future__ import annotations

import math
import time
from typing import Dict, Optional, Tuple

import redis.asyncio

from clinic import settings

# KEYS: bucket. ARGV: capacity, refill per ms, now ms. Returns ms to wait (0: allowed).
_TAKE = """
local capacity = tonumber(ARGV[1])
local per_ms = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(bucket[1]) or capacity
local at = tonumber(bucket[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * per_ms)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) / per_ms) end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / per_ms) + 1000)
return wait
"""


class SenderRateLimiter:
    """Token buckets by sender, in Redis when configured, else in memory."""

    def __init__(self, limits: settings.RateLimits, redis_url: Optional[settings.Secret]) -> None:
        self.limits = limits
        self._per_ms = limits.per_minute / 60_000
        self._buckets: Dict[str, Tuple[float, float]] = {}
        self._redis = redis.asyncio.from_url(redis_url.reveal()) if redis_url else None
        self._take = self._redis.register_script(_TAKE) if self._redis else None

    @classmethod
    def from_environment(cls) -> "SenderRateLimiter":
        return cls(settings.current().rate_limits, settings.current().redis_url)

    async def wait_seconds(self, channel: str, sender: str) -> float:
        """0 when the sender may send now; else how long until it may (nothing is taken)."""
        now_ms = time.time() * 1000
        if len(self._buckets) > 100_000:  # full buckets carry no state: forget them
            self._forget_full(now_ms)
        if self._take is not None:
            try:
                waited = await self._take(
                    keys=[f"clinic:rate:{channel}:{{{sender}}}"],
                    args=[self.limits.burst, self._per_ms, int(now_ms)],
                )
                return int(waited) / 1000
            except redis.RedisError:
                return 0.0  # never refuse a person because the limiter's store is down
        tokens, at = self._buckets.get(f"{channel}:{sender}", (self.limits.burst, now_ms))
        tokens = min(self.limits.burst, tokens + max(0.0, now_ms - at) * self._per_ms)
        if tokens >= 1:
            self._buckets[f"{channel}:{sender}"] = (tokens - 1, now_ms)
            return 0.0
        self._buckets[f"{channel}:{sender}"] = (tokens, now_ms)
        return math.ceil((1 - tokens) / self._per_ms) / 1000

    def _forget_full(self, now_ms: float) -> None:
        full = [
            key
            for key, (tokens, at) in self._buckets.items()
            if tokens + (now_ms - at) * self._per_ms >= self.limits.burst
        ]
        for key in full:
            del self._buckets[key]
