"""What the bot answered to one user message, read back from the tracker: for a retry of a
message that was handled on a replica that stopped before answering (REST, SMS)."""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional

from rasa.shared.core.events import BotUttered, Event, UserUttered


def replies_to(events: Iterable[Event], message_id: str) -> Optional[List[Dict[str, Any]]]:
    """The bot's messages after the user message with `message_id`, as output channels take
    them (`send_response`); None when no user message has that id."""
    replies: Optional[List[Dict[str, Any]]] = None
    for event in events:
        if isinstance(event, UserUttered):
            if replies is not None:
                break
            if event.message_id == message_id:
                replies = []
        elif replies is not None and isinstance(event, BotUttered):
            replies.append({"text": event.text, **(event.data or {})})
    return replies
