"""The web chat channel over a real socket.io connection to the running Rasa server."""

from __future__ import annotations

import sqlite3

import pytest
import requests
from webchat_tabs import Tab

from channels import conversation_ids
from clinic import settings
from clinic.profile import current_profile
from clinic.sms import conversation_id_for
from support import PHONE_HASH_KEY, start_assistant, stop


@pytest.fixture(autouse=True)
def server_key(monkeypatch):
    """The running server's key, with which it signs conversation ids (and hashes phones)."""
    monkeypatch.setenv("CLINIC_PHONE_HASH_KEY", PHONE_HASH_KEY)


def test_a_question_gets_its_answer_then_bot_done(assistant):
    def scenario():
        tab = Tab()
        session = tab.open(assistant.url)
        tab.say(session, "how long is a session?")
        tab.wait_for("bot_done")
        tab.close()
        return session, tab.events

    session, events = scenario()
    assert conversation_ids.is_issued("webchat", session)
    assert current_profile().session_minutes in events["bot_uttered"][0]["text"]
    tracker = assistant.tracker(session)
    assert [e["input_channel"] for e in tracker["events"] if e["event"] == "user"] == ["webchat"]


def test_a_second_tab_of_the_session_sees_the_message_and_the_answer(assistant):
    def scenario():
        first, second = Tab(), Tab()
        session = first.open(assistant.url)
        assert second.open(assistant.url, session) == session
        first.say(session, "what are the side effects?")
        second.wait_for("bot_done")
        echoes = second.wait_for("user_echo")
        for tab in (first, second):
            tab.close()
        return first.events, second.events, echoes

    first, second, echoes = scenario()
    assert echoes[0]["text"] == "what are the side effects?"
    assert "user_echo" not in first
    assert second["bot_uttered"] == first["bot_uttered"]


def test_quick_replies_arrive_as_buttons(assistant):
    def scenario():
        tab = Tab()
        session = tab.open(assistant.url)
        tab.say(session, "I take lithium, can I get ketamine infusions?")
        tab.wait_for("bot_done")
        tab.close()
        return tab.events["bot_uttered"]

    replies = scenario()
    titles = [q["title"] for r in replies for q in r.get("quick_replies", [])]
    assert "Yes, book a consultation" in titles


def test_bad_messages_get_a_reason_and_never_reach_the_bot(assistant):
    def scenario():
        tab = Tab()
        session = tab.open(assistant.url)
        tab.say(None, "hello")  # the session_id trap
        tab.say(session, "x" * 1001)
        tab.say(session, "   ")
        tab.client.emit("user_uttered", "just a string")
        tab.say(session, {"text": "an object"})
        errors = tab.wait_for("error_message", 5)
        tab.close()
        return session, errors

    session, errors = scenario()
    assert sorted(e["code"] for e in errors) == sorted(
        ["no_session", "too_long", "empty", "malformed", "malformed"]
    )
    assert any("1000" in e["text"] for e in errors if e["code"] == "too_long")
    tracker = assistant.tracker(session)
    assert not [e for e in tracker["events"] if e["event"] == "user"]


@pytest.mark.parametrize(
    "made_up",
    [
        "../../etc/passwd",
        "sms-" + "0123456789abcdef" * 4,  # an SMS conversation's shape
        "webchat-" + "ab" * 12 + "-" + "0" * 20,  # the web chat's, not signed here
        conversation_ids.issue("rest"),  # signed, but for another channel
    ],
)
def test_an_id_not_issued_here_for_the_web_chat_is_replaced_by_a_new_one(assistant, made_up):
    def scenario():
        tab = Tab()
        session = tab.open(assistant.url, made_up)
        errors = tab.wait_for("error_message")
        tab.close()
        return session, errors

    session, errors = scenario()
    assert session != made_up and conversation_ids.is_issued("webchat", session)
    assert errors[0]["code"] == "bad_session"


