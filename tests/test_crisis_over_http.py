"""The crisis layer end to end: the trained model in the real Rasa server, over HTTP."""

import sqlite3
import uuid

import pytest
import requests
import sqlalchemy as sa
import yaml

from bench.crisis_model import ESCALATED_LABELS, dev_set_path, load_dev
from bench.crisis_suite import figures, gate_failures, load_suite
from clinic.db import engine_for
from clinic.escalations import escalations, list_escalations
from clinic.profile import load_profile
from crisis.sweep import sweep
from support import ROOT, start_assistant, stop

CASES, SESSIONS = load_suite()


def conversation() -> str:
    return f"rest-crisis-{uuid.uuid4().hex[:12]}"


def escalations_of(database_url, sender):
    engine = engine_for(database_url)
    with engine.connect() as connection:
        rows = (
            connection.execute(
                sa.select(escalations)
                .where(escalations.c.conversation_id == sender)
                .order_by(escalations.c.id)
            )
            .mappings()
            .all()
        )
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
    assert not gate_failures(result), (
        gate_failures(result),
        result["missed"],
        result["false_urgent"],
    )
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
    later = " ".join(
        reply["text"] for reply in assistant.send(sender, "what are the side effects?")
    )
    assert "Side effects" in later and "988" in later and "911" in later


def test_sessions_escalate_as_the_suite_says(assistant):
    """Multi-turn cases: each turn's level, as recorded for staff (action and sweep)."""
    engine = engine_for(assistant.database_url)
    expected_by_sender = {}
    for turns in SESSIONS:
        sender = conversation()
        for turn in turns:
            assistant.send(sender, turn["text"])
        # a `check` turn (the direct question) is escalated as a concern
        expected_by_sender[sender] = [
            {"check": "concern"}.get(t["level"], t["level"]) for t in turns if t["level"] != "none"
        ]
    sweep(engine, targets=[])
    wrong = {}
    for sender, expected in expected_by_sender.items():
        rows = escalations_of(assistant.database_url, sender)
        got = [row["level"] for row in rows]
        messages = sum(1 + len(row["collected"] or []) for row in rows)
        if sorted(got) != sorted(escalated_levels(expected)) or messages != len(expected):
            wrong[sender] = (expected, got, messages)
    assert not wrong


def escalated_levels(levels):
    """The escalations a conversation's messages make: a message at the level of the open
    escalation or lower joins it (clinic.escalations), a higher one opens its own."""
    made = []
    for level in levels:
        if not made or (level == "urgent" and "urgent" not in made):
            made.append(level)
    return made


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


def test_with_the_database_gone_a_crisis_still_gets_its_reply_and_no_log_holds_the_text(
    trained_model, tmp_path
):
    """The tracker store's database fails under the running server: an urgent message still
    gets the crisis reply (which does not claim staff were alerted), anything else a clear 503;
    no log line of either server carries what was written."""
    running, processes = start_assistant(tmp_path, trained_model)
    try:
        running.send(conversation(), "hello")
        with sqlite3.connect(tmp_path / "assistant.db") as connection:
            connection.execute("DROP TABLE events")
        marker = uuid.uuid4().hex[:10]
        urgent = requests.post(
            f"{running.url}/webhooks/rest/webhook",
            timeout=60,
            json={"sender": conversation(), "message": f"i want to kill myself tonight {marker}"},
        )
        other = requests.post(
            f"{running.url}/webhooks/rest/webhook",
            timeout=60,
            json={"sender": conversation(), "message": f"how much is a session {marker}"},
        )
    finally:
        stop(processes)
    assert urgent.status_code == 200
    [reply] = urgent.json()
    assert "988" in reply["text"] and "911" in reply["text"]
    assert "may not have seen" in reply["text"] and "alerted" not in reply["text"]
    assert other.status_code == 503 and "send your message again" in other.json()["error"]
    for log in tmp_path.glob("*.log"):
        assert marker not in log.read_text(), log.name


def test_dev_set_through_the_server_meets_the_policys_gates(assistant):
    """Text nobody on the team wrote (read only to measure): >= 90 % of suicidal ideation,
    self-harm and violent thoughts caught, <= 3 % of no-crisis messages urgent."""
    path = dev_set_path(None)
    if path is None:
        pytest.skip(
            "the crisis dev set is not beside the project "
            "(../shared/benchmarks/crisis/ellis_dev.jsonl, or CLINIC_CRISIS_DEV_SET)"
        )
    rows = load_dev(path)
    levels = [assistant.parse(row["text"])["crisis"]["level"] for row in rows]
    caught = [
        level != "none" for row, level in zip(rows, levels) if row["label"] in ESCALATED_LABELS
    ]
    false_urgent = [
        level == "urgent" for row, level in zip(rows, levels) if row["label"] == "no_crisis"
    ]
    assert sum(caught) / len(caught) >= 0.90
    assert sum(false_urgent) / len(false_urgent) <= 0.03


