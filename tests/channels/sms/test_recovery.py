"""Late replies and recovery (channels/sms/recovery.py) through the real Rasa server: a reply
slower than the reply budget follows through Twilio's API, and is tried again while Twilio is
down. (Messages a stopped replica left unanswered: tests/deploy/test_faults.py.)"""

from __future__ import annotations

from sms_webhooks import bodies_of, first_answer, inbound, new_phone, post, signature, wait_for_sent


def test_a_reply_slower_than_the_budget_follows_through_the_api(
    slow_assistant, twilio_cloud, domain
):
    phone = new_phone()
    params = inbound(phone, "how long is a session?")
    assert bodies_of(post(slow_assistant, params, signature(twilio_cloud.auth_token, params))) == []
    expected = first_answer(domain, "utter_faq/session_length")
    assert wait_for_sent(twilio_cloud, phone, len(expected))[: len(expected)] == expected


def test_a_late_reply_is_retried_while_twilio_is_down(slow_assistant, twilio_cloud, domain):
    phone = new_phone()
    twilio_cloud.failures = 2
    params = inbound(phone, "what are the side effects?")
    assert bodies_of(post(slow_assistant, params, signature(twilio_cloud.auth_token, params))) == []
    expected = first_answer(domain, "utter_faq/side_effects")
    assert wait_for_sent(twilio_cloud, phone, len(expected))[: len(expected)] == expected
    assert twilio_cloud.failures == 0
