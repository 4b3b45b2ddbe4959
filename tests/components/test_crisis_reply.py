"""The crisis reply and footers as the Rasa server renders them (crisis-policy.md §3)."""

import asyncio
import datetime as dt

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from clinic.profile import load_profile
from components.profile_nlg import ProfileNLG
from crisis.detector import detect
from support import ROOT

DOMAIN = Domain.load(ROOT / "domain.yml")
PROFILE = load_profile(ROOT / "clinic_profile.yml")
TZ = PROFILE.hours.timezone
OPEN = dt.datetime(2026, 11, 23, 10, 0, tzinfo=TZ)  # a Monday morning
CLOSED = dt.datetime(2026, 11, 21, 22, 0, tzinfo=TZ)  # a Saturday night

GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€")


def sms_segments(text: str) -> int:
    """SMS segments for a text: GSM-7 (153 septets per part) or UCS-2 (67 per part)."""
    if all(c in GSM7 or c in GSM7_EXTENDED for c in text):
        septets = sum(2 if c in GSM7_EXTENDED else 1 for c in text)
        return 1 if septets <= 160 else -(-septets // 153)
    return 1 if len(text) <= 70 else -(-len(text) // 67)


def tracker_with(*events, slots=None):
    tracker = DialogueStateTracker.from_dict("c1", [], DOMAIN.slots)
    for name, value in (slots or {}).items():
        tracker.update(SlotSet(name, value))
    for event in events:
        tracker.update(event)
    return tracker


def user(text):
    return UserUttered(text, parse_data={"crisis": detect(text).as_dict()})


def render(name, tracker, channel="rest", now=OPEN):
    nlg = ProfileNLG(domain=DOMAIN, profile=PROFILE, clock=lambda: now)
    return asyncio.run(nlg.generate(name, tracker, channel))["text"]


@pytest.mark.parametrize("subject", ["self", "other"])
@pytest.mark.parametrize("now", [OPEN, CLOSED])
def test_sms_crisis_reply_fits_two_segments_with_plain_digit_numbers(subject, now):
    text = render("utter_crisis", tracker_with(slots={"crisis_subject": subject}), "twilio", now)
    assert sms_segments(text) <= 2, (len(text), text)
    assert "988" in text and "911" in text
    assert "{" not in text


@pytest.mark.parametrize("now", [OPEN, CLOSED])
def test_web_crisis_reply_has_the_routes_and_says_when_staff_will_see_it(now):
    text = render("utter_crisis", tracker_with(slots={"crisis_subject": "self"}), now=now)
    for route in ("988", "911", "741741", "988lifeline.org", "AYUDA", "findahelpline.com"):
        assert route in text
    assert "automated assistant" in text
    assert "press 3" not in text.lower()
    if now is OPEN:
        assert "today's opening hours" in text
    else:
        assert "closed now" in text and "Monday at 9:00 AM" in text
    assert "24/7" not in text.split("\n")[-1]  # staff are not said to be there around the clock


def test_helper_gets_the_helpers_reply():
    text = render("utter_crisis", tracker_with(slots={"crisis_subject": "other"}))
    assert text.startswith("Thank you for reaching out for them")
    assert "worried about someone" in text and "911" in text


def test_supportive_mode_adds_crisis_routes_to_the_first_reply_of_later_turns():
    tracker = tracker_with(
        user("i want to end my life"),
        BotUttered("crisis reply"),
        user("how long is a session?"),
        slots={"crisis_mode": True},
    )
    first = render("utter_anything_else", tracker)
    assert "988" in first and "911" in first and PROFILE.phone in first
    tracker.update(BotUttered(first))
    assert "988" not in render("utter_anything_else", tracker)  # once per turn


def test_new_session_ends_supportive_mode():
    tracker = tracker_with(
        user("i want to end my life"),
        BotUttered("crisis reply"),
        SessionStarted(),
        user("how long is a session?"),
    )
    assert "988" not in render("utter_anything_else", tracker)


def test_concern_and_topic_questions_get_the_988_line_and_plain_faq_does_not():
    for text in (
        "I used to be suicidal, do I need boosters?",
        "can ketamine help with suicidal thoughts?",
    ):
        reply = render("utter_anything_else", tracker_with(user(text)))
        assert reply.endswith("call or text 988 any time, day or night.")
    assert "988" not in render("utter_anything_else", tracker_with(user("how much is it?")))


def test_cheerful_greeting_is_replaced_in_supportive_mode():
    normal = render("utter_greet", tracker_with(user("hi")))
    supportive = render(
        "utter_greet",
        tracker_with(
            user("i want to end my life"),
            BotUttered("crisis reply"),
            user("hi"),
            slots={"crisis_mode": True},
        ),
    )
    assert normal.startswith("Hi!")
    assert not supportive.startswith("Hi!") and "988" in supportive
