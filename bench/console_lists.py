"""The staff console's conversation pages at scale: a throwaway database filled with N made-up
conversations, then each list, filter and search page timed through the real Flask app.

    .venv/bin/python -m bench.console_lists [--conversations 100000] \\
        [--database sqlite|postgresql|both] [--repeats 20]

The conversations are Rasa event dictionaries fed through `projector.index.apply_events`, so the
index code is what fills the database. User messages are the project's own training and
held-out examples (`data/nlu/`, `tests/data/heldout_*.yml`) and crisis-suite items, bot replies
the domain's responses; some fall back, are out of scope or answered unsure, about 1% are
crisis (concern or urgent, each with an escalation), some book a consultation or ask for a call
back, some are tagged or marked reviewed. Spread over the last 180 days, on webchat, twilio
and rest. SQLite is a file in a temporary directory; PostgreSQL a new database on
127.0.0.1:5432 (user postgres, trust authentication), dropped at the end. Prints the fill time,
then per page p50, p95 and max over the repeats and whether p95 is under 300 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import sqlalchemy as sa
import yaml

from clinic import escalations
from clinic.db import contact_requests, engine_for
from clinic.profile import current_profile
from console import create_app
from console.auth import accounts
from console.conversations.queries import reviews, tags
from projector.index import apply_events, conversations

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = 300.0
DAYS = 180
BATCH = 1000  # conversations per apply_events call (one transaction)
PAGE_BUDGET_SECONDS = 40.0  # at most this long on one page's repeats
DEEP_PAGE = 20
NOTHING = "qzxvjkw"  # a word in no message: the search has to look at every one
TAGS = ("follow-up", "pricing question", "add to training", "complaint", "insurance")
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_START = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")
WORD = re.compile(r"[a-z]{6,}")


@dataclass
class Corpus:
    """What people say, by intent (FAQ topics by topic), and what the bot answers."""

    faq: dict[str, list[str]]
    other: dict[str, list[str]]
    urgent: list[str]
    concern: list[str]
    replies: dict[str, str]

    def all_user_texts(self) -> Iterator[str]:
        for texts in (*self.faq.values(), *self.other.values(), self.urgent, self.concern):
            yield from texts


def _nlu_examples(paths: list[Path]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in paths:
        for item in yaml.safe_load(path.read_text())["nlu"]:
            if "intent" not in item:
                continue
            for line in item["examples"].splitlines():
                line = line.strip()
                if line.startswith("- "):
                    found.setdefault(item["intent"], []).append(ANNOTATION.sub(r"\1", line[2:]))
    return found


def load_corpus() -> Corpus:
    examples = _nlu_examples(
        sorted((ROOT / "data" / "nlu").glob("*.yml"))
        + sorted((ROOT / "tests" / "data").glob("heldout_*.yml"))
    )
    faq = {
        name.split("/", 1)[1]: texts for name, texts in examples.items() if name.startswith("faq/")
    }
    other = {name: texts for name, texts in examples.items() if not name.startswith("faq/")}
    suite = yaml.safe_load((ROOT / "tests" / "data" / "crisis_suite.yml").read_text())
    urgent = [item["text"] for items in suite["urgent"].values() for item in items]
    concern = [item["text"] for items in suite["concern"].values() for item in items]
    values = current_profile().template_values()
    values["staff_alert_note"] = ""
    domain = yaml.safe_load((ROOT / "domain.yml").read_text())
    replies = {}
    for name, variants in domain["responses"].items():
        plain = [v for v in variants if "channel" not in v and "condition" not in v] or variants
        text = plain[-1].get("text") or ""
        replies[name] = re.sub(
            r"\{(\w+)\}", lambda m: values.get(m.group(1), m.group(0)), text
        ).strip()
    return Corpus(faq, other, urgent, concern, replies)


@dataclass
class Made:
    """What the generator made, besides the events: rows for the clinic's other tables."""

    escalations: list[dict[str, Any]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    tags: list[dict[str, Any]] = field(default_factory=list)
    reviews: list[dict[str, Any]] = field(default_factory=list)


class Conversations:
    """Made-up conversations as Rasa would record them: (sender id, event dict) rows."""

    def __init__(self, corpus: Corpus, now: dt.datetime, seed: int) -> None:
        self.corpus, self.now, self.random = corpus, now, random.Random(seed)
        self.topics = sorted(corpus.faq)
        # Some topics are asked far more than others.
        self.topic_weights = [1.0 / (1 + i) ** 0.7 for i in range(len(self.topics))]
        self.random.shuffle(self.topic_weights)

    def one(self, made: Made) -> tuple[str, list[dict[str, Any]]]:
        r = self.random
        channel = r.choices(("webchat", "twilio", "rest"), (0.55, 0.3, 0.15))[0]
        if channel == "twilio":
            sender = "sms-" + hashlib.sha256(uuid.UUID(int=r.getrandbits(128)).bytes).hexdigest()
        else:
            sender = (
                uuid.UUID(int=r.getrandbits(128)).hex
                if channel == "webchat"
                else f"rest-{r.getrandbits(48):012x}"
            )
        start = self.now - dt.timedelta(days=DAYS * r.random() ** 1.3)
        start = start.replace(hour=r.choices(range(24), [1] * 7 + [4] * 15 + [2] * 2)[0])
        clock = [min(start, self.now - dt.timedelta(minutes=30)).timestamp()]
        events: list[dict[str, Any]] = []

        def event(kind: str, **fields: Any) -> None:
            clock[0] += r.uniform(0.05, 0.4) if kind != "user" else r.uniform(4, 90)
            events.append({"event": kind, "timestamp": clock[0], **fields})

        def say(name: str) -> None:
            event("action", name=name, policy="RulePolicy", confidence=1.0)
            event("bot", text=self.corpus.replies[name], data={}, metadata={"utter_action": name})

        def user(
            text: str,
            intent: str,
            confidence: float,
            topic: Optional[str] = None,
            answer: Optional[float] = None,
            crisis: str = "none",
        ) -> str:
            message_id = uuid.UUID(int=r.getrandbits(128)).hex
            parse: dict[str, Any] = {
                "text": text,
                "intent": {"name": intent, "confidence": confidence},
                "entities": [],
                "crisis": {"level": crisis},
            }
            if topic:
                parse["response_selector"] = {
                    "faq": {
                        "response": {"intent_response_key": f"faq/{topic}", "confidence": answer}
                    }
                }
            event(
                "user",
                text=text,
                input_channel=channel,
                message_id=message_id,
                parse_data=parse,
                metadata={},
            )
            return message_id

        event("action", name="action_session_start")
        event("session_started")
        event("action", name="action_listen")
        messages = 2 * r.randint(1, 6)  # each exchange: the user's message and the reply
        said = 0
        crisis = r.choices(("none", "concern", "urgent"), (0.99, 0.005, 0.005))[0]
        crisis_at = r.randrange(max(1, messages // 2))
        booked = None
        while said < messages:
            turn = said // 2
            if crisis != "none" and turn == crisis_at:
                text = r.choice(self.corpus.urgent if crisis == "urgent" else self.corpus.concern)
                if crisis == "urgent":
                    message_id = user(text, "crisis", 1.0, crisis="urgent")
                    say("utter_crisis")
                else:
                    topic = r.choice(self.topics)
                    message_id = user(text, "faq", 0.9, topic, 0.85, crisis="concern")
                    say(f"utter_faq/{topic}")
                made.escalations.append(
                    dict(
                        conversation_id=sender,
                        message_id=message_id,
                        channel=channel,
                        level=crisis,
                        categories=["suicidal_ideation"],
                        subject="self",
                        evidence=[{"text": text[:40], "rule": "bench"}],
                        last_turns=[{"role": "user", "text": text}],
                        now=dt.datetime.fromtimestamp(clock[0], dt.timezone.utc),
                    )
                )
                said += 2
                continue
            kind = r.choices(
                ("faq", "unsure", "fallback", "out_of_scope", "chat", "medical", "book"),
                (0.58, 0.08, 0.05, 0.03, 0.15, 0.04, 0.07),
            )[0]
            if turn == 0 and r.random() < 0.3:
                kind = "chat"
            if kind == "book" and (booked or messages - said < 10):
                kind = "faq"
            if kind in ("faq", "unsure"):
                topic = r.choices(self.topics, self.topic_weights)[0]
                sure = kind == "faq"
                user(
                    r.choice(self.corpus.faq[topic]),
                    "faq",
                    r.uniform(0.85, 1.0) if sure else r.uniform(0.5, 0.95),
                    topic,
                    r.uniform(0.8, 1.0) if sure else r.uniform(0.35, 0.79),
                )
                say(f"utter_faq/{topic}")
            elif kind == "fallback":
                user(
                    r.choice(self.corpus.other["out_of_scope"] + self.corpus.other["deny"]),
                    "nlu_fallback",
                    0.55,
                )
                say("utter_ask_rephrase")
            elif kind == "out_of_scope":
                user(
                    r.choice(self.corpus.other["out_of_scope"]), "out_of_scope", r.uniform(0.8, 1.0)
                )
                say("utter_out_of_scope")
            elif kind == "medical":
                user(
                    r.choice(self.corpus.other["medical_specific"]),
                    "medical_specific",
                    r.uniform(0.8, 1.0),
                )
                say("utter_medical_specific")
            elif kind == "chat":
                intent = (
                    r.choice(("greet", "greet", "bot_challenge"))
                    if turn == 0
                    else r.choice(("thanks", "goodbye", "affirm", "bot_challenge", "greet"))
                )
                user(r.choice(self.corpus.other[intent]), intent, r.uniform(0.85, 1.0))
                say(
                    {
                        "greet": "utter_greet",
                        "goodbye": "utter_goodbye",
                        "thanks": "utter_welcome",
                        "affirm": "utter_anything_else",
                        "bot_challenge": "utter_iamabot",
                    }[intent]
                )
            else:  # a consultation or a call back: the contact form, 8 or 10 messages
                intent = r.choice(("book_consultation", "human_handoff"))
                user(r.choice(self.corpus.other[intent]), intent, r.uniform(0.85, 1.0))
                if intent == "human_handoff":
                    say("utter_handoff")
                    user(r.choice(self.corpus.other["affirm"]), "affirm", r.uniform(0.85, 1.0))
                    said += 2
                say("utter_ask_contact_name")
                name = r.choice(("Jane Doe", "Sam", "Priya Patel", "Alex", "Maria Lopez"))
                user(name, "inform", 0.9)
                say("utter_ask_contact")
                contact = f"555-010-{r.randrange(10000):04d}"
                user(contact, "inform", 0.9)
                say("utter_ask_preferred_time")
                preferred = r.choice(("weekday mornings", "thursday after 3pm", "evenings please"))
                user(preferred, "inform", 0.9)
                say("utter_request_saved")
                booked = dict(
                    created_at=dt.datetime.fromtimestamp(clock[0], dt.timezone.utc),
                    conversation_id=sender,
                    channel=channel,
                    kind="consultation" if intent == "book_consultation" else "callback",
                    name=name,
                    contact_kind="phone",
                    contact=contact,
                    preferred_time=preferred,
                    status="new",
                )
                made.requests.append(booked)
                said += 6
            said += 2
            event("action", name="action_listen")
        at = dt.datetime.fromtimestamp(clock[0], dt.timezone.utc) + dt.timedelta(hours=1)
        if r.random() < 0.03:
            for tag in r.sample(TAGS, r.choice((1, 1, 2))):
                made.tags.append(
                    dict(conversation_id=sender, tag=tag, added_by="bench", added_at=at)
                )
        if r.random() < 0.05:
            made.reviews.append(
                dict(conversation_id=sender, reviewed=True, reviewed_by="bench", reviewed_at=at)
            )
        return sender, events


def fill(
    engine: sa.engine.Engine, count: int, corpus: Corpus, now: dt.datetime
) -> tuple[float, int]:
    """Fill the index and the clinic's tables; (seconds, messages indexed)."""
    made_up = Conversations(corpus, now, seed=20240603)
    started, added, done = time.perf_counter(), 0, 0
    all_escalations = []
    while done < count:
        made, rows = Made(), []
        for _ in range(min(BATCH, count - done)):
            sender, events = made_up.one(made)
            rows += [(sender, e) for e in events]
        with engine.begin() as connection:
            added += apply_events(connection, rows)
            for table, records in (
                (contact_requests, made.requests),
                (tags, made.tags),
                (reviews, made.reviews),
            ):
                if records:
                    connection.execute(table.insert(), records)
        all_escalations += made.escalations
        done += min(BATCH, count - done)
        if done % 20000 == 0 or done == count:
            print(
                f"  {done:,} conversations, {added:,} messages, "
                f"{time.perf_counter() - started:.0f} s",
                flush=True,
            )
    for item in all_escalations:  # as the action server records them, delivered to nobody
        escalations.record_escalation(engine, targets=[], **item)
    with engine.begin() as connection:
        connection.execute(
            escalations.escalations.update()
            .where(escalations.escalations.c.created_at < now - dt.timedelta(days=2))
            .values(status=escalations.RESOLVED, resolved_by="bench", resolved_at=now)
        )
    return time.perf_counter() - started, added


def search_words(corpus: Corpus) -> tuple[str, str]:
    """A common word, and a rare one: in one user example only and in no bot reply."""
    in_texts = Counter(
        w for text in corpus.all_user_texts() for w in set(WORD.findall(text.lower()))
    )
    in_replies = {w for text in corpus.replies.values() for w in WORD.findall(text.lower())}
    rare = sorted(w for w, n in in_texts.items() if n == 1 and w not in in_replies)
    return "infusion", random.Random(7).choice(rare)


def timed(get: Callable[[], Any], repeats: int) -> list[float]:
    get()  # warm: templates compiled, connection pooled
    times: list[float] = []
    started = time.perf_counter()
    while len(times) < repeats and time.perf_counter() - started < PAGE_BUDGET_SECONDS:
        begin = time.perf_counter()
        reply = get()
        times.append((time.perf_counter() - begin) * 1000)
        if reply.status_code != 200:
            raise SystemExit(f"{reply.request.path}: HTTP {reply.status_code}")
    return times


def pages(
    client: Any, transcript: str, common: str, rare: str, today: dt.date
) -> list[tuple[str, str]]:
    after = ""
    for _ in range(DEEP_PAGE - 1):  # follow "Older conversations" as staff would
        html = client.get(f"/conversations{after}").get_data(as_text=True)
        found = re.search(r'href="(/conversations\?after=[^"]+)" rel="next"', html)
        after = found.group(1).replace("&amp;", "&")[len("/conversations") :]
    week = f"date_from={today - dt.timedelta(days=60)}&date_to={today - dt.timedelta(days=54)}"
    return [
        ("list, first page", "/conversations"),
        (f"list, page {DEEP_PAGE}", f"/conversations{after}"),
        ("channel=twilio", "/conversations?channel=twilio"),
        ("topic=cost", "/conversations?topic=cost"),
        ("intent=human_handoff", "/conversations?intent=human_handoff"),
        ("crisis=urgent", "/conversations?crisis=urgent"),
        ("escalated", "/conversations?escalated=yes"),
        ("not_understood", "/conversations?not_understood=yes"),
        ("booked", "/conversations?booked=yes"),
        ("reviewed", "/conversations?reviewed=yes"),
        ("a week, 2 months ago", f"/conversations?{week}"),
        ("tag=complaint", "/conversations?tag=complaint"),
        (
            "combined",
            f"/conversations?channel=webchat&topic=side_effects&not_understood=yes"
            f"&date_from={today - dt.timedelta(days=90)}",
        ),
        (f"search {common!r} (common)", f"/conversations?q={common}"),
        (f"search {rare!r} (rare)", f"/conversations?q={rare}"),
        (f"search {NOTHING!r} (none)", f"/conversations?q={NOTHING}"),
        ("transcript", f"/conversations/{transcript}"),
        ("not understood, 30 days", "/not-understood"),
    ]


def bench(url: str, count: int, repeats: int, corpus: Corpus) -> list[tuple[str, list[float]]]:
    engine = engine_for(url)
    print(f"{engine.dialect.name}: filling {count:,} conversations", flush=True)
    seconds, added = fill(engine, count, corpus, dt.datetime.now(dt.timezone.utc))
    print(f"  filled in {seconds:.0f} s ({added:,} messages)", flush=True)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text("ANALYZE"))  # what autovacuum would have done by now
    return time_pages(url, repeats, corpus)


def time_pages(url: str, repeats: int, corpus: Corpus) -> list[tuple[str, list[float]]]:
    """Each page's times through the console, logged in as a new staff account."""
    engine = engine_for(url)
    common, rare = search_words(corpus)
    with engine.connect() as connection:
        transcript = connection.execute(
            sa.select(conversations.c.conversation_id)
            .where(conversations.c.user_messages + conversations.c.bot_messages >= 12)
            .order_by(conversations.c.last_message_at.desc())
            .limit(1)
        ).scalar()
    staff = accounts.create_user(
        engine, f"bench-{uuid.uuid4().hex[:8]}", "a long bench password", accounts.STAFF
    )
    app = create_app({"DATABASE_URL": url, "TESTING": True, "SECRET_KEY": "bench " * 8})
    client = app.test_client()
    with client.session_transaction() as session:
        session["user_id"] = staff.id
    today = dt.datetime.now(current_profile().hours.timezone).date()
    results = []
    for label, path in pages(client, transcript, common, rare, today):
        results.append((label, timed(lambda path=path: client.get(path), repeats)))
        print(f"  {label}: {_summary(results[-1][1])}", flush=True)
    engine.dispose()
    return results


def _p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _summary(times: list[float]) -> str:
    return (
        f"p50 {statistics.median(times):.0f} ms, p95 {_p95(times):.0f} ms, "
        f"max {max(times):.0f} ms (n={len(times)})"
    )


def on_sqlite(count: int, repeats: int, corpus: Corpus) -> list[tuple[str, list[float]]]:
    with tempfile.TemporaryDirectory(prefix="console-bench-") as directory:
        return bench(f"sqlite:///{directory}/console.db", count, repeats, corpus)


def on_postgresql(
    count: int, repeats: int, corpus: Corpus
) -> Optional[list[tuple[str, list[float]]]]:
    admin = sa.create_engine(PG_ADMIN_URL, future=True, isolation_level="AUTOCOMMIT")
    name = f"console_bench_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))  # a name made up here
    except sa.exc.OperationalError as error:
        print(
            f"PostgreSQL: cannot connect to {PG_ADMIN_URL} "
            f"({str(error.orig).strip().splitlines()[0]}).\n"
            f"Is it running? Start it with:\n  {PG_START}",
            file=sys.stderr,
            flush=True,
        )
        return None
    try:
        url = sa.engine.make_url(PG_ADMIN_URL).set(database=name)
        return bench(url.render_as_string(hide_password=False), count, repeats, corpus)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.console_lists")
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args(argv)
    corpus = load_corpus()
    results: dict[str, list[tuple[str, list[float]]]] = {}
    for database, run in (("sqlite", on_sqlite), ("postgresql", on_postgresql)):
        if args.database in (database, "both"):
            found = run(args.conversations, args.repeats, corpus)
            if found is not None:
                results[database] = found
    if not results:
        return 1
    print(
        f"\n{args.conversations:,} conversations; ms over up to {args.repeats} requests "
        f"per page; target p95 < {TARGET_MS:.0f} ms"
    )
    print(f"{'page':32} {'database':10} {'p50':>6} {'p95':>6} {'max':>6}  p95 ok")
    misses = 0
    for label, _ in next(iter(results.values())):
        for database, rows in results.items():
            times = dict(rows)[label]
            ok = _p95(times) < TARGET_MS
            misses += not ok
            print(
                f"{label:32} {database:10} {statistics.median(times):6.0f} "
                f"{_p95(times):6.0f} {max(times):6.0f}  {'yes' if ok else 'NO'}"
            )
    return 0 if misses == 0 and len(results) == (2 if args.database == "both" else 1) else 1


if __name__ == "__main__":
    sys.exit(main())
