"""The analytics page over a known set of conversations: Rasa events as the assistant writes
them, applied to the index by `projector.index.apply_events`, with escalations and requests
stored by the clinic's own code. The figures the page shows are checked one by one."""

from __future__ import annotations

import datetime as dt
import itertools
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from clinic import escalations
from clinic.db import save_contact_request
from clinic.profile import current_profile
from console.analytics import queries as analytics
from console.analytics import routes as analytics_page
from console.auth import accounts
from projector import index

TZ = current_profile().hours.timezone
TODAY = dt.datetime.now(TZ).date()
THIS_MONDAY = TODAY - dt.timedelta(days=TODAY.weekday())
LAST_WEEK = THIS_MONDAY - dt.timedelta(weeks=1)  # both weeks are over, and within 30 days
WEEK_BEFORE = THIS_MONDAY - dt.timedelta(weeks=2)
TUESDAY = WEEK_BEFORE + dt.timedelta(days=1)
WEDNESDAY = LAST_WEEK + dt.timedelta(days=2)
SUNDAY = LAST_WEEK + dt.timedelta(days=6)
LONG_AGO = TODAY - dt.timedelta(days=100)
_ids = itertools.count(1)


def at(day: dt.date, hour: int = 12, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TZ)


def said(text, intent, confidence=0.97, topic=None, answer_confidence=0.95, crisis="none"):
    """A user message as the assistant's NLU pipeline parses it."""
    parse = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": [{"name": intent, "confidence": confidence}],
        "entities": [],
        "crisis": {
            "level": crisis,
            "categories": ["suicidal_ideation"] if crisis != "none" else [],
            "evidence": [],
            "subject": "self",
            "signals": [],
        },
    }
    if topic:
        parse["response_selector"] = {
            "all_retrieval_intents": ["faq"],
            "faq": {
                "response": {
                    "responses": [{"text": "…"}],
                    "confidence": answer_confidence,
                    "intent_response_key": f"faq/{topic}",
                    "utter_action": f"utter_faq/{topic}",
                },
                "ranking": [
                    {"intent_response_key": f"faq/{topic}", "confidence": answer_confidence}
                ],
            },
        }
    return ("user", text, parse)


ANSWERED_COST = said("how much does it cost", "faq", topic="cost")
ANSWERED_PARKING = said("where do I park", "faq", topic="parking")
UNSURE_COST = said("price thing??", "faq", topic="cost", answer_confidence=0.5)
FALLBACK = said("blorptastic wizzle", "nlu_fallback", confidence=0.41)
OUT_OF_SCOPE = said("what's the weather", "out_of_scope", confidence=0.9)
GREETING = said("hi", "greet")
BOOKING = said("I'd like to book a consultation", "book_consultation")
URGENT = said("I want to kill myself", "crisis", confidence=1.0, crisis="urgent")
CONCERN = said("I've been feeling hopeless lately", "faq", topic="conditions", crisis="concern")
STAFF_REPLY = ("staff", "Hi, this is Sam from the clinic.", None)


def events(start: dt.datetime, channel: str, turns) -> list[dict]:
    """A conversation's events: a session start, then each user message and the bot's reply
    (or a staff member's message) a few seconds apart."""
    ts = start.timestamp()
    out = [
        {"event": "action", "timestamp": ts, "name": "action_session_start"},
        {"event": "session_started", "timestamp": ts + 0.01},
    ]
    for n, (role, text, parse) in enumerate(turns, start=1):
        ts = start.timestamp() + 10 * n
        if role == "user":
            out.append(
                {
                    "event": "user",
                    "timestamp": ts,
                    "text": text,
                    "parse_data": parse,
                    "input_channel": channel,
                    "message_id": f"m{next(_ids)}",
                    "metadata": {},
                }
            )
            out.append(
                {
                    "event": "bot",
                    "timestamp": ts + 1,
                    "text": "An answer.",
                    "data": {},
                    "metadata": {"utter_action": "utter_something"},
                }
            )
        else:
            out.append(
                {
                    "event": "bot",
                    "timestamp": ts,
                    "text": text,
                    "data": {},
                    "metadata": {"staff": "sam"},
                }
            )
    return out


