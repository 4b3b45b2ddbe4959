"""Load through the load balancer: many conversations at once, half over REST, half by SMS
(signed Twilio webhooks), each sending its messages in order; then every conversation's events
are read back from PostgreSQL and compared with what was sent.

    .venv/bin/python -m bench.scale_load [--conversations 200] [--messages 20] [--runs 1:auto 2:auto]

For each run (replicas and math threads per replica) it starts the cluster (deploy/cluster.py: Rasa replicas and as many
action servers behind nginx, on this machine's PostgreSQL and Redis, in databases of its own),
runs the load and prints throughput, p50/p95/p99, 5xx answers, retries, and what was lost or
doubled (both must be 0). A message that gets no answer (a connection cut, a 5xx) is sent again
after a second, as the widget does and as Twilio's retry would (with the same MessageSid,
which the SMS channel answers once). An SMS is answered when its reply arrives: in the
webhook's TwiML, or through (a stand-in for) Twilio's API when it took longer than the reply
budget. `run_load` and `check_stored` are what the fault tests use too.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Awaitable, Callable, Dict, List, Optional

import aiohttp
import sqlalchemy as sa
from aiohttp import web
from twilio.request_validator import RequestValidator

from clinic import settings
from clinic.settings import Secret
from clinic.sms import conversation_id_for

QUESTIONS = (
    "how long is a session?",
    "what are the side effects?",
    "do I need a consultation first?",
    "what does an infusion feel like?",
    "will I feel better right away?",
    "how much does it cost?",
)
PUBLIC_WEBHOOK = "https://assistant.example.test/webhooks/twilio/webhook"
CLINIC_NUMBER = "+15550100199"
RETRY_AFTER_SECONDS = 1.0
MAX_ATTEMPTS = 60


@dataclass
class Conversation:
    channel: str  # "rest" or "sms"
    sender: str  # the REST sender, or the phone number
    conversation_id: str  # as stored: the sender, or the number's keyed hash
    sent: List[str] = field(default_factory=list)


@dataclass
class LoadResult:
    conversations: List[Conversation]
    latencies: List[float]  # seconds, of each message's answered attempt
    seconds: float
    server_errors: int = 0  # 5xx answers
    cut: int = 0  # attempts that got no answer at all (connection refused or cut)
    retries: int = 0
    failures: List[str] = field(default_factory=list)  # messages never answered

    @property
    def messages(self) -> int:
        return len(self.latencies)

    def summary(self) -> str:
        ms = sorted(1000 * x for x in self.latencies)
        if not ms:
            return "no message was answered"
        pick = lambda q: ms[min(len(ms) - 1, int(q * len(ms)))]  # noqa: E731
        return (
            f"{self.messages} messages in {self.seconds:.1f} s = "
            f"{self.messages / self.seconds:.1f} msg/s; p50 {pick(0.5):.0f} ms, "
            f"p95 {pick(0.95):.0f} ms, p99 {pick(0.99):.0f} ms; 5xx {self.server_errors}, "
            f"no answer {self.cut}, retries {self.retries}, unanswered {len(self.failures)}"
        )


def plan(conversations: int, messages: int, phone_key: Secret) -> List[Conversation]:
    """Half REST, half SMS; every conversation asks the questions in turn."""
    planned = []
    for number in range(conversations):
        if number % 2:
            phone = "+1555" + str(secrets.randbelow(10**7)).zfill(7)
            conversation = Conversation("sms", phone, conversation_id_for(phone, phone_key))
        else:
            sender = f"rest-load-{secrets.token_hex(8)}"  # a REST conversation is rest-…
            conversation = Conversation("rest", sender, sender)
        conversation.sent = [QUESTIONS[(number + i) % len(QUESTIONS)] for i in range(messages)]
        planned.append(conversation)
    return planned


async def run_load(
    url: str,
    conversations: List[Conversation],
    twilio_token: str,
    texts_sent_to: Callable[[str], int],
    on_progress: Optional[Callable[[int], Awaitable[None]]] = None,
    rest_token: Optional[str] = None,
) -> LoadResult:
    """Every conversation at once, each message after the answer to the one before. An SMS
    answer is the webhook's TwiML or, when it is empty (over the reply budget), the next text
    the assistant sends that number through Twilio's API (`texts_sent_to` counts them)."""
    result = LoadResult(conversations, [], 0.0)
    done = 0
    validator = RequestValidator(twilio_token)

    async def one_message(
        session: aiohttp.ClientSession, conversation: Conversation, text: str
    ) -> None:
        nonlocal done
        if conversation.channel == "rest":
            target, kwargs = (
                f"{url}/webhooks/rest/webhook",
                {
                    "json": {
                        "sender": conversation.sender,
                        "message": text,
                        "message_id": secrets.token_hex(8),
                    },  # the same on every retry
                    "headers": {"Authorization": f"Bearer {rest_token}"} if rest_token else {},
                },
            )
        else:
            form = {
                "MessageSid": "SM" + secrets.token_hex(16),
                "AccountSid": "AC" + "0" * 32,
                "From": conversation.sender,
                "To": CLINIC_NUMBER,
                "Body": text,
                "NumMedia": "0",
            }
            signature = validator.compute_signature(PUBLIC_WEBHOOK, form)
            target, kwargs = (
                f"{url}/webhooks/twilio/webhook",
                {"data": form, "headers": {"X-Twilio-Signature": signature}},
            )
        texts_before = texts_sent_to(conversation.sender) if conversation.channel == "sms" else 0
        started = time.perf_counter()
        for attempt in range(MAX_ATTEMPTS):
            if attempt:
                result.retries += 1
                await asyncio.sleep(RETRY_AFTER_SECONDS)
            try:
                async with session.post(target, **kwargs) as reply:
                    body = await reply.text()
                    status = reply.status
            except (aiohttp.ClientError, asyncio.TimeoutError):
                result.cut += 1
                continue
            if status >= 500:
                result.server_errors += 1
                continue
            if status != 200:
                result.failures.append(f"{conversation.conversation_id}: {status} for {text!r}")
                return
            if conversation.channel == "sms" and "<Message" not in body:
                if not await _texted(texts_sent_to, conversation.sender, texts_before):
                    result.failures.append(f"{conversation.conversation_id}: no text back")
                    return
                result.latencies.append(time.perf_counter() - started)
                await asyncio.sleep(0.3)  # the reply's other segments, if any, land before the next
            else:
                result.latencies.append(time.perf_counter() - started)
            done += 1
            if on_progress is not None:
                await on_progress(done)
            return
        result.failures.append(f"{conversation.conversation_id}: no answer to {text!r}")

    async def one_conversation(session: aiohttp.ClientSession, conversation: Conversation):
        for text in conversation.sent:
            await one_message(session, conversation, text)

    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(
        timeout=timeout, connector=aiohttp.TCPConnector(limit=0)
    ) as session:
        started = time.perf_counter()
        await asyncio.gather(*(one_conversation(session, c) for c in conversations))
        result.seconds = time.perf_counter() - started
    return result


