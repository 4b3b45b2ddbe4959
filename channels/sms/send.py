"""Texts to a conversation's number through Twilio's API, outside a webhook's reply: a staff
member's message (`send_staff_message`, laid out like the bot's) and the bodies of a late
reply (channels/sms/recovery.py). Nothing goes to a number that opted out (it texted STOP):
that is an OptedOutError; Twilio's error 21610 records the opt-out.

A staff message from the command line:
    python -m channels.sms send CONVERSATION_ID "text"
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from typing import Any, List, Optional

from channels.sms.client import ERROR_OPTED_OUT, SendResult, TwilioMessages
from channels.sms.text import format_for_sms
from clinic import settings, sms
from clinic.db import engine_for


class OptedOutError(RuntimeError):
    """The number texted STOP: nothing may be sent to it until it texts START."""


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
    config = settings.current().twilio
    if config is None:
        raise settings.SettingsError("SMS is off: TWILIO_AUTH_TOKEN is not set")
    bodies, _ = format_for_sms(text)
    engine = engine_for(settings.current().database_url)
    return await send_bodies(TwilioMessages(config), engine, conversation_id, bodies)


def main(argv: Optional[List[str]] = None) -> int:
    """`python -m channels.sms send CONVERSATION_ID TEXT`: a staff message by SMS."""
    parser = argparse.ArgumentParser(prog="python -m channels.sms")
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
