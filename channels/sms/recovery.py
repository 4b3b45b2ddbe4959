"""Answers that go out through Twilio's API instead of a webhook's TwiML reply.

- Dead-replica recovery (`recover`, on every replica while the server runs): a replica that
  stopped with a message in hand had already given Twilio its 200, so Twilio will not send
  the message again. Its claim is no longer renewed; once its lease has run out one replica
  takes it over (clinic/sms.py) and answers it: the replies its tracker already holds if it
  was handled just before the replica stopped, else a turn of the assistant.
- Late replies (`send_later`): a reply slower than the reply budget, and a taken-over
  message's, is sent when it is ready, and tried again while Twilio is unreachable or asks
  to slow down (LATE_REPLY_RETRIES_SECONDS); the outcome is recorded on the message.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Awaitable, List

import sqlalchemy as sa
from rasa.core.channels.channel import UserMessage

from channels.sms.assistant import CHANNEL, SmsAssistant, SmsCollector, stored_replies
from channels.sms.client import TwilioMessages
from channels.sms.send import OptedOutError, send_bodies
from clinic import sms

logger = logging.getLogger(__name__)

LATE_REPLY_RETRIES_SECONDS = (2, 10, 30, 120)  # the pauses before each new try of a late reply


async def recover(assistant: SmsAssistant) -> None:
    """Take over messages whose replica died before processing them (a 200 was already
    sent, so Twilio will not send them again), and answer them through the API."""
    engine, config = assistant.engine, assistant.config
    lease = dt.timedelta(seconds=config.claim_lease_seconds)
    while True:
        await asyncio.sleep(min(5.0, config.claim_lease_seconds / 2))
        try:
            for pending in await asyncio.to_thread(sms.stale_messages, engine):
                if await asyncio.to_thread(sms.take_over, engine, pending.message_sid, lease):
                    await answer_taken_over(assistant, pending)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the database may be down: try again next round
            logger.warning(
                "twilio: recovery of unanswered messages failed (%s)", type(error).__name__
            )


async def answer_taken_over(assistant: SmsAssistant, pending: sms.Pending) -> None:
    stored = await stored_replies(
        assistant.app.ctx.agent, pending.conversation_id, pending.message_sid
    )
    if stored is not None:  # handled just before its replica died: send, do not re-run
        turn = asyncio.get_running_loop().create_future()
        turn.set_result(stored)
        await send_later(assistant, turn, pending.conversation_id, pending.message_sid)
        return
    logger.info("twilio: answering %s, left unanswered by a stopped replica", pending.message_sid)
    message = UserMessage(
        pending.body,
        SmsCollector(),
        pending.conversation_id,
        input_channel=CHANNEL,
        message_id=pending.message_sid,
        metadata={},
    )
    turn = asyncio.create_task(assistant.run_turn(message, message.output_channel))
    await send_later(assistant, turn, pending.conversation_id, pending.message_sid)


async def send_later(
    assistant: SmsAssistant,
    turn: Awaitable[List[str]],
    conversation_id: str,
    sid: str,
) -> None:
    """Send the turn's bodies through the API once it is done, retrying; record the outcome."""
    engine = assistant.engine
    try:
        bodies = await turn
        messages, remaining, failed = TwilioMessages(assistant.config), bodies, None
        for pause in (0, *LATE_REPLY_RETRIES_SECONDS):
            if failed is not None and not failed.worth_retrying:
                break
            await asyncio.sleep(pause)
            results = await send_bodies(messages, engine, conversation_id, remaining)
            remaining = remaining[sum(1 for result in results if result.ok) :]
            failed = next((result for result in results if not result.ok), None)
            if not remaining:
                break
        status = sms.FAILED if remaining else sms.SENT_LATER
        error = f"{failed.error_code}: {failed.error}" if remaining and failed else None
        await asyncio.to_thread(sms.finish_message, engine, sid, status, bodies, error)
    except OptedOutError:
        await asyncio.to_thread(sms.finish_message, engine, sid, sms.NO_REPLY)
    except sa.exc.SQLAlchemyError as error:  # left `received`: taken over after the lease
        logger.error(
            "twilio: the late reply to %s waits for the database (%s)", sid, type(error).__name__
        )
    except Exception as error:  # recorded for staff; the user's message is in the tracker
        logger.exception("twilio: the late reply to %s failed", sid)
        await asyncio.to_thread(
            sms.finish_message, engine, sid, sms.FAILED, None, type(error).__name__
        )
