"""The staff API: a member of staff takes a conversation over, replies, and hands it back.

Registered in credentials.yml as `channels.staff.StaffInput` (routes under `/webhooks/staff/`);
the staff console calls it (console/conversations/takeover.py). Every route but the health check needs
`Authorization: Bearer <CLINIC_STAFF_API_TOKEN>` (401 without it; 503 when no token is set).

    GET  /webhooks/staff/conversations/<id>            its state (below)
    POST /webhooks/staff/conversations/<id>/take-over  {"staff": NAME}  → state, notified, problem
    POST /webhooks/staff/conversations/<id>/reply      {"staff": NAME, "text": TEXT}  → state, sent
    POST /webhooks/staff/conversations/<id>/hand-back  {"staff": NAME}  → state, notified, problem

The state is `{conversation_id, channel, paused, taken_over_by, chat_open}`; `chat_open` says
for a web chat whether the person's chat is open (a socket of the conversation is connected):
true, false, or null when that cannot be known; it is null on the other channels. `notified`
says whether the user was told, `problem` why not. A refusal is `{"error": "…"}` with 400, 404
(no such conversation), 409 (the wrong state for it, an opted-out number, a closed web chat, a
channel that cannot take a message), 502 (Twilio did not send it) or 503.

Taking over appends Rasa's `pause` event: the user's messages are still recorded, but the
assistant does not answer until hand-back appends `resume`, with one exception: an urgent crisis
message still gets the crisis reply at once and is escalated (the crisis policy: the reply
first, on every message; staff who took over may not be looking). See
`components/rasa_patches.py` (should_handle_message). The user is told with the domain's
`utter_staff_joined` and `utter_staff_left`. A message goes out on the conversation's own
channel (the `input_channel` of its latest user message): web chat through the channel's
socket.io server while the chat is open (a message to a closed one would reach nobody: it is
refused), SMS through Twilio's API (`channels.sms.send.send_staff_message`, which
never texts an opted-out number). It is recorded in the tracker as a `bot` event; a staff
member's reply carries `metadata: {"staff": NAME}`, and so do the `pause` and `resume` events.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.actions.action import create_bot_utterance
from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.shared.core.events import BotUttered, ConversationPaused, ConversationResumed, Event
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Blueprint, response
from sanic.exceptions import InvalidUsage
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.body_limit import cap_request_bodies
from channels.sms import client as twilio_client
from channels.sms import send as sms_send
from channels.turns import tracker_under_lock
from channels.webchat import WebChatInput
from clinic import settings, sms
from components import rasa_patches

logger = logging.getLogger(__name__)

JOINED = "utter_staff_joined"
LEFT = "utter_staff_left"
MAX_TEXT_CHARS = twilio_client.MAX_BODY_CHARS
MAX_NAME_CHARS = 64
CONVERSATION = "/conversations/<conversation_id:path>"


class StaffApiError(Exception):
    """A request the staff API refuses: `status` is its HTTP status, the message says why."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


@dataclass(frozen=True)
class Notice:
    """Whether the user was told (taken over, handed back), and if not, why."""

    sent: bool
    problem: Optional[str] = None


def _error(status: int, text: str, **headers: str) -> HTTPResponse:
    return response.json({"error": text}, status=status, headers=headers)


def taken_over_by(tracker: DialogueStateTracker) -> Optional[str]:
    """Who paused the conversation, if it is paused."""
    if not tracker.is_paused():
        return None
    pause = next(e for e in reversed(tracker.events) if isinstance(e, ConversationPaused))
    return (pause.metadata or {}).get("staff")


async def _state(request: Request, tracker: DialogueStateTracker, **extra: Any) -> Dict[str, Any]:
    return {
        "conversation_id": tracker.sender_id,
        "channel": tracker.get_latest_input_channel(),
        "paused": tracker.is_paused(),
        "taken_over_by": taken_over_by(tracker),
        "chat_open": await _chat_open(request, tracker),
        **extra,
    }


def _web_chat(request: Request, tracker: DialogueStateTracker) -> Optional[WebChatInput]:
    """The web chat channel, when the conversation is a web chat on this server."""
    if tracker.get_latest_input_channel() != WebChatInput.name():
        return None
    registered = getattr(request.app.ctx, "input_channels", None) or []
    return next((c for c in registered if isinstance(c, WebChatInput)), None)


