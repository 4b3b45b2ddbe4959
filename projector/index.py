"""The conversation index the console reads: one summary row per conversation and one row per
message with what the NLU made of it, so that the console's lists, filters and search stay fast;
and the projection that builds it from Rasa's events.

Rasa's SQL tracker store keeps a single `events` table with no conversations table and no
channel column. The index is fed from Rasa's SQL event broker (endpoints.yml `event_broker`, a
database of its own) by `follow()`, and can be rebuilt from the tracker store at any time by
`rebuild()` (`python -m projector rebuild`), so nothing depends on the broker never having
missed an event. Both sources hold the same event dictionaries; applying an event twice changes
nothing, because a conversation's events are applied in time order and anything not newer than
its last applied event is skipped.

Staff annotations (tags, reviewed, notes) live in `console.conversations.queries`, not here: a
rebuild never touches them.

    python -m projector rebuild      # from the tracker store
    python -m projector catch-up     # apply what the event broker has not delivered yet
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, Iterable, Optional

import sqlalchemy as sa

from clinic.contact import MAX_NAME_LENGTH, clean_name, parse_contact
from clinic.db import UtcDateTime, hold_write_lock, metadata, rasa_events
from crisis.levels import CONCERN, NONE, URGENT, escalation_level
from crisis.parse_output import level_of

logger = logging.getLogger(__name__)
# Both sources, Rasa's tracker store and its SQL event broker, keep a table `events` with an
# autoincrement id, the conversation's sender id and the event as JSON.
source_events = rasa_events

USER, BOT, STAFF = "user", "bot", "staff"
# What became of a user's message.
ANSWERED, FALLBACK, OUT_OF_SCOPE, LOW_CONFIDENCE, CRISIS = (
    "answered",
    "fallback",
    "out_of_scope",
    "low_confidence",
    "crisis",
)
NOT_UNDERSTOOD = (FALLBACK, OUT_OF_SCOPE, LOW_CONFIDENCE)
# Messages that are never "not understood", whatever the NLU made of them: an answer to the
# contact form (a name, a time), and a message while staff held the conversation (a reply to a
# person, which the assistant did not answer). Neither is a question to teach the assistant.
FORM_ANSWER, WITH_STAFF = "form_answer", "with_staff"
FORM_SUFFIX = "_form"  # the domain's forms (contact_form); other loops, like the two-stage
# fallback's, are not forms (tests/test_training_data.py checks the names)
# Answered, but close to the FAQ gate of config.yml (intent similarity 0.4, answer 0.4): worth
# a look. The intent's confidence is a similarity to training examples (0.5: a loose match).
LOW_INTENT_CONFIDENCE_BELOW = 0.5
LOW_ANSWER_CONFIDENCE_BELOW = 0.8
# The levels staff see (a check is seen as a concern: crisis.levels), as stored in crisis_rank.
CRISIS_RANKS = {NONE: 0, CONCERN: 1, URGENT: 2}
CRISIS_LEVELS = {rank: level for level, rank in CRISIS_RANKS.items()}
PREVIEW_CHARS = 200
NAME_SLOT, CONTACT_SLOT = "contact_name", "contact"  # domain.yml, the contact form's slots
TRACKER, BROKER = "tracker_store", "event_broker"

conversations = sa.Table(
    "console_conversations",
    metadata,
    sa.Column("conversation_id", sa.String(255), primary_key=True),
    sa.Column("channel", sa.String(64), index=True),
    sa.Column("started_at", UtcDateTime, nullable=False),
    sa.Column("last_message_at", UtcDateTime, nullable=False),
    # Rasa's timestamp of the last event applied: older or equal ones were applied already.
    sa.Column("last_event_ts", sa.Float, nullable=False),
    sa.Column("user_messages", sa.Integer, nullable=False),
    sa.Column("bot_messages", sa.Integer, nullable=False),
    sa.Column("staff_messages", sa.Integer, nullable=False),
    sa.Column("not_understood", sa.Integer, nullable=False),
    sa.Column("fallbacks", sa.Integer, nullable=False),
    sa.Column("low_confidence", sa.Integer, nullable=False),
    sa.Column("crisis_rank", sa.SmallInteger, nullable=False),
    sa.Column("paused", sa.Boolean, nullable=False),
    sa.Column("active_form", sa.String(64)),  # the form the person is filling in, if any
    sa.Column("first_message", sa.String(PREVIEW_CHARS)),
    # What the person gave in the contact form (its slots): the latest name and phone or e-mail,
    # kept when the form clears its slots, so staff can name them and reach them.
    sa.Column("person_name", sa.String(MAX_NAME_LENGTH)),
    sa.Column("person_contact", sa.String(255)),
    sa.Index("ix_console_conversations_recent", "last_message_at", "conversation_id"),
)

turns = sa.Table(
    "console_turns",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("conversation_id", sa.String(255), nullable=False),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("role", sa.String(8), nullable=False),  # user | bot | staff
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("message_id", sa.String(255)),
    sa.Column("intent", sa.String(128)),
    sa.Column("confidence", sa.Float),
    sa.Column("faq_topic", sa.String(128)),
    sa.Column("answer_confidence", sa.Float),
    sa.Column("crisis_level", sa.String(16)),
    sa.Column("outcome", sa.String(16)),  # user messages: answered, fallback, ...
    sa.Column("staff", sa.String(64)),  # who wrote a staff message
    sa.Index("ix_console_turns_conversation", "conversation_id", "at"),
    sa.Index("ix_console_turns_topic", "faq_topic", "conversation_id"),
    sa.Index("ix_console_turns_intent", "intent", "conversation_id"),
    sa.Index("ix_console_turns_outcome", "outcome", "at"),
)

# Search ("words in any message", `console.conversations.queries`) is a substring match, which
# without an index reads the text of every message. The migrations make one where they can
# (SQLite: an FTS5 trigram index kept by triggers, `console_turns_search`; PostgreSQL: a pg_trgm
# GIN index); where they cannot, search still works, by reading every message.
search_index = sa.table("console_turns_search", sa.column("rowid"), sa.column("text"))


checkpoints = sa.Table(
    "console_index_checkpoints",
    metadata,
    sa.Column("source", sa.String(32), primary_key=True),
    sa.Column("last_id", sa.BigInteger, nullable=False),
)


@lru_cache(maxsize=None)
def broker_engine(url: str) -> sa.engine.Engine:
    """The event broker's database, only read here (no clinic tables are created in it)."""
    connect_args = {"timeout": 15} if url.startswith("sqlite") else {}
    return sa.create_engine(
        url, future=True, pool_pre_ping=True, connect_args=connect_args, hide_parameters=True
    )  # errors never log what people wrote


