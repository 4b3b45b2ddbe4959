"""The contact form: a consultation request or a call back, validated, confirmed and stored."""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from clinic import db, settings
from clinic.contact import clean_name, clean_preferred_time, parse_contact

logger = logging.getLogger(__name__)

FORM_SLOTS = ("contact_name", "contact", "preferred_time")


# Responses that end by offering a consultation: a "yes" to them is a consultation request.
OFFERS_A_CONSULTATION = frozenset({"utter_medical_specific"})


def response_before_form(tracker: Tracker) -> Text | None:
    """The response the assistant gave just before the form last started (Rasa keeps its name
    in the bot event's metadata)."""
    started = False
    for event in reversed(tracker.events):
        if event.get("event") == "active_loop" and event.get("name") == "contact_form":
            started = True
        elif started and event.get("event") == "bot":
            return (event.get("metadata") or {}).get("utter_action")
    return None


def clear_form_slots() -> List[Dict[Text, Any]]:
    return [SlotSet(slot, None) for slot in FORM_SLOTS]


class ValidateContactForm(FormValidationAction):
    """Re-asks, with a clear message, for a contact that is neither a phone nor an e-mail; a
    contact is kept as it is read back (national format) and stored normalised (E.164)."""

    def name(self) -> Text:
        return "validate_contact_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[Text, Any]]:
        events = await super().run(dispatcher, tracker, domain)
        if (
            tracker.get_slot("request_kind") is None
            and response_before_form(tracker) in OFFERS_A_CONSULTATION
        ):
            # A typed "yes" to "Would you like to book a consultation?" (a button sends the intent)
            events.append(SlotSet("request_kind", "consultation"))
        return events

    def validate_contact_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        name = clean_name(str(value or ""))
        if name is None:
            dispatcher.utter_message(response="utter_invalid_contact_name")
        return {"contact_name": name}

    def validate_contact(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        text = str(value or "")
        contact = parse_contact(text)
        if contact is None:
            # "yes", "thanks!", "why do you need it": no attempt at a number or an address
            tried = any(c.isdigit() or c == "@" for c in text)
            dispatcher.utter_message(
                response="utter_invalid_contact" if tried else "utter_no_contact_in_answer"
            )
            return {"contact": None}
        return {"contact": str(contact)}  # read back as people write it, not as +1…

    def validate_preferred_time(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        return {"preferred_time": clean_preferred_time(str(value or ""))}


class ActionSubmitRequest(Action):
    """Stores the confirmed request; if the database is down, says how to reach staff."""

    def name(self) -> Text:
        return "action_submit_request"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        contact = parse_contact(tracker.get_slot("contact") or "")
        name = tracker.get_slot("contact_name")
        preferred_time = tracker.get_slot("preferred_time")
        if contact is None or not name or not preferred_time:
            # The form guarantees these; a request missing them is not worth storing.
            dispatcher.utter_message(response="utter_request_not_saved")
            return clear_form_slots()
        try:
            db.save_contact_request(
                db.engine_for(settings.current().database_url),
                conversation_id=tracker.sender_id,
                channel=tracker.get_latest_input_channel(),
                kind=tracker.get_slot("request_kind") or "callback",
                name=name,
                contact_kind=contact.kind,
                contact=contact.value,
                preferred_time=preferred_time,
            )
        except SQLAlchemyError as error:
            logger.error("Could not store a contact request: %s", type(error).__name__)
            dispatcher.utter_message(response="utter_request_not_saved")
            return []
        dispatcher.utter_message(response="utter_request_saved")
        return clear_form_slots()


class ActionClearRequest(Action):
    """Forgets what the form collected (a cancel, or a request to go through it again)."""

    def name(self) -> Text:
        return "action_clear_request"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        return clear_form_slots()
