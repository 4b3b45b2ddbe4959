"""action_check_hours: open or closed now, and when the clinic next opens."""

import datetime as dt

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import hours
from helpers import make_tracker


@pytest.mark.parametrize(
    "utc_moment, is_open, next_opening",
    [
        (dt.datetime(2026, 11, 23, 16, 0, tzinfo=dt.timezone.utc), True, "tomorrow at 9:00 AM"),
        (dt.datetime(2026, 11, 28, 18, 0, tzinfo=dt.timezone.utc), False, "on Monday at 9:00 AM"),
    ],
)
def test_sets_whether_the_clinic_is_open_now(monkeypatch, utc_moment, is_open, next_opening):
    monkeypatch.setattr(hours, "now", lambda: utc_moment)
    dispatcher = CollectingDispatcher()
    events = hours.ActionCheckHours().run(dispatcher, make_tracker(), {})
    assert events == [SlotSet("clinic_open", is_open), SlotSet("next_opening", next_opening)]
    assert dispatcher.messages == []
