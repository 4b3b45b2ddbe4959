"""Conversation ids the server issues to web chat visitors: `web-<random>-<signature>`.

A visitor's browser keeps its conversation id to come back to the conversation after a reload,
and sends it when it connects. The server accepts only an id it issued itself for that
channel: the signature is a keyed hash (HMAC-SHA256) of the channel and the random part, with
the key that also turns phone numbers into SMS conversation ids (`CLINIC_PHONE_HASH_KEY`, the
same on every replica). So whoever learns another conversation's id (an SMS one, say, from a
console URL) cannot join it from the public web, and an id cannot be guessed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from clinic import settings

_RANDOM_HEX = 24
_SIGNATURE_HEX = 20
_ISSUED = re.compile(rf"^([a-z]+)-([0-9a-f]{{{_RANDOM_HEX}}})-([0-9a-f]{{{_SIGNATURE_HEX}}})$")


def _signature(channel: str, random_part: str) -> str:
    key = settings.current().phone_hash_key.get().reveal().encode()
    message = f"conversation-id:{channel}:{random_part}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:_SIGNATURE_HEX]


def issue(channel: str) -> str:
    """A new conversation id for `channel`, signed by this server."""
    random_part = secrets.token_hex(_RANDOM_HEX // 2)
    return f"{channel}-{random_part}-{_signature(channel, random_part)}"


def is_issued(channel: str, conversation_id: object) -> bool:
    """Whether `conversation_id` is one this server issued for `channel`."""
    if not isinstance(conversation_id, str):
        return False
    match = _ISSUED.match(conversation_id)
    if not match or match.group(1) != channel:
        return False
    return hmac.compare_digest(match.group(3), _signature(channel, match.group(2)))
