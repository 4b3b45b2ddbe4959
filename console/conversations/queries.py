"""Conversations as staff see them: filtered, searched and paged lists over the index
(`projector.index`), a transcript, and the staff's own annotations (tags, reviewed, a note).

Annotations are the only thing staff write about a conversation; the conversation itself is
read-only. Pages go by keyset (the last row's time and id), so page 500 costs what page 1 does.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field, fields
from typing import Any, Mapping, Optional

import sqlalchemy as sa

from clinic.contact import parse_contact
from clinic.db import UtcDateTime, contact_requests, metadata, utc_now
from clinic.escalations import escalations
from projector.index import (
    CRISIS_LEVELS,
    CRISIS_RANKS,
    NOT_UNDERSTOOD,
    conversations,
    search_index,
    turns,
)

PAGE_SIZE = 50
MAX_TAGS = 20
TAG = re.compile(r"^[a-z0-9][a-z0-9 _-]{0,39}$")
MAX_NOTE_CHARS = 4000
MAX_SEARCH_CHARS = 200
# SQLite: at most this many messages found by the search index are checked one by one; more
# are a common word, which the newest-first scan finds a page of sooner.
SEARCH_CANDIDATES = 5000
TRIGRAM = re.compile(r"[^%_]{3}")  # what the FTS5 trigram index can look up

tags = sa.Table(
    "console_conversation_tags",
    metadata,
    sa.Column("conversation_id", sa.String(255), primary_key=True),
    sa.Column("tag", sa.String(40), primary_key=True),
    sa.Column("added_by", sa.String(64), nullable=False),
    sa.Column("added_at", UtcDateTime, nullable=False),
    sa.Index("ix_console_conversation_tags_tag", "tag", "conversation_id"),
)

reviews = sa.Table(
    "console_conversation_reviews",
    metadata,
    sa.Column("conversation_id", sa.String(255), primary_key=True),
    sa.Column("reviewed", sa.Boolean, nullable=False),
    sa.Column("reviewed_by", sa.String(64)),
    sa.Column("reviewed_at", UtcDateTime),
    sa.Column("note", sa.Text),
    sa.Column("note_by", sa.String(64)),
    sa.Column("note_at", UtcDateTime),
)


class AnnotationError(ValueError):
    """A tag or note staff cannot save; the message can be shown."""


YES = "yes"
FLAGS = ("escalated", "not_understood", "low_confidence", "booked", "reviewed", "paused")


@dataclass
class Filters:
    """What a list of conversations is narrowed to; built from a request's query string."""

    date_from: Optional[dt.date] = None  # days in the clinic's time zone, both inclusive
    date_to: Optional[dt.date] = None
    channel: str = ""
    intent: str = ""
    topic: str = ""
    crisis: str = ""  # none | concern | urgent | any (concern or urgent)
    tag: str = ""
    q: str = ""  # words in any message
    escalated: bool = False
    not_understood: bool = False
    low_confidence: bool = False
    booked: bool = False
    reviewed: bool = False
    paused: bool = False
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> "Filters":
        found = cls()
        for name in ("date_from", "date_to"):
            value = (args.get(name) or "").strip()
            if value:
                try:
                    setattr(found, name, dt.date.fromisoformat(value))
                except ValueError:
                    found.errors.append(
                        f"{name.replace('_', ' ')}: {value!r} is not a date "
                        "like 2024-06-03; ignored"
                    )
        for name in ("channel", "intent", "topic", "tag"):
            setattr(found, name, (args.get(name) or "").strip()[:128])
        crisis = (args.get("crisis") or "").strip()
        if crisis and crisis not in (*CRISIS_RANKS, "any"):
            found.errors.append(f"crisis level: {crisis!r} is not one I know; ignored")
        else:
            found.crisis = crisis
        found.q = " ".join((args.get("q") or "").split())[:MAX_SEARCH_CHARS]
        for name in FLAGS:
            setattr(found, name, args.get(name) == YES)
        return found

    def as_args(self) -> dict[str, str]:
        """The query string that gives these filters back (for links and the next page)."""
        out: dict[str, str] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name == "errors" or not value:
                continue
            out[item.name] = YES if value is True else str(value)
        return out