@dataclass
class Turn:
    """One message of a conversation, with what the NLU made of it (user messages)."""

    conversation_id: str
    ts: float
    role: str
    text: str
    channel: Optional[str] = None
    message_id: Optional[str] = None
    intent: Optional[str] = None
    confidence: Optional[float] = None
    faq_topic: Optional[str] = None
    answer_confidence: Optional[float] = None
    crisis_level: Optional[str] = None
    outcome: Optional[str] = None
    staff: Optional[str] = None

    def row(self) -> dict[str, Any]:
        return {
            "conversation_id": self.conversation_id,
            "at": _time(self.ts),
            "role": self.role,
            "text": self.text,
            "message_id": self.message_id,
            "intent": self.intent,
            "confidence": self.confidence,
            "faq_topic": self.faq_topic,
            "answer_confidence": self.answer_confidence,
            "crisis_level": self.crisis_level,
            "outcome": self.outcome,
            "staff": self.staff,
        }


def _time(ts: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc)


def _number(value: Any) -> Optional[float]:
    return float(value) if isinstance(value, (int, float)) else None


def outcome_of(
    intent: Optional[str],
    confidence: Optional[float],
    answer_confidence: Optional[float],
    crisis_level: str,
) -> str:
    if crisis_level == URGENT or intent == "crisis":
        return CRISIS
    if intent == "nlu_fallback":
        return FALLBACK
    if intent == "out_of_scope":
        return OUT_OF_SCOPE
    if (confidence is not None and confidence < LOW_INTENT_CONFIDENCE_BELOW) or (
        answer_confidence is not None and answer_confidence < LOW_ANSWER_CONFIDENCE_BELOW
    ):
        return LOW_CONFIDENCE
    return ANSWERED


def user_turn(conversation_id: str, event: dict[str, Any]) -> Turn:
    parse = event.get("parse_data") or {}
    intent = parse.get("intent") or {}
    name = intent.get("name")
    confidence = _number(intent.get("confidence"))
    topic = answer_confidence = None
    if name == "faq":
        chosen = ((parse.get("response_selector") or {}).get("faq") or {}).get("response") or {}
        key = chosen.get("intent_response_key") or ""
        topic = key.split("/", 1)[1] if key.startswith("faq/") else None
        answer_confidence = _number(chosen.get("confidence"))
    crisis = escalation_level(level_of(parse))
    return Turn(
        conversation_id=conversation_id,
        ts=float(event["timestamp"]),
        role=USER,
        text=str(event.get("text") or ""),
        channel=event.get("input_channel"),
        message_id=event.get("message_id"),
        intent=name,
        confidence=confidence,
        faq_topic=topic,
        answer_confidence=answer_confidence,
        crisis_level=crisis if crisis in CRISIS_RANKS else NONE,
        outcome=outcome_of(name, confidence, answer_confidence, crisis),
    )