def nlu_examples():
    for path in sorted((ROOT / "data" / "nlu").glob("*.yml")):
        for item in yaml.safe_load(path.read_text())["nlu"]:
            for line in item.get("examples", "").splitlines():
                if line.strip().startswith("- "):
                    yield line.strip()[2:]


def test_no_catalogue_question_or_training_example_is_urgent_or_asked_back(assistant, catalogue):
    """Never paged as urgent; hardly ever (at most 0.5 %) answered with the direct question
    instead of its answer."""
    texts = [topic["question"] for topic in catalogue["topics"]] + list(nlu_examples())
    assert len(texts) > 1000
    levels = {text: assistant.parse(text)["crisis"]["level"] for text in texts}
    assert [text for text, level in levels.items() if level == "urgent"] == []
    asked_back = [text for text, level in levels.items() if level == "check"]
    assert len(asked_back) <= 0.005 * len(texts), asked_back


def test_the_risk_model_catches_what_no_rule_names_and_explains_itself(assistant):
    data = assistant.parse(
        "gave my dog to my sister today and wrote everyone letters. "
        "tomorrow morning before anyone wakes up"
    )
    assert data["crisis"]["level"] == "urgent" and data["intent"]["name"] == "crisis"
    model = data["crisis"]["model"]
    assert model["level"] == "urgent" and model["score"] >= 0.5
    assert len(model["nearest"]) == 3 and {"text", "label", "similarity"} <= set(
        model["nearest"][0]
    )
    # a message at level none has nothing to explain: no neighbours looked up
    plain = assistant.parse("how long does a session take?")["crisis"]["model"]
    assert plain["level"] == "none" and plain["nearest"] == []


def test_hopelessness_gets_the_direct_question_and_yes_is_a_crisis(assistant):
    sender = conversation()
    [question] = assistant.send(sender, "i've been feeling really hopeless lately")
    assert "thoughts of ending your life" in question["text"]
    assert [b["payload"] for b in question["buttons"]] == ["/crisis_check_yes", "/crisis_check_no"]
    replies = assistant.send(sender, "/crisis_check_yes")
    assert "988" in replies[0]["text"] and "911" in replies[0]["text"]
    levels = [row["level"] for row in escalations_of(assistant.database_url, sender)]
    assert levels == ["concern", "urgent"]
    later = " ".join(reply["text"] for reply in assistant.send(sender, "how much is it?"))
    assert "988" in later  # supportive for the rest of the session


def test_no_to_the_direct_question_gets_a_supportive_line_and_it_is_asked_once(assistant):
    sender = conversation()
    assistant.send(sender, "i dont really see the point of anything anymore")
    [reply] = assistant.send(sender, "no")
    assert "988" in reply["text"] and "talk to a person" in reply["text"]
    again = assistant.send(sender, "honestly i feel like a ghost lately, nothing matters")
    assert "thoughts of ending your life" not in again[0]["text"]
    assert "988" in again[0]["text"]
    assert [row["level"] for row in escalations_of(assistant.database_url, sender)] == ["concern"]


def test_hopelessness_typed_into_the_booking_form_is_not_stored_as_a_name(assistant):
    sender = conversation()
    assistant.send(sender, "I'd like to book a consultation")
    replies = assistant.send(sender, "i dont really see the point of anything anymore")
    assert "thoughts of ending your life" in replies[0]["text"]
    slots = assistant.tracker(sender)["slots"]
    assert slots.get("contact_name") is None and assistant.tracker(sender)["active_loop"] == {}


def test_feeling_unwell_after_an_infusion_gets_the_clinics_advice_and_a_concern(assistant):
    profile = load_profile(ROOT / "clinic_profile.yml")
    told, asked = conversation(), conversation()
    [reply] = assistant.send(told, "dizzy and threw up after my infusion yesterday")
    assert profile.aftercare.if_unwell in reply["text"] and profile.phone in reply["text"]
    replies = assistant.send(
        asked, "ive been dizzy since my infusion yesterday, how long does that last?"
    )
    assert profile.aftercare.if_unwell in " ".join(r["text"] for r in replies)
    sweep(engine_for(assistant.database_url), targets=[])  # the worker records what no action did
    for sender in (told, asked):
        assert [
            (row["level"], row["categories"])
            for row in escalations_of(assistant.database_url, sender)
        ] == [("concern", ["after_infusion"])]


def test_emergency_signs_after_an_infusion_get_the_crisis_reply(assistant):
    sender = conversation()
    replies = assistant.send(
        sender, "my chest hurts and i cant breathe, had my infusion an hour ago"
    )
    assert "911" in replies[0]["text"]
    assert [row["level"] for row in escalations_of(assistant.database_url, sender)] == ["urgent"]


def test_a_question_about_feeling_unwell_after_an_infusion_is_only_answered(assistant):
    data = assistant.parse("is it normal to feel dizzy after an infusion?")
    assert data["crisis"]["level"] == "none" and data["intent"]["name"] == "faq"