# id: (when it started, channel, its messages)
CONVERSATIONS = {
    "a": (at(TUESDAY), "webchat", [ANSWERED_COST, ANSWERED_PARKING]),
    "b": (at(TUESDAY), "webchat", [FALLBACK, ANSWERED_COST]),
    "c": (at(TUESDAY), "twilio", [ANSWERED_COST, BOOKING]),  # leaves a request
    "h": (at(TUESDAY), "webchat", [URGENT]),
    "j": (at(TUESDAY, 14), "webchat", [CONCERN]),
    "m": (at(TUESDAY, 23, 30), "webchat", [ANSWERED_PARKING]),  # Wednesday already in UTC
    "d": (at(WEDNESDAY), "webchat", [URGENT]),
    "e": (at(WEDNESDAY), "webchat", [OUT_OF_SCOPE, UNSURE_COST, STAFF_REPLY]),  # staff wrote
    "f": (at(WEDNESDAY), "webchat", [GREETING]),
    "i": (at(WEDNESDAY, 13), "twilio", [URGENT]),
    "k": (at(WEDNESDAY, 14), "webchat", [CONCERN]),
    "l": (at(WEDNESDAY, 15), "webchat", [CONCERN]),
    "n": (at(SUNDAY, 23, 30), "webchat", [FALLBACK]),  # Monday of this week in UTC
    "g": (at(WEDNESDAY), "webchat", []),  # opened, never wrote: not counted
    "old": (at(LONG_AGO), "webchat", [FALLBACK, ANSWERED_COST]),  # before every period
}
# id: (level, minutes until acknowledged, minutes until resolved without acknowledging)
ESCALATIONS = {
    "h": ("urgent", 30, None),
    "d": ("urgent", 4, None),
    "i": ("urgent", None, 10),
    "j": ("concern", 20, None),
    "k": ("concern", 60, None),
    "l": ("concern", None, None),
    "old": ("urgent", 24 * 60, None),
}


@pytest.fixture
def held(engine):
    """The conversations above in the index, with their escalations and the one request."""
    rows = [
        (cid, event)
        for cid, (start, channel, turns) in CONVERSATIONS.items()
        for event in events(start, channel, turns)
    ]
    with engine.begin() as connection:
        index.apply_events(connection, rows)
    for cid, (level, ack_minutes, resolve_minutes) in ESCALATIONS.items():
        start, channel, _ = CONVERSATIONS[cid]
        escalation_id, _ = escalations.record_escalation(
            engine,
            conversation_id=cid,
            message_id="m-crisis",
            channel=channel,
            level=level,
            categories=["suicidal_ideation"],
            subject="self",
            targets=[],
            now=start,
            evidence=[
                {
                    "text": "kill myself",
                    "rule": "self_harm_intent",
                    "category": "suicidal_ideation",
                    "level": level,
                    "reason": "intent",
                    "subject": "self",
                }
            ],
            last_turns=[{"role": "user", "text": "…"}],
        )
        if ack_minutes is not None:
            escalations.acknowledge(
                engine, escalation_id, by="sam", now=start + dt.timedelta(minutes=ack_minutes)
            )
        if resolve_minutes is not None:
            escalations.resolve(
                engine,
                escalation_id,
                by="sam",
                outcome=escalations.REACHED,
                now=start + dt.timedelta(minutes=resolve_minutes),
            )
    start, channel, _ = CONVERSATIONS["c"]
    save_contact_request(
        engine,
        conversation_id="c",
        channel=channel,
        kind="consultation",
        name="Jo Doe",
        contact_kind="phone",
        contact="+15550107788",
        preferred_time="mornings",
        now=(start + dt.timedelta(minutes=1)).astimezone(dt.timezone.utc),
    )
    return engine


