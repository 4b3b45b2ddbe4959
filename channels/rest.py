"""The REST channel (`POST /webhooks/rest/webhook`, `{"sender": …, "message": …}`): Rasa's,
with what a public endpoint needs.

Registered in credentials.yml as `channels.rest.RestInput`, under Rasa's name `rest`, so the
address stays the same. What differs from Rasa's:
- Rasa's channel lets any client name any `sender`, so anyone could write into, and read the
  replies of, another person's conversation. In local mode (CLINIC_ENV=local, development and
  tests) it stays open; anywhere else it needs `Authorization: Bearer <CLINIC_REST_TOKEN>`
  (a server-side integration) and is off (503) when no token is set. The widget talks
  socket.io with server-issued session ids, SMS conversations are keyed hashes of the number.
- The REST channel's conversations are its own: the conversation id is the `sender` with
  `rest-` in front (kept when the sender already starts with it), so a sender can never name
  a web chat's or an SMS conversation (`web-…`, `sms-…`) and write into it or read its replies.
- A turn that fails (a database or lock that cannot be reached) is a 503 saying to send the
  message again; Rasa's answers 200 with whatever was collected, often nothing, and logs the
  user's text, which is health information. Nothing the user wrote is logged here.
- A body that is not a JSON object with a string `sender` (1 to 128 printable characters)
  and a string `message` (1 to max_message_chars characters, no control characters but line
  breaks and tabs) is a 400 saying which; an oversize body a 413.
- A message may carry the client's `message_id`: a retry of one already handled (its answer
  lost with a replica that stopped after storing it) gets the stored replies instead of being
  handled twice.
- Per-sender rate limiting (channels/rate_limit.py): a flood is slowed with 429 and
  Retry-After, except a crisis message, which is always answered.
"""

from __future__ import annotations

import json
import logging
import math
import re
import unicodedata
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.body_limit import cap_request_bodies
from channels.crisis_fallback import crisis_reply_for_failed_turn
from channels.rate_limit import SenderRateLimiter
from channels.replies import SeenMessages
from channels.turns import handle_under_lock
from channels.user_text import ALLOWED_CONTROLS, MAX_MESSAGE_CHARS
from clinic import settings
from crisis.detector import detect
from crisis.levels import URGENT

logger = logging.getLogger(__name__)

SENDER = re.compile(r"^[\x21-\x7e]{1,128}$")
PREFIX = "rest-"
MAX_BODY_BYTES = 16 * 1024


def _error(status: int, text: str, **headers: str) -> HTTPResponse:
    return response.json({"error": text}, status=status, headers=headers)


def control_characters(text: str) -> bool:
    return any(unicodedata.category(c) == "Cc" and c not in ALLOWED_CONTROLS for c in text)


def conversation_id(sender: str) -> str:
    """The REST conversation a client's `sender` names: never another channel's."""
    return sender if sender.startswith(PREFIX) else PREFIX + sender


class RestInput(InputChannel):
    """One POST per message; the bot's replies in the response."""

    @classmethod
    def name(cls) -> Text:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        credentials = credentials or {}
        return cls(int(credentials.get("max_message_chars", MAX_MESSAGE_CHARS)))

    def __init__(self, max_message_chars: int = MAX_MESSAGE_CHARS) -> None:
        self.max_message_chars = max_message_chars

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = Blueprint("rest_webhook", __name__)
        cap_request_bodies(blueprint)
        token = settings.current().rest_token
        open_without_token = settings.current().local
        limiter = SenderRateLimiter.from_environment()
        seen = SeenMessages.from_environment()

        @blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @blueprint.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if token is not None:
                if not token.is_bearer_of(request.headers.get("Authorization")):
                    return _error(
                        401,
                        "Unauthorized: this channel needs its bearer token.",
                        **{"WWW-Authenticate": "Bearer"},
                    )
            elif not open_without_token:
                return _error(503, "The REST channel is off (set CLINIC_REST_TOKEN).")
            parsed = self._parse(request)
            if isinstance(parsed, HTTPResponse):
                return parsed
            sender, text, message_id = parsed
            wait = await limiter.wait_seconds(self.name(), sender)
            if wait and detect(text).level != URGENT:
                return _error(
                    429,
                    "Too many messages: please wait a moment and send it again.",
                    **{"Retry-After": str(max(1, math.ceil(wait)))},
                )
            collector = CollectingOutputChannel()
            message = UserMessage(
                text,
                collector,
                sender,
                input_channel=self.name(),
                message_id=message_id,
                metadata={},
            )
            try:
                if message_id is None or await seen.first_time(self.name(), sender, message_id):
                    await on_new_message(message)
                else:
                    await handle_under_lock(request.app.ctx.agent, message, replay=True)
            except Exception as error:  # the client must hear it was not answered
                crisis = await crisis_reply_for_failed_turn(
                    request.app.ctx.agent, text, self.name()
                )
                logger.error(
                    "rest: a turn failed (%s); the client was %s",
                    type(error).__name__,
                    "sent the crisis reply" if crisis else "told to send it again",
                )
                if crisis:  # a crisis is answered even then (the crisis policy)
                    return response.json([{"recipient_id": sender, **m} for m in crisis])
                return _error(
                    503,
                    "The assistant could not answer just now. Please send your message again.",
                    **{"Retry-After": "2"},
                )
            return response.json(collector.messages)

        return blueprint

    def _parse(self, request: Request) -> Any:
        """(conversation id, text, message_id or None), or the 4xx response saying what is
        wrong."""
        if len(request.body) > MAX_BODY_BYTES:
            return _error(413, f"The request is larger than {MAX_BODY_BYTES} bytes.")
        try:
            body = json.loads(request.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return _error(400, 'The body must be JSON (UTF-8): {"sender": …, "message": …}.')
        if not isinstance(body, dict):
            return _error(400, 'The body must be a JSON object: {"sender": …, "message": …}.')
        sender, text = body.get("sender"), body.get("message")
        if not isinstance(sender, str) or not SENDER.match(sender):
            return _error(
                400, "`sender` must be a string of 1 to 128 printable characters without spaces."
            )
        if not isinstance(text, str) or not text.strip():
            return _error(400, "`message` must be a non-empty string.")
        if len(text) > self.max_message_chars:
            return _error(
                400,
                f"`message` is too long ({len(text)} characters; the limit is "
                f"{self.max_message_chars}).",
            )
        if control_characters(text):
            return _error(400, "`message` contains control characters.")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate, from a \ud800 escape
            return _error(400, "`message` is not valid Unicode text.")
        message_id = body.get("message_id")
        if message_id is not None and not (
            isinstance(message_id, str) and SENDER.match(message_id)
        ):
            return _error(
                400,
                "`message_id`, when given, must be a string of 1 to 128 printable "
                "characters without spaces.",
            )
        return conversation_id(sender), text.strip(), message_id
