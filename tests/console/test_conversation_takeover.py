"""The console's take-over routes (console/conversations/takeover.py) with Flask's test client,
against the real running assistant's staff API; a fresh console database per test
(tests/console/conftest.py).
"""

from __future__ import annotations

import secrets
import socket
import time

import pytest
from flask import render_template
from sms_webhooks import (  # signed webhooks like Twilio's
    bodies_of,
    conversation_of,
    inbound,
    new_phone,
    post,
    signature,
)
from webchat_tabs import Tab

from clinic import sms
from clinic.settings import Secret
from console.auth import accounts
from projector import index


@pytest.fixture
def console(app, client, log_in, assistant, staff_api_token):
    """A logged-in console that reaches the running assistant's staff API."""
    app.config.update(RASA_URL=assistant.url, STAFF_API_TOKEN=Secret(staff_api_token))
    log_in()
    return client


@pytest.fixture
def act(client, csrf):
    """Post one of the take-over forms, as the page would."""

    def post(conversation_id: str, action: str, **form: str):
        return client.post(
            f"/conversations/{conversation_id}/{action}", data={"csrf_token": csrf("/"), **form}
        )

    return post


def flashes(client) -> list:
    with client.session_transaction() as session:
        return [message for _, message in session.get("_flashes", [])]


def audited(engine) -> list:
    return [(e["action"], e["target"]) for e in accounts.audit_entries(engine)]


def test_take_over_reply_and_hand_back_a_web_chat(console, act, assistant, engine):
    tab = Tab()
    session = tab.open(assistant.url)
    tab.say(session, "hello")
    tab.wait_for("bot_done")
    answered = len(tab.events["bot_uttered"])

    taken = act(session, "take-over")
    assert taken.status_code == 302 and taken.location == f"/conversations/{session}"
    assert "You have taken over" in flashes(console)[-1]
    assert "The user was told" in flashes(console)[-1]
    assert assistant.tracker(session)["paused"] is True

    act(session, "reply", text="Hello from Sam at the clinic.", channel="webchat")
    assert flashes(console)[-1] == "Reply sent."
    texts = [m["text"] for m in tab.wait_for("bot_uttered", answered + 2)]
    assert texts[-1] == "Hello from Sam at the clinic."

    act(session, "hand-back")
    tab.wait_for("bot_uttered", answered + 3)
    tab.close()
    assert "answering this conversation again" in flashes(console)[-1]
    assert assistant.tracker(session)["paused"] is False
    target = f"conversation {session}"
    assert [entry for entry in audited(engine) if entry[1] == target] == [
        ("hand_back", target),
        ("reply", target),
        ("take_over", target),
    ]


def test_a_refused_reply_says_why(console, act, assistant, engine):
    sender = f"rest-{secrets.token_hex(8)}"
    assistant.send(sender, "hello")
    act(sender, "take-over")
    assert "could not be told" in flashes(console)[-1]

    page = act(sender, "reply", text="Are you OK?", channel="rest")
    assert page.status_code == 409
    html = page.get_data(as_text=True)
    assert "cannot receive messages from staff" in html  # the API's reason, as a flash
    assert "which cannot take a" in html and "<textarea" not in html
    assert "reply" not in [action for action, _ in audited(engine)]
    act(sender, "hand-back")


def wait_for_state(console, conversation_id: str, **expected) -> dict:
    """The staff API's state once it says `expected` (a disconnect takes a moment to land)."""
    from console.conversations.takeover import call_staff_api

    deadline = time.monotonic() + 20
    while True:
        with console.application.test_request_context():
            state = call_staff_api(conversation_id)
        if all(state.get(k) == v for k, v in expected.items()) or time.monotonic() > deadline:
            return state
        time.sleep(0.2)


def test_a_reply_to_a_closed_web_chat_says_it_cannot_be_delivered(console, act, assistant, engine):
    tab = Tab()
    session = tab.open(assistant.url)
    tab.say(session, "hello")
    tab.wait_for("bot_done")
    act(session, "take-over")
    assert wait_for_state(console, session)["chat_open"] is True
    tab.close()
    assert wait_for_state(console, session, chat_open=False)["chat_open"] is False

    page = act(session, "reply", text="Are you still there?", channel="webchat")
    assert page.status_code == 409
    html = page.get_data(as_text=True)
    assert "closed the chat" in html and ">Are you still there?</textarea>" in html
    bot_texts = [e.get("text") for e in assistant.tracker(session)["events"] if e["event"] == "bot"]
    assert "Are you still there?" not in bot_texts
    assert "reply" not in [action for action, _ in audited(engine)]
    act(session, "hand-back")


