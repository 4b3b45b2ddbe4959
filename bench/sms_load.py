"""Load on the SMS webhook: N signed Twilio webhooks at once, against a running assistant.

    TWILIO_AUTH_TOKEN=… TWILIO_WEBHOOK_URL=… .venv/bin/python -m bench.sms_load \\
        [--url http://127.0.0.1:5005] [--messages 200]

Use the same TWILIO_AUTH_TOKEN and TWILIO_WEBHOOK_URL as the server (`make run` with them
set). Prints how long Twilio would wait for each webhook's answer (Twilio gives up after 15 s)
and how many replies came inline in the TwiML; the rest were over the reply budget and go out
through the REST API. Every message comes from its own made-up number.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import sys
import time
import xml.etree.ElementTree as ET
from typing import List, Tuple

import aiohttp
from twilio.request_validator import RequestValidator

QUESTIONS = (
    "how long is a session?",
    "what are the side effects?",
    "do I need a consultation first?",
    "what are your hours?",
    "will I feel better right away?",
    "how much does it cost?",
)


async def one(
    session: aiohttp.ClientSession, url: str, public_url: str, token: str, question: str
) -> Tuple[float, int, int]:
    params = {
        "MessageSid": "SM" + secrets.token_hex(16),
        "AccountSid": "AC" + "0" * 32,
        "From": "+1555" + str(secrets.randbelow(10**7)).zfill(7),
        "To": "+15550100199",
        "Body": question,
        "NumMedia": "0",
    }
    headers = {"X-Twilio-Signature": RequestValidator(token).compute_signature(public_url, params)}
    started = time.perf_counter()
    webhook = f"{url}/webhooks/twilio/webhook"
    async with session.post(webhook, data=params, headers=headers) as reply:
        text = await reply.text()
    elapsed = time.perf_counter() - started
    messages = len(ET.fromstring(text).findall("Message")) if reply.status == 200 else 0
    return elapsed, reply.status, messages


async def run(url: str, public_url: str, token: str, count: int) -> List[Tuple[float, int, int]]:
    timeout = aiohttp.ClientTimeout(total=120)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        return await asyncio.gather(
            *(
                one(session, url, public_url, token, QUESTIONS[i % len(QUESTIONS)])
                for i in range(count)
            )
        )


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sms_load")
    parser.add_argument("--url", default="http://127.0.0.1:5005")
    parser.add_argument("--messages", type=int, default=200)
    args = parser.parse_args(argv)
    token, public_url = os.environ.get("TWILIO_AUTH_TOKEN"), os.environ.get("TWILIO_WEBHOOK_URL")
    if not token or not public_url:
        print("Set TWILIO_AUTH_TOKEN and TWILIO_WEBHOOK_URL as for the server.", file=sys.stderr)
        return 2
    started = time.perf_counter()
    results = asyncio.run(run(args.url.rstrip("/"), public_url, token, args.messages))
    wall = time.perf_counter() - started
    times = sorted(elapsed for elapsed, _, _ in results)
    statuses = {status: sum(1 for _, s, _ in results if s == status) for _, status, _ in results}
    inline = sum(1 for _, status, messages in results if status == 200 and messages)
    print(f"{args.messages} signed webhooks at once, all sent within {wall:.1f} s")
    print(f"HTTP statuses: {statuses}")
    print(
        f"answered inline (TwiML): {inline}; over the reply budget (REST API later): "
        f"{args.messages - inline}"
    )
    print(
        f"webhook answer time: p50 {statistics.median(times):.2f} s, "
        f"p95 {times[int(len(times) * 0.95) - 1]:.2f} s, max {times[-1]:.2f} s "
        f"(Twilio's limit: 15 s)"
    )
    return 0 if set(statuses) == {200} else 1


if __name__ == "__main__":
    sys.exit(main())
