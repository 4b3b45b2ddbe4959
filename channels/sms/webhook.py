"""SMS through Twilio, with webhooks that cannot be forged: the input channel.

Registered in credentials.yml as `channels.sms.webhook.TwilioSmsInput` (channel name `twilio`,
so the domain's `channel: twilio` response variants apply). Twilio posts each text message to
`/webhooks/twilio/webhook`; the connector

- answers 403 unless `X-Twilio-Signature` is Twilio's signature of the request, computed with
  the account's auth token over the public URL the clinic configured (TWILIO_WEBHOOK_URL),
  before it does anything else;
- handles each MessageSid once (Twilio retries webhooks; a retry gets the first answer again);
- records STOP/START-style keywords as opt-outs and opt-ins and never replies to them (Twilio
  does), answers HELP itself only when the profile says Twilio's own replies are off;
- keys the conversation by a keyed hash of the phone number (`clinic.sms`);
- turns a reply of "1" into the payload of the first button it offered (channels/sms/text.py);
- answers in the webhook's TwiML when the assistant (channels/sms/assistant.py) is done within
  the reply budget, else returns an empty `<Response/>` and sends the reply through Twilio's
  REST API when ready (channels/sms/recovery.py, which also answers the messages a stopped
  replica left unanswered).

Staff messages go out with `channels.sms.send.send_staff_message` (refused for opted-out
numbers):
    python -m channels.sms send CONVERSATION_ID "text"
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
import re
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, List, Optional, Set, Text
from urllib.parse import parse_qs

import sqlalchemy as sa
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from channels.body_limit import cap_request_bodies
from channels.rate_limit import SenderRateLimiter
from channels.sms import recovery
from channels.sms.assistant import SmsAssistant, SmsCollector, domain_reply, stored_replies
from channels.sms.client import MAX_BODY_CHARS
from channels.sms.text import match_reply
from channels.user_text import readable
from clinic import settings, sms
from clinic.db import engine_for
from clinic.profile import current_profile
from crisis.detector import detect
from crisis.levels import URGENT

logger = logging.getLogger(__name__)

CHANNEL = sms.CHANNEL
OPT_OUT_KEYWORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
OPT_IN_KEYWORDS = frozenset({"START", "UNSTOP"})
OPT_IN_WHEN_OPTED_OUT = frozenset({"YES"})  # otherwise "yes" answers the bot's question
HELP_KEYWORDS = frozenset({"HELP", "INFO"})

HELP_REPLY = "utter_sms_help"
TEXT_ONLY_REPLY = "utter_sms_text_only"
FAILURE_REPLY = "utter_sms_failure"

# What Twilio sends: a base64 HMAC-SHA1 in the header, and a form of some 20 fields (up to 60
# with ten pictures or WhatsApp's extras) that fits in ~25 kB even when all 1600 characters of
# the text are percent-encoded emoji. A request that cannot be Twilio's is refused on that
# alone: a 1 MB body of a quarter of a million fields took the event loop more than a second
# to parse and sign, for every forged request.
TWILIO_SIGNATURE = re.compile(r"[A-Za-z0-9+/]{27}=")
MAX_FORM_FIELDS = 128
MAX_FORM_BYTES = 64 * 1024


@dataclass(frozen=True)
class Inbound:
    """A text message as Twilio's signed webhook brought it."""

    sid: str  # Twilio's MessageSid: the message is handled once
    phone: str  # the sender's number (From); only clinic_sms_numbers keeps it
    conversation_id: str  # the keyed hash of the number (clinic.sms.conversation_id_for)
    body: str
    deadline: float  # time.monotonic() past which the reply goes out through the API


class _Form(Dict[str, List[str]]):
    """Form fields → their values, readable by RequestValidator (it asks for `getlist`)."""

    def getlist(self, name: str) -> List[str]:
        return self[name]


def _form(request: Request) -> Optional[_Form]:
    """The webhook's form fields, empty ones kept (Twilio signs `Body=` too); None if unreadable
    or with more fields than Twilio sends (counted before any is parsed)."""
    try:
        return _Form(
            parse_qs(
                request.body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS
            )
        )
    except (UnicodeDecodeError, ValueError):
        return None