async def _texted(
    texts_sent_to: Callable[[str], int], phone: str, before: int, timeout: float = 120.0
) -> bool:
    deadline = time.monotonic() + timeout
    while texts_sent_to(phone) <= before:
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


def check_stored(database_url: str, conversations: List[Conversation]) -> Dict[str, int]:
    """Compare each conversation's user messages in the tracker store with what was sent:
    {"lost": …, "doubled": …, "out_of_order": …}, all 0 when nothing went wrong."""
    engine = sa.create_engine(database_url)
    events = sa.table(
        "events", sa.column("id"), sa.column("sender_id"), sa.column("type_name"), sa.column("data")
    )
    counts = {"lost": 0, "doubled": 0, "out_of_order": 0}
    with engine.connect() as connection:
        for conversation in conversations:
            rows = connection.execute(
                sa.select(events.c.data)
                .where(
                    events.c.sender_id == conversation.conversation_id, events.c.type_name == "user"
                )
                .order_by(events.c.id)
            ).scalars()
            stored = [_text(row) for row in rows]
            counts["lost"] += max(0, len(conversation.sent) - len(stored))
            counts["doubled"] += max(0, len(stored) - len(conversation.sent))
            if len(stored) == len(conversation.sent) and stored != conversation.sent:
                counts["out_of_order"] += 1
    engine.dispose()
    return counts


def _text(data: str) -> str:
    import json

    return json.loads(data).get("text") or ""


