"""Every change this project makes to Rasa 3.6.21's own code, in one place.

Each patch replaces one Rasa method; `apply()` installs them all (once; it is idempotent) and
is called at server start by what needs them: the tracker store's constructor, when the agent
is loaded, and the staff channel's blueprint. `RASA_SOURCES` pins the source of each method
replaced, as Rasa 3.6.21 has it: tests/components/test_rasa_patches.py fails when an upgrade
changes one, so nobody upgrades Rasa without reading what is patched.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from typing import Any, Callable, Dict, Optional, Text

import rasa.server
from rasa.core.agent import Agent
from rasa.core.brokers.broker import EventBroker
from rasa.core.channels.channel import UserMessage
from rasa.core.lock_store import LockStore
from rasa.core.processor import MessageProcessor
from rasa.core.tracker_store import InMemoryTrackerStore, TrackerStore
from rasa.core.utils import AvailableEndpoints
from rasa.server import ErrorResponse
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from components.crisis_detector import CRISIS_INTENT  # an urgent message's intent

logger = logging.getLogger(__name__)

# The patched methods, as Rasa 3.6.21 wrote them: sha256 of `inspect.getsource`, first 16.
RASA_SOURCES = {
    "rasa.core.processor.MessageProcessor._should_handle_message": "e62818f15e2dd228",
    "rasa.core.agent.Agent._create_tracker_store": "97499b594b45581b",
    "rasa.server._load_agent": "a9f77df6bc59de8e",
    "rasa.core.processor.MessageProcessor.parse_message": "b98d8e49b9f2c433",
}

# Rasa's own methods, kept before any patch: what the patches call, and what the pins check.
ORIGINALS: dict[str, Callable] = {
    "rasa.core.processor.MessageProcessor._should_handle_message": MessageProcessor._should_handle_message,
    "rasa.core.agent.Agent._create_tracker_store": Agent._create_tracker_store,
    "rasa.server._load_agent": rasa.server._load_agent,
    "rasa.core.processor.MessageProcessor.parse_message": MessageProcessor.parse_message,
}
_rasa_should_handle_message = ORIGINALS[
    "rasa.core.processor.MessageProcessor._should_handle_message"
]
_rasa_load_agent = ORIGINALS["rasa.server._load_agent"]
_rasa_parse_message = ORIGINALS["rasa.core.processor.MessageProcessor.parse_message"]
# The thread every message's NLU runs in, one message at a time as on the loop before (the
# pipeline's components were never meant to run two messages at once).
NLU_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nlu")


def should_handle_message(tracker: DialogueStateTracker) -> bool:
    """MessageProcessor._should_handle_message: Rasa's rule (not paused, or a restart), and
    also: the latest message is urgent.

    Rasa 3.6 predicts nothing at all while a conversation is paused (staff have taken it over),
    the crisis reply included. With this, an urgent message gets `utter_crisis` and its
    escalation from the crisis rules (data/rules/crisis.yml); the rules then listen, and the
    conversation stays paused, so the next ordinary message is again left to staff.
    """
    if _rasa_should_handle_message(tracker):
        return True
    latest = tracker.latest_message
    return latest is not None and latest.intent.get("name") == CRISIS_INTENT


def create_tracker_store(store: Optional[TrackerStore], domain: Domain) -> TrackerStore:
    """Agent._create_tracker_store, without the silent fall-back to memory.

    Rasa's Agent wraps its tracker store in a FailSafeTrackerStore: when the database fails,
    a retrieve answers None (the turn then starts a new, empty conversation) and a save goes to
    memory, and the turn is answered as if nothing happened. The user's message is then not in
    the database, and the events stored afterwards no longer line up. Here the error reaches
    the channel, which says so (REST 503, SMS 503 and a later answer, the widget's error
    message), and the client sends the message again once the database is back.
    """
    if store is None:
        return InMemoryTrackerStore(domain)
    store.domain = domain
    return store


async def load_agent_off_the_loop(
    model_path: Optional[Text] = None,
    model_server: Optional[EndpointConfig] = None,
    remote_storage: Optional[Text] = None,
    endpoints: Optional[AvailableEndpoints] = None,
) -> Agent:
    """rasa.server._load_agent (`PUT /model`), with the model loaded in a worker thread.

    Rasa loads the new model on the server's event loop: for the 10 to 30 s it takes (spaCy,
    MiniLM, TensorFlow), the server answers nobody, a crisis message included. Here it loads
    beside the loop, and the running model answers until the route swaps the agents. The new
    agent gets its stores from the endpoints as Rasa's does (the route then hands it the running
    lock store). A model from a model server or remote storage is Rasa's own business.
    """
    if model_server or remote_storage or not model_path or not endpoints or endpoints.model:
        return await _rasa_load_agent(model_path, model_server, remote_storage, endpoints)
    broker = await EventBroker.create(endpoints.event_broker)
    agent = Agent(
        generator=endpoints.nlg,
        tracker_store=TrackerStore.create(endpoints.tracker_store, event_broker=broker),
        lock_store=LockStore.create(endpoints.lock_store),
        action_endpoint=endpoints.action,
    )
    try:
        await asyncio.to_thread(agent.load_model, model_path)
    except Exception as error:
        logger.error("The model %s could not be loaded (%s)", model_path, type(error).__name__)
        raise ErrorResponse(
            HTTPStatus.INTERNAL_SERVER_ERROR,
            "LoadingError",
            f"The model could not be loaded: {type(error).__name__}",
        ) from None
    return agent


async def parse_message_off_the_loop(
    self: MessageProcessor,
    message: UserMessage,
    tracker: Optional[DialogueStateTracker] = None,
    only_output_properties: bool = True,
) -> Dict[Text, Any]:
    """MessageProcessor.parse_message, with the NLU pipeline run in a worker thread.

    Rasa runs the pipeline (spaCy, MiniLM, the answer selector, the crisis model: tens of
    milliseconds a message) on the server's event loop. Under load the loop is then always busy
    with NLU, and everything else waits its turn behind every queued message: a web chat took
    8 to 16 s to connect while 10 REST conversations talked (`bench.retraining`'s finding), a
    health check 2 s (docs/benchmarks.md). Here the loop only waits for the thread, and sockets, handshakes and the
    other steps of a turn go on meanwhile. Rasa's debug line of the parse, which holds the
    text, is left out.
    """
    if self.http_interpreter:
        return await _rasa_parse_message(self, message, tracker, only_output_properties)
    if tracker is None:
        tracker = DialogueStateTracker.from_events(message.sender_id, [])
    parse_data = await asyncio.get_running_loop().run_in_executor(
        NLU_THREAD, self._parse_message_with_graph, message, tracker, only_output_properties
    )
    self._update_full_retrieval_intent(parse_data)
    self._check_for_unseen_features(parse_data)
    return parse_data


PATCHES: dict[str, tuple[object, str, Callable]] = {
    "rasa.core.processor.MessageProcessor._should_handle_message": (
        MessageProcessor,
        "_should_handle_message",
        should_handle_message,
    ),
    "rasa.core.agent.Agent._create_tracker_store": (
        Agent,
        "_create_tracker_store",
        create_tracker_store,
    ),
    "rasa.server._load_agent": (rasa.server, "_load_agent", load_agent_off_the_loop),
    "rasa.core.processor.MessageProcessor.parse_message": (
        MessageProcessor,
        "parse_message",
        parse_message_off_the_loop,
    ),
}


def apply() -> None:
    """Install every patch (again: nothing changes)."""
    for owner, name, replacement in PATCHES.values():
        if getattr(owner, name) is not replacement:
            # A static method stays one; a method or a module's function is set as it is.
            static = isinstance(inspect.getattr_static(owner, name), staticmethod)
            setattr(owner, name, staticmethod(replacement) if static else replacement)
            logger.debug("rasa_patches: %s.%s replaced", owner.__name__, name)


def applied() -> bool:
    return all(getattr(owner, name) is replacement for owner, name, replacement in PATCHES.values())
