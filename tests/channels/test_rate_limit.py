"""Per-sender token buckets (channels/rate_limit.py), in memory and in this machine's Redis
(shared by replicas)."""

from __future__ import annotations

import asyncio
import os
import secrets

import pytest

from channels.rate_limit import SenderRateLimiter
from clinic.settings import RateLimits, Secret

REDIS = os.environ.get("CLINIC_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.mark.parametrize("store", ["memory", "redis"])
def test_a_burst_then_one_a_second_per_sender(store):
    async def scenario():
        url = Secret(REDIS) if store == "redis" else None
        first = SenderRateLimiter(RateLimits(burst=3, per_minute=60), url)
        second = SenderRateLimiter(RateLimits(burst=3, per_minute=60), url)  # another replica
        channel, flooder = f"test-{secrets.token_hex(4)}", "someone"
        waits = [
            await limiter.wait_seconds(channel, flooder)
            for limiter in (first, second, first, second)
        ]
        other = await first.wait_seconds(channel, "someone-else")
        return waits, other

    waits, other = asyncio.run(scenario())
    assert other == 0
    if store == "redis":  # one bucket across both
        assert waits[:3] == [0, 0, 0] and 0.5 < waits[3] <= 1.0
    else:  # each process its own
        assert waits == [0, 0, 0, 0]


def test_an_unreachable_redis_never_refuses_anyone():
    async def three():
        limiter = SenderRateLimiter(
            RateLimits(burst=1, per_minute=1), Secret("redis://127.0.0.1:1/0")
        )
        return [await limiter.wait_seconds("rest", "x") for _ in range(3)]

    assert asyncio.run(asyncio.wait_for(three(), 30)) == [0.0, 0.0, 0.0]