# The audit log's record of a list of conversations or an export (`routes`): how
# many, and the filters as `audit_target` writes them. Two filters are text that can tell
# what someone wrote: the words searched for and a tag; retention removes them from entries
# past the retention period (`without_free_text`).
FILTERED_LIST_ACTIONS = (
    "view_conversations",
    "reveal_conversations",
    *(f"export_{kind}{revealed}" for kind in ("csv", "json") for revealed in ("", "_revealed")),
)
FREE_TEXT_FILTERS = ("q", "tag")
AUDIT_TARGET_CHARS = 255  # `console_audit_log.target`
_FILTERS_REMOVED = "(filters removed)"


def audit_target(count: int, filters: Filters) -> str:
    return f"{count} conversations {json.dumps(filters.as_args())}"[:AUDIT_TARGET_CHARS]


def without_free_text(target: str) -> Optional[str]:
    """An `audit_target` without its free-text filters: the count, the other filters and the
    names of those removed (all the filters when they were cut off at the column's length);
    None when `target` is not an `audit_target` at all. Applied twice, it changes nothing more.
    """
    count, found, rest = target.partition(" conversations ")
    if not found or not count.isdecimal():
        return None
    try:
        args = json.loads(rest)
    except ValueError:
        args = None
    if not isinstance(args, dict):
        return f"{count} conversations {_FILTERS_REMOVED}"
    removed = [name for name in FREE_TEXT_FILTERS if name in args]
    if not removed:
        return target
    kept = {name: value for name, value in args.items() if name not in FREE_TEXT_FILTERS}
    kept["removed"] = ", ".join(removed)
    pruned = f"{count} conversations {json.dumps(kept)}"
    return (
        pruned if len(pruned) <= AUDIT_TARGET_CHARS else f"{count} conversations {_FILTERS_REMOVED}"
    )


def _day_start(day: dt.date, timezone: dt.tzinfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=timezone).astimezone(dt.timezone.utc)


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _has_turn(*conditions: Any) -> Any:
    return sa.exists().where(
        turns.c.conversation_id == conversations.c.conversation_id, *conditions
    )


