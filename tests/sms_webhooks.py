"""Text messages as Twilio's webhook brings them, signed like Twilio signs them, and the TwiML
replies read back: for the SMS channel's tests (tests/channels/sms/) and the staff take-over's
(tests/channels/test_staff_takeover.py, tests/console/test_takeover.py). Twilio's cloud is the
stand-in of conftest.py (`twilio_cloud`)."""

from __future__ import annotations

import secrets
import time
import xml.etree.ElementTree as ET
from typing import Dict, List, Optional

import requests
from twilio.request_validator import RequestValidator

from channels.sms.text import format_for_sms
from clinic import sms
from clinic.profile import current_profile
from clinic.settings import Secret
from support import PHONE_HASH_KEY, TWILIO_NUMBER, TWILIO_WEBHOOK_URL, RunningAssistant

PROFILE = current_profile()


def new_phone() -> str:
    return "+1555" + str(secrets.randbelow(10**7)).zfill(7)


def inbound(phone: str, body: Optional[str], sid: Optional[str] = None) -> Dict[str, str]:
    params = {
        "MessageSid": sid or "SM" + secrets.token_hex(16),
        "AccountSid": "AC" + "0" * 32,
        "From": phone,
        "To": TWILIO_NUMBER,
        "NumMedia": "0",
    }
    if body is not None:
        params["Body"] = body
    return params


def signature(token: str, params: Dict[str, str], url: str = TWILIO_WEBHOOK_URL) -> str:
    return RequestValidator(token).compute_signature(url, params)


def post(assistant: RunningAssistant, params: Dict[str, str], sig: Optional[str]):
    headers = {"X-Twilio-Signature": sig} if sig is not None else {}
    return requests.post(
        f"{assistant.url}/webhooks/twilio/webhook", data=params, headers=headers, timeout=60
    )


def bodies_of(reply: requests.Response) -> List[str]:
    assert reply.status_code == 200, reply.text
    assert reply.headers["Content-Type"].startswith("application/xml")
    root = ET.fromstring(reply.text)
    assert root.tag == "Response"
    return [message.text or "" for message in root.findall("Message")]


def conversation_of(phone: str) -> str:
    return sms.conversation_id_for(phone, Secret(PHONE_HASH_KEY))


def user_texts(assistant: RunningAssistant, phone: str) -> List[str]:
    tracker = assistant.tracker(conversation_of(phone))
    return [event.get("text") for event in tracker["events"] if event["event"] == "user"]


def sms_variant(domain, name: str) -> List[str]:
    """The domain's SMS answer for a response (its `twilio` variant, else the plain one), laid
    out as the connector lays it out."""
    plain = [v for v in domain["responses"][name] if not v.get("condition")]
    [variant] = [v for v in plain if v.get("channel") == "twilio"] or [
        v for v in plain if not v.get("channel")
    ]
    bodies, _ = format_for_sms(variant["text"].format(**PROFILE.template_values()))
    return bodies


def first_answer(domain, name: str) -> List[str]:
    """A number's first answer: who is answering, then the answer."""
    return sms_variant(domain, "utter_sms_intro") + sms_variant(domain, name)


def wait_for_sent(twilio_cloud, phone: str, count: int, timeout: float = 60) -> List[str]:
    deadline = time.monotonic() + timeout
    while len(sent := twilio_cloud.sent_to(phone)) < count:
        assert time.monotonic() < deadline, f"only {sent} reached Twilio's API"
        time.sleep(0.1)
    return sent
