"""Our SQL event broker writes what Rasa's writes, in the same table, and the console's index
reads it; on SQLite with a write-ahead log."""

import json
import time

import sqlalchemy as sa
from rasa.core.brokers.sql import SQLEventBroker

from components.event_broker import SqlEventBroker
from projector import index
from support import migrated_engine

EVENTS = [
    {
        "event": "user",
        "timestamp": time.time(),
        "text": "how long is a session?",
        "input_channel": "rest",
        "message_id": "m1",
        "parse_data": {
            "intent": {"name": "faq", "confidence": 0.99},
            "response_selector": {
                "faq": {
                    "response": {"intent_response_key": "faq/session_length", "confidence": 0.97}
                }
            },
            "crisis": {"level": "none"},
        },
    },
    {
        "event": "bot",
        "timestamp": time.time() + 0.01,
        "text": "About 40 to 60 minutes.",
        "metadata": {"utter_action": "utter_faq/session_length"},
    },
]


def rows(url):
    with sa.create_engine(url).connect() as connection:
        return [
            tuple(r)
            for r in connection.execute(
                sa.text("SELECT id, sender_id, data FROM events ORDER BY id")
            )
        ]


def test_the_rows_are_those_rasas_broker_writes(tmp_path):
    ours, rasas = (
        SqlEventBroker(db=str(tmp_path / "ours.db")),
        SQLEventBroker(db=str(tmp_path / "rasa.db")),
    )
    for event in EVENTS:
        ours.publish({**event, "sender_id": "c-1"})
        rasas.publish({**event, "sender_id": "c-1"})
    assert rows(f"sqlite:///{tmp_path / 'ours.db'}") == rows(f"sqlite:///{tmp_path / 'rasa.db'}")
    with ours.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_the_console_indexes_what_it_wrote(tmp_path):
    broker = SqlEventBroker(db=str(tmp_path / "events.db"))
    for event in EVENTS:
        broker.publish({**event, "sender_id": "c-1"})
    console_db = migrated_engine(f"sqlite:///{tmp_path / 'console.db'}")
    source = index.broker_engine(f"sqlite:///{tmp_path / 'events.db'}")
    assert index.catch_up(console_db, source, index.BROKER) == 2
    with console_db.connect() as connection:
        [summary] = connection.execute(sa.select(index.conversations)).mappings()
    assert (summary["conversation_id"], summary["user_messages"], summary["bot_messages"]) == (
        "c-1",
        1,
        1,
    )


def test_two_catch_ups_at_once_index_each_event_once(tmp_path, monkeypatch):
    """The console's follower thread and a retention run (or a second console process) catch up
    with the broker at the same moment, on an index without a checkpoint yet: each waits for
    the other, and no event is applied twice."""
    import threading

    broker = SqlEventBroker(db=str(tmp_path / "events.db"))
    for event in EVENTS:
        broker.publish({**event, "sender_id": "c-1"})
    console_db = migrated_engine(f"sqlite:///{tmp_path / 'console.db'}")
    source = index.broker_engine(f"sqlite:///{tmp_path / 'events.db'}")
    apply_events = index.apply_events

    def slow_apply(connection, events):  # widen the gap between reading and moving the checkpoint
        time.sleep(0.5)
        return apply_events(connection, events)

    monkeypatch.setattr(index, "apply_events", slow_apply)
    added, errors = [], []

    def catch_up():
        try:
            added.append(index.catch_up(console_db, source, index.BROKER))
        except Exception as error:  # what the test is about: nothing may be raised
            errors.append(error)

    threads = [threading.Thread(target=catch_up) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(added) == [0, 2]
    with console_db.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(index.turns)).scalar() == 2


def test_the_tracker_store_publishes_each_stored_event_once(tmp_path):
    import asyncio

    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from components.tracker_store import SqlTrackerStore
    from support import ROOT

    domain = Domain.load(ROOT / "domain.yml")
    broker = SqlEventBroker(db=str(tmp_path / "events.db"))
    store = SqlTrackerStore(domain=domain, db=str(tmp_path / "tracker.db"), event_broker=broker)

    async def two_turns() -> None:
        for text in ("how long is a session?", "and the cost?"):
            tracker = await store.retrieve("c-1") or DialogueStateTracker("c-1", domain.slots)
            tracker.update(UserUttered(text))
            tracker.update(ActionExecuted("utter_faq/cost"))
            tracker.update(BotUttered("An answer."))
            tracker.update(ActionExecuted("action_listen"))
            await store.save(tracker)
            await store.save(tracker)  # saved again with nothing new: nothing published

    asyncio.run(two_turns())
    with sa.create_engine(f"sqlite:///{tmp_path / 'tracker.db'}").connect() as connection:
        stored = [
            json.loads(d)
            for (d,) in connection.execute(
                sa.text("SELECT data FROM events WHERE sender_id = 'c-1' ORDER BY id")
            )
        ]
    published = [json.loads(d) for _, _, d in rows(f"sqlite:///{tmp_path / 'events.db'}")]
    assert [{k: v for k, v in e.items() if k != "sender_id"} for e in published] == stored
    assert len(stored) == 8
