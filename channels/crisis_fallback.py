"""The crisis reply when a turn fails (the tracker store's database or the lock store cannot be
reached): the crisis policy says the reply reaches the person even then.

The channels call this when `on_new_message` raised. The rules (crisis.detector, in this
process, needing nothing else) decide whether the message is urgent; the reply is the domain's
`utter_crisis` through the server's response generator (components/profile_nlg.py), for the
person or for someone writing about another, with `utter_staff_alert_failed` in place of the
note that staff were alerted: the message was not stored, so nothing says staff know.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from crisis.detector import detect
from crisis.levels import URGENT

logger = logging.getLogger(__name__)

CRISIS_REPLY, ALERT_FAILED = "utter_crisis", "utter_staff_alert_failed"


async def crisis_reply_for_failed_turn(
    agent: Any, text: Text, output_channel: Text
) -> Optional[List[Dict[str, Any]]]:
    """The crisis reply's messages for an urgent message whose turn failed; None otherwise."""
    result = detect(text)
    if result.level != URGENT:
        return None
    try:
        nlg = agent.processor.nlg
        slots = {"crisis_subject": result.subject}
        note = nlg.generate_from_slots(ALERT_FAILED, {}, output_channel) or {}
        reply = nlg.generate_from_slots(
            CRISIS_REPLY, slots, output_channel, staff_alert_note=note.get("text", "")
        )
    except Exception as error:  # no model loaded: the channel's own error stands
        logger.error("crisis fallback: no reply could be made (%s)", type(error).__name__)
        return None
    logger.warning("a turn failed on an urgent message: the crisis reply was sent without it")
    return [reply] if reply and reply.get("text") else None
