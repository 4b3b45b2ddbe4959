"""Retried messages (channels/replies.py): a first attempt told from a retry, and the stored
answer to a message read back from its events."""

from __future__ import annotations

import asyncio
import os
import secrets

import pytest
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered

from channels.replies import SeenMessages, replies_to
from clinic.settings import Secret

REDIS = os.environ.get("CLINIC_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.mark.parametrize("store", ["memory", "redis"])
def test_a_message_id_is_new_once(store):
    async def attempts():
        seen = SeenMessages(Secret(REDIS) if store == "redis" else None)
        sender, message = f"s-{secrets.token_hex(4)}", secrets.token_hex(4)
        return [
            await seen.first_time("rest", sender, message),
            await seen.first_time("rest", sender, message),
            await seen.first_time("rest", sender, "another"),
            await seen.first_time("rest", "someone-else", message),
        ]

    assert asyncio.run(attempts()) == [True, False, True, True]


def test_an_unreachable_redis_takes_every_message_for_a_retry():
    async def attempt():
        return await SeenMessages(Secret("redis://127.0.0.1:1/0")).first_time("rest", "s", "m")

    assert asyncio.run(asyncio.wait_for(attempt(), 30)) is False


def test_the_replies_to_a_message_are_those_before_the_next_user_message():
    events = [
        UserUttered("how long?", message_id="m1"),
        BotUttered("About an hour.", {"buttons": [{"title": "More", "payload": "/more"}]}),
        ActionExecuted("action_listen"),
        UserUttered("and the cost?", message_id="m2"),
        BotUttered("It depends."),
        BotUttered("Call us."),
    ]
    assert replies_to(events, "m1") == [
        {"text": "About an hour.", "buttons": [{"title": "More", "payload": "/more"}]}
    ]
    assert [r["text"] for r in replies_to(events, "m2")] == ["It depends.", "Call us."]
    assert replies_to(events, "m3") is None
