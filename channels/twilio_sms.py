"""SMS through Twilio, with webhooks that cannot be forged.

Registered in credentials.yml as `channels.twilio_sms.TwilioSmsInput` (channel name `twilio`,
so the domain's `channel: twilio` response variants apply). Twilio posts each text message to
`/webhooks/twilio/webhook`; the connector

- answers 403 unless `X-Twilio-Signature` is Twilio's signature of the request, computed with
  the account's auth token over the public URL the clinic configured (TWILIO_WEBHOOK_URL),
  before it does anything else;
- handles each MessageSid once (Twilio retries webhooks; a retry gets the first answer again);
- records STOP/START-style keywords as opt-outs and opt-ins and never replies to them (Twilio
  does), answers HELP itself only when the profile says Twilio's own replies are off;
- keys the conversation by a keyed hash of the phone number (`clinic.sms`);
- turns a reply of "1" into the payload of the first button it offered;
- answers in the webhook's TwiML when the assistant is done within the reply budget, else
  returns an empty `<Response/>` and sends the reply through Twilio's REST API when ready.

Staff messages go out with `send_staff_message` (refused for opted-out numbers):
    python -m channels.twilio_sms send CONVERSATION_ID "text"
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import math
import re
import sys
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, List, Optional, Set, Text
from urllib.parse import parse_qs

import aiohttp
import sqlalchemy as sa
from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from channels.body_limit import cap_request_bodies
from channels.crisis_fallback import crisis_reply_for_failed_turn
from channels.rate_limit import SenderRateLimiter
from channels.replies import replies_to
from channels.sms_text import format_for_sms, match_reply
from clinic import settings, sms
from clinic.db import engine_for, utc_now
from clinic.profile import current_profile
from crisis.detector import detect
from crisis.levels import URGENT

logger = logging.getLogger(__name__)

CHANNEL = sms.CHANNEL
MAX_BODY_CHARS = 1600  # Twilio's own limit for one (concatenated) message
OPT_OUT_KEYWORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
OPT_IN_KEYWORDS = frozenset({"START", "UNSTOP"})
OPT_IN_WHEN_OPTED_OUT = frozenset({"YES"})  # otherwise "yes" answers the bot's question
HELP_KEYWORDS = frozenset({"HELP", "INFO"})
ERROR_OPTED_OUT = 21610  # Twilio: the recipient replied STOP
ERROR_TOO_MANY = 20429  # Twilio: too many requests
LATE_REPLY_RETRIES_SECONDS = (2, 10, 30, 120)  # the pauses before each new try of a late reply

HELP_REPLY = "utter_sms_help"
TEXT_ONLY_REPLY = "utter_sms_text_only"
FAILURE_REPLY = "utter_sms_failure"
INTRO_REPLY = "utter_sms_intro"
# Replies after which no introduction is added: the crisis layer's (policy: nothing else first).
SAFETY_REPLIES = ("utter_crisis", "utter_unwell_after_infusion")

# What Twilio sends: a base64 HMAC-SHA1 in the header, and a form of some 20 fields (up to 60
# with ten pictures or WhatsApp's extras) that fits in ~25 kB even when all 1600 characters of
# the text are percent-encoded emoji. A request that cannot be Twilio's is refused on that
# alone: a 1 MB body of a quarter of a million fields took the event loop more than a second
# to parse and sign, for every forged request.
TWILIO_SIGNATURE = re.compile(r"[A-Za-z0-9+/]{27}=")
MAX_FORM_FIELDS = 128
MAX_FORM_BYTES = 64 * 1024


class SmsCollector(CollectingOutputChannel):
    """Collects the bot's messages of one turn, whole (the SMS layout splits them itself)."""

    @classmethod
    def name(cls) -> Text:
        return CHANNEL

    def __init__(self) -> None:
        super().__init__()
        self.responses: List[Optional[str]] = []  # the domain's response names, in order

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        self.responses.append(message.get("utter_action"))
        await super().send_response(recipient_id, message)

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        await self._persist_message(self._message(recipient_id, text=text.strip()))

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        await self._persist_message(self._message(recipient_id, text=image))


@dataclass(frozen=True)
class SendResult:
    ok: bool
    sid: Optional[str] = None
    error_code: Optional[int] = None
    error: Optional[str] = None

    @property
    def worth_retrying(self) -> bool:
        """Twilio was unreachable, failed, or asked us to slow down; not a refusal."""
        return not self.ok and (self.error_code is None or self.error_code == ERROR_TOO_MANY)


