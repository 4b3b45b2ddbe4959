"""Retries of a message that may have been handled already (its replica stopped after storing
it, before answering): `SeenMessages` tells a first attempt from a retry at the cost of one
Redis SET NX, and `replies_to` reads what the bot answered back from the tracker, which only a
retry pays for (REST, SMS)."""

from __future__ import annotations

import time
from typing import Any, Dict, Iterable, List, Optional

import redis.asyncio
from rasa.shared.core.events import BotUttered, Event, UserUttered

from clinic import settings

SEEN_SECONDS = 3600  # a client retries within minutes, not hours


class SeenMessages:
    """Message ids seen in the last hour: in Redis when replicas share it, else in memory."""

    def __init__(self, redis_url: Optional[settings.Secret]) -> None:
        self._redis = redis.asyncio.from_url(redis_url.reveal()) if redis_url else None
        self._seen: Dict[str, float] = {}

    @classmethod
    def from_environment(cls) -> "SeenMessages":
        return cls(settings.current().redis_url)

    async def first_time(self, channel: str, sender: str, message_id: str) -> bool:
        """True the first time this message id arrives; False for a retry (or when Redis
        cannot tell: then the caller takes the careful path)."""
        key = f"clinic:seen:{channel}:{{{sender}}}:{message_id}"
        if self._redis is not None:
            try:
                return bool(await self._redis.set(key, 1, nx=True, ex=SEEN_SECONDS))
            except redis.RedisError:
                return False
        now = time.monotonic()
        if len(self._seen) > 100_000:
            self._seen = {k: t for k, t in self._seen.items() if now - t < SEEN_SECONDS}
        seen_at = self._seen.get(key)
        if seen_at is not None and now - seen_at < SEEN_SECONDS:
            return False
        self._seen[key] = now
        return True


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
