"""Which web chats are open (channels/webchat.py `Presence`): in one process, and across
replicas through this machine's Redis, where a replica that dies stops counting."""

from __future__ import annotations

import asyncio
import os
import secrets

from channels import webchat
from channels.webchat import Presence
from clinic.settings import Secret

REDIS = os.environ.get("CLINIC_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def test_in_one_process_a_chat_is_open_while_a_socket_of_it_is_connected():
    async def scenario():
        presence = Presence()
        seen = [await presence.is_open("c-1")]
        await presence.joined("sid-1", "c-1")
        await presence.joined("sid-2", "c-1")  # a second tab
        await presence.left("sid-1")
        seen.append(await presence.is_open("c-1"))
        await presence.joined("sid-2", "c-2")  # that tab changed conversation
        seen += [await presence.is_open("c-1"), await presence.is_open("c-2")]
        await presence.left("sid-2")
        await presence.left("sid-2")  # a second disconnect changes nothing
        seen.append(await presence.is_open("c-2"))
        return seen

    assert asyncio.run(scenario()) == [False, True, False, True, False]


def test_across_replicas_through_redis_and_a_dead_replica_stops_counting(monkeypatch):
    monkeypatch.setattr(webchat, "PRESENCE_RENEW_SECONDS", 0.2)
    monkeypatch.setattr(webchat, "PRESENCE_STALE_SECONDS", 1.0)
    session = f"test-{secrets.token_hex(6)}"

    async def scenario():
        first, second = Presence(Secret(REDIS)), Presence(Secret(REDIS))  # two replicas
        seen = [await second.is_open(session)]
        await first.joined("sid-1", session)
        seen.append(await second.is_open(session))
        await asyncio.sleep(1.5)  # past the stale time: the first replica renewed it
        seen.append(await second.is_open(session))
        await first.left("sid-1")
        seen.append(await second.is_open(session))
        await first.joined("sid-2", session)
        first._renewing.cancel()  # the first replica dies: no disconnect, no renewal
        await asyncio.sleep(1.5)
        seen.append(await second.is_open(session))
        return seen

    assert asyncio.run(scenario()) == [False, True, True, False, False]


def test_an_unreachable_redis_makes_it_unknown_not_closed():
    async def scenario():
        presence = Presence(Secret("redis://127.0.0.1:1/0"))
        await presence.joined("sid-1", "here")
        return [await presence.is_open("elsewhere"), await presence.is_open("here")]

    assert asyncio.run(asyncio.wait_for(scenario(), 30)) == [None, True]
