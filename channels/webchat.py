"""The website chat widget's channel: Rasa's socket.io channel with its traps removed.

Registered in credentials.yml as `channels.webchat.WebChatInput` (channel name `webchat`).
What differs from Rasa's `socketio` channel:
- Conversations always persist across reloads and tabs: the widget asks for a session and
  every socket of that session joins its room, so all of them get the bot's replies. (Rasa's
  channel calls python-socketio 5's `enter_room` coroutine without awaiting it, so with the
  locked versions its sockets never join the room and replies with `session_persistence`
  on go nowhere.)
- A message that cannot be handled gets an `error_message` event back saying why (Rasa's
  channel drops a message without a `session_id` with only a server-side warning, and crashes
  on a payload that is not an object or is missing); nothing is silently lost. Control
  characters and lone surrogates, which no person types and which broke the turn, are taken
  out of the text (channels/user_text.py). Events the channel does not know are ignored, an
  event a client names `disconnect` too.
- Session ids are issued and signed by the server (channels/conversation_ids.py): an id it
  did not issue for the web chat (another channel's, a made-up one) is refused and a new
  conversation started; a socket that changes conversation leaves the old one's room.
  Messages have a size limit.
- Custom payloads arrive as `{"custom": …}` (Rasa's would need `{"data": …}` from the bot).
- After the bot has answered a message, a `bot_done` event ends the typing indicator; a user
  message is echoed to the session's other tabs as `user_echo`.
- With CLINIC_REDIS_URL set (replicas), the sockets of every replica share their rooms through
  Redis (python-socketio's AsyncRedisManager): a message produced on one replica for a session
  whose socket is connected to another (a staff member's reply, a handoff notice, a reply to
  a second tab) reaches it. Rasa's channel has no shared manager; such messages were lost.
  Each socket's own session data stays on the replica it is connected to, which the load
  balancer's affinity for `/socket.io` keeps it on (a polling socket makes many requests).
- The channel knows which conversations have a socket connected (`Presence`; across replicas
  through Redis), so the staff API can say whether the person's chat is still open and refuse a
  reply that would reach nobody (channels/staff.py).
- `GET /webhooks/webchat/widget.js` serves the built widget (`widget/dist/clinic-chat.js`) and
  `GET /webhooks/webchat/config` what the widget shows before anyone has written: the clinic's
  public details, the domain's greeting and a few FAQ questions to start with.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import math
import time
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List, Optional, Set, Text, Tuple, Union

import redis.asyncio
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOOutput
from rasa.shared.core.domain import Domain
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncRedisManager, AsyncServer

from channels import conversation_ids
from channels.body_limit import cap_request_bodies
from channels.crisis_fallback import crisis_reply_for_failed_turn
from channels.rate_limit import SenderRateLimiter
from channels.user_text import MAX_MESSAGE_CHARS, readable
from clinic import settings
from clinic.profile import PROJECT_ROOT, current_profile
from components.lock_store import check_redis_reachable
from components.profile_nlg import ProfileNLG
from crisis.detector import detect
from crisis.levels import URGENT

logger = logging.getLogger(__name__)

WIDGET_BUNDLE = PROJECT_ROOT / "widget" / "dist" / "clinic-chat.js"
GREETING = "utter_greet"
# The FAQ topics an empty chat offers as buttons (what people ask first), each by the short
# title of its answer in the domain, which the "did you mean" buttons also use.
SUGGESTED_TOPICS = ("infusion_experience", "session_length", "consultation", "cost")
ADDRESS_FACTOR = 3  # one address may send this many times what one conversation may
NEW_CONVERSATIONS_BURST = 10  # new conversations one address may start at once
NEW_CONVERSATIONS_PER_MINUTE = 6.0  # and then at this rate

# A replica says every PRESENCE_RENEW_SECONDS which of its sockets are connected; a socket not
# renewed for PRESENCE_STALE_SECONDS (its replica died) no longer counts.
PRESENCE_RENEW_SECONDS = 15
PRESENCE_STALE_SECONDS = 45

USER_MESSAGE = "user_uttered"
BOT_MESSAGE = "bot_uttered"
SESSION_REQUEST = "session_request"
SESSION_CONFIRM = "session_confirm"
ERROR = "error_message"
DONE = "bot_done"
ECHO = "user_echo"


def _error(code: str, text: str) -> Dict[str, str]:
    return {"code": code, "text": text}


class WebChatOutput(SocketIOOutput):
    @classmethod
    def name(cls) -> Text:
        return WebChatInput.name()

    async def send_custom_json(
        self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any
    ) -> None:
        await self._send_message(recipient_id, {"custom": json_message})


class Presence:
    """Which conversations have a socket connected: this process's sockets, and with Redis
    (replicas) every replica's, as a sorted set per conversation of its sockets, each scored
    with when its replica last renewed it. A disconnect removes its socket at once."""

    def __init__(self, redis_url: Optional[settings.Secret] = None) -> None:
        self._sockets: Dict[str, Set[str]] = {}  # conversation → this process's socket ids
        self._conversation_of: Dict[str, str] = {}  # socket id → its conversation
        self._redis = redis.asyncio.from_url(redis_url.reveal()) if redis_url else None
        self._renewing: Optional[asyncio.Task] = None

    @staticmethod
    def _key(session_id: str) -> str:
        return f"clinic-webchat:open:{{{session_id}}}"

    async def joined(self, sid: str, session_id: str) -> None:
        """Socket `sid` is now in conversation `session_id` (and has left any other)."""
        await self.left(sid)
        self._conversation_of[sid] = session_id
        self._sockets.setdefault(session_id, set()).add(sid)
        if self._redis is None:
            return
        if self._renewing is None or self._renewing.done():
            self._renewing = asyncio.create_task(self._renew())
        await self._announce(session_id, {sid})

    async def left(self, sid: str) -> None:
        """Socket `sid` disconnected or changed conversation."""
        session_id = self._conversation_of.pop(sid, None)
        if session_id is None:
            return
        sockets = self._sockets.get(session_id, set())
        sockets.discard(sid)
        if not sockets:
            self._sockets.pop(session_id, None)
        if self._redis is not None:
            try:
                await self._redis.zrem(self._key(session_id), sid)
            except redis.RedisError:
                pass  # the entry goes stale instead

    async def is_open(self, session_id: str) -> Optional[bool]:
        """Whether a socket of the conversation is connected; None when that cannot be known
        (Redis unreachable, and no socket here)."""
        if self._sockets.get(session_id):
            return True
        if self._redis is None:
            return False
        try:
            count = await self._redis.zcount(
                self._key(session_id), time.time() - PRESENCE_STALE_SECONDS, "+inf"
            )
        except redis.RedisError:
            logger.warning("webchat: Redis unreachable; whether a chat is open is not known")
            return None
        return count > 0

    async def _announce(self, session_id: str, sockets: Set[str]) -> None:
        now = time.time()
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.zadd(self._key(session_id), {sid: now for sid in sockets})
                pipe.zremrangebyscore(self._key(session_id), "-inf", now - PRESENCE_STALE_SECONDS)
                pipe.expire(self._key(session_id), 2 * PRESENCE_STALE_SECONDS)
                await pipe.execute()
        except redis.RedisError:
            logger.warning("webchat: Redis unreachable; a connected chat may show as closed")

    async def _renew(self) -> None:
        while self._sockets:
            await asyncio.sleep(PRESENCE_RENEW_SECONDS)
            for session_id, sockets in list(self._sockets.items()):
                await self._announce(session_id, set(sockets))


class WebChatInput(InputChannel):
    """Socket.io channel for the clinic's chat widget."""

    @classmethod
    def name(cls) -> Text:
        return "webchat"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        credentials = credentials or {}
        return cls(
            cors_allowed_origins=credentials.get("cors_allowed_origins", "*"),
            max_message_chars=int(credentials.get("max_message_chars", MAX_MESSAGE_CHARS)),
            socketio_path=credentials.get("socketio_path", "/socket.io"),
            widget_bundle=Path(credentials.get("widget_bundle", WIDGET_BUNDLE)),
        )

    def __init__(
        self,
        cors_allowed_origins: Union[str, List[str]] = "*",
        max_message_chars: int = MAX_MESSAGE_CHARS,
        socketio_path: str = "/socket.io",
        widget_bundle: Path = WIDGET_BUNDLE,
    ) -> None:
        self.cors_allowed_origins = cors_allowed_origins
        self.max_message_chars = max_message_chars
        self.socketio_path = socketio_path
        self.widget_bundle = widget_bundle
        self.sio: Optional[AsyncServer] = None
        self.presence = Presence()

    async def is_open(self, session_id: Text) -> Optional[bool]:
        """Whether the person's chat is open (a socket of the conversation is connected, on
        any replica); None when that cannot be known."""
        return await self.presence.is_open(session_id)

    def get_output_channel(self) -> Optional[OutputChannel]:
        # Used for messages the bot sends outside a user's turn (a staff member's reply).
        return WebChatOutput(self.sio, BOT_MESSAGE) if self.sio else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        sio = AsyncServer(
            async_mode="sanic",
            cors_allowed_origins=self.cors_allowed_origins,
            client_manager=shared_rooms(),
        )
        self.sio = sio
        presence = self.presence = Presence(settings.current().redis_url)
        limits = settings.current().rate_limits
        # Per socket and per conversation, as REST and SMS limit a sender; per address too,
        # looser (a clinic's waiting room may share one), since a new socket costs nothing.
        per_sender = SenderRateLimiter(limits, settings.current().redis_url)
        per_address = SenderRateLimiter(
            settings.RateLimits(limits.burst * ADDRESS_FACTOR, limits.per_minute * ADDRESS_FACTOR),
            settings.current().redis_url,
        )
        new_conversations = SenderRateLimiter(
            settings.RateLimits(NEW_CONVERSATIONS_BURST, NEW_CONVERSATIONS_PER_MINUTE),
            settings.current().redis_url,
        )

        async def wait_seconds(sid: Text, session_id: Text) -> float:
            address = _client_address(sio, sid)
            waits = [
                await per_sender.wait_seconds("webchat-socket", sid),
                await per_sender.wait_seconds(self.name(), session_id),
            ]
            if address:
                waits.append(await per_address.wait_seconds("webchat-address", address))
            return max(waits)

        blueprint = SocketBlueprint(sio, self.socketio_path, "webchat_webhook", __name__)
        cap_request_bodies(blueprint)
        server: Dict[str, Any] = {}  # the Sanic app, for the agent when a turn fails

        @blueprint.listener("after_server_start")
        async def remember_app(app: Any, _loop: Any) -> None:
            server["app"] = app

        @blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @blueprint.route("/widget.js", methods=["GET"])
        async def widget(_: Request) -> HTTPResponse:
            if not self.widget_bundle.exists():
                return response.text(
                    "The chat widget has not been built: run `make setup`.", status=503
                )
            return await response.file(
                str(self.widget_bundle),
                mime_type="application/javascript; charset=utf-8",
                headers={"Cache-Control": "no-cache", "Access-Control-Allow-Origin": "*"},
            )

        @blueprint.route("/config", methods=["GET"])
        async def config(request: Request) -> HTTPResponse:
            agent = getattr(request.app.ctx, "agent", None)
            return response.json(
                public_config(agent.domain if agent else None),
                headers={"Access-Control-Allow-Origin": "*"},
            )

        # A client may send an event with any number of arguments: the first is the payload.
        @sio.on(SESSION_REQUEST)
        async def session_request(sid: Text, data: Any = None, *_: Any) -> None:
            requested = data.get("session_id") if isinstance(data, dict) else None
            if not conversation_ids.is_issued(self.name(), requested):
                address = _client_address(sio, sid)
                if address and await new_conversations.wait_seconds("webchat-new", address):
                    await sio.emit(
                        ERROR,
                        _error(
                            "rate_limited",
                            "Too many new conversations from here: please wait a "
                            "minute and reload the page.",
                        ),
                        room=sid,
                    )
                    return
                if requested is not None:
                    notice = _error("bad_session", "A new conversation was started.")
                    await sio.emit(ERROR, notice, room=sid)
                requested = new_session_id()
            previous = (await sio.get_session(sid) or {}).get("session_id")
            if previous and previous != requested:
                await sio.leave_room(sid, previous)  # no more replies of the old conversation
            await sio.enter_room(sid, requested)  # a coroutine in python-socketio 5.x
            await sio.save_session(sid, {"session_id": requested})
            await presence.joined(sid, requested)
            await sio.emit(SESSION_CONFIRM, requested, room=sid)

        @sio.on("disconnect")
        async def disconnect(sid: Text, reason: Any = None, *_: Any) -> None:
            if sio.manager.is_connected(sid, "/"):
                return  # an event of that name sent by the client: it would hide an open chat
            await presence.left(sid)

        @sio.on(USER_MESSAGE)
        async def handle_message(sid: Text, data: Any = None, *_: Any) -> None:
            read = await self._read(sid, data)
            if isinstance(read, dict):
                await sio.emit(ERROR, read, room=sid)
                return
            session_id, text = read
            wait = await wait_seconds(sid, session_id)
            if wait and detect(text).level != URGENT:  # a crisis message is always answered
                await sio.emit(
                    ERROR,
                    _error(
                        "rate_limited",
                        f"Too many messages: please wait {max(1, math.ceil(wait))} "
                        "seconds and send it again.",
                    ),
                    room=sid,
                )
                return
            await sio.emit(ECHO, {"text": text, "ts": time.time()}, room=session_id, skip_sid=sid)
            message = UserMessage(
                text,
                WebChatOutput(sio, BOT_MESSAGE),
                session_id,
                input_channel=self.name(),
                metadata={},
            )
            try:
                await on_new_message(message)
            except Exception as error:  # the user must hear that something went wrong
                logger.error(
                    "webchat: the assistant failed on a message (%s)", type(error).__name__
                )
                crisis = (
                    await crisis_reply_for_failed_turn(server["app"].ctx.agent, text, self.name())
                    if "app" in server
                    else None
                )
                for reply in crisis or []:  # a crisis is answered even then (the crisis policy)
                    await message.output_channel.send_response(session_id, reply)
                if crisis:
                    return
                await sio.emit(
                    ERROR,
                    _error("server", "Sorry, something went wrong on our side. Please try again."),
                    room=sid,
                )
            finally:
                await sio.emit(DONE, {}, room=session_id)

        return blueprint

    async def _read(self, sid: Text, data: Any) -> Union[Tuple[str, str], Dict[str, str]]:
        """A user message's conversation and text, or the error saying why it cannot be
        handled."""
        unreadable = _error("malformed", "The message could not be read.")
        if not isinstance(data, dict):
            return unreadable
        session = await self.sio.get_session(sid)
        if not session or data.get("session_id") != session.get("session_id"):
            return _error("no_session", "The chat was not connected yet. Please send it again.")
        text = data.get("message")
        if not isinstance(text, str):
            return unreadable
        if len(text) > self.max_message_chars:
            return _error(
                "too_long",
                f"That message is too long ({len(text)} characters; the limit is "
                f"{self.max_message_chars}). Please shorten it or split it in two.",
            )
        text = readable(text).strip()
        if not text:
            return _error("empty", "The message was empty.")
        return session["session_id"], text


