"""Response generation that fills the clinic profile into the domain's responses.

Responses in `domain.yml` say `{clinic_phone}`, `{hours_summary}` and so on; this generator
supplies those values from the clinic profile, inside the Rasa server itself, so every
response (the crisis reply included) is complete even when the action server is down.
Configured in `endpoints.yml` as `nlg: type: components.profile_nlg.ProfileNLG`.

An FAQ answer staff reworded in the console and an administrator approved is served in place of
the domain's text, within seconds and without retraining (clinic/answers.py, read from the
clinic database): on SMS its SMS variant if it has one, else its text for every channel. The
rest of the domain's response (buttons, metadata) stays, and the profile's values are filled in
as ever. The crisis reply, its footers and the direct question are never reworded.

It also carries the crisis policy's rules for every reply (crisis-policy.md §1, §3):
- `{staff_alert_note}` in the crisis reply says when staff will see the alert, from the
  clinic's hours at the moment it is sent;
- after an urgent message, the first reply of every later turn in the session ends with the
  crisis routes and a person (`utter_crisis_footer`); on a concern, or a question about
  suicide as a topic, with a line naming 988 (`utter_concern_footer`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable, Dict, Optional, Text

from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from clinic.answers import ApprovedTexts
from clinic.db import utc_now
from clinic.profile import ClinicProfile, load_profile
from crisis import session
from crisis.levels import CONCERN, URGENT

CRISIS_REPLY = "utter_crisis"
CRISIS_FOOTER = "utter_crisis_footer"
CONCERN_FOOTER = "utter_concern_footer"
UNWELL_FOOTER, UNWELL_REPLY = "utter_unwell_footer", "utter_unwell_after_infusion"
ALERT_OPEN, ALERT_CLOSED = "utter_staff_alert_open", "utter_staff_alert_closed"
CHECK_QUESTION, CHECK_AGAIN = session.CHECK_QUESTION, "utter_crisis_check_again"
NO_FOOTER = {
    CRISIS_REPLY,
    CRISIS_FOOTER,
    CONCERN_FOOTER,
    UNWELL_FOOTER,
    UNWELL_REPLY,
    ALERT_OPEN,
    ALERT_CLOSED,
    CHECK_QUESTION,
    CHECK_AGAIN,
    "utter_crisis_check_no",
}
STAFF_ALERT_NOTE = "staff_alert_note"  # a placeholder this generator fills, not a slot
HOURS_SLOTS = ("clinic_open", "next_opening")  # set by action_check_hours


class ProfileNLG(TemplatedNaturalLanguageGenerator):
    """Templated responses with the clinic profile's values available as placeholders."""

    def __init__(
        self,
        endpoint_config: Optional[EndpointConfig] = None,
        domain: Optional[Domain] = None,
        profile: Optional[ClinicProfile] = None,
        clock: Callable[[], dt.datetime] = utc_now,
        approved_texts: Optional[ApprovedTexts] = None,
    ) -> None:
        domain = domain or Domain.empty()
        super().__init__(domain.responses)
        self.profile = profile or load_profile()
        self.profile_values = self.profile.template_values()
        self.clock = clock
        if approved_texts is None and endpoint_config is not None:
            # Made by the Rasa server (endpoints.yml): its clinic database's approved texts.
            # Made in code without them (a test, the web chat's greeting): the domain's alone.
            approved_texts = ApprovedTexts()
        self.approved_texts = approved_texts

    def _response_variables(
        self, filled_slots: Optional[Dict[Text, Any]], kwargs: Dict[Text, Any]
    ) -> Dict[Text, Any]:
        slots_and_kwargs = super()._response_variables(filled_slots, kwargs)
        return {**self.profile_values, **slots_and_kwargs}

    async def generate(
        self,
        utter_action: Text,
        tracker: DialogueStateTracker,
        output_channel: Text,
        **kwargs: Any,
    ) -> Optional[Dict[Text, Any]]:
        if self.approved_texts is not None:
            await self.approved_texts.refresh_if_stale()
        if utter_action == CRISIS_REPLY:
            kwargs.setdefault(STAFF_ALERT_NOTE, self._staff_alert_note(output_channel))
        if utter_action == CHECK_QUESTION and self._asked_or_flagged(tracker):
            utter_action = CHECK_AGAIN  # asked once a session, and never after a crisis
        slots = self._with_hours(tracker.current_slot_values())
        message = self.generate_from_slots(utter_action, slots, output_channel, **kwargs)
        if message is None or utter_action in NO_FOOTER or not message.get("text"):
            return message
        footer = self._footer_for(tracker)
        if footer:
            line = self.generate_from_slots(footer, tracker.current_slot_values(), output_channel)
            if line and line.get("text"):
                message["text"] = f"{message['text']}\n\n{line['text']}"
        return message

    def _random_response_for(
        self, utter_action: Text, output_channel: Text, filled_slots: Dict[Text, Any]
    ) -> Optional[Dict[Text, Any]]:
        """The domain's response, with its text reworded where an approved text replaces it."""
        response = super()._random_response_for(utter_action, output_channel, filled_slots)
        if response is None or self.approved_texts is None or utter_action in NO_FOOTER:
            return response  # the crisis layer's words are the domain's, always
        text = self.approved_texts.text_for(utter_action, output_channel)
        return response if text is None else {**response, "text": text}

    def _with_hours(self, slots: Dict[Text, Any]) -> Dict[Text, Any]:
        """The slots, with `clinic_open` and `next_opening` from the profile's hours where
        action_check_hours has not set them (the action server is down): `utter_handoff`
        then still says truly whether the clinic is open."""
        if all(slots.get(name) is not None for name in HOURS_SLOTS):
            return slots
        now, hours = self.clock(), self.profile.hours
        computed = {
            "clinic_open": hours.is_open(now),
            "next_opening": hours.describe_next_opening(now),
        }
        return {
            **slots,
            **{name: computed[name] for name in HOURS_SLOTS if slots.get(name) is None},
        }

    def _staff_alert_note(self, output_channel: Text) -> str:
        now = self.clock()
        hours = self.profile.hours
        name = ALERT_OPEN if hours.is_open(now) else ALERT_CLOSED
        note = self.generate_from_slots(
            name, {}, output_channel, next_opening=hours.describe_next_opening(now)
        )
        return (note or {}).get("text", "")

    @staticmethod
    def _asked_or_flagged(tracker: DialogueStateTracker) -> bool:
        """Whether the direct question was asked this session, or a crisis came before."""
        asked, events = False, []
        for event in tracker.events:
            if isinstance(event, SessionStarted):
                asked, events = False, []
            elif isinstance(event, BotUttered) and event.metadata.get("utter_action") in (
                CHECK_QUESTION,
                CHECK_AGAIN,
            ):
                asked = True
            elif isinstance(event, UserUttered):
                events.append(event.as_dict())
        turn = session.latest(events)
        return asked or bool(turn and turn.flagged)

    @staticmethod
    def _footer_for(tracker: DialogueStateTracker) -> Optional[Text]:
        """Which footer the first reply after the latest user message gets, if any."""
        events, replied = [], False
        for event in tracker.events:
            if isinstance(event, SessionStarted):
                events, replied = [], False
            elif isinstance(event, UserUttered):
                events.append(event.as_dict())
                replied = False
            elif isinstance(event, BotUttered):
                events.append(event.as_dict())  # the direct question's answers need it
                replied = True
        if replied:
            return None  # this turn has had its first reply
        turn = session.latest(events)
        if turn is None or turn.level == URGENT:
            return None
        if turn.flagged:
            return CRISIS_FOOTER
        if turn.level == CONCERN and "after_infusion" in turn.crisis.get("categories", ()):
            return UNWELL_FOOTER
        if turn.level == CONCERN or "topic" in turn.crisis.get("signals", ()):
            return CONCERN_FOOTER
        return None