async def _chat_open(request: Request, tracker: DialogueStateTracker) -> Optional[bool]:
    """For a web chat, whether the person's chat is open; None elsewhere or when not known."""
    web_chat = _web_chat(request, tracker)
    return None if web_chat is None else await web_chat.is_open(tracker.sender_id)


Act = Callable[[Request, DialogueStateTracker], Awaitable[Dict[str, Any]]]


class StaffInput(InputChannel):
    """The staff console's way into the Rasa server: take over, reply, hand back."""

    @classmethod
    def name(cls) -> Text:
        return "staff"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        return cls()  # the token comes from the environment (settings), never from a file

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = Blueprint("staff_api", __name__)
        cap_request_bodies(blueprint)
        rasa_patches.apply()  # take-over exists on this server from now on: crises still answered
        token = settings.current().staff_api_token.get()
        if token is None:
            logger.info("staff: the staff API is off (CLINIC_STAFF_API_TOKEN is not set)")

        async def on_conversation(
            request: Request, conversation_id: Text, act: Act
        ) -> HTTPResponse:
            """`act` on the conversation's tracker, for an authorised caller, under its lock."""
            if token is None:
                return _error(
                    503,
                    "The staff API is off on this server: set "
                    "CLINIC_STAFF_API_TOKEN for it and for the console.",
                )
            if not token.is_bearer_of(request.headers.get("Authorization")):
                return _error(
                    401,
                    "Not authorised: a valid bearer token is needed.",
                    **{"WWW-Authenticate": "Bearer"},
                )
            agent = request.app.ctx.agent
            try:
                async with tracker_under_lock(agent, conversation_id) as tracker:
                    if tracker is None or tracker.get_latest_input_channel() is None:
                        raise StaffApiError(404, f"There is no conversation {conversation_id!r}.")
                    return response.json(await act(request, tracker))
            except StaffApiError as error:
                return _error(error.status, str(error))

        @blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok" if token else "off"})

        @blueprint.route(CONVERSATION, methods=["GET"], unquote=True)
        async def state(request: Request, conversation_id: Text) -> HTTPResponse:
            return await on_conversation(request, conversation_id, _current_state)

        @blueprint.route(f"{CONVERSATION}/take-over", methods=["POST"], unquote=True)
        async def take_over(request: Request, conversation_id: Text) -> HTTPResponse:
            return await on_conversation(request, conversation_id, _take_over)

        @blueprint.route(f"{CONVERSATION}/reply", methods=["POST"], unquote=True)
        async def reply(request: Request, conversation_id: Text) -> HTTPResponse:
            return await on_conversation(request, conversation_id, _reply)

        @blueprint.route(f"{CONVERSATION}/hand-back", methods=["POST"], unquote=True)
        async def hand_back(request: Request, conversation_id: Text) -> HTTPResponse:
            return await on_conversation(request, conversation_id, _hand_back)

        return blueprint


async def _current_state(request: Request, tracker: DialogueStateTracker) -> Dict[str, Any]:
    return await _state(request, tracker)


async def _take_over(request: Request, tracker: DialogueStateTracker) -> Dict[str, Any]:
    name = _staff_name(request)
    if tracker.is_paused():
        raise StaffApiError(
            409, f"This conversation is already taken over by {taken_over_by(tracker)}."
        )
    await _record(request, tracker, ConversationPaused(metadata={"staff": name}))
    notice = await _notify(request, tracker, JOINED)
    logger.info("staff: %s took over %s", name, tracker.sender_id)
    return await _state(request, tracker, notified=notice.sent, problem=notice.problem)


async def _reply(request: Request, tracker: DialogueStateTracker) -> Dict[str, Any]:
    name, text = _staff_name(request), _text(request)
    if not tracker.is_paused():
        raise StaffApiError(
            409, "Take the conversation over before replying: the assistant is still answering it."
        )
    await _send(request, tracker, {"text": text})
    await _record(request, tracker, BotUttered(text, metadata={"staff": name}))
    return await _state(request, tracker, sent=True)


