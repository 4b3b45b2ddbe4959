"""What the event broker that feeds the console costs the Rasa server, on SQLite files: how long
its event loop waits for each published event (Rasa's SQLEventBroker beside ours,
components/event_broker.py), and for each save of a tracker, a message's worth of events, with
Rasa's tracker store or ours (components/tracker_store.py), with and without a broker.

    .venv/bin/python -m bench.event_broker [--events 500] [--turns 25]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Optional, Sequence

from rasa.core.brokers.sql import SQLEventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from components.event_broker import SqlEventBroker
from components.tracker_store import SqlTrackerStore

ROOT = Path(__file__).resolve().parent.parent

EVENT = {
    "event": "user",
    "sender_id": "bench",
    "text": "how long is a session?",
    "input_channel": "rest",
    "message_id": "m1",
    "parse_data": {
        "intent": {"name": "faq", "confidence": 0.99},
        "entities": [],
        "response_selector": {
            "faq": {"response": {"intent_response_key": "faq/session_length", "confidence": 0.97}}
        },
        "crisis": {"level": "none", "categories": [], "evidence": []},
    },
}


def times_ms(broker: SQLEventBroker, events: int) -> list:
    waited = []
    for i in range(events):
        start = time.perf_counter()
        broker.publish({**EVENT, "timestamp": time.time(), "message_id": f"m{i}"})
        waited.append((time.perf_counter() - start) * 1000)
    return sorted(waited)


async def save_times_ms(
    store_class: type, broker_class: Optional[type], folder: Path, turns: int
) -> list:
    """Five conversations of `turns` messages each; the time of every save."""
    domain = Domain.load(ROOT / "domain.yml")
    broker = broker_class(db=str(folder / "events.db")) if broker_class else None
    store = store_class(domain=domain, db=str(folder / "tracker.db"), event_broker=broker)
    waited = []
    for conversation in range(5):
        sender = f"bench-{conversation}"
        for _ in range(turns):
            tracker = await store.retrieve(sender) or DialogueStateTracker(sender, domain.slots)
            tracker.update(UserUttered(EVENT["text"], parse_data=EVENT["parse_data"]))
            tracker.update(ActionExecuted("utter_faq/session_length"))
            tracker.update(BotUttered("A session takes about 40 to 60 minutes."))
            tracker.update(ActionExecuted("action_listen"))
            start = time.perf_counter()
            await store.save(tracker)
            waited.append((time.perf_counter() - start) * 1000)
    if broker is not None:
        broker.engine.dispose()
    return sorted(waited)


def _row(name: str, waited: list) -> str:
    return (
        f"{name:<52} {statistics.median(waited):7.2f} "
        f"{waited[int(len(waited) * 0.95) - 1]:7.2f} {waited[-1]:7.2f}"
    )


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.event_broker")
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--turns", type=int, default=25)
    args = parser.parse_args(argv)
    print(f"{'one published event':<52} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7}")
    for _ in range(2):  # twice, alternating, so neither gets a quieter machine
        for broker_class in (SQLEventBroker, SqlEventBroker):
            with tempfile.TemporaryDirectory() as folder:
                broker = broker_class(db=str(Path(folder) / "events.db"))
                waited = times_ms(broker, args.events)
                broker.engine.dispose()
            print(_row(f"{broker_class.__module__}.{broker_class.__name__}", waited))
    print(
        f"\n{'one tracker save (a message: 4 events)':<52} {'p50 ms':>7} {'p95 ms':>7} "
        f"{'max ms':>7}"
    )
    setups = [
        ("Rasa's store, no broker", SQLTrackerStore, None),
        ("Rasa's store and broker", SQLTrackerStore, SQLEventBroker),
        ("ours: store and broker (endpoints.yml)", SqlTrackerStore, SqlEventBroker),
        ("our store, no broker", SqlTrackerStore, None),
    ]
    for name, store_class, broker_class in setups:
        with tempfile.TemporaryDirectory() as folder:
            waited = asyncio.run(save_times_ms(store_class, broker_class, Path(folder), args.turns))
        print(_row(name, waited))
    print(f"({args.events} events; 5 conversations of {args.turns} messages)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
