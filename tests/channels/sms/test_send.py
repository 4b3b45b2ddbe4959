"""Texts to a conversation's number (channels/sms/send.py): never to a number that opted out,
Twilio's error 21610 recorded as an opt-out, and the command line."""

from __future__ import annotations

import asyncio

import pytest
from sms_webhooks import conversation_of, new_phone, user_texts

from channels.sms import send as sms_send
from clinic import sms


@pytest.fixture
def staff_env(assistant, twilio_cloud, monkeypatch):
    """This process set up like the server, to send staff messages."""
    env = {**twilio_cloud.env(), "CLINIC_DATABASE_URL": assistant.database_url}
    for name, value in env.items():
        monkeypatch.setenv(name, value)


def test_stop_is_recorded_never_answered_and_blocks_staff_messages(
    assistant, send, engine, twilio_cloud, staff_env
):
    phone = new_phone()
    send(phone, "hello")
    conversation = conversation_of(phone)
    assert send(phone, "STOP") == []
    assert "STOP" not in user_texts(assistant, phone)
    assert sms.is_opted_out(engine, conversation)
    with pytest.raises(sms_send.OptedOutError):
        asyncio.run(sms_send.send_staff_message(conversation, "Hi, this is the clinic."))
    assert twilio_cloud.sent_to(phone) == []

    assert send(phone, "yes") == []  # "yes" after STOP is Twilio's opt-in keyword
    assert not sms.is_opted_out(engine, conversation)
    results = asyncio.run(sms_send.send_staff_message(conversation, "Hi, this is the clinic."))
    assert [r.ok for r in results] == [True]
    assert twilio_cloud.sent_to(phone) == ["Hi, this is the clinic."]
    assert [e["action"] for e in sms.consent_history(engine, conversation)] == ["opt_out", "opt_in"]


def test_twilio_error_21610_marks_the_number_opted_out(send, engine, twilio_cloud, staff_env):
    phone = new_phone()
    send(phone, "hi")
    twilio_cloud.unsubscribed.add(phone)
    results = asyncio.run(sms_send.send_staff_message(conversation_of(phone), "Hello"))
    assert results[0].error_code == 21610
    assert sms.is_opted_out(engine, conversation_of(phone))


def test_the_command_line_says_why_nothing_was_sent(monkeypatch, capsys):
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
    assert sms_send.main(["send", "sms-0123", "Hello"]) == 1
    assert capsys.readouterr().err == "Not sent: SMS is off: TWILIO_AUTH_TOKEN is not set\n"
    with pytest.raises(SystemExit):
        sms_send.main(["send", "sms-0123"])  # the text is missing
    assert "usage: python -m channels.sms send" in capsys.readouterr().err