class OptedOutError(RuntimeError):
    """The number texted STOP: nothing may be sent to it until it texts START."""


class TwilioMessages:
    """Twilio's REST API for messages (async, for use on the server's event loop)."""

    def __init__(self, config: settings.TwilioSettings) -> None:
        if not (config.account_sid and config.sender):
            raise settings.SettingsError(
                "TWILIO_ACCOUNT_SID and TWILIO_NUMBER are needed to send messages outside a "
                "webhook's reply"
            )
        self.config = config

    async def send(self, to: str, body: str) -> SendResult:
        config = self.config
        url = f"{config.api_base}/2010-04-01/Accounts/{config.account_sid}/Messages.json"
        sender = "MessagingServiceSid" if config.sender.startswith("MG") else "From"
        auth = aiohttp.BasicAuth(config.account_sid, config.auth_token.reveal())
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as session:
                async with session.post(
                    url, data={"To": to, sender: config.sender, "Body": body}, auth=auth
                ) as reply:
                    payload = await reply.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            logger.warning("twilio: sending failed: %s", type(error).__name__)
            return SendResult(ok=False, error=f"{type(error).__name__}")
        if reply.status >= 400 or not isinstance(payload, dict) or payload.get("code"):
            payload = payload if isinstance(payload, dict) else {}
            code = payload.get("code")
            logger.warning(
                "twilio: message refused: HTTP %s, error %s (%s)",
                reply.status, code, payload.get("message", "no message"),
            )
            return SendResult(ok=False, error_code=code, error=str(payload.get("message", "")))
        return SendResult(ok=True, sid=payload.get("sid"))


async def send_bodies(
    messages: TwilioMessages, engine: Any, conversation_id: str, bodies: List[str]
) -> List[SendResult]:
    """Send SMS bodies to a conversation's number, in order; stops at the first failure."""
    phone = await asyncio.to_thread(sms.phone_for, engine, conversation_id)
    if phone is None:
        raise LookupError(f"{conversation_id}: no phone number on file")
    if await asyncio.to_thread(sms.is_opted_out, engine, conversation_id):
        raise OptedOutError(f"{conversation_id} opted out of SMS")
    results = []
    for body in bodies:
        result = await messages.send(phone, body)
        results.append(result)
        if result.error_code == ERROR_OPTED_OUT:
            await asyncio.to_thread(sms.record_consent, engine, conversation_id, sms.OPT_OUT)
        if not result.ok:
            break
    return results


async def send_staff_message(conversation_id: str, text: str) -> List[SendResult]:
    """A staff member's message to an SMS conversation, laid out like the bot's."""
    config = settings.twilio_settings()
    if config is None:
        raise settings.SettingsError("SMS is off: TWILIO_AUTH_TOKEN is not set")
    bodies, _ = format_for_sms(text)
    engine = engine_for(settings.database_url())
    return await send_bodies(TwilioMessages(config), engine, conversation_id, bodies)


class _Form(Dict[str, List[str]]):
    """Form fields → their values, readable by RequestValidator (it asks for `getlist`)."""

    def getlist(self, name: str) -> List[str]:
        return self[name]


