"""A message handled under its conversation's lock (channels/turns.py), as the REST channel's
retries, SMS and the staff API use it: one turn of a conversation at a time, a retry answered
from the tracker, a turn slot taken only once the lock is held, the lock released when a turn
fails. With Rasa's in-memory lock store (a waiting message looks again every second)."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Optional, Set

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.lock_store import InMemoryLockStore
from rasa.shared.core.events import BotUttered, Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from channels.turns import handle_under_lock, tracker_under_lock

BUTTONS = [{"title": "Yes", "payload": "/affirm"}]


class Trackers:
    """A tracker store holding some conversations' events; counts its reads."""

    def __init__(self, stored: Dict[str, List[Event]]) -> None:
        self.stored = stored
        self.reads: List[str] = []

    async def retrieve(self, conversation_id: str) -> Optional[DialogueStateTracker]:
        self.reads.append(conversation_id)
        events = self.stored.get(conversation_id)
        return DialogueStateTracker.from_events(conversation_id, events) if events else None


class Processor:
    """Records each turn's start and end, and whether its conversation's lock was held."""

    def __init__(self, lock_store: InMemoryLockStore) -> None:
        self.lock_store = lock_store
        self.log: List[tuple] = []
        self.failing: Set[str] = set()

    async def handle_message(self, message: UserMessage) -> None:
        held = self.lock_store.get_lock(message.sender_id) is not None
        self.log.append(("start", message.text, held))
        await asyncio.sleep(0.05)
        if message.text in self.failing:
            raise RuntimeError("the tracker store is unreachable")
        await message.output_channel.send_text_message(message.sender_id, f"re: {message.text}")
        self.log.append(("end", message.text))


class Agent:
    def __init__(self, stored: Optional[Dict[str, List[Event]]] = None) -> None:
        self.lock_store = InMemoryLockStore()
        self.tracker_store = Trackers(stored or {})
        self.processor = Processor(self.lock_store)


def message(
    text: str, conversation_id: str = "c1", message_id: Optional[str] = None, output: Any = None
) -> UserMessage:
    return UserMessage(
        text,
        output or CollectingOutputChannel(),
        conversation_id,
        input_channel="test",
        message_id=message_id,
    )


def test_messages_of_one_conversation_are_handled_one_at_a_time_under_its_lock():
    agent = Agent()

    async def scenario() -> None:
        await asyncio.gather(
            handle_under_lock(agent, message("a")), handle_under_lock(agent, message("b"))
        )

    asyncio.run(scenario())
    assert agent.processor.log in (
        [("start", "a", True), ("end", "a"), ("start", "b", True), ("end", "b")],
        [("start", "b", True), ("end", "b"), ("start", "a", True), ("end", "a")],
    )
    assert agent.lock_store.get_lock("c1") is None  # released, nobody waiting
    assert agent.tracker_store.reads == []  # a first attempt never reads the tracker


def test_messages_of_two_conversations_are_handled_at_once():
    agent = Agent()

    async def scenario() -> None:
        await asyncio.gather(
            handle_under_lock(agent, message("a", "c1")),
            handle_under_lock(agent, message("b", "c2")),
        )

    asyncio.run(scenario())
    assert [entry[0] for entry in agent.processor.log] == ["start", "start", "end", "end"]


def test_a_retry_of_a_handled_message_gets_its_stored_replies_instead_of_a_second_turn():
    stored = {
        "c1": [
            UserUttered("hello", message_id="m1"),
            BotUttered("Hi! Book a consultation?", data={"buttons": BUTTONS}),
            UserUttered("later", message_id="m2"),
        ]
    }
    agent = Agent(stored)
    output = CollectingOutputChannel()
    asyncio.run(
        handle_under_lock(agent, message("hello", message_id="m1", output=output), replay=True)
    )
    assert agent.processor.log == []
    assert output.messages == [
        {"recipient_id": "c1", "text": "Hi! Book a consultation?", "buttons": BUTTONS}
    ]
    assert agent.lock_store.get_lock("c1") is None


