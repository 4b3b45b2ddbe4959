"""The assistant's answers to text messages, as SMS bodies.

`SmsAssistant.run_turn` is one turn of the assistant for a message, the way both the webhook
(channels/sms/webhook.py) and the recovery of unanswered messages (channels/sms/recovery.py)
answer: under the conversation's lock (channels/turns.py), a few turns at a time, the
message's claim renewed meanwhile; its replies laid out for SMS (channels/sms/text.py), their
numbered options remembered, and a number's first answer introduced.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

import sqlalchemy as sa
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.shared.core.trackers import DialogueStateTracker

from channels.crisis_fallback import crisis_reply_for_failed_turn
from channels.replies import replies_to
from channels.sms.text import format_for_sms
from channels.turns import handle_under_lock
from clinic import settings, sms

logger = logging.getLogger(__name__)

CHANNEL = sms.CHANNEL
INTRO_REPLY = "utter_sms_intro"
# Replies after which no introduction is added: the crisis layer's (policy: nothing else first).
SAFETY_REPLIES = ("utter_crisis", "utter_unwell_after_infusion")


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


class SmsAssistant:
    """What answering a text message takes on this server: Rasa's handler, the server's app
    (its agent) once it has started, the clinic's database and Twilio's settings."""

    def __init__(
        self,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        engine: Any,
        config: settings.TwilioSettings,
    ) -> None:
        self.on_new_message = on_new_message
        self.engine = engine
        self.config = config
        # The assistant's work runs on the server's event loop: with every waiting message
        # at work at once, a webhook's timer fires seconds late, past Twilio's 15 s. A few
        # at a time keep the reply budget honest; the rest wait their turn.
        self.turns = asyncio.Semaphore(config.concurrent_turns)
        self.app: Any = None  # the Sanic app, once the server has started

    @property
    def agent(self) -> Any:
        return self.app.ctx.agent if self.app is not None else None

    async def run_turn(
        self,
        message: UserMessage,
        collector: SmsCollector,
        introduce: bool = False,
    ) -> List[str]:
        """The assistant's answer to one message, as SMS bodies (menus remembered). While it
        waits and runs, its claim is renewed: only a dead process's claim goes stale.

        `introduce`: a number's first message; the answer starts with who is answering
        (automated, not medical advice, how to stop), except when it is a crisis reply.

        The message takes its place in the conversation's queue (the lock store's ticket) on
        arrival, before it waits for one of the SMS turns: two texts sent in a row and taken by
        two replicas are answered in the order they came (Rasa's handler would queue them for
        the lock only after the wait)."""
        renewing = asyncio.create_task(self._keep_claim(message.message_id))
        agent = self.agent
        try:
            if agent is None or not agent.is_ready():
                async with self.turns:
                    await self.on_new_message(message)
            else:
                await handle_under_lock(agent, message, slots=self.turns)
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
        await asyncio.to_thread(sms.offer_menu, self.engine, message.sender_id, options)
        if (
            introduce
            and agent is not None
            and not any((name or "").startswith(SAFETY_REPLIES) for name in collector.responses)
        ):
            bodies[:0] = await domain_reply(agent, message.sender_id, INTRO_REPLY)
        return bodies

    async def _keep_claim(self, sid: str) -> None:
        while True:
            await asyncio.sleep(self.config.claim_lease_seconds / 3)
            try:
                await asyncio.to_thread(
                    sms.renew_claim,
                    self.engine,
                    sid,
                    dt.timedelta(seconds=self.config.claim_lease_seconds),
                )
            except sa.exc.SQLAlchemyError as error:  # the next renewal may get through
                logger.warning("twilio: could not renew a claim (%s)", type(error).__name__)

    async def crisis_bodies(self, body: str) -> List[str]:
        """The crisis reply as SMS bodies when a turn failed on an urgent message; else []."""
        agent = self.agent
        replies = await crisis_reply_for_failed_turn(agent, body, CHANNEL) if agent else None
        return [part for reply in replies or [] for part in format_for_sms(reply["text"], None)[0]]


async def stored_replies(agent: Any, conversation_id: str, sid: str) -> Optional[List[str]]:
    """The SMS bodies answered to message `sid`, if the tracker has it (None: it has not)."""
    tracker = await agent.tracker_store.retrieve(conversation_id)
    replies = replies_to(tracker.events if tracker else [], sid)
    if replies is None:
        return None
    bodies: List[str] = []
    for reply in replies:
        if reply.get("text"):
            bodies.extend(format_for_sms(reply["text"], reply.get("buttons"))[0])
    return bodies


async def domain_reply(agent: Any, conversation_id: str, name: str) -> List[str]:
    """A response of the domain, for SMS, without a turn of the assistant."""
    tracker = DialogueStateTracker(conversation_id, slots=[])
    reply = await agent.nlg.generate(name, tracker, CHANNEL)
    bodies, _ = format_for_sms((reply or {}).get("text") or "")
    return bodies
