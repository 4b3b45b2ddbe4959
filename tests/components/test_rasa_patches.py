"""The patches to Rasa's own code (components/rasa_patches.py): pinned to the Rasa they were
written against, installed by `apply()` once whoever calls it, doing what they say."""

import asyncio
import hashlib
import inspect
import threading

from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor
from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from components import rasa_patches


def test_each_patched_method_is_the_one_it_was_written_against():
    """Fails when a Rasa upgrade changes a method this project replaces: read the new one,
    carry the patch over (or drop it), then pin the new source in RASA_SOURCES."""
    pins = rasa_patches.RASA_SOURCES
    assert set(rasa_patches.PATCHES) == set(pins) == set(rasa_patches.ORIGINALS)
    for path, original in rasa_patches.ORIGINALS.items():
        assert f"{original.__module__}.{original.__qualname__}" == path
        digest = hashlib.sha256(inspect.getsource(original).encode()).hexdigest()[:16]
        assert digest == pins[path], f"{path} changed in this Rasa: read it, then re-pin"


def test_apply_installs_every_patch_once():
    rasa_patches.apply()
    rasa_patches.apply()
    assert rasa_patches.applied()
    assert MessageProcessor._should_handle_message is rasa_patches.should_handle_message
    assert Agent._create_tracker_store is rasa_patches.create_tracker_store
    assert MessageProcessor.parse_message is rasa_patches.parse_message_off_the_loop
    # a method stays a method (it needs its processor), a static method static
    assert not isinstance(inspect.getattr_static(MessageProcessor, "parse_message"), staticmethod)
    assert isinstance(
        inspect.getattr_static(MessageProcessor, "_should_handle_message"), staticmethod
    )


def paused_tracker(intent: str) -> DialogueStateTracker:
    tracker = DialogueStateTracker.from_events("p", [ActionExecuted("action_listen")])
    tracker._paused = True
    tracker.update(UserUttered("text", intent={"name": intent, "confidence": 1.0}))
    return tracker


def test_a_paused_conversation_still_handles_an_urgent_message_only():
    rasa_patches.apply()
    assert MessageProcessor._should_handle_message(paused_tracker("crisis"))
    assert not MessageProcessor._should_handle_message(paused_tracker("faq"))
    assert MessageProcessor._should_handle_message(paused_tracker("restart"))


def test_the_tracker_store_is_not_wrapped_in_a_silent_fall_back():
    rasa_patches.apply()
    domain = Domain.empty()
    store = InMemoryTrackerStore(domain)
    assert Agent._create_tracker_store(store, domain) is store
    assert not isinstance(Agent._create_tracker_store(None, domain), FailSafeTrackerStore)


class Pipeline:
    """What parse_message needs of a MessageProcessor: the graph's parse, and where it ran."""

    http_interpreter = None

    def __init__(self) -> None:
        self.ran_in: list[str] = []

    def _parse_message_with_graph(self, message, tracker, only_output_properties=True):
        self.ran_in.append(threading.current_thread().name)
        assert tracker.sender_id == message.sender_id
        return {"text": message.text, "intent": {"name": "faq", "confidence": 0.9}, "entities": []}

    _update_full_retrieval_intent = MessageProcessor._update_full_retrieval_intent

    def _check_for_unseen_features(self, parse_data):
        pass


def test_the_nlu_pipeline_runs_in_its_thread_and_the_loop_is_free_meanwhile():
    """While a message's NLU runs, the event loop goes on (a socket's handshake, another
    request): the parse runs in the NLU thread, and the loop ticked while it ran."""
    rasa_patches.apply()
    pipeline, ticks, during = Pipeline(), [], []
    started, finished = threading.Event(), threading.Event()

    def slow_parse(message, tracker, only_output_properties=True):
        started.set()
        for _ in range(1000):  # until the loop has ticked three times, or 10 s (a busy machine)
            if len(ticks) >= 3:
                break
            threading.Event().wait(0.01)
        during.append(len(ticks))
        finished.set()
        return Pipeline._parse_message_with_graph(pipeline, message, tracker)

    pipeline._parse_message_with_graph = slow_parse

    async def tick() -> None:
        while not finished.is_set():
            await asyncio.sleep(0.005)
            if started.is_set() and not finished.is_set():
                ticks.append(1)

    async def both() -> dict:
        parsed, _ = await asyncio.gather(
            MessageProcessor.parse_message(pipeline, UserMessage("how long is it", sender_id="p")),
            tick(),
        )
        return parsed

    parsed = asyncio.run(both())
    assert parsed["text"] == "how long is it"
    assert pipeline.ran_in[0].startswith("nlu")
    assert during == [3], "the loop did not run while the message's NLU did"
