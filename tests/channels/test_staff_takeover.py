"""The staff API (channels/staff.py) through the real Rasa server: take over, reply and hand
back on web chat (a real socket.io client), on SMS (the stand-in Twilio cloud of conftest.py)
and on the REST channel, and its bearer token."""

from __future__ import annotations

import secrets
import time
from typing import Any, Dict, List, Optional
from urllib.parse import quote

import pytest
import requests
from sms_webhooks import (  # signed webhooks like Twilio's
    bodies_of,
    conversation_of,
    inbound,
    new_phone,
    post,
    signature,
    sms_variant,
)
from webchat_tabs import Tab

from clinic.profile import current_profile
from crisis.session import escalation_facts, levels

PROFILE = current_profile()
STAFF_TEXT = "Hi, this is Sam from the clinic."


@pytest.fixture
def staff_api(assistant, staff_api_token):
    """GET a conversation's state, or POST an action (as staff member "sam" by default)."""

    def call(
        conversation_id: str,
        action: Optional[str] = None,
        body: Optional[Dict[str, Any]] = None,
        token: Optional[str] = staff_api_token,
    ) -> requests.Response:
        url = f"{assistant.url}/webhooks/staff/conversations/{quote(conversation_id, safe='')}"
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if action is None:
            return requests.get(url, headers=headers, timeout=60)
        return requests.post(
            f"{url}/{action}",
            json={"staff": "sam"} if body is None else body,
            headers=headers,
            timeout=60,
        )

    return call


def web_variant(domain, name: str) -> str:
    [variant] = [v for v in domain["responses"][name] if not v.get("channel")]
    return variant["text"].format(**PROFILE.template_values())


def events_after(tracker: Dict[str, Any], kind: str) -> List[Dict[str, Any]]:
    """The events after the latest one of `kind`."""
    events = tracker["events"]
    last = max(i for i, e in enumerate(events) if e["event"] == kind)
    return events[last + 1 :]


def test_web_chat_staff_take_over_reply_and_hand_back(assistant, staff_api, domain):
    tab = Tab()
    session = tab.open(assistant.url)
    tab.say(session, "how long is a session?")
    tab.wait_for("bot_done")
    answered = len(tab.events["bot_uttered"])

    taken = staff_api(session, "take-over")
    assert taken.status_code == 200, taken.text
    assert taken.json() == {
        "conversation_id": session,
        "channel": "webchat",
        "paused": True,
        "taken_over_by": "sam",
        "chat_open": True,
        "notified": True,
        "problem": None,
    }
    joined = tab.wait_for("bot_uttered", answered + 1)[-1]
    assert joined["text"] == web_variant(domain, "utter_staff_joined")

    tab.say(session, "what are the side effects?")  # recorded, never answered by the bot
    tab.wait_for("bot_done", 2)
    assert len(tab.events["bot_uttered"]) == answered + 1

    replied = staff_api(session, "reply", {"staff": "sam", "text": STAFF_TEXT})
    assert replied.status_code == 200 and replied.json()["sent"] is True, replied.text
    assert tab.wait_for("bot_uttered", answered + 2)[-1]["text"] == STAFF_TEXT

    handed = staff_api(session, "hand-back")
    assert handed.status_code == 200 and handed.json()["paused"] is False, handed.text
    assert handed.json()["notified"] is True
    left = tab.wait_for("bot_uttered", answered + 3)[-1]
    assert left["text"] == web_variant(domain, "utter_staff_left")

    tab.say(session, "how long is a session?")  # the assistant answers again
    tab.wait_for("bot_done", 3)
    again = tab.events["bot_uttered"][answered + 3 :]
    tab.close()
    assert again and PROFILE.session_minutes in again[0]["text"]

    tracker = assistant.tracker(session)
    while_paused = events_after(tracker, "pause")
    assert while_paused[0]["event"] == "bot"
    assert while_paused[0]["metadata"]["utter_action"] == "utter_staff_joined"
    user, staff = [e for e in while_paused if e["event"] in ("user", "bot")][1:3]
    assert user["event"] == "user" and user["text"] == "what are the side effects?"
    assert staff["event"] == "bot" and staff["text"] == STAFF_TEXT
    assert staff["metadata"] == {"staff": "sam"}
    pause = next(e for e in tracker["events"] if e["event"] == "pause")
    resume = next(e for e in tracker["events"] if e["event"] == "resume")
    assert pause["metadata"] == resume["metadata"] == {"staff": "sam"}
    assert tracker["paused"] is False


