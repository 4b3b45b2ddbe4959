"""Whether the clinic is open now, for the hand-off to a person."""

from __future__ import annotations

import datetime as dt
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from clinic.db import utc_now
from clinic.profile import current_profile


def now() -> dt.datetime:
    return utc_now()


class ActionCheckHours(Action):
    """Sets `clinic_open` and `next_opening` so `utter_handoff` says what happens now."""

    def name(self) -> Text:
        return "action_check_hours"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        hours = current_profile().hours
        moment = now()
        return [
            SlotSet("clinic_open", hours.is_open(moment)),
            SlotSet("next_opening", hours.describe_next_opening(moment)),
        ]
