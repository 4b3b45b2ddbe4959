"""The conversation index (`projector.index`) over conversations held with the real assistant
(held_conversations.py): fed by its event broker with what the NLU made of each message,
rebuilt from its tracker store into the same index, the same events twice changing nothing, and
a follower that keeps up while the assistant runs; a fresh index database per test."""

from __future__ import annotations

import time
import uuid

from held_conversations import indexed_turns, summary

from clinic.db import engine_for
from projector import index
from support import migrated_engine


def test_the_broker_feeds_each_message_with_what_the_nlu_made_of_it(index_db, held, assistant):
    turns = indexed_turns(index_db, held["faq"])
    tracker = assistant.tracker(held["faq"])
    said = [e["text"] for e in tracker["events"] if e["event"] == "user"]
    answered = [e["text"] for e in tracker["events"] if e["event"] == "bot"]
    assert [t["text"] for t in turns if t["role"] == "user"] == said
    assert [t["text"] for t in turns if t["role"] == "bot"] == answered
    first = turns[0]
    assert (first["intent"], first["faq_topic"], first["crisis_level"]) == (
        "faq",
        "session_length",
        "none",
    )
    assert first["outcome"] in (index.ANSWERED, index.LOW_CONFIDENCE)
    row = summary(index_db, held["faq"])
    assert (row["channel"], row["user_messages"], row["crisis_rank"]) == ("rest", 2, 0)
    assert row["first_message"] == "how long is a session?"


def test_fallbacks_and_crises_are_marked(index_db, held):
    outcomes = [
        t["outcome"] for t in indexed_turns(index_db, held["gibberish"]) if t["role"] == "user"
    ]
    assert len(outcomes) == 2 and set(outcomes) <= {index.FALLBACK, index.OUT_OF_SCOPE}
    assert summary(index_db, held["gibberish"])["not_understood"] == 2
    [crisis] = [t for t in indexed_turns(index_db, held["crisis"]) if t["role"] == "user"]
    assert (crisis["crisis_level"], crisis["outcome"]) == ("urgent", index.CRISIS)
    assert summary(index_db, held["crisis"])["crisis_rank"] == index.CRISIS_RANKS["urgent"]


def test_a_rebuild_from_the_tracker_store_gives_the_same_index(index_db, held, assistant, tmp_path):
    rebuilt = migrated_engine(f"sqlite:///{tmp_path / 'rebuilt.db'}")
    broker = index.broker_engine(assistant.events_database_url)
    index.rebuild(rebuilt, engine_for(assistant.database_url), broker)
    for conversation_id in held.values():
        assert indexed_turns(rebuilt, conversation_id) == indexed_turns(index_db, conversation_id)
        assert summary(rebuilt, conversation_id) == summary(index_db, conversation_id)
    # The broker's events the rebuild has seen already are not applied a second time.
    index.catch_up(rebuilt, broker, index.BROKER)
    for conversation_id in held.values():
        assert indexed_turns(rebuilt, conversation_id) == indexed_turns(index_db, conversation_id)


def test_applying_the_same_events_again_changes_nothing(index_db, held, assistant):
    before = indexed_turns(index_db, held["faq"]), summary(index_db, held["faq"])
    events = assistant.tracker(held["faq"])["events"]
    with index_db.begin() as connection:
        assert index.apply_events(connection, [(held["faq"], e) for e in events]) == 0
    assert (indexed_turns(index_db, held["faq"]), summary(index_db, held["faq"])) == before


def test_the_console_follows_the_broker_while_it_runs(assistant, index_url):
    engine = migrated_engine(index_url)
    stop = index.start_follower(engine, index.broker_engine(assistant.events_database_url))
    try:
        conversation_id = f"rest-console-live-{uuid.uuid4().hex[:8]}"
        assistant.send(conversation_id, "how long does one infusion session last?")
        deadline = time.monotonic() + 20
        while not indexed_turns(engine, conversation_id) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert indexed_turns(engine, conversation_id)[0]["faq_topic"] == "session_length"
    finally:
        stop.set()