def _form(request: Request) -> Optional[_Form]:
    """The webhook's form fields, empty ones kept (Twilio signs `Body=` too); None if unreadable
    or with more fields than Twilio sends (counted before any is parsed)."""
    try:
        return _Form(parse_qs(request.body.decode("utf-8"), keep_blank_values=True,
                              max_num_fields=MAX_FORM_FIELDS))
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
        self._turns: Optional[asyncio.Semaphore] = None
        self._claim_lease_seconds = 30.0
        self._app: Any = None  # the Sanic app, once the server has started

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = Blueprint("twilio_sms_webhook", __name__)
        cap_request_bodies(blueprint)
        config = settings.twilio_settings()
        engine = engine_for(settings.database_url())
        limiter = SenderRateLimiter.from_environment()
        if config is None:
            logger.info("twilio: SMS is off (TWILIO_AUTH_TOKEN is not set)")
            hash_key = None
        else:
            hash_key = settings.phone_hash_key()
            # The assistant's work runs on the server's event loop: with every waiting message
            # at work at once, a webhook's timer fires seconds late, past Twilio's 15 s. A few
            # at a time keep the reply budget honest; the rest wait their turn.
            self._turns = asyncio.Semaphore(config.concurrent_turns)
            self._claim_lease_seconds = config.claim_lease_seconds

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
            body = form["Body"][0]
            if len(body) > MAX_BODY_CHARS:
                return response.text(
                    f"Bad request: Body is longer than {MAX_BODY_CHARS} characters.", status=400
                )
            conversation_id = sms.conversation_id_for(form["From"][0], hash_key)
            wait = await limiter.wait_seconds(self.name(), conversation_id)
            if wait and detect(body).level != URGENT:  # a crisis is always answered
                return response.text("Too many messages from this number; retry later.",
                                     status=429, headers={"Retry-After": str(math.ceil(wait))})
            try:
                return await self._handle(
                    request, on_new_message, engine, config, deadline, sid=form["MessageSid"][0],
                    phone=form["From"][0], conversation_id=conversation_id, body=body,
                )
            except sa.exc.SQLAlchemyError as error:  # Twilio's log keeps the message
                logger.error("twilio: the database is unavailable (%s)", type(error).__name__)
                crisis = await self._crisis_bodies(body)
                if crisis:  # a crisis is answered even then (the crisis policy)
                    return twiml(crisis)
                return response.text("The assistant's database is unavailable.", status=503)

        @blueprint.listener("after_server_start")
        async def start_recovery(app: Any, _: Any) -> None:
            self._app = app
            if config is not None:
                task = asyncio.create_task(self._recover(app, on_new_message, engine, config))
                self._background.add(task)

        return blueprint

    async def _recover(
        self, app: Any, on_new_message: Callable[[UserMessage], Awaitable[Any]], engine: Any,
        config: settings.TwilioSettings,
    ) -> None:
        """Take over messages whose replica died before processing them (a 200 was already
        sent, so Twilio will not send them again), and answer them through the API."""
        lease = dt.timedelta(seconds=config.claim_lease_seconds)
        while True:
            await asyncio.sleep(min(5.0, config.claim_lease_seconds / 2))
            try:
                for pending in await asyncio.to_thread(sms.stale_messages, engine, lease):
                    now = utc_now()
                    if await asyncio.to_thread(sms.take_over, engine, pending.message_sid,
                                               pending.received_at, now):
                        await self._answer_taken_over(app, on_new_message, engine, config,
                                                      pending)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the database may be down: try again next round
                logger.warning("twilio: recovery of unanswered messages failed (%s)",
                               type(error).__name__)

    async def _answer_taken_over(
        self, app: Any, on_new_message: Callable[[UserMessage], Awaitable[Any]], engine: Any,
        config: settings.TwilioSettings, pending: sms.Pending,
    ) -> None:
        stored = await self._stored_replies(app, pending.conversation_id, pending.message_sid)
        if stored is not None:  # handled just before its replica died: send, do not re-run
            turn = asyncio.get_running_loop().create_future()
            turn.set_result(stored)
            await self._send_later(turn, engine, config, pending.conversation_id,
                                   pending.message_sid)
            return
        logger.info("twilio: answering %s, left unanswered by a stopped replica",
                    pending.message_sid)
        message = UserMessage(pending.body, SmsCollector(), pending.conversation_id,
                              input_channel=CHANNEL, message_id=pending.message_sid, metadata={})
        turn = asyncio.create_task(self._run_turn(on_new_message, message, engine,
                                                  message.output_channel))
        await self._send_later(turn, engine, config, pending.conversation_id,
                               pending.message_sid)

    async def _handle(
        self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]],
        engine: Any, config: settings.TwilioSettings, deadline: float, sid: str, phone: str,
        conversation_id: str, body: str,
    ) -> HTTPResponse:
        claim = await asyncio.to_thread(
            sms.claim_message, engine, sid, conversation_id,
            lease=dt.timedelta(seconds=config.claim_lease_seconds), body=body)
        if not claim.first and claim.status == sms.RECEIVED:
            # Being answered (Twilio gets the reply from the first request or through the
            # API), or its process died: a retry after the lease takes it over.
            return response.text("This message is still being answered; retry later.",
                                 status=503, headers={"Retry-After": "5"})
        if claim.taken_over:
            stored = await self._stored_replies(request.app, conversation_id, sid)
            if stored is not None:  # handled before its replica died: answer, do not re-run
                return await self._finish(engine, sid, stored, sms.ANSWERED)
        if not claim.first:
            logger.info("twilio: message %s was already handled (%s)", sid, claim.status)
            return twiml(claim.replies if claim.status == sms.ANSWERED and claim.replies else [])
        first_contact = await asyncio.to_thread(sms.remember_number, engine, conversation_id,
                                                phone)
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
                bodies = await self._domain_reply(request.app.ctx.agent, conversation_id,
                                                  HELP_REPLY)
            return await self._finish(engine, sid, bodies, sms.ANSWERED if bodies else sms.NO_REPLY)
        if not body.strip():  # a picture or other media without text
            if opted_out:
                return await self._finish(engine, sid, [], sms.NO_REPLY)
            bodies = await self._domain_reply(request.app.ctx.agent, conversation_id,
                                              TEXT_ONLY_REPLY)
            return await self._finish(engine, sid, bodies, sms.ANSWERED)

        options = await asyncio.to_thread(sms.take_menu, engine, conversation_id)
        text = match_reply(body, options) if options else None
        collector = SmsCollector()
        message = UserMessage(
            text or body, collector, conversation_id, input_channel=CHANNEL,
            message_id=sid, metadata={},
        )
        turn = asyncio.create_task(self._run_turn(on_new_message, message, engine, collector,
                                                  introduce=first_contact))
        done, _ = await asyncio.wait({turn}, timeout=max(0.0, deadline - time.monotonic()))
        if done:
            if isinstance(turn.exception(), sa.exc.SQLAlchemyError):
                # Not lost: the claim stays `received`; Twilio's retry or a replica's recovery
                # loop takes it over after the lease, once the database is back.
                raise turn.exception()
            if turn.exception() is not None:
                logger.error("twilio: the assistant failed on %s (%s)", sid,
                             type(turn.exception()).__name__)
                bodies = [] if opted_out else (
                    await self._crisis_bodies(body)
                    or await self._domain_reply(request.app.ctx.agent, conversation_id,
                                                FAILURE_REPLY))
                return await self._finish(engine, sid, bodies, sms.FAILED)
            bodies = turn.result()
            if opted_out:  # still heard (a crisis still reaches staff), but never answered
                return await self._finish(engine, sid, [], sms.NO_REPLY)
            return await self._finish(engine, sid, bodies, sms.ANSWERED)
        logger.info("twilio: reply to %s is slower than %.1f s; it will follow through the API",
                    sid, config.reply_budget_seconds)
        later = asyncio.create_task(self._send_later(turn, engine, config, conversation_id, sid))
        self._background.add(later)
        later.add_done_callback(self._background.discard)
        return twiml([])

    async def _crisis_bodies(self, body: str) -> List[str]:
        """The crisis reply as SMS bodies when a turn failed on an urgent message; else []."""
        agent = self._app.ctx.agent if self._app is not None else None
        replies = await crisis_reply_for_failed_turn(agent, body, CHANNEL) if agent else None
        return [part for reply in replies or [] for part in format_for_sms(reply["text"], None)[0]]

    async def _run_turn(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]], message: UserMessage,
        engine: Any, collector: SmsCollector, introduce: bool = False,
    ) -> List[str]:
        """The assistant's answer to one message, as SMS bodies (menus remembered). While it
        waits and runs, its claim is renewed: only a dead process's claim goes stale.

        `introduce`: a number's first message; the answer starts with who is answering
        (automated, not medical advice, how to stop), except when it is a crisis reply.

        The message takes its place in the conversation's queue (the lock store's ticket) on
        arrival, before it waits for one of the SMS turns: two texts sent in a row and taken by
        two replicas are answered in the order they came (Rasa's handler would queue them for
        the lock only after the wait)."""
        renewing = asyncio.create_task(self._keep_claim(engine, message.message_id))
        agent = self._app.ctx.agent if self._app is not None else None
        try:
            if agent is None or not agent.is_ready():
                async with self._turns:
                    await on_new_message(message)
            else:
                async with agent.lock_store.lock(message.sender_id):
                    async with self._turns:
                        await agent.processor.handle_message(message)
        finally:
            renewing.cancel()
        bodies: List[str] = []
        options: Dict[str, str] = {}
        for reply in collector.messages:
            if not reply.get("text"):
                continue
            parts, offered = format_for_sms(reply["text"], reply.get("buttons"))
            bodies.extend(parts)
            options = offered or options
        await asyncio.to_thread(sms.offer_menu, engine, message.sender_id, options)
        if introduce and agent is not None and not any(
                (name or "").startswith(SAFETY_REPLIES) for name in collector.responses):
            bodies[:0] = await self._domain_reply(agent, message.sender_id, INTRO_REPLY)
        return bodies

    async def _keep_claim(self, engine: Any, sid: str) -> None:
        while True:
            await asyncio.sleep(self._claim_lease_seconds / 3)
            try:
                await asyncio.to_thread(sms.renew_claim, engine, sid)
            except sa.exc.SQLAlchemyError as error:  # the next renewal may get through
                logger.warning("twilio: could not renew a claim (%s)", type(error).__name__)

    async def _send_later(
        self, turn: Awaitable[List[str]], engine: Any, config: settings.TwilioSettings,
        conversation_id: str, sid: str,
    ) -> None:
        try:
            bodies = await turn
            messages, remaining, failed = TwilioMessages(config), bodies, None
            for pause in (0, *LATE_REPLY_RETRIES_SECONDS):
                if failed is not None and not failed.worth_retrying:
                    break
                await asyncio.sleep(pause)
                results = await send_bodies(messages, engine, conversation_id, remaining)
                remaining = remaining[sum(1 for result in results if result.ok):]
                failed = next((result for result in results if not result.ok), None)
                if not remaining:
                    break
            status = sms.FAILED if remaining else sms.SENT_LATER
            error = f"{failed.error_code}: {failed.error}" if remaining and failed else None
            await asyncio.to_thread(sms.finish_message, engine, sid, status, bodies, error)
        except OptedOutError:
            await asyncio.to_thread(sms.finish_message, engine, sid, sms.NO_REPLY)
        except sa.exc.SQLAlchemyError as error:  # left `received`: taken over after the lease
            logger.error("twilio: the late reply to %s waits for the database (%s)", sid,
                         type(error).__name__)
        except Exception as error:  # recorded for staff; the user's message is in the tracker
            logger.exception("twilio: the late reply to %s failed", sid)
            await asyncio.to_thread(
                sms.finish_message, engine, sid, sms.FAILED, None, type(error).__name__
            )

    @staticmethod
    async def _stored_replies(app: Any, conversation_id: str, sid: str) -> Optional[List[str]]:
        """The SMS bodies answered to message `sid`, if the tracker has it (None: it has not)."""
        tracker = await app.ctx.agent.tracker_store.retrieve(conversation_id)
        replies = replies_to(tracker.events if tracker else [], sid)
        if replies is None:
            return None
        bodies: List[str] = []
        for reply in replies:
            if reply.get("text"):
                bodies.extend(format_for_sms(reply["text"], reply.get("buttons"))[0])
        return bodies

    async def _domain_reply(self, agent: Any, conversation_id: str, name: str) -> List[str]:
        """A response of the domain, for SMS, without a turn of the assistant."""
        tracker = DialogueStateTracker(conversation_id, slots=[])
        reply = await agent.nlg.generate(name, tracker, CHANNEL)
        bodies, _ = format_for_sms((reply or {}).get("text") or "")
        return bodies

    async def _finish(
        self, engine: Any, sid: str, bodies: List[str], status: str
    ) -> HTTPResponse:
        await asyncio.to_thread(sms.finish_message, engine, sid, status, bodies)
        return twiml(bodies)


def main(argv: Optional[List[str]] = None) -> int:
    """`python -m channels.twilio_sms send CONVERSATION_ID TEXT`: a staff message by SMS."""
    parser = argparse.ArgumentParser(prog="python -m channels.twilio_sms")
    commands = parser.add_subparsers(dest="command", required=True)
    send = commands.add_parser("send", help="send a staff message to an SMS conversation")
    send.add_argument("conversation_id")
    send.add_argument("text")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        results = asyncio.run(send_staff_message(args.conversation_id, args.text))
    except (OptedOutError, LookupError, settings.SettingsError) as error:
        print(f"Not sent: {error}", file=sys.stderr)
        return 1
    for result in results:
        print(f"sent {result.sid}" if result.ok else f"failed: {result.error_code} {result.error}")
    return 0 if results and all(result.ok for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