def _where(filters: Filters, timezone: dt.tzinfo) -> list[Any]:
    c = conversations.c
    where: list[Any] = []
    if filters.date_from:
        where.append(c.last_message_at >= _day_start(filters.date_from, timezone))
    if filters.date_to:
        where.append(c.started_at < _day_start(filters.date_to + dt.timedelta(days=1), timezone))
    if filters.channel:
        where.append(c.channel == filters.channel)
    if filters.crisis == "any":
        where.append(c.crisis_rank > 0)
    elif filters.crisis:
        where.append(c.crisis_rank == CRISIS_RANKS[filters.crisis])
    if filters.intent:
        where.append(_has_turn(turns.c.intent == filters.intent))
    if filters.topic:
        where.append(_has_turn(turns.c.faq_topic == filters.topic))
    if filters.not_understood:
        where.append(c.not_understood > 0)
    if filters.low_confidence:
        where.append(c.low_confidence > 0)
    if filters.paused:
        where.append(c.paused.is_(True))
    if filters.escalated:
        where.append(sa.exists().where(escalations.c.conversation_id == c.conversation_id))
    if filters.booked:
        where.append(
            sa.exists().where(
                contact_requests.c.conversation_id == c.conversation_id,
                contact_requests.c.kind == "consultation",
            )
        )
    if filters.reviewed:
        where.append(
            sa.exists().where(
                reviews.c.conversation_id == c.conversation_id, reviews.c.reviewed.is_(True)
            )
        )
    if filters.tag:
        where.append(
            sa.exists().where(
                tags.c.conversation_id == c.conversation_id, tags.c.tag == filters.tag
            )
        )
    return where


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts: after this row of the newest-first order."""

    last_message_at: dt.datetime
    conversation_id: str

    def encode(self) -> str:
        return f"{self.last_message_at.timestamp():.6f}~{self.conversation_id}"

    @classmethod
    def decode(cls, text: str) -> Optional["Cursor"]:
        stamp, _, conversation_id = (text or "").partition("~")
        try:
            moment = dt.datetime.fromtimestamp(float(stamp), dt.timezone.utc)
        except (ValueError, OverflowError, OSError):
            return None
        return cls(moment, conversation_id) if conversation_id else None


def _search(connection: sa.engine.Connection, q: str) -> list[Any]:
    """The condition: a message of the conversation contains `q`, in any case.

    On PostgreSQL the planner uses the trigram index (`projector.index`) when few messages match.
    SQLite's planner cannot see into its FTS5 trigram table, so it is asked here: when it finds
    at most SEARCH_CANDIDATES messages that may match (a superset: `q`'s % and _ match any
    character there), only those are checked; when it finds more, or cannot help (no 3
    characters in a row other than % and _, no such table), every message is a candidate.
    """
    if not q:
        return []
    matches = turns.c.text.ilike(_like(q), escape="\\")
    if connection.dialect.name == "sqlite" and TRIGRAM.search(q):
        found = sa.select(search_index.c.rowid).where(search_index.c.text.like(f"%{q}%"))
        try:
            count = connection.execute(
                sa.select(sa.func.count()).select_from(
                    found.limit(SEARCH_CANDIDATES + 1).subquery()
                )
            ).scalar()
        except sa.exc.OperationalError:  # no search index in this database
            count = None
        if count is not None and count <= SEARCH_CANDIDATES:
            return [
                conversations.c.conversation_id.in_(
                    sa.select(turns.c.conversation_id).where(turns.c.id.in_(found), matches)
                )
            ]
    return [_has_turn(matches)]


def list_conversations(
    engine: sa.engine.Engine,
    filters: Filters,
    timezone: dt.tzinfo,
    after: Optional[Cursor] = None,
    limit: int = PAGE_SIZE,
) -> tuple[list[dict[str, Any]], Optional[Cursor]]:
    """A page of conversations, newest first, and the cursor of the next page (None: last)."""
    c = conversations.c
    with engine.connect() as connection:
        query = sa.select(conversations).where(
            *_where(filters, timezone), *_search(connection, filters.q)
        )
        if after is not None:
            query = query.where(
                sa.or_(
                    c.last_message_at < after.last_message_at,
                    sa.and_(
                        c.last_message_at == after.last_message_at,
                        c.conversation_id < after.conversation_id,
                    ),
                )
            )
        query = query.order_by(c.last_message_at.desc(), c.conversation_id.desc())
        rows = [dict(row) for row in connection.execute(query.limit(limit + 1)).mappings()]
        _add_annotations(connection, rows)
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if rows and more else None
    return rows, Cursor(last["last_message_at"], last["conversation_id"]) if last else None


def iter_conversations(
    engine: sa.engine.Engine, filters: Filters, timezone: dt.tzinfo, limit: int
) -> list[dict[str, Any]]:
    """Up to `limit` conversations of a filter, newest first (exports)."""
    rows: list[dict[str, Any]] = []
    cursor: Optional[Cursor] = None
    while len(rows) < limit:
        page, cursor = list_conversations(
            engine, filters, timezone, cursor, min(500, limit - len(rows))
        )
        rows += page
        if cursor is None:
            break
    return rows


def _add_annotations(connection: sa.engine.Connection, rows: list[dict[str, Any]]) -> None:
    ids = [row["conversation_id"] for row in rows]
    for row in rows:
        row.update(
            crisis_level=CRISIS_LEVELS[row["crisis_rank"]],
            tags=[],
            reviewed=False,
            escalated=False,
            booked=False,
        )
    if not ids:
        return
    by_id = {row["conversation_id"]: row for row in rows}
    for conversation_id, tag in connection.execute(
        sa.select(tags.c.conversation_id, tags.c.tag)
        .where(tags.c.conversation_id.in_(ids))
        .order_by(tags.c.tag)
    ):
        by_id[conversation_id]["tags"].append(tag)
    for (conversation_id,) in connection.execute(
        sa.select(reviews.c.conversation_id).where(
            reviews.c.conversation_id.in_(ids), reviews.c.reviewed.is_(True)
        )
    ):
        by_id[conversation_id]["reviewed"] = True
    for (conversation_id,) in connection.execute(
        sa.select(escalations.c.conversation_id)
        .distinct()
        .where(escalations.c.conversation_id.in_(ids))
    ):
        by_id[conversation_id]["escalated"] = True
    for (conversation_id,) in connection.execute(
        sa.select(contact_requests.c.conversation_id)
        .distinct()
        .where(
            contact_requests.c.conversation_id.in_(ids), contact_requests.c.kind == "consultation"
        )
    ):
        by_id[conversation_id]["booked"] = True


def get_conversation(engine: sa.engine.Engine, conversation_id: str) -> Optional[dict[str, Any]]:
    """A conversation's summary, messages, annotations, escalations and requests."""
    with engine.connect() as connection:
        row = (
            connection.execute(
                sa.select(conversations).where(conversations.c.conversation_id == conversation_id)
            )
            .mappings()
            .first()
        )
        if row is None:
            return None
        found = dict(row)
        _add_annotations(connection, [found])
        found["turns"] = [
            dict(t)
            for t in connection.execute(
                sa.select(turns)
                .where(turns.c.conversation_id == conversation_id)
                .order_by(turns.c.at, turns.c.id)
            ).mappings()
        ]
        review = (
            connection.execute(
                sa.select(reviews).where(reviews.c.conversation_id == conversation_id)
            )
            .mappings()
            .first()
        )
        found["review"] = dict(review) if review else None
        found["escalations"] = [
            dict(e)
            for e in connection.execute(
                sa.select(
                    escalations.c.id,
                    escalations.c.level,
                    escalations.c.status,
                    escalations.c.created_at,
                )
                .where(escalations.c.conversation_id == conversation_id)
                .order_by(escalations.c.id)
            ).mappings()
        ]
        found["requests"] = [
            dict(r)
            for r in connection.execute(
                sa.select(contact_requests)
                .where(contact_requests.c.conversation_id == conversation_id)
                .order_by(contact_requests.c.id)
            ).mappings()
        ]
    _add_person(found, found["requests"])
    return found


