"""Building rasa-sdk trackers for action tests."""

from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker


def make_tracker(
    slots: Optional[Dict[str, Any]] = None,
    latest_message: Optional[Dict[str, Any]] = None,
    events: Optional[List[Dict[str, Any]]] = None,
    sender_id: str = "test-conversation",
    active_loop: Optional[Dict[str, Any]] = None,
) -> Tracker:
    return Tracker(
        sender_id=sender_id,
        slots=slots or {},
        latest_message=latest_message or {"intent": {}, "entities": [], "text": ""},
        events=events or [],
        paused=False,
        followup_action=None,
        active_loop=active_loop or {},
        latest_action_name="action_listen",
    )
