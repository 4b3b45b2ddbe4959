"""Twilio's REST API for messages (channels/sms/client.py) against the stand-in Twilio cloud
of conftest.py: what was sent, and which failures are worth trying again."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from sms_webhooks import new_phone

from channels.sms.client import ERROR_OPTED_OUT, SendResult, TwilioMessages
from clinic import settings
from support import TWILIO_NUMBER, TWILIO_WEBHOOK_URL


@pytest.fixture
def config(twilio_cloud) -> settings.TwilioSettings:
    return settings.TwilioSettings(
        auth_token=settings.Secret(twilio_cloud.auth_token),
        webhook_url=TWILIO_WEBHOOK_URL,
        account_sid=twilio_cloud.account_sid,
        sender=TWILIO_NUMBER,
        api_base=twilio_cloud.url,
        reply_budget_seconds=8.0,
        concurrent_turns=4,
        claim_lease_seconds=30.0,
    )


def send(config: settings.TwilioSettings, to: str, body: str) -> SendResult:
    return asyncio.run(TwilioMessages(config).send(to, body))


def test_a_message_is_sent_from_the_clinics_number(config, twilio_cloud):
    phone = new_phone()
    result = send(config, phone, "Your consultation is at 10:00.")
    assert result.ok and result.sid.startswith("SM") and not result.worth_retrying
    assert twilio_cloud.sent_to(phone) == ["Your consultation is at 10:00."]
    [sent] = [form for form in twilio_cloud.sent if form["To"] == phone]
    assert sent["From"] == TWILIO_NUMBER


def test_a_messaging_service_sends_in_place_of_a_number(config, twilio_cloud):
    phone, service = new_phone(), "MG" + "0" * 32
    assert send(dataclasses.replace(config, sender=service), phone, "Hello").ok
    [sent] = [form for form in twilio_cloud.sent if form["To"] == phone]
    assert sent["MessagingServiceSid"] == service and "From" not in sent


def test_an_unsubscribed_number_is_a_refusal_not_worth_retrying(config, twilio_cloud):
    phone = new_phone()
    twilio_cloud.unsubscribed.add(phone)
    result = send(config, phone, "Hello")
    assert (result.ok, result.error_code, result.worth_retrying) == (False, ERROR_OPTED_OUT, False)
    assert twilio_cloud.sent_to(phone) == []


def test_a_wrong_token_is_a_refusal_not_worth_retrying(config, twilio_cloud):
    wrong = dataclasses.replace(config, auth_token=settings.Secret("0" * 32))
    result = send(wrong, new_phone(), "Hello")
    assert (result.ok, result.error_code, result.worth_retrying) == (False, 20003, False)


def test_twilio_down_or_unreachable_is_worth_retrying(config, twilio_cloud):
    twilio_cloud.failures = 1
    down = send(config, new_phone(), "Hello")
    assert (down.ok, down.error_code, down.worth_retrying) == (False, None, True)
    unreachable = send(
        dataclasses.replace(config, api_base="http://127.0.0.1:9"), new_phone(), "Hello"
    )
    assert not unreachable.ok and unreachable.worth_retrying and unreachable.error


def test_without_an_account_and_a_number_nothing_can_be_sent(config):
    for missing in ({"account_sid": None}, {"sender": None}):
        with pytest.raises(settings.SettingsError, match="TWILIO_ACCOUNT_SID and TWILIO_NUMBER"):
            TwilioMessages(dataclasses.replace(config, **missing))