def test_a_closed_web_chat_says_so_and_gets_no_message(assistant, staff_api):
    first, second = Tab(), Tab()
    session = first.open(assistant.url)
    first.say(session, "hello")
    first.wait_for("bot_done")
    second.open(assistant.url, session)  # a second tab of the same conversation
    assert staff_api(session, "take-over").json()["chat_open"] is True
    first.close()
    assert staff_api(session).json()["chat_open"] is True  # the other tab is still open
    second.close()
    deadline = time.monotonic() + 20
    while staff_api(session).json()["chat_open"] and time.monotonic() < deadline:
        time.sleep(0.2)  # the disconnect reaches the server a moment later
    assert staff_api(session).json()["chat_open"] is False

    replied = staff_api(session, "reply", {"staff": "sam", "text": "Are you there?"})
    assert replied.status_code == 409 and "closed the chat" in replied.json()["error"]
    handed = staff_api(session, "hand-back")
    assert handed.status_code == 200 and handed.json()["notified"] is False
    assert "closed the chat" in handed.json()["problem"]
    bot_texts = [e.get("text") for e in assistant.tracker(session)["events"] if e["event"] == "bot"]
    assert "Are you there?" not in bot_texts

    again = Tab()  # the person opens the chat again: messages reach them
    again.open(assistant.url, session)
    assert staff_api(session).json()["chat_open"] is True
    again.close()


@pytest.fixture
def texts(assistant, twilio_cloud):
    """Send a correctly signed SMS; the TwiML reply's bodies."""

    def text(phone: str, body: str) -> List[str]:
        params = inbound(phone, body)
        return bodies_of(post(assistant, params, signature(twilio_cloud.auth_token, params)))

    return text


def test_sms_staff_messages_go_through_twilio(assistant, staff_api, texts, twilio_cloud, domain):
    phone = new_phone()
    assert texts(phone, "hello")
    conversation = conversation_of(phone)

    taken = staff_api(conversation, "take-over")
    assert taken.status_code == 200 and taken.json()["notified"] is True, taken.text
    assert twilio_cloud.sent_to(phone) == sms_variant(domain, "utter_staff_joined")
    assert texts(phone, "is anyone there?") == []  # paused: no bot reply in the TwiML

    replied = staff_api(
        conversation, "reply", {"staff": "sam", "text": "Yes, this is Sam at the clinic."}
    )
    assert replied.status_code == 200, replied.text
    assert twilio_cloud.sent_to(phone)[-1] == "Yes, this is Sam at the clinic."

    assert staff_api(conversation, "hand-back").status_code == 200
    assert twilio_cloud.sent_to(phone)[-1:] == sms_variant(domain, "utter_staff_left")
    assert texts(phone, "how long is a session?")  # answered again
    user_texts = [
        e["text"] for e in assistant.tracker(conversation)["events"] if e["event"] == "user"
    ]
    assert "is anyone there?" in user_texts


def test_an_opted_out_number_gets_nothing_from_staff(assistant, staff_api, texts, twilio_cloud):
    phone = new_phone()
    texts(phone, "hello")
    assert texts(phone, "STOP") == []
    conversation = conversation_of(phone)

    taken = staff_api(conversation, "take-over")
    assert taken.status_code == 200 and taken.json()["paused"] is True, taken.text
    assert taken.json()["notified"] is False and "opted out" in taken.json()["problem"]
    replied = staff_api(conversation, "reply", {"staff": "sam", "text": "Hello?"})
    assert replied.status_code == 409 and "opted out" in replied.json()["error"]
    assert twilio_cloud.sent_to(phone) == []
    bot_texts = [
        e.get("text") for e in assistant.tracker(conversation)["events"] if e["event"] == "bot"
    ]
    assert "Hello?" not in bot_texts