@pytest.mark.parametrize("conversation_id, message_id", [("c1", "m3"), ("c2", "m1")])
def test_a_retry_the_tracker_does_not_have_is_handled(conversation_id, message_id):
    agent = Agent({"c1": [UserUttered("hello", message_id="m1"), BotUttered("Hi!")]})
    output = CollectingOutputChannel()
    asyncio.run(
        handle_under_lock(agent, message("hello", conversation_id, message_id, output), replay=True)
    )
    assert agent.processor.log == [("start", "hello", True), ("end", "hello")]
    assert [m["text"] for m in output.messages] == ["re: hello"]
    assert agent.tracker_store.reads == [conversation_id]


def test_without_replay_a_handled_message_id_is_handled_again():
    agent = Agent({"c1": [UserUttered("hello", message_id="m1"), BotUttered("Hi!")]})
    asyncio.run(handle_under_lock(agent, message("hello", message_id="m1")))
    assert agent.processor.log == [("start", "hello", True), ("end", "hello")]
    assert agent.tracker_store.reads == []


def test_a_message_waiting_for_a_turn_slot_already_holds_its_conversations_place():
    """The slot is taken once the lock is held: a second message of the conversation that
    arrives while the first waits for a slot is handled after it, never before."""
    agent = Agent()

    async def scenario() -> None:
        slots = asyncio.Semaphore(1)
        await slots.acquire()  # every turn slot busy
        first = asyncio.create_task(handle_under_lock(agent, message("first"), slots=slots))
        await asyncio.sleep(0.1)
        assert agent.lock_store.get_lock("c1") is not None  # queued while it waits
        assert agent.processor.log == []
        second = asyncio.create_task(handle_under_lock(agent, message("second"), slots=slots))
        await asyncio.sleep(0.1)
        slots.release()
        await asyncio.gather(first, second)
        assert not slots.locked()  # each turn gave its slot back

    asyncio.run(scenario())
    assert agent.processor.log == [
        ("start", "first", True),
        ("end", "first"),
        ("start", "second", True),
        ("end", "second"),
    ]


def test_a_failing_turn_raises_and_gives_back_the_lock_and_the_slot():
    agent = Agent()
    agent.processor.failing.add("boom")

    async def scenario() -> None:
        slots = asyncio.Semaphore(1)
        with pytest.raises(RuntimeError, match="unreachable"):
            await handle_under_lock(agent, message("boom"), slots=slots)
        assert agent.lock_store.get_lock("c1") is None
        assert not slots.locked()
        await asyncio.wait_for(handle_under_lock(agent, message("again"), slots=slots), 0.5)

    asyncio.run(scenario())
    assert agent.processor.log[-1] == ("end", "again")


def test_the_tracker_under_the_lock():
    agent = Agent({"c1": [UserUttered("hello", message_id="m1")]})

    async def scenario() -> None:
        async with tracker_under_lock(agent, "c1") as tracker:
            assert tracker.sender_id == "c1" and tracker.latest_message.text == "hello"
            assert agent.lock_store.get_lock("c1") is not None
        assert agent.lock_store.get_lock("c1") is None
        async with tracker_under_lock(agent, "nobody") as tracker:
            assert tracker is None
        with pytest.raises(LookupError):
            async with tracker_under_lock(agent, "c1"):
                raise LookupError("refused")
        assert agent.lock_store.get_lock("c1") is None

    asyncio.run(scenario())


def test_a_message_waits_while_the_tracker_is_held():
    agent = Agent({"c1": [UserUttered("hello", message_id="m1")]})

    async def scenario() -> None:
        async with tracker_under_lock(agent, "c1"):
            turn = asyncio.create_task(handle_under_lock(agent, message("meanwhile")))
            await asyncio.sleep(0.2)
            assert agent.processor.log == []
        await turn

    asyncio.run(scenario())
    assert agent.processor.log == [("start", "meanwhile", True), ("end", "meanwhile")]
