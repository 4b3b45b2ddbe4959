"""The patches to Rasa's own code (components/rasa_patches.py): pinned to the Rasa they were
written against, installed by `apply()` once whoever calls it, doing what they say."""

import hashlib
import inspect

from rasa.core.agent import Agent
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