def test_an_sms_conversation_cannot_be_joined_from_the_web(assistant):
    """Whoever learnt an SMS conversation id (a console URL, a log line) could join it from
    the public web, write into it and receive the staff's replies meant for the patient."""
    sms_conversation = conversation_id_for("+15550104477", settings.current().phone_hash_key.get())

    def scenario():
        tab = Tab()
        session = tab.open(assistant.url, sms_conversation)
        tab.say(sms_conversation, "hello")
        errors = tab.wait_for("error_message", 2)
        tab.close()
        return session, errors

    session, errors = scenario()
    assert session != sms_conversation
    assert [e["code"] for e in errors] == ["bad_session", "no_session"]
    assert not [e for e in assistant.tracker(sms_conversation)["events"] if e["event"] == "user"]


def test_a_socket_that_changes_conversation_leaves_the_old_one(assistant):
    def scenario():
        mover, other = Tab(), Tab()
        first = mover.open(assistant.url)
        second = other.open(assistant.url)
        assert mover.open_again(second) == second
        stayer = Tab()
        assert stayer.open(assistant.url, first) == first
        stayer.say(first, "how long is a session?")
        stayer.wait_for("bot_done")
        # The first conversation's replies were sent before this turn starts, and one
        # socket's events arrive in order: had it stayed, they would be here by now.
        mover.say(second, "what does it cost?")
        mover.wait_for("bot_done")
        for tab in (mover, other, stayer):
            tab.close()
        return mover.events

    events = scenario()
    assert not any(
        current_profile().session_minutes in e.get("text", "") for e in events["bot_uttered"]
    )
    assert len(events["bot_done"]) == 1 and "user_echo" not in events


def test_the_widget_and_the_clinic_details_are_served(assistant):
    config = requests.get(f"{assistant.url}/webhooks/webchat/config", timeout=10)
    assert config.json()["phone"] == current_profile().phone
    assert config.headers["Access-Control-Allow-Origin"] == "*"
    widget = requests.get(f"{assistant.url}/webhooks/webchat/widget.js", timeout=10)
    assert widget.status_code == 200, "build the widget: make setup"
    assert widget.headers["Content-Type"].startswith("application/javascript")


def test_a_flood_from_one_socket_is_slowed_and_a_crisis_still_answered(assistant):
    """Web chat had no rate limit: a script could page staff and load the server at will."""

    def scenario():
        flooder, other = Tab(), Tab()
        session = flooder.open(assistant.url)
        for _ in range(30):
            flooder.say(session, "how long is a session?")
        limited = flooder.wait_for("error_message", 5)
        flooder.say(session, "i want to kill myself")
        second = other.open(assistant.url)
        other.say(second, "how long is a session?")
        other.wait_for("bot_done")
        flooder.wait_until(
            lambda: any("988" in e.get("text", "") for e in flooder.events.get("bot_uttered", []))
        )
        for tab in (flooder, other):
            tab.close()
        return limited, flooder.events, other.events

    limited, flooder, other = scenario()
    assert {e["code"] for e in limited} == {"rate_limited"}
    assert "wait" in limited[0]["text"]
    assert any("988" in e.get("text", "") for e in flooder["bot_uttered"])
    assert "error_message" not in other and other["bot_uttered"]


def test_with_the_database_gone_a_crisis_still_gets_its_reply(trained_model, tmp_path):
    running, processes = start_assistant(tmp_path, trained_model, with_action_server=False)
    tab = Tab()
    try:
        session = tab.open(running.url)
        with sqlite3.connect(tmp_path / "assistant.db") as connection:
            connection.execute("DROP TABLE events")
        tab.say(session, "i want to kill myself tonight")
        [reply] = tab.wait_for("bot_uttered")
        tab.wait_for("bot_done")
        tab.say(session, "how much is a session")
        [problem] = tab.wait_for("error_message")
    finally:
        tab.close()
        stop(processes)
    assert "988" in reply["text"] and "may not have seen" in reply["text"]
    assert problem["code"] == "server" and "try again" in problem["text"]