def _add_person(found: dict[str, Any], requests: list[dict[str, Any]]) -> None:
    """`person_name` (the form's, else a request's) and `contacts` ([{kind, value}]): what the
    person gave in the contact form, then in each request they left."""
    found["person_name"] = found.get("person_name") or next(
        (r["name"] for r in reversed(requests) if r["name"]), None
    )
    contacts: dict[str, str] = {}
    for value in [found.get("person_contact"), *(r["contact"] for r in requests)]:
        point = parse_contact(value or "")
        if point is not None:
            contacts.setdefault(point.value, point.kind)
    found["contacts"] = [{"kind": kind, "value": value} for value, kind in contacts.items()]


def people(engine: sa.engine.Engine, conversation_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Who each conversation is with, as far as is known: `channel`, `started_at` and `paused`
    (None while the index has not got the conversation yet), `person_name` and `contacts` (as
    `get_conversation`)."""
    ids = sorted(set(conversation_ids))
    found: dict[str, dict[str, Any]] = {
        i: {"conversation_id": i, "channel": None, "started_at": None, "paused": None} for i in ids
    }
    requests: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
    if not ids:
        return found
    c = conversations.c
    with engine.connect() as connection:
        for row in connection.execute(
            sa.select(
                c.conversation_id,
                c.channel,
                c.started_at,
                c.paused,
                c.person_name,
                c.person_contact,
            ).where(c.conversation_id.in_(ids))
        ).mappings():
            found[row["conversation_id"]].update(row)
        for row in connection.execute(
            sa.select(
                contact_requests.c.conversation_id,
                contact_requests.c.name,
                contact_requests.c.contact,
            )
            .where(contact_requests.c.conversation_id.in_(ids))
            .order_by(contact_requests.c.id)
        ).mappings():
            requests[row["conversation_id"]].append(dict(row))
    for conversation_id, person in found.items():
        _add_person(person, requests[conversation_id])
    return found


def turns_after(engine: sa.engine.Engine, conversation_id: str, shown: int) -> list[dict[str, Any]]:
    """The conversation's messages after the first `shown` (in time order): those a page that
    shows `shown` of them has not got yet."""
    with engine.connect() as connection:
        return [
            dict(t)
            for t in connection.execute(
                sa.select(turns)
                .where(turns.c.conversation_id == conversation_id)
                .order_by(turns.c.at, turns.c.id)
                .offset(max(0, shown))
            ).mappings()
        ]


def _distinct(connection: sa.engine.Connection, column: sa.Column) -> list[str]:
    """The column's values in order, one index lookup each (a DISTINCT reads every row)."""
    values: list[str] = []
    while True:
        after = column > values[-1] if values else column.is_not(None)
        value = connection.execute(sa.select(sa.func.min(column)).where(after)).scalar()
        if value is None:
            return values
        values.append(value)


def facets(engine: sa.engine.Engine) -> dict[str, list[str]]:
    """The values the filters offer: channels, intents and FAQ topics seen so far."""
    with engine.connect() as connection:
        return {
            "channels": _distinct(connection, conversations.c.channel),
            "intents": _distinct(connection, turns.c.intent),
            "topics": _distinct(connection, turns.c.faq_topic),
            "tags": _distinct(connection, tags.c.tag),
        }


def add_tag(engine: sa.engine.Engine, conversation_id: str, tag: str, by: str) -> str:
    tag = " ".join(tag.lower().split())
    if not TAG.match(tag):
        raise AnnotationError("A tag is 1 to 40 lower-case letters, digits, spaces, - or _.")
    with engine.begin() as connection:
        count = connection.execute(
            sa.select(sa.func.count())
            .select_from(tags)
            .where(tags.c.conversation_id == conversation_id)
        ).scalar()
        exists = connection.execute(
            sa.select(tags.c.tag).where(
                tags.c.conversation_id == conversation_id, tags.c.tag == tag
            )
        ).first()
        if exists:
            return tag
        if count >= MAX_TAGS:
            raise AnnotationError(f"A conversation has at most {MAX_TAGS} tags.")
        connection.execute(
            tags.insert().values(
                conversation_id=conversation_id, tag=tag, added_by=by, added_at=utc_now()
            )
        )
    return tag


def remove_tag(engine: sa.engine.Engine, conversation_id: str, tag: str) -> None:
    with engine.begin() as connection:
        connection.execute(
            tags.delete().where(tags.c.conversation_id == conversation_id, tags.c.tag == tag)
        )


def _save_review(engine: sa.engine.Engine, conversation_id: str, values: dict[str, Any]) -> None:
    with engine.begin() as connection:
        updated = connection.execute(
            reviews.update().where(reviews.c.conversation_id == conversation_id).values(**values)
        ).rowcount
        if not updated:
            connection.execute(
                reviews.insert().values(
                    conversation_id=conversation_id, **{"reviewed": False, **values}
                )
            )


def set_reviewed(engine: sa.engine.Engine, conversation_id: str, reviewed: bool, by: str) -> None:
    _save_review(
        engine, conversation_id, {"reviewed": reviewed, "reviewed_by": by, "reviewed_at": utc_now()}
    )


def set_note(engine: sa.engine.Engine, conversation_id: str, note: str, by: str) -> None:
    note = note.strip()
    if len(note) > MAX_NOTE_CHARS:
        raise AnnotationError(f"A note has at most {MAX_NOTE_CHARS} characters.")
    _save_review(
        engine, conversation_id, {"note": note or None, "note_by": by, "note_at": utc_now()}
    )


def not_understood_messages(
    engine: sa.engine.Engine, since: Optional[dt.datetime], limit: int = 2000
) -> list[dict[str, Any]]:
    """The newest user messages that fell back, were out of scope or were answered unsure."""
    newest = sa.select(turns.c.id).where(turns.c.outcome.in_(NOT_UNDERSTOOD))
    if since is not None:
        newest = newest.where(turns.c.at >= since)
    # The ids first, from the index alone; then only those rows are read.
    newest = newest.order_by(turns.c.at.desc(), turns.c.id.desc()).limit(limit)
    query = (
        sa.select(
            turns.c.id,
            turns.c.conversation_id,
            turns.c.at,
            turns.c.text,
            turns.c.outcome,
            turns.c.intent,
            turns.c.faq_topic,
            turns.c.confidence,
            turns.c.answer_confidence,
        )
        .where(turns.c.id.in_(newest))
        .order_by(turns.c.at.desc(), turns.c.id.desc())
    )
    with engine.connect() as connection:
        return [dict(row) for row in connection.execute(query).mappings()]


def messages_by_id(engine: sa.engine.Engine, ids: list[int]) -> list[dict[str, Any]]:
    if not ids:
        return []
    with engine.connect() as connection:
        return [
            dict(row)
            for row in connection.execute(
                sa.select(turns.c.id, turns.c.text, turns.c.outcome)
                .where(turns.c.id.in_(ids), turns.c.role == "user")
                .order_by(turns.c.id)
            ).mappings()
        ]
