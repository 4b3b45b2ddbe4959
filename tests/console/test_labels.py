"""Plain words for the codes staff would otherwise read, and conversations named for the person
(`console.labels`)."""

from __future__ import annotations

import datetime as dt

from clinic.profile import current_profile
from console import labels

STARTED = dt.datetime(2026, 12, 6, 20, 2, tzinfo=dt.timezone.utc)  # 2:02 PM in Chicago
CLINIC_TIME = current_profile().hours.timezone


def started_words():
    """How the pages write STARTED (with its year, unless the tests run in 2026)."""
    return labels.short_time(STARTED, CLINIC_TIME)


def test_a_conversation_is_named_by_channel_first_message_time_and_name():
    assert labels.short_time(STARTED, CLINIC_TIME, now=STARTED) == "Sun 6 Dec 2:02 PM"
    next_year = STARTED + dt.timedelta(days=60)
    assert labels.short_time(STARTED, CLINIC_TIME, now=next_year) == "Sun 6 Dec 2026 2:02 PM"
    named = {"channel": "webchat", "started_at": STARTED, "person_name": "Jordan"}
    assert labels.conversation_name(named, CLINIC_TIME) == f"Web chat · {started_words()} · Jordan"
    assert labels.conversation_name({"channel": "rest"}, CLINIC_TIME) == "REST API"


def test_levels_and_categories_are_in_plain_words():
    assert labels.level_name("check") == "needs a check"
    assert labels.category_name("harm_to_others") == "harm to others"
    assert labels.category_name("medical_emergency") == "medical emergency"
    assert labels.category_name("self_harm") == "self-harm"
    assert labels.category_name("something_new") == "something new"  # never a raw code
    assert labels.channel_name("twilio") == "SMS" and labels.channel_name(None) == "unknown channel"


def test_a_topic_is_named_by_the_catalogues_question():
    assert (
        labels.topic_name("vs_antidepressants") == "How is ketamine different from antidepressants?"
    )
    assert labels.topic_name("session_length") == "How long does one infusion session take?"
    assert labels.topic_name("a_topic_not_in_the_catalogue") == "a topic not in the catalogue"
    assert labels.topic_name(None) == ""