def turn_of(conversation_id: str, event: dict[str, Any]) -> Optional[Turn]:
    """The message an event (with a numeric timestamp) carries; None for the other events."""
    kind = event.get("event")
    if kind == "user":
        return user_turn(conversation_id, event)
    if kind == "bot":
        staff = (event.get("metadata") or {}).get("staff")
        text = event.get("text") or _describe_payload(event.get("data") or {})
        if not text:
            return None
        return Turn(
            conversation_id=conversation_id,
            ts=float(event["timestamp"]),
            role=STAFF if staff else BOT,
            text=str(text),
            staff=str(staff)[:64] if staff else None,
        )
    return None


def _describe_payload(data: dict[str, Any]) -> str:
    buttons = [b.get("title", "") for b in data.get("buttons") or [] if isinstance(b, dict)]
    return "[buttons: " + ", ".join(buttons) + "]" if buttons else ""


def _in_context(turn: Optional[Turn], summary: dict[str, Any]) -> Optional[Turn]:
    """A user's message as what it was in its conversation: a message to staff who held the
    conversation, or an answer to a form that NLU did not read as a question (a name, a time);
    a question answered during a form stays answered, a crisis stays a crisis."""
    if turn is None or turn.role != USER or turn.outcome == CRISIS:
        return turn
    if summary["paused"]:
        return replace(turn, outcome=WITH_STAFF)
    if (summary.get("active_form") or "").endswith(FORM_SUFFIX) and turn.outcome in NOT_UNDERSTOOD:
        return replace(turn, outcome=FORM_ANSWER)
    return turn


def _new_summary(conversation_id: str, ts: float) -> dict[str, Any]:
    return {
        "conversation_id": conversation_id,
        "channel": None,
        "started_at": _time(ts),
        "last_message_at": _time(ts),
        "last_event_ts": 0.0,
        "user_messages": 0,
        "bot_messages": 0,
        "staff_messages": 0,
        "not_understood": 0,
        "fallbacks": 0,
        "low_confidence": 0,
        "crisis_rank": 0,
        "paused": False,
        "active_form": None,
        "first_message": None,
        "person_name": None,
        "person_contact": None,
    }


def _fold(summary: dict[str, Any], event: dict[str, Any], turn: Optional[Turn]) -> None:
    kind = event.get("event")
    if kind == "pause":
        summary["paused"] = True
    elif kind == "resume":
        summary["paused"] = False
    elif kind == "active_loop":
        summary["active_form"] = event.get("name") or None
    elif kind in ("restart", "session_started"):
        summary["active_form"] = None
    elif kind == "slot":
        _fold_slot(summary, event.get("name"), event.get("value"))
    if turn is None:
        return
    summary["last_message_at"] = _time(turn.ts)
    if turn.role == USER:
        summary["user_messages"] += 1
        summary["channel"] = summary["channel"] or turn.channel
        summary["first_message"] = summary["first_message"] or turn.text[:PREVIEW_CHARS]
        summary["not_understood"] += turn.outcome in NOT_UNDERSTOOD
        summary["fallbacks"] += turn.outcome in (FALLBACK, OUT_OF_SCOPE)
        summary["low_confidence"] += turn.outcome == LOW_CONFIDENCE
        summary["crisis_rank"] = max(summary["crisis_rank"], CRISIS_RANKS[turn.crisis_level])
    elif turn.role == STAFF:
        summary["staff_messages"] += 1
    else:
        summary["bot_messages"] += 1


def _fold_slot(summary: dict[str, Any], name: Any, value: Any) -> None:
    """A name or contact the person gave, read as the contact form validates it; a form
    clearing its slots (None) forgets nothing."""
    if not isinstance(value, str):
        return
    if name == NAME_SLOT:
        summary["person_name"] = clean_name(value) or summary["person_name"]
    elif name == CONTACT_SLOT:
        contact = parse_contact(value)
        summary["person_contact"] = contact.value if contact else summary["person_contact"]


