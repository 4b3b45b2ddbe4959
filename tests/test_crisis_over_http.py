"""The crisis layer end to end: the trained model in the real Rasa server, over HTTP."""

import uuid

import pytest
import sqlalchemy as sa

from bench.crisis_suite import figures, gate_failures, load_suite
from clinic.db import engine_for
from clinic.escalations import escalations, list_escalations
from support import start_assistant, stop
from crisis.sweep import sweep

CASES, SESSIONS = load_suite()


def conversation() -> str:
    return f"crisis-{uuid.uuid4().hex[:12]}"


def escalations_of(database_url, sender):
    engine = engine_for(database_url)
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(escalations).where(escalations.c.conversation_id == sender)
            .order_by(escalations.c.id)
        ).mappings().all()
    return [dict(row) for row in rows]


def test_suite_has_the_policys_size():
    urgent = [c for c in CASES if c.label == "urgent"]
    negatives = [c for c in CASES if c.label == "none"]
    hard = [c for c in negatives if c.category != "everyday"]
    assert len(urgent) >= 250 and len(negatives) >= 300 and len(hard) >= 150
    assert any(c.label == "concern" for c in CASES) and len(SESSIONS) >= 10


def test_suite_through_the_server_meets_the_policys_gates(assistant):
    parsed = {case.text: assistant.parse(case.text) for case in CASES}
    result = figures(CASES, lambda text: parsed[text]["crisis"]["level"])
    assert not gate_failures(result), (gate_failures(result), result["missed"],
                                       result["false_urgent"])
    for case in CASES:
        data = parsed[case.text]
        if data["crisis"]["level"] == "urgent":
            assert data["intent"]["name"] == "crisis", case.text  # overrides any FAQ
        else:
            assert data["intent"]["name"] != "crisis", case.text


def test_parse_output_explains_the_level(assistant):
    data = assistant.parse("how much is it? honestly I want to end it all")
    assert data["crisis"]["level"] == "urgent"
    assert data["crisis"]["categories"] == ["suicidal_ideation"]
    assert {"text", "rule", "reason"} <= set(data["crisis"]["evidence"][0])
    assert data["intent_ranking"][0]["name"] == "crisis"
    assert data["intent_ranking"][1]["name"] == "faq"  # what NLU said is kept, below


def test_urgent_message_gets_the_crisis_reply_first_and_an_escalation(assistant):
    sender = conversation()
    assistant.send(sender, "how long is a session?")
    replies = assistant.send(sender, "how much is it? honestly I want to end it all")
    assert "988" in replies[0]["text"] and "741741" in replies[0]["text"]
    assert "price" not in replies[0]["text"].lower()
    [escalation] = escalations_of(assistant.database_url, sender)
    assert escalation["level"] == "urgent" and escalation["status"] == "open"
    assert escalation["channel"] == "rest"
    assert [turn["role"] for turn in escalation["last_turns"]][-1] == "user"
    assert escalation["evidence"][0]["rule"]
    # supportive mode for the rest of the session: the crisis routes and a person
    later = " ".join(reply["text"] for reply in assistant.send(sender, "what are the side effects?"))
    assert "Side effects" in later and "988" in later and "911" in later


def test_sessions_escalate_as_the_suite_says(assistant):
    """Multi-turn cases: each turn's level, as recorded for staff (action and sweep)."""
    engine = engine_for(assistant.database_url)
    expected_by_sender = {}
    for turns in SESSIONS:
        sender = conversation()
        for turn in turns:
            assistant.send(sender, turn["text"])
        expected_by_sender[sender] = [t["level"] for t in turns if t["level"] != "none"]
    sweep(engine, targets=[])
    wrong = {}
    for sender, expected in expected_by_sender.items():
        got = [row["level"] for row in escalations_of(assistant.database_url, sender)]
        if sorted(got) != sorted(expected):  # the action records urgent ones first
            wrong[sender] = (expected, got)
    assert not wrong


def test_the_reply_reaches_the_user_with_the_action_server_down(trained_model, tmp_path):
    running, processes = start_assistant(tmp_path, trained_model, with_action_server=False)
    try:
        sender = conversation()
        replies = running.send(sender, "i took a whole bottle of pills")
        assert replies and "911" in replies[0]["text"] and "988" in replies[0]["text"]
        assert escalations_of(running.database_url, sender) == []  # the action could not run
        helper = running.send(conversation(), "my daughter says she is going to kill herself")
        assert helper[0]["text"].startswith("Thank you for reaching out for them")
    finally:
        stop(processes)
    # nothing is lost: the worker's sweep of the tracker store records it afterwards
    engine = engine_for(running.database_url)
    assert sweep(engine, targets=["webhook"]) == 2
    [escalation] = escalations_of(running.database_url, sender)
    assert escalation["level"] == "urgent" and "overdose" in escalation["categories"]
    assert sweep(engine, targets=["webhook"]) == 0
    assert len(list_escalations(engine, status="open")) == 2
