"""A user message handled under its conversation's lock: the one place our channels take it.

Rasa handles one message of a conversation at a time: it holds the conversation's lock in the
lock store (components/lock_store.py; across replicas a Redis ticket queue) while the
processor runs the turn. That is `Agent.handle_message`, which a channel reaches as
`on_new_message` (the web chat, a REST message's first attempt). A channel that needs more
under the same lock takes it here, with the lock store's defaults, as Rasa's handler does:

- `handle_under_lock`: a turn that may be a retry of a message already handled (REST: its
  stored replies instead of a second turn), or that must also wait for one of a limited
  number of turns (SMS: the message keeps its place in the conversation's queue meanwhile);
- `tracker_under_lock`: the conversation's tracker for a change without a turn of the
  assistant (the staff API: take over, reply, hand back).

A turn that raises is the caller's to answer (a 503, an error event, the crisis reply of
channels/crisis_fallback.py); the lock is released either way.
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager, nullcontext
from typing import Any, AsyncIterator, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.shared.core.trackers import DialogueStateTracker

from channels.replies import replies_to


async def handle_under_lock(
    agent: Any,
    message: UserMessage,
    *,
    replay: bool = False,
    slots: Optional[asyncio.Semaphore] = None,
) -> None:
    """Handle `message` under its conversation's lock (the agent must have a model loaded).

    `replay`: the message may have been handled already (a retry with the same message_id,
    its answer lost with a replica that stopped): if the tracker has it, the replies stored
    for it go to the message's output channel, after the lock is released, and it is not
    handled again.
    `slots`: taken once the lock is held, for the turn only: it limits how many turns run at
    once, while a message waiting for one keeps its place in the conversation's queue (two
    texts in a row are answered in the order they came).
    """
    async with agent.lock_store.lock(message.sender_id):
        replies = None
        if replay:
            tracker = await agent.tracker_store.retrieve(message.sender_id)
            replies = replies_to(tracker.events if tracker else [], message.message_id)
        if replies is None:
            async with slots if slots is not None else nullcontext():
                await agent.processor.handle_message(message)
            return
    for reply in replies:
        await message.output_channel.send_response(message.sender_id, reply)


@asynccontextmanager
async def tracker_under_lock(
    agent: Any, conversation_id: Text
) -> AsyncIterator[Optional[DialogueStateTracker]]:
    """The conversation's tracker as stored (None: there is none), its lock held until the
    block ends: no message of the conversation is handled meanwhile."""
    async with agent.lock_store.lock(conversation_id):
        yield await agent.tracker_store.retrieve(conversation_id)
