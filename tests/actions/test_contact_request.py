"""The contact form's validation, and storing the confirmed request."""

import asyncio

import pytest
import sqlalchemy as sa
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.contact_request import ActionClearRequest, ActionSubmitRequest, ValidateContactForm
from clinic import db
from helpers import make_tracker
from support import migrated_engine

FORM_SLOTS_CLEARED = [
    SlotSet("contact_name", None),
    SlotSet("contact", None),
    SlotSet("preferred_time", None),
]


@pytest.fixture()
def database(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    monkeypatch.setenv("CLINIC_DATABASE_URL", url)
    return migrated_engine(url)


def requested(slot, value):
    """The tracker the form validation sees right after the user answered `slot`."""
    return make_tracker(
        slots={"requested_slot": slot, slot: value},
        active_loop={"name": "contact_form"},
        events=[{"event": "slot", "name": slot, "value": value}],
    )


def validate(slot, value, domain=None):
    domain = domain or {
        "forms": {
            "contact_form": {"required_slots": ["contact_name", "contact", "preferred_time"]}
        },
        "slots": {},
    }
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ValidateContactForm().run(dispatcher, requested(slot, value), domain))
    return dispatcher.messages, events


@pytest.mark.parametrize(
    "given", ["(555) 010-0123", "oh sorry its 555.010.0123", "5550100123 is my cell"]
)
def test_a_phone_number_is_kept_as_it_is_read_back(given):
    messages, events = validate("contact", given)
    assert messages == []
    assert SlotSet("contact", "(555) 010-0123") in events


@pytest.mark.parametrize("bad", ["12345", "jane@nowhere", "call me at 555-01"])
def test_a_bad_phone_or_email_is_re_asked_with_a_clear_message(bad):
    messages, events = validate("contact", bad)
    assert [m["response"] for m in messages] == ["utter_invalid_contact"]
    assert SlotSet("contact", None) in events


@pytest.mark.parametrize("answer", ["yes", "thanks!", "why do you need that", "call me"])
def test_an_answer_with_no_number_or_address_in_it_is_asked_for_one(answer):
    messages, events = validate("contact", answer)
    assert [m["response"] for m in messages] == ["utter_no_contact_in_answer"]
    assert SlotSet("contact", None) in events


def test_a_name_without_letters_is_refused():
    _, events = validate("contact_name", "!!!")
    assert SlotSet("contact_name", None) in events


def test_submit_stores_the_request_and_confirms(database):
    tracker = make_tracker(
        slots={
            "contact_name": "Jane Doe",
            "contact": "(555) 010-0123",
            "preferred_time": "mornings",
            "request_kind": "consultation",
        },
        sender_id="conversation-1",
    )
    dispatcher = CollectingDispatcher()
    events = ActionSubmitRequest().run(dispatcher, tracker, {})
    assert [m["response"] for m in dispatcher.messages] == ["utter_request_saved"]
    assert events == FORM_SLOTS_CLEARED
    with database.connect() as connection:
        rows = connection.execute(sa.select(db.contact_requests)).mappings().all()
    assert len(rows) == 1
    assert rows[0]["kind"] == "consultation"
    assert rows[0]["contact_kind"] == "phone" and rows[0]["contact"] == "+15550100123"
    assert rows[0]["conversation_id"] == "conversation-1"
    assert rows[0]["status"] == "new"


def test_submit_with_the_database_down_says_how_to_reach_staff(tmp_path, monkeypatch):
    # A SQLite file inside a directory that does not exist cannot be opened.
    monkeypatch.setenv("CLINIC_DATABASE_URL", f"sqlite:///{tmp_path}/missing/dir/clinic.db")
    tracker = make_tracker(
        slots={"contact_name": "Jane", "contact": "jane@example.com", "preferred_time": "any time"}
    )
    dispatcher = CollectingDispatcher()
    events = ActionSubmitRequest().run(dispatcher, tracker, {})
    assert [m["response"] for m in dispatcher.messages] == ["utter_request_not_saved"]
    assert events == []  # the details stay, so nothing the user typed is lost


def test_clear_forgets_the_form():
    dispatcher = CollectingDispatcher()
    assert ActionClearRequest().run(dispatcher, make_tracker(), {}) == FORM_SLOTS_CLEARED
    assert dispatcher.messages == []