def _signed_form(request: Request, config: settings.TwilioSettings) -> Optional[_Form]:
    """The webhook's form fields if Twilio signed them, else None. The first thing the webhook
    does: a forged request costs a header check, or a bounded parse and its HMAC, and reaches
    neither the database nor the rate limits."""
    signature = request.headers.get("X-Twilio-Signature", "")
    if not TWILIO_SIGNATURE.fullmatch(signature) or len(request.body) > MAX_FORM_BYTES:
        return None
    form = _form(request)
    validator = RequestValidator(config.auth_token.reveal())
    if form is None or not validator.validate(config.webhook_url, form, signature):
        return None
    return form


def twiml(bodies: List[str]) -> HTTPResponse:
    reply = MessagingResponse()
    for body in bodies:
        reply.message(body)
    return response.text(str(reply), content_type="application/xml")


class TwilioSmsInput(InputChannel):
    """Twilio's SMS webhook, signed and idempotent."""

    @classmethod
    def name(cls) -> Text:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        return cls()  # everything, secrets included, comes from the environment (settings)

    def __init__(self) -> None:
        self._background: Set[asyncio.Task] = set()
        self._assistant: Optional[SmsAssistant] = None  # set by blueprint() when SMS is on

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = Blueprint("twilio_sms_webhook", __name__)
        cap_request_bodies(blueprint)
        config = settings.current().twilio
        engine = engine_for(settings.current().database_url)
        limiter = SenderRateLimiter.from_environment()
        if config is None:
            logger.info("twilio: SMS is off (TWILIO_AUTH_TOKEN is not set)")
            hash_key = None
        else:
            hash_key = settings.current().phone_hash_key.get()
            self._assistant = SmsAssistant(on_new_message, engine, config)
        assistant = self._assistant

        @blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok" if config else "off"})

        @blueprint.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            deadline = time.monotonic() + (config.reply_budget_seconds if config else 0)
            if config is None:
                return response.text("SMS is not configured on this server.", status=503)
            form = _signed_form(request, config)
            if form is None:
                logger.warning("twilio: rejected a webhook with a missing or wrong signature")
                return response.text("Forbidden: not signed by Twilio.", status=403)
            missing = [field for field in ("MessageSid", "From", "Body") if field not in form]
            if missing:
                return response.text(f"Bad request: missing {', '.join(missing)}.", status=400)
            body = readable(form["Body"][0])  # no control characters (PostgreSQL refuses NUL)
            if len(body) > MAX_BODY_CHARS:
                return response.text(
                    f"Bad request: Body is longer than {MAX_BODY_CHARS} characters.", status=400
                )
            conversation_id = sms.conversation_id_for(form["From"][0], hash_key)
            wait = await limiter.wait_seconds(self.name(), conversation_id)
            if wait and detect(body).level != URGENT:  # a crisis is always answered
                return response.text(
                    "Too many messages from this number; retry later.",
                    status=429,
                    headers={"Retry-After": str(math.ceil(wait))},
                )
            try:
                return await self._handle(
                    request,
                    Inbound(
                        sid=form["MessageSid"][0],
                        phone=form["From"][0],
                        conversation_id=conversation_id,
                        body=body,
                        deadline=deadline,
                    ),
                )
            except sa.exc.SQLAlchemyError as error:  # Twilio's log keeps the message
                logger.error("twilio: the database is unavailable (%s)", type(error).__name__)
                crisis = await assistant.crisis_bodies(body)
                if crisis:  # a crisis is answered even then (the crisis policy)
                    return twiml(crisis)
                return response.text("The assistant's database is unavailable.", status=503)

        @blueprint.listener("after_server_start")
        async def start_recovery(app: Any, _: Any) -> None:
            if assistant is not None:
                assistant.app = app
                task = asyncio.create_task(recovery.recover(assistant))
                self._background.add(task)

        return blueprint

    async def _handle(self, request: Request, inbound: Inbound) -> HTTPResponse:
        assistant = self._assistant
        engine, sid = assistant.engine, inbound.sid
        conversation_id, body = inbound.conversation_id, inbound.body
        claim = await asyncio.to_thread(
            sms.claim_message,
            engine,
            sid,
            conversation_id,
            lease=dt.timedelta(seconds=assistant.config.claim_lease_seconds),
            body=body,
        )
        if not claim.first and claim.status == sms.RECEIVED:
            # Being answered (Twilio gets the reply from the first request or through the
            # API), or its process died: a retry after the lease takes it over.
            return response.text(
                "This message is still being answered; retry later.",
                status=503,
                headers={"Retry-After": "5"},
            )
        if claim.taken_over:
            stored = await stored_replies(request.app.ctx.agent, conversation_id, sid)
            if stored is not None:  # handled before its replica died: answer, do not re-run
                return await self._finish(engine, sid, stored, sms.ANSWERED)
        if not claim.first:
            logger.info("twilio: message %s was already handled (%s)", sid, claim.status)
            return twiml(claim.replies if claim.status == sms.ANSWERED and claim.replies else [])
        first_contact = await asyncio.to_thread(
            sms.remember_number, engine, conversation_id, inbound.phone
        )
        opted_out = await asyncio.to_thread(sms.is_opted_out, engine, conversation_id)

        keyword = body.strip().upper()
        consent = None
        if keyword in OPT_OUT_KEYWORDS:
            consent = sms.OPT_OUT
        elif keyword in OPT_IN_KEYWORDS or (opted_out and keyword in OPT_IN_WHEN_OPTED_OUT):
            consent = sms.OPT_IN
        if consent:
            await asyncio.to_thread(
                sms.record_consent, engine, conversation_id, consent, keyword, sid
            )
            return await self._finish(engine, sid, [], sms.NO_REPLY)
        if keyword in HELP_KEYWORDS:
            bodies = []
            if current_profile().sms.keyword_replies == "clinic":
                bodies = await domain_reply(request.app.ctx.agent, conversation_id, HELP_REPLY)
            return await self._finish(engine, sid, bodies, sms.ANSWERED if bodies else sms.NO_REPLY)
        if not body.strip():  # a picture or other media without text
            if opted_out:
                return await self._finish(engine, sid, [], sms.NO_REPLY)
            bodies = await domain_reply(request.app.ctx.agent, conversation_id, TEXT_ONLY_REPLY)
            return await self._finish(engine, sid, bodies, sms.ANSWERED)

        options = await asyncio.to_thread(sms.take_menu, engine, conversation_id)
        text = match_reply(body, options) if options else None
        collector = SmsCollector()
        message = UserMessage(
            text or body,
            collector,
            conversation_id,
            input_channel=CHANNEL,
            message_id=sid,
            metadata={},
        )
        turn = asyncio.create_task(assistant.run_turn(message, collector, introduce=first_contact))
        done, _ = await asyncio.wait({turn}, timeout=max(0.0, inbound.deadline - time.monotonic()))
        if done:
            if isinstance(turn.exception(), sa.exc.SQLAlchemyError):
                # Not lost: the claim stays `received`; Twilio's retry or a replica's recovery
                # loop takes it over after the lease, once the database is back.
                raise turn.exception()
            if turn.exception() is not None:
                logger.error(
                    "twilio: the assistant failed on %s (%s)", sid, type(turn.exception()).__name__
                )
                bodies = (
                    []
                    if opted_out
                    else (
                        await assistant.crisis_bodies(body)
                        or await domain_reply(request.app.ctx.agent, conversation_id, FAILURE_REPLY)
                    )
                )
                return await self._finish(engine, sid, bodies, sms.FAILED)
            bodies = turn.result()
            if opted_out:  # still heard (a crisis still reaches staff), but never answered
                return await self._finish(engine, sid, [], sms.NO_REPLY)
            return await self._finish(engine, sid, bodies, sms.ANSWERED)
        logger.info(
            "twilio: reply to %s is slower than %.1f s; it will follow through the API",
            sid,
            assistant.config.reply_budget_seconds,
        )
        later = asyncio.create_task(recovery.send_later(assistant, turn, conversation_id, sid))
        self._background.add(later)
        later.add_done_callback(self._background.discard)
        return twiml([])

    async def _finish(self, engine: Any, sid: str, bodies: List[str], status: str) -> HTTPResponse:
        await asyncio.to_thread(sms.finish_message, engine, sid, status, bodies)
        return twiml(bodies)
