"""Recording a crisis escalation for staff, right after the crisis reply has been sent.

The reply itself is a domain response (`utter_crisis`), so the user gets it even when this
server or the database is down. This action stores the escalation durably; the delivery
worker (`python -m clinic.delivery`) then notifies the clinic's targets. If this action
cannot run, the worker's sweep of the tracker store (crisis.sweep) records it later.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from clinic import settings
from clinic.db import engine_for
from clinic.escalations import record_escalation
from crisis import session

logger = logging.getLogger(__name__)


class ActionRecordEscalation(Action):
    def name(self) -> Text:
        return "action_record_escalation"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        turn = session.latest(tracker.events)
        facts = session.escalation_facts(tracker.sender_id, turn) if turn else None
        if facts is None:
            logger.warning("action_record_escalation ran without a crisis message to record")
            return []
        try:
            escalation_id, created = record_escalation(
                engine_for(settings.current().database_url),
                targets=settings.current().alert_targets(),
                **facts.as_kwargs(),
            )
        except Exception as error:  # the reply is already sent; the sweep will record it
            logger.error(
                "Could not store the escalation (%s); the delivery worker's sweep "
                "will record it from the tracker store",
                type(error).__name__,
            )
            return []
        logger.info(
            "Escalation %s %s (%s)", escalation_id, "recorded" if created else "exists", facts.level
        )
        return []
