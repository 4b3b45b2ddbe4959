"""The Redis ticket queue (components/lock_store.py) against this machine's Redis: one holder
at a time, first come first served, and a dead holder's ticket dropped after its lifetime."""

from __future__ import annotations

import asyncio
import os
import secrets

import pytest
from rasa.core.lock_store import LockError

from clinic.settings import Secret, SettingsError
from components import lock_store
from components.lock_store import ClinicLockStore, RedisTicketQueue

REDIS = os.environ.get("CLINIC_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def test_one_holder_at_a_time_in_the_order_they_came():
    async def scenario():
        replicas = [ClinicLockStore(redis_url=Secret(REDIS)) for _ in range(2)]
        conversation, order, holding = f"c-{secrets.token_hex(4)}", [], []

        async def turn(number: int) -> None:
            await asyncio.sleep(number * 0.02)  # they arrive in this order
            async with replicas[number % 2].lock(conversation):
                holding.append(number)
                assert len(holding) == 1, holding
                order.append(number)
                await asyncio.sleep(0.05)
                holding.remove(number)

        await asyncio.gather(*(turn(n) for n in range(6)))
        return order

    assert asyncio.run(scenario()) == list(range(6))


def test_a_dead_holders_ticket_is_dropped_after_its_lifetime(monkeypatch):
    monkeypatch.setattr(lock_store, "TICKET_SECONDS", 0.5)

    async def scenario():
        queue = RedisTicketQueue(REDIS)
        conversation = f"c-{secrets.token_hex(4)}"
        counter, waiting, expiry = queue.keys(conversation)
        # a replica that took the lock and died: its ticket, never renewed nor released
        await queue._issue(keys=[counter, waiting, expiry], args=[500, 60_000])
        started = asyncio.get_running_loop().time()
        async with queue.hold(conversation, wait_seconds=10):
            return asyncio.get_running_loop().time() - started

    assert 0.3 < asyncio.run(scenario()) < 2.0


def test_waiting_longer_than_allowed_is_a_lock_error():
    async def scenario():
        queue = RedisTicketQueue(REDIS)
        conversation = f"c-{secrets.token_hex(4)}"
        async with queue.hold(conversation, wait_seconds=5):
            with pytest.raises(LockError):
                async with queue.hold(conversation, wait_seconds=0.2):
                    pass

    asyncio.run(scenario())


def test_an_unreachable_redis_is_one_clear_line():
    with pytest.raises(SettingsError, match=r"^CLINIC_REDIS_URL: cannot reach Redis at "):
        RedisTicketQueue("redis://127.0.0.1:1/0")