async def _hand_back(request: Request, tracker: DialogueStateTracker) -> Dict[str, Any]:
    name = _staff_name(request)
    if not tracker.is_paused():
        raise StaffApiError(409, "This conversation is not taken over.")
    notice = await _notify(request, tracker, LEFT)
    await _record(request, tracker, ConversationResumed(metadata={"staff": name}))
    logger.info("staff: %s handed %s back to the assistant", name, tracker.sender_id)
    return await _state(request, tracker, notified=notice.sent, problem=notice.problem)


def _body(request: Request) -> Dict[str, Any]:
    try:
        body = request.json
    except InvalidUsage:
        body = None
    if not isinstance(body, dict):
        raise StaffApiError(400, "The request body must be a JSON object.")
    return body


def _staff_name(request: Request) -> str:
    name = _body(request).get("staff")
    if not (isinstance(name, str) and name.strip() and len(name) <= MAX_NAME_CHARS):
        raise StaffApiError(400, "`staff` (the staff member's username) is missing.")
    return name.strip()


def _text(request: Request) -> str:
    text = _body(request).get("text")
    if not (isinstance(text, str) and text.strip()):
        raise StaffApiError(400, "`text` (the reply) is missing or empty.")
    if len(text) > MAX_TEXT_CHARS:
        raise StaffApiError(400, f"The reply is longer than {MAX_TEXT_CHARS} characters.")
    return text.strip()


async def _record(request: Request, tracker: DialogueStateTracker, event: Event) -> None:
    agent = request.app.ctx.agent
    tracker.update(event, agent.domain)
    await agent.tracker_store.save(tracker)


async def _notify(request: Request, tracker: DialogueStateTracker, response_name: str) -> Notice:
    """Send the user one of the domain's responses on the conversation's channel, if it can."""
    channel = tracker.get_latest_input_channel()
    message = await request.app.ctx.agent.nlg.generate(response_name, tracker, channel)
    if not message:
        return Notice(
            sent=False,
            problem=f"The model has no response {response_name}: retrain it (make train).",
        )
    try:
        await _send(request, tracker, dict(message))
    except StaffApiError as error:
        return Notice(sent=False, problem=str(error))
    utterance = create_bot_utterance({**message, "utter_action": response_name})
    await _record(request, tracker, utterance)
    return Notice(sent=True)


async def _send(request: Request, tracker: DialogueStateTracker, message: Dict[str, Any]) -> None:
    """Deliver a message to the user on the conversation's channel, or raise StaffApiError."""
    channel = tracker.get_latest_input_channel()
    if channel == sms.CHANNEL:
        await _send_sms(tracker.sender_id, message["text"])
        return
    web_chat = _web_chat(request, tracker)
    if web_chat is not None and await web_chat.is_open(tracker.sender_id) is False:
        raise StaffApiError(
            409,
            "The person has closed the chat: a message there would reach "
            "nobody. Use a contact they gave, if any.",
        )
    registered = getattr(request.app.ctx, "input_channels", None) or []
    output = next((c.get_output_channel() for c in registered if c.name() == channel), None)
    if output is None:  # the REST channel answers in its HTTP response only
        raise StaffApiError(
            409,
            f"A conversation on the {channel} channel cannot receive "
            "messages from staff; reach the person another way.",
        )
    await output.send_response(tracker.sender_id, message)


async def _send_sms(conversation_id: str, text: str) -> None:
    try:
        results = await sms_send.send_staff_message(conversation_id, text)
    except sms_send.OptedOutError:
        raise StaffApiError(
            409,
            "This number has opted out of SMS (it texted STOP): nothing "
            "may be sent to it until it texts START.",
        ) from None
    except LookupError:
        raise StaffApiError(409, "No phone number is on file for this conversation.") from None
    except settings.SettingsError as error:
        raise StaffApiError(503, f"SMS cannot be sent from this server: {error}.") from None
    failed = next((result for result in results if not result.ok), None)
    if failed is None:
        return
    went_out = f"{len(results) - 1} of its SMS parts went out"
    if failed.error_code == twilio_client.ERROR_OPTED_OUT:
        raise StaffApiError(
            409, f"Twilio says this number has opted out of SMS (error 21610); {went_out}."
        )
    raise StaffApiError(
        502,
        f"Twilio did not send the message (error {failed.error_code}: "
        f"{failed.error or 'no answer'}); {went_out}.",
    )