def test_an_opted_out_number_is_offered_no_reply_and_gets_none(
    console, act, assistant, engine, twilio_cloud
):
    phone = new_phone()

    def text(body: str) -> list:
        params = inbound(phone, body)
        return bodies_of(post(assistant, params, signature(twilio_cloud.auth_token, params)))

    assert text("hello")
    assert text("STOP") == []
    conversation = conversation_of(phone)
    # The console's database as the SMS channel leaves it (the assistant's is another file
    # here), and its index fed by the assistant's event broker.
    sms.remember_number(engine, conversation, phone)
    sms.record_consent(engine, conversation, sms.OPT_OUT, keyword="STOP")
    index.catch_up(engine, index.broker_engine(assistant.events_database_url), index.BROKER)

    act(conversation, "take-over")
    assert "could not be told" in flashes(console)[-1] and "opted out" in flashes(console)[-1]
    page = console.get(f"/conversations/{conversation}").get_data(as_text=True)
    assert "has opted out of SMS" in page and "Call instead" in page
    assert "<textarea id=\"takeover-text\"" not in page  # no reply form
    reply = act(conversation, "reply", text="Hello?", channel="twilio")
    assert reply.status_code == 409 and "opted out" in reply.get_data(as_text=True)
    assert twilio_cloud.sent_to(phone) == []
    act(conversation, "hand-back")


def test_an_unreachable_assistant_is_a_clear_message_and_the_reply_is_kept(
    console, act, app, engine
):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        app.config["RASA_URL"] = f"http://127.0.0.1:{sock.getsockname()[1]}"
    taken = act("c-1", "take-over")
    assert taken.status_code == 302 and "could not be reached" in flashes(console)[-1]
    page = act("c-1", "reply", text="Still there?", channel="webchat")
    assert page.status_code == 503
    html = page.get_data(as_text=True)
    assert "could not be reached" in html and ">Still there?</textarea>" in html
    assert not [a for a, _ in audited(engine) if a in ("take_over", "reply")]


def test_a_wrong_token_and_an_empty_reply_are_clear(console, act, app, assistant):
    sender = f"rest-{secrets.token_hex(8)}"
    assistant.send(sender, "hello")
    app.config["STAFF_API_TOKEN"] = Secret("0123456789abcdef" * 4)
    act(sender, "take-over")
    assert "refused the console's token" in flashes(console)[-1]
    assert assistant.tracker(sender)["paused"] is False
    act(sender, "reply", text="   ")
    assert flashes(console)[-1] == "Write a reply first."


def test_the_routes_need_the_csrf_token_and_a_login(console, csrf, assistant):
    sender = f"rest-{secrets.token_hex(8)}"
    assistant.send(sender, "hello")
    assert console.post(f"/conversations/{sender}/take-over", data={}).status_code == 400
    console.post("/logout", data={"csrf_token": csrf("/")})
    reply = console.post(f"/conversations/{sender}/take-over", data={"csrf_token": csrf()})
    assert reply.status_code == 302 and reply.location.startswith("/login")
    assert assistant.tracker(sender)["paused"] is False


@pytest.mark.parametrize(
    "paused, channel, forms",
    [
        (False, "webchat", ["take-over"]),
        (True, "webchat", ["reply", "hand-back"]),
        (True, "twilio", ["reply", "hand-back"]),
        (True, "rest", ["hand-back"]),
    ],
)
def test_the_partial_renders_the_forms_the_state_allows(app, paused, channel, forms):
    with app.test_request_context("/"):
        html = render_template(
            "conversations/_takeover.html",
            conversation_id="sms-abc",
            paused=paused,
            channel=channel,
        )
    actions = [
        a
        for a in ("take-over", "reply", "hand-back")
        if f'action="/conversations/sms-abc/{a}"' in html
    ]
    assert actions == forms
    assert html.count('name="csrf_token"') == len(forms)
