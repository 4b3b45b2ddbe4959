"""What the projector (`projector.index`) calls a message's outcome, from the NLU's reading of
it."""

import pytest
import sqlalchemy as sa

from console.conversations.queries import not_understood_messages
from projector.index import (
    ANSWERED,
    CRISIS,
    FALLBACK,
    FORM_ANSWER,
    LOW_CONFIDENCE,
    OUT_OF_SCOPE,
    WITH_STAFF,
    apply_events,
    conversations,
    outcome_of,
    turns,
)
from support import migrated_engine


@pytest.mark.parametrize(
    "intent, confidence, answer_confidence, crisis, expected",
    [
        ("faq", 0.85, 0.97, "none", ANSWERED),  # a close match, a sure answer
        ("faq", 0.62, 0.91, "none", ANSWERED),  # a paraphrase: similarity in the 0.6s is normal
        ("faq", 0.45, 0.95, "none", LOW_CONFIDENCE),  # past the gate (0.4), but a loose match
        ("faq", 0.80, 0.55, "none", LOW_CONFIDENCE),  # past the answer gate (0.5), barely
        ("greet", 0.70, None, "none", ANSWERED),
        ("nlu_fallback", 0.30, 0.20, "none", FALLBACK),
        ("out_of_scope", 0.90, None, "none", OUT_OF_SCOPE),
        ("faq", 0.90, 0.99, "urgent", CRISIS),
    ],
)
def test_outcomes(intent, confidence, answer_confidence, crisis, expected):
    assert outcome_of(intent, confidence, answer_confidence, crisis) == expected


def user(text, ts, intent="nlu_fallback", confidence=0.3, level="none"):
    return {
        "event": "user",
        "timestamp": ts,
        "text": text,
        "input_channel": "webchat",
        "parse_data": {
            "intent": {"name": intent, "confidence": confidence},
            "crisis": {"level": level},
        },
    }


def test_form_answers_and_messages_to_staff_are_never_not_understood(tmp_path):
    """The contact form's answers (a name typed into it) and what a person wrote while staff
    held the conversation were listed as "not understood": noise, and personal data in a list
    meant for training."""
    engine = migrated_engine(f"sqlite:///{tmp_path / 'index.db'}")
    events = [
        user("can someone call me back", 1.0, "request_contact", 0.9),
        {"event": "active_loop", "timestamp": 2.0, "name": "contact_form"},
        user("jordan ellis", 3.0),
        user("how long is a session", 3.5, "faq", 0.9),  # a question during the form
        {"event": "active_loop", "timestamp": 4.0, "name": None},
        {"event": "active_loop", "timestamp": 4.5, "name": "action_two_stage_fallback"},
        user("qwerty uiop", 5.0),
        {"event": "active_loop", "timestamp": 5.5, "name": None},
        {"event": "pause", "timestamp": 6.0},
        user("ok thank you so much", 7.0),
        user("i want to end my life", 8.0, "faq", 0.5, level="urgent"),
        {"event": "resume", "timestamp": 9.0},
    ]
    with engine.begin() as connection:
        apply_events(connection, [("web-1", event) for event in events])
    outcomes = {m["text"]: m["outcome"] for m in not_understood_messages(engine, None)}
    assert outcomes == {"qwerty uiop": FALLBACK}
    with engine.connect() as connection:
        stored = dict(connection.execute(sa.select(turns.c.text, turns.c.outcome)).all())
        summary = connection.execute(sa.select(conversations)).mappings().one()
    assert stored["jordan ellis"] == FORM_ANSWER
    assert stored["how long is a session"] == ANSWERED
    assert stored["ok thank you so much"] == WITH_STAFF
    assert stored["i want to end my life"] == CRISIS
    assert (summary["not_understood"], summary["active_form"], summary["paused"]) == (
        1,
        None,
        False,
    )