def _client_address(sio: AsyncServer, sid: Text) -> Optional[str]:
    """The visitor's address, when it is known: the one a trusted proxy forwarded (Sanic's
    `SANIC_PROXIES_COUNT` / `SANIC_REAL_IP_HEADER`), or the peer's unless that is this
    machine (behind nginx without those settings every visitor would share nginx's
    address, and one visitor's flood would silence all the others)."""
    request = (sio.get_environ(sid) or {}).get("sanic.request")
    if request is None:
        return None
    if request.remote_addr:
        return request.remote_addr
    try:
        return None if ipaddress.ip_address(request.ip).is_loopback else request.ip
    except ValueError:
        return None


def shared_rooms() -> Optional[AsyncRedisManager]:
    """The Redis manager that shares rooms across replicas (None: one process, rooms in it)."""
    url = settings.current().redis_url
    if url is None:
        return None
    check_redis_reachable(url.reveal())
    return AsyncRedisManager(url.reveal(), channel="clinic-webchat")


def new_session_id() -> str:
    return conversation_ids.issue(WebChatInput.name())


def public_config(domain: Optional[Domain]) -> Dict[str, Any]:
    """What the widget may show about the clinic: nothing that is not on its website. With it,
    what an empty chat shows: `greeting`, the `domain`'s greeting as the assistant says it
    outside a crisis, and `suggestions`, FAQ questions to send with one click (None and []
    while no model is loaded)."""
    profile = current_profile()
    return {
        "clinic_name": profile.name,
        "phone": profile.phone,
        "phone_e164": profile.phone_e164,
        "hours": profile.hours.summary,
        "greeting": greeting(domain) if domain is not None else None,
        "suggestions": suggested_questions(domain) if domain is not None else [],
    }


def greeting(domain: Domain) -> Optional[str]:
    """The domain's greeting with no slot set (the variation without a condition), the
    clinic profile's values filled in as in every reply."""
    message = ProfileNLG(domain=domain, profile=current_profile()).generate_from_slots(
        GREETING, {}, WebChatInput.name()
    )
    return (message or {}).get("text") or None


def suggested_questions(domain: Domain) -> List[str]:
    """The titles of SUGGESTED_TOPICS' answers in the domain ("How much does it cost?")."""
    titles = []
    for topic in SUGGESTED_TOPICS:
        variations = domain.responses.get(f"utter_faq/{topic}") or [{}]
        title = (variations[0].get("metadata") or {}).get("title")
        if title:
            titles.append(title)
        else:
            logger.warning("webchat: utter_faq/%s has no title to suggest", topic)
    return titles