def test_a_rest_conversation_can_be_paused_but_not_replied_to(assistant, staff_api):
    sender = f"rest-{secrets.token_hex(8)}"
    assert assistant.send(sender, "hello")
    taken = staff_api(sender, "take-over")
    assert taken.status_code == 200 and taken.json()["channel"] == "rest", taken.text
    assert taken.json()["notified"] is False and "cannot receive" in taken.json()["problem"]
    assert assistant.send(sender, "how long is a session?") == []  # paused

    replied = staff_api(sender, "reply", {"staff": "sam", "text": "Hi"})
    assert replied.status_code == 409 and "cannot receive" in replied.json()["error"]
    assert staff_api(sender, "hand-back").status_code == 200
    assert assistant.send(sender, "how long is a session?")


def test_while_paused_a_crisis_still_gets_the_crisis_reply_and_an_escalation(
    assistant, staff_api, domain
):
    sender = f"rest-{secrets.token_hex(8)}"
    assistant.send(sender, "hello")
    assert staff_api(sender, "take-over").status_code == 200
    replies = assistant.send(sender, "I want to kill myself tonight")
    assert replies and "988" in replies[0]["text"]
    events = assistant.tracker(sender)["events"]
    said = [
        e.get("metadata", {}).get("utter_action")
        for e in events_after({"events": events}, "user")
        if e["event"] == "bot"
    ]
    assert said[0] == "utter_crisis"
    actions = [e.get("name") for e in events if e["event"] == "action"]
    assert "action_record_escalation" in actions
    [turn] = [t for t in levels(events) if t.event["text"].startswith("I want to kill")]
    facts = escalation_facts(sender, turn)  # what crisis/sweep.py records from it too
    assert facts is not None and facts.level == "urgent"
    # Still taken over: an ordinary message is left to staff.
    assert staff_api(sender).json()["paused"] is True
    assert assistant.send(sender, "how long is a session?") == []
    assert staff_api(sender, "hand-back").status_code == 200


def test_the_state_and_the_refusals(assistant, staff_api):
    sender = f"rest-{secrets.token_hex(8)}"
    assistant.send(sender, "hello")
    assert staff_api(sender).json() == {
        "conversation_id": sender,
        "channel": "rest",
        "paused": False,
        "taken_over_by": None,
        "chat_open": None,
    }
    assert staff_api(sender, "reply", {"staff": "sam", "text": "Hi"}).status_code == 409
    assert staff_api(sender, "hand-back").status_code == 409
    assert staff_api(sender, "take-over", {"text": "no name"}).status_code == 400
    assert staff_api(sender, "take-over").status_code == 200
    again = staff_api(sender, "take-over", {"staff": "alex"})
    assert again.status_code == 409 and "sam" in again.json()["error"]
    assert staff_api(sender, "reply", {"staff": "sam", "text": " "}).status_code == 400
    assert staff_api("no-such-conversation", "take-over").status_code == 404
    assert staff_api(sender).json()["taken_over_by"] == "sam"


@pytest.mark.parametrize("token", [None, "wrong-" + "0" * 40])
@pytest.mark.parametrize("action", [None, "take-over", "reply", "hand-back"])
def test_without_the_token_nothing_happens(assistant, staff_api, staff_api_token, token, action):
    sender = f"rest-{secrets.token_hex(8)}"
    assistant.send(sender, "hello")
    reply = staff_api(sender, action, {"staff": "sam", "text": "Hi"}, token=token)
    assert reply.status_code == 401 and reply.headers["WWW-Authenticate"] == "Bearer"
    assert assistant.tracker(sender)["paused"] is False
    log = (assistant.workdir / "rasa.log").read_text()
    assert staff_api_token not in log
