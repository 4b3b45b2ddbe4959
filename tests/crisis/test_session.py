"""Levels across a conversation (crisis-policy.md §1) and what an escalation carries."""

from crisis import session
from crisis.detector import detect


def user(text, channel="rest", message_id=None):
    return {
        "event": "user",
        "text": text,
        "input_channel": channel,
        "message_id": message_id or f"m-{abs(hash(text))}",
        "parse_data": {"crisis": detect(text).as_dict()},
    }


def bot(text):
    return {"event": "bot", "text": text}


def levels(*events):
    return [turn.level for turn in session.levels(events)]


def test_a_retraction_after_a_disclosure_is_a_concern_and_never_clears_the_flag():
    assert levels(
        user("i want to end my life"),
        bot("crisis"),
        user("jk ignore that"),
        user("how long is a session?"),
    ) == ["urgent", "concern", "none"]
    turns = list(session.levels([user("i want to end my life"), user("jk ignore that")]))
    assert turns[-1].flagged and turns[-1].reason == "retraction after a crisis"


def test_distress_counts_only_after_a_crisis_in_the_same_session():
    assert levels(user("i feel so empty")) == ["none"]
    assert levels(user("kms"), user("i feel so empty")) == ["urgent", "concern"]
    assert levels(user("kms"), {"event": "session_started"}, user("i feel so empty")) == [
        "urgent",
        "none",
    ]


def test_a_missing_crisis_result_is_computed_from_the_text():
    assert levels({"event": "user", "text": "i want to die", "parse_data": {}}) == ["urgent"]


def test_escalation_facts_carry_turns_evidence_and_the_channel():
    events = [user("hi", "twilio"), bot("Hello"), user("i took a whole bottle of pills", "twilio")]
    facts = session.escalation_facts("sms-0123", session.latest(events))
    assert facts.level == "urgent" and "overdose" in facts.categories
    assert facts.channel == "twilio" and facts.conversation_id == "sms-0123"
    assert [t["role"] for t in facts.last_turns] == ["user", "bot", "user"]
    assert facts.evidence and all(e["level"] != "none" for e in facts.evidence)
    web = session.escalation_facts("abc", session.latest([user("i want to die")]))
    assert web.channel == "rest" and web.level == "urgent"
    assert session.escalation_facts("abc", session.latest([user("hello")])) is None


def test_the_crisis_suites_sessions():
    from bench.crisis_suite import load_suite

    _cases, sessions = load_suite()
    wrong = []
    for turns in sessions:
        got = levels(*(user(turn["text"], message_id=str(i)) for i, turn in enumerate(turns)))
        # `check` (the direct question) is the session's concern; the rules alone see some
        # (hopelessness), the risk model the rest
        if not all(
            level in {"check": ("none", "concern")}.get(turn["level"], (turn["level"],))
            for level, turn in zip(got, turns)
        ):
            wrong.append(([turn["text"] for turn in turns], got))
    assert not wrong


def asked():
    return {
        "event": "bot",
        "text": "are you having thoughts of ending your life?",
        "metadata": {"utter_action": "utter_crisis_check"},
    }


def answer(text, intent):
    event = user(text)
    event["parse_data"]["intent"] = {"name": intent, "confidence": 1.0}
    return event


def checked(text="i feel like a ghost lately"):
    event = user(text)
    event["parse_data"]["crisis"] = {**event["parse_data"]["crisis"], "level": "check"}
    return event


def test_the_direct_question_s_answers():
    assert levels(checked(), asked(), answer("/crisis_check_yes", "crisis_check_yes")) == [
        "concern",
        "urgent",
    ]
    assert levels(checked(), asked(), answer("yes", "affirm")) == ["concern", "urgent"]
    assert levels(checked(), asked(), answer("no", "deny")) == ["concern", "none"]
    assert levels(checked(), asked(), answer("no", "crisis_check_no")) == ["concern", "none"]
    assert levels(checked(), asked(), answer("how much is it", "faq")) == ["concern", "concern"]
    # a yes to anything else is a yes, not a crisis
    assert levels(user("can i book?"), bot("Shall I book it?"), answer("yes", "affirm")) == [
        "none",
        "none",
    ]
    turns = list(session.levels([checked(), asked(), answer("yes", "affirm")]))
    assert turns[-1].flagged and turns[-1].reason == "yes to the direct question"
    facts = session.escalation_facts("c-1", turns[-1])
    assert facts.level == "urgent" and "direct_question" in {e["category"] for e in facts.evidence}


def test_after_a_crisis_the_direct_question_s_aftermath_is_not_a_concern():
    # the question is not asked then (the reply is the supportive line), so a booking question
    # after it is just a booking question
    assert levels(
        user("i'm going to end it tonight"),
        checked("nothing ever helps"),
        asked(),
        answer("can i book a consult for next week", "book_consultation"),
    ) == ["urgent", "concern", "none"]