async def twilio_standin() -> tuple[web.AppRunner, str, Dict[str, int]]:
    """Twilio's REST API on loopback, for replies that miss the webhook's budget: accepts all
    and counts the texts sent to each number."""
    texts: Dict[str, int] = {}

    async def accept(request: web.Request) -> web.Response:
        to = (await request.post()).get("To", "")
        texts[to] = texts.get(to, 0) + 1
        return web.json_response(
            {"sid": "SM" + secrets.token_hex(16), "status": "queued"}, status=201
        )

    app = web.Application()
    app.router.add_post("/{tail:.*}", accept)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    return runner, f"http://127.0.0.1:{port}", texts


def load_env(
    twilio_api: str,
    database: str,
    events: str,
    phone_key: Secret,
    twilio_token: str,
    rest_token: str,
) -> Dict[str, str]:
    """The cluster's environment for a load: deployed (not local: REST needs its token), its
    own databases, SMS on, a known phone key."""
    return {
        **os.environ,
        "CLINIC_ENV": "production",
        settings.REST_TOKEN_ENV: rest_token,
        settings.DATABASE_URL_ENV: database,
        settings.EVENTS_DATABASE_URL_ENV: events,
        "CLINIC_PHONE_HASH_KEY": phone_key.reveal(),
        "TWILIO_AUTH_TOKEN": twilio_token,
        "TWILIO_WEBHOOK_URL": PUBLIC_WEBHOOK,
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "TWILIO_NUMBER": CLINIC_NUMBER,
        "TWILIO_API_BASE": twilio_api,
    }


def drop_database(url: str) -> None:
    parsed = sa.engine.make_url(url)
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    admin.dispose()


async def measure(
    replicas: int, conversations: int, messages: int, postgres: str, threads: Optional[int]
) -> LoadResult:
    from deploy.cluster import start_cluster, threads_per_replica

    runner, twilio_api, texts = await twilio_standin()
    suffix = secrets.token_hex(4)
    database, events = f"{postgres}/clinic_load_{suffix}", f"{postgres}/clinic_load_events_{suffix}"
    phone_key, twilio_token = Secret(secrets.token_hex(32)), secrets.token_hex(16)
    rest_token = secrets.token_hex(32)
    workdir = Path(tempfile.mkdtemp(prefix=f"scale-load-{replicas}-"))
    shown = {None: "the libraries' default", -1: threads_per_replica(replicas)}.get(
        threads, threads
    )
    name = f"{replicas} replica(s), {shown} math thread(s) each"
    print(f"\n{name}: starting (logs in {workdir}) ...", flush=True)
    started = time.perf_counter()
    cluster = await asyncio.to_thread(
        start_cluster,
        workdir,
        replicas=replicas,
        action_servers=replicas,
        threads=threads,
        env=load_env(twilio_api, database, events, phone_key, twilio_token, rest_token),
    )
    print(
        f"{name}: ready in {time.perf_counter() - started:.0f} s; "
        f"{conversations} conversations x {messages} messages ...",
        flush=True,
    )
    try:
        planned = plan(conversations, messages, phone_key)
        result = await run_load(
            cluster.url,
            planned,
            twilio_token,
            lambda phone: texts.get(phone, 0),
            rest_token=rest_token,
        )
    finally:
        await asyncio.to_thread(cluster.stop)
        await runner.cleanup()
    stored = check_stored(database, planned)
    print(f"{name}: {result.summary()}")
    print(
        f"{name}: stored events: lost {stored['lost']} messages, doubled "
        f"{stored['doubled']}, conversations out of order {stored['out_of_order']}",
        flush=True,
    )
    drop_database(database)
    drop_database(events)
    return result


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.scale_load",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument(
        "--runs",
        nargs="+",
        default=["1:auto", "2:auto"],
        help="REPLICAS:THREADS each; THREADS: math threads per replica, `auto` "
        "for the cores shared out (as make scale does: 2 for one replica "
        "on 2 cores, 1 each for two), `default` for the libraries' own",
    )
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stop the cluster on the way out
    results = []
    for run in args.runs:
        replicas, threads = run.split(":")
        chosen = (
            {"auto": -1, "default": None}.get(threads) if not threads.isdigit() else int(threads)
        )
        result = asyncio.run(
            measure(int(replicas), args.conversations, args.messages, args.postgres, chosen)
        )
        results.append((run, result.messages / result.seconds))
    for run, throughput in results[1:]:
        for base, base_throughput in results[:1] + results[1:2]:
            if base != run:
                print(
                    f"throughput {run} / {base} (replicas:threads): "
                    f"{throughput / base_throughput:.2f}x"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