class _Tables(HTMLParser):
    """Each table of a page: its caption → rows of cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._rows: list[list[str]] = []
        self._caption: list[str] | None = None
        self._title = ""
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._rows = []
        elif tag == "caption":
            self._caption = []
        elif tag == "tr":
            self._rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "caption":
            self._title = "".join(self._caption).strip()
            self._caption = None
        elif tag in ("td", "th") and self._cell is not None:
            self._rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            self.tables[self._title] = self._rows

    def handle_data(self, data):
        for part in (self._caption, self._cell):
            if part is not None:
                part.append(data)


def tables(page: str) -> dict[str, list[list[str]]]:
    parser = _Tables()
    parser.feed(page)
    return parser.tables


def day_name(day: dt.date) -> str:
    return f"{day:%a} {day.day} {day:%b}"


def week_name(day: dt.date) -> str:
    return f"{day.day} {day:%b}"


@pytest.fixture
def page(held, client, log_in):
    log_in()
    reply = client.get("/analytics")
    assert reply.status_code == 200
    return reply.get_data(as_text=True)


def test_the_page_needs_a_login(client):
    reply = client.get("/analytics")
    assert reply.status_code == 302 and reply.location.startswith("/login")


def test_conversations_per_day_are_counted_in_the_clinic_time_zone_by_channel(page):
    rows = tables(page)["Conversations per day"]
    assert rows[0] == ["Day", "webchat", "twilio", "All"]
    by_day = {row[0]: row[1:] for row in rows[1:]}
    assert len(by_day) == analytics.DAYS and rows[1][0] == day_name(TODAY)
    assert by_day[day_name(TUESDAY)] == ["5", "1", "6"]  # m, at 23:30 there, is Tuesday's
    assert by_day[day_name(WEDNESDAY)] == ["5", "1", "6"]  # g never wrote: not counted
    assert by_day[day_name(SUNDAY)] == ["1", "0", "1"]
    assert sum(int(counts[-1]) for counts in by_day.values()) == 13


def test_the_share_answered_by_the_bot_alone(page):
    rows = dict(tables(page)["Who answered"])
    # 13 conversations; a person took part in c (a request), e (staff wrote) and the six
    # escalated ones (h, j, d, i, k, l): the bot alone answered a, b, f, m and n.
    assert rows == {
        "Conversations": "13",
        "By the bot alone": "5",
        "Share by the bot alone": "38.5%",
        "Escalated": "6",
        "Left a request": "1",
        "Staff wrote": "1",
    }


def test_the_fallback_rate_per_week(page):
    rows = {row[0]: row[1:] for row in tables(page)["Not understood per week"][1:]}
    assert len(rows) == analytics.WEEKS
    # The week before last: 9 user messages, one fallback (b). Last week: 8 user messages,
    # out of scope and unsure (e) and a fallback late on Sunday (n); crises are understood.
    assert rows[week_name(WEEK_BEFORE)] == ["1", "9", "11.1%"]
    assert rows[week_name(LAST_WEEK)] == ["3", "8", "37.5%"]
    assert rows[week_name(THIS_MONDAY)] == ["0", "0", "-"]


def test_the_top_faq_topics(page):
    """Named by the catalogue's question; a topic it does not have, by its id in words."""
    assert tables(page)["Messages per FAQ topic"] == [
        ["Topic", "Messages"],
        ["How much does it cost? Do you take insurance?", "4"],
        ["conditions", "3"],
        ["parking", "2"],
    ]


def test_escalations_per_week_by_level(page):
    rows = {row[0]: row[1:] for row in tables(page)["Escalations per week"][1:]}
    assert rows[week_name(WEEK_BEFORE)] == ["1", "1"]
    assert rows[week_name(LAST_WEEK)] == ["2", "2"]
    assert sum(int(u) + int(c) for u, c in rows.values()) == 6  # the old one is left out


def test_the_median_time_to_acknowledge_urgent_and_concern(page):
    rows = tables(page)["Time to acknowledge"]
    # urgent: 30, 4 and 10 min (resolved straight away); concern: 20 and 60, one not yet.
    assert rows[1] == ["urgent", "3", "3", "0", "10 min", "2 of 3"]
    assert rows[2] == ["concern", "3", "2", "1", "40 min", "-"]


def test_charts_are_accessible_svg_without_inline_style_or_script(page, engine):
    assert page.count('<svg class="chart"') == 6
    assert page.count('role="img"') == 6 and page.count("<desc id=") == 6
    assert 'aria-labelledby="fallback-chart-title fallback-chart-desc"' in page
    assert "style=" not in page and "<script" not in page
    assert "38.5% of 13 conversations were answered by the bot alone" in page
    assert accounts.audit_entries(engine)[0]["action"] == "view_analytics"


def test_an_empty_database_shows_empty_charts(client, log_in):
    log_in()
    page = client.get("/analytics").get_data(as_text=True)
    assert page.count("No data in this period") == 6
    assert dict(tables(page)["Who answered"])["Share by the bot alone"] == "-"


def test_quarter_hours_are_computed_in_sql_on_sqlite_and_postgresql():
    query = sa.select(analytics.quarter_hour(index.turns.c.at))
    assert "EXTRACT(EPOCH FROM console_turns.at) / 900" in str(
        query.compile(dialect=postgresql.dialect())
    )
    assert "strftime('%s', console_turns.at)" in str(query.compile(dialect=sqlite.dialect()))


@pytest.mark.parametrize(
    "seconds, shown",
    [
        (42, "42 s"),
        (9 * 60 + 40, "10 min"),
        (2 * 3600 + 5 * 60, "2 h 05 min"),
        (3 * 86400 + 4 * 3600, "3 d 4 h"),
    ],
)
def test_durations_read_naturally(seconds, shown):
    assert analytics_page.duration(dt.timedelta(seconds=seconds)) == shown
