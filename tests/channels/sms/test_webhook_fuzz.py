"""A bounded property-based fuzz of the SMS webhook against the running assistant: signed
messages with any text, sender or size get an answer or a clear 4xx, never a 5xx; unsigned
ones are refused. (A real signature over random fields: Twilio's own cloud never sends
these, but whoever holds a leaked URL might.)"""

from __future__ import annotations

import secrets

import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sms_webhooks import inbound, new_phone, post, signature

SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
texts = st.text(max_size=2000) | st.text(alphabet=st.characters(max_codepoint=0x1F), max_size=50)


@SETTINGS
@given(body=texts, phone=st.one_of(st.just(None), st.text(min_size=1, max_size=40)))
def test_any_signed_message_gets_an_answer_or_a_clear_4xx(assistant, twilio_cloud, body, phone):
    params = inbound(phone or new_phone(), body)
    reply = post(assistant, params, signature(twilio_cloud.auth_token, params))
    assert reply.status_code in (200, 400, 429), (params, reply.status_code, reply.text[:200])
    if reply.status_code == 400:
        assert reply.text.startswith("Bad request")


@SETTINGS
@given(
    fields=st.dictionaries(st.text(max_size=20), st.text(max_size=200), max_size=6),
    forged=st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=40),
)  # a header
def test_anything_unsigned_or_forged_is_refused(assistant, fields, forged):
    reply = requests.post(
        f"{assistant.url}/webhooks/twilio/webhook",
        data=fields,
        headers={"X-Twilio-Signature": forged} if forged else {},
        timeout=60,
    )
    assert reply.status_code == 403, (fields, reply.status_code)


def test_raw_junk_is_refused(assistant):
    for raw in (b"", b"\xff\xfe\x00junk", b"Body=%ZZ&From=%", secrets.token_bytes(2048)):
        reply = requests.post(
            f"{assistant.url}/webhooks/twilio/webhook",
            data=raw,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": "x",
            },
            timeout=60,
        )
        assert reply.status_code == 403
