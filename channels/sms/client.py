"""Twilio's REST API for messages: one SMS body to one number, and what Twilio answered.

For what cannot go in a webhook's TwiML reply: a reply later than the reply budget
(channels/sms/recovery.py) and staff messages (channels/sms/send.py).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Optional

import aiohttp

from clinic import settings

logger = logging.getLogger(__name__)

MAX_BODY_CHARS = 1600  # Twilio's own limit for one (concatenated) message
ERROR_OPTED_OUT = 21610  # Twilio: the recipient replied STOP
ERROR_TOO_MANY = 20429  # Twilio: too many requests


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
                reply.status,
                code,
                payload.get("message", "no message"),
            )
            return SendResult(ok=False, error_code=code, error=str(payload.get("message", "")))
        return SendResult(ok=True, sid=payload.get("sid"))