def apply_events(connection: sa.engine.Connection, rows: Iterable[tuple[str, Any]]) -> int:
    """Apply (sender id, event JSON or dict) rows, in order, to the index; new messages."""
    parsed = []
    for sender, data in rows:
        try:
            event = json.loads(data) if isinstance(data, str) else data
        except ValueError:
            logger.warning("index: an event that is not JSON was skipped (%s)", sender)
            continue
        ts = event.get("timestamp") if isinstance(event, dict) else None
        if isinstance(ts, (int, float)) and sender:
            parsed.append((str(sender), event, float(ts)))
    if not parsed:
        return 0
    ids = sorted({sender for sender, _, _ in parsed})
    summaries = {}
    for chunk in range(0, len(ids), 500):
        found = connection.execute(
            sa.select(conversations).where(
                conversations.c.conversation_id.in_(ids[chunk : chunk + 500])
            )
        ).mappings()
        summaries.update({row["conversation_id"]: dict(row) for row in found})
    existing = set(summaries)
    changed = set()
    new_turns = []
    for sender, event, ts in parsed:
        summary = summaries.setdefault(sender, _new_summary(sender, ts))
        if ts <= summary["last_event_ts"]:
            continue  # applied already (a rebuild, a retried batch, both sources)
        turn = _in_context(turn_of(sender, event), summary)
        _fold(summary, event, turn)
        summary["last_event_ts"] = ts
        changed.add(sender)
        if turn is not None:
            new_turns.append(turn.row())
    if new_turns:
        connection.execute(turns.insert(), new_turns)
    for conversation_id in sorted(changed):
        summary = summaries[conversation_id]
        if conversation_id in existing:
            connection.execute(
                conversations.update()
                .where(conversations.c.conversation_id == conversation_id)
                .values({k: v for k, v in summary.items() if k != "conversation_id"})
            )
        else:
            connection.execute(conversations.insert().values(**summary))
    return len(new_turns)


def catch_up(
    index_engine: sa.engine.Engine, source_engine: sa.engine.Engine, source: str, batch: int = 2000
) -> int:
    """Apply the source's events after its checkpoint; how many messages were new."""
    if not sa.inspect(source_engine).has_table("events"):
        return 0
    added = 0
    while True:
        with index_engine.begin() as connection:
            # One catch-up of a source at a time (the follower thread, a retention run, a
            # second console process): the next reads the checkpoint the first one moved.
            hold_write_lock(connection, f"clinic-index:{source}", checkpoints)
            last = connection.execute(
                sa.select(checkpoints.c.last_id).where(checkpoints.c.source == source)
            ).scalar()
            with source_engine.connect() as reader:
                rows = reader.execute(
                    sa.select(source_events.c.id, source_events.c.sender_id, source_events.c.data)
                    .where(source_events.c.id > (last or 0))
                    .order_by(source_events.c.id)
                    .limit(batch)
                ).all()
            if not rows:
                return added
            added += apply_events(connection, ((r.sender_id, r.data) for r in rows))
            _set_checkpoint(connection, source, rows[-1].id, exists=last is not None)
        if len(rows) < batch:
            return added


def _set_checkpoint(
    connection: sa.engine.Connection, source: str, last_id: int, exists: bool
) -> None:
    if exists:
        connection.execute(
            checkpoints.update().where(checkpoints.c.source == source).values(last_id=last_id)
        )
    else:
        connection.execute(checkpoints.insert().values(source=source, last_id=last_id))


def _max_event_id(engine: sa.engine.Engine) -> int:
    if not sa.inspect(engine).has_table("events"):
        return 0
    with engine.connect() as connection:
        return connection.execute(sa.select(sa.func.max(source_events.c.id))).scalar() or 0


def rebuild(
    index_engine: sa.engine.Engine,
    tracker_engine: sa.engine.Engine,
    broker_engine: Optional[sa.engine.Engine],
) -> int:
    """Empty the index and fill it again from the tracker store; messages indexed.

    The broker's checkpoint is moved to where the broker stood before the tracker store was
    read: later broker events are applied by `follow()`, and those the rebuild already saw are
    skipped as not newer than their conversation's last event.
    """
    broker_position = _max_event_id(broker_engine) if broker_engine is not None else 0
    with index_engine.begin() as connection:
        connection.execute(turns.delete())
        connection.execute(conversations.delete())
        connection.execute(checkpoints.delete())
    added = catch_up(index_engine, tracker_engine, TRACKER)
    with index_engine.begin() as connection:
        connection.execute(checkpoints.delete().where(checkpoints.c.source == TRACKER))
        if broker_engine is not None:
            _set_checkpoint(connection, BROKER, broker_position, exists=False)
    return added


def follow(
    index_engine: sa.engine.Engine,
    broker_engine: sa.engine.Engine,
    stop: threading.Event,
    every_seconds: float = 1.0,
) -> None:
    """Apply the event broker's new events until `stop` is set (a thread of the console, or
    the projector's own process: `python -m projector follow`)."""
    while not stop.is_set():
        try:
            catch_up(index_engine, broker_engine, BROKER)
        except sa.exc.SQLAlchemyError as error:
            logger.warning(
                "index: catching up with the event broker failed (%s); retrying",
                type(error).__name__,
            )
        stop.wait(every_seconds)


def start_follower(
    index_engine: sa.engine.Engine, broker_engine: sa.engine.Engine
) -> threading.Event:
    """Run `follow()` in a daemon thread; set the returned event to stop it."""
    stop = threading.Event()
    threading.Thread(
        target=follow, args=(index_engine, broker_engine, stop), name="console-index", daemon=True
    ).start()
    return stop
