"""Retention: conversations whose last message is older than N days are deleted from everywhere
the clinic keeps them, except a conversation with an escalation that is not resolved yet.

    python -m console retention [--days N] [--dry-run]

N is the setting administrators keep on the console's Admin → Retention page (table
`console_settings`), unless `--days` is given. Run it daily (cron, a systemd timer); a second
run deletes nothing.

A conversation is kept in three places, deleted in this order:

1. the event broker's `events` (a database of its own): the conversation's events up to the
   broker checkpoint of the index, that is, those the index has applied already;
2. in one transaction on the clinic database: the tracker store's `events` (only events older
   than the cutoff), the escalations with their deliveries, contact requests, SMS records,
   tags and reviews, and the index rows (`console_turns`, `console_conversations`).

Why this order. The index is the work list: retention finds conversations by
`console_conversations.last_message_at`, so anything that outlives a conversation's index row is
never looked at again. The tracker store is what `python -m console index rebuild` reads: its
events, if they outlived the index rows, would bring the conversation back with the next
rebuild. So the tracker store's events and the index rows go in the same transaction, together
or not at all (which is why retention wants the tracker store in the clinic database, as
docs/configuration.md asks; it refuses otherwise). Deleting them with the escalations also
keeps the crisis sweep (`crisis.sweep`) from recording a deleted escalation again. The event
broker goes first: a crash after it leaves the conversation whole in the clinic database and
still listed, and the next run finishes it (finding no broker events left). Broker-last
would leave, after a crash, broker events that nothing lists any more: never deleted, and
applied again by a catch-up of an empty index.

A conversation is checked again inside its transaction: one that got a message since it was
chosen (the index row is newer now, or the tracker store has an event newer than the cutoff) is
left alone, and so is one that got an escalation that is not resolved.

The audit log keeps every entry (who, when, what), but entries older than the period lose the
text that could tell what someone wrote: the words searched for in the conversation list, and
its tag filter (`console.conversations.queries.without_free_text`).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Optional

import sqlalchemy as sa

from clinic import sms
from clinic.db import UtcDateTime, contact_requests, metadata, rasa_events, utc_now
from clinic.escalations import RESOLVED, deliveries, escalations
from console.auth import accounts
from console.contact_requests.queries import request_events
from console.conversations.queries import (
    FILTERED_LIST_ACTIONS,
    FREE_TEXT_FILTERS,
    reviews,
    tags,
    without_free_text,
)
from projector import index

RETENTION_DAYS = "retention_days"  # the setting's name in `console_settings`
MIN_DAYS, MAX_DAYS = 1, 36500
AUDIT_USER = "retention"  # who the audit log says ran it

# Settings administrators change in the console, by name (values are text).
console_settings = sa.Table(
    "console_settings",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Column("updated_by", sa.String(64), nullable=False),
)

# Rasa's SQLTrackerStore table in the clinic database, and the SQL broker's in its own.
tracker_events = broker_events = rasa_events


class RetentionError(ValueError):
    """Retention cannot run as asked; the message says why and can be shown."""


def parse_days(value: Any) -> int:
    """A retention period in whole days, from a form or the command line."""
    try:
        days = int(str(value).strip())
    except ValueError:
        raise RetentionError(
            f"the retention period is a whole number of days, not {str(value)[:20]!r}"
        ) from None
    if not MIN_DAYS <= days <= MAX_DAYS:
        raise RetentionError(f"the retention period is {MIN_DAYS} to {MAX_DAYS} days")
    return days


def retention_days(engine: sa.engine.Engine) -> Optional[int]:
    """The stored retention period; None when none is set."""
    with engine.connect() as connection:
        value = connection.execute(
            sa.select(console_settings.c.value).where(console_settings.c.name == RETENTION_DAYS)
        ).scalar()
    return int(value) if value is not None else None


def set_retention_days(
    engine: sa.engine.Engine, days: Optional[int], by: str, now: Optional[dt.datetime] = None
) -> None:
    """Store the retention period (None: no period, retention keeps everything)."""
    with engine.begin() as connection:
        connection.execute(
            console_settings.delete().where(console_settings.c.name == RETENTION_DAYS)
        )
        if days is not None:
            connection.execute(
                console_settings.insert().values(
                    name=RETENTION_DAYS,
                    value=str(parse_days(days)),
                    updated_by=by,
                    updated_at=now or utc_now(),
                )
            )


def last_run(engine: sa.engine.Engine) -> Optional[dict[str, Any]]:
    """The audit log's entry of the latest retention run (for the admin page)."""
    log = accounts.audit_log
    with engine.connect() as connection:
        row = (
            connection.execute(
                sa.select(log)
                .where(log.c.username == AUDIT_USER, log.c.action == AUDIT_USER)
                .order_by(log.c.id.desc())
                .limit(1)
            )
            .mappings()
            .first()
        )
    return dict(row) if row else None


def preview(
    engine: sa.engine.Engine, days: int, now: Optional[dt.datetime] = None
) -> dict[str, int]:
    """How many conversations are past the period now, and how many of those would be kept."""
    cutoff = (now or utc_now()) - dt.timedelta(days=days)
    c = index.conversations.c
    old = sa.select(c.conversation_id).where(c.last_message_at < cutoff)
    with engine.connect() as connection:
        total = (
            connection.execute(sa.select(sa.func.count()).select_from(old.subquery())).scalar() or 0
        )
        kept = (
            connection.execute(
                sa.select(sa.func.count(sa.distinct(escalations.c.conversation_id))).where(
                    escalations.c.conversation_id.in_(old), escalations.c.status != RESOLVED
                )
            ).scalar()
            or 0
        )
    return {"old": total, "kept": kept}


@dataclass
class Report:
    """What a run did (or, dry, would do): counts and ids only, never message text."""

    days: int
    cutoff: dt.datetime
    dry_run: bool
    deleted: int = 0  # conversations
    rows: Counter = field(default_factory=Counter)  # rows per kind of record
    kept: dict[str, list[int]] = field(default_factory=dict)  # conversation → open escalations
    active_again: int = 0  # a new message since they were chosen
    audit_pruned: int = 0  # audit entries that lost their search text

    def lines(self) -> list[str]:
        verb = "would delete" if self.dry_run else "deleted"
        out = [
            f"retention: conversations whose last message is older than {self.days} days "
            f"(before {self.cutoff:%Y-%m-%d %H:%M} UTC)"
            + (" - dry run, nothing is deleted" if self.dry_run else "")
        ]
        details = ", ".join(f"{what} {self.rows[what]}" for what in ROW_KINDS)
        out.append(f"{verb} {_conversations(self.deleted)} ({details})")
        if self.kept:
            numbers = ", ".join(f"#{n}" for ids in self.kept.values() for n in ids)
            out.append(
                f"kept {_conversations(len(self.kept))} with an escalation that is not "
                f"resolved (escalations {numbers}): resolve them in the console and "
                "they go with a later run"
            )
        out.append(
            f"{'would remove' if self.dry_run else 'removed'} the search text of "
            f"{self.audit_pruned} audit log "
            f"entr{'y' if self.audit_pruned == 1 else 'ies'} older than {self.days} "
            "days (who, when and what stay)"
        )
        if self.active_again:
            out.append(
                f"left {_conversations(self.active_again)} that got a new message while this ran"
            )
        return out


def _conversations(count: int) -> str:
    return f"{count} conversation" + ("" if count == 1 else "s")


def _clinic_rows(conversation_id: str, cutoff_ts: float) -> list[tuple[str, Any, Any]]:
    """(what, table, which rows) of a conversation in the clinic database, index rows last."""
    own_escalations = sa.select(escalations.c.id).where(
        escalations.c.conversation_id == conversation_id
    )
    return [
        (
            "tracker store events",
            tracker_events,
            sa.and_(
                tracker_events.c.sender_id == conversation_id,
                sa.or_(
                    tracker_events.c.timestamp < cutoff_ts, tracker_events.c.timestamp.is_(None)
                ),
            ),
        ),
        ("escalation deliveries", deliveries, deliveries.c.escalation_id.in_(own_escalations)),
        ("escalations", escalations, escalations.c.conversation_id == conversation_id),
        (
            "contact request history",
            request_events,
            request_events.c.request_id.in_(
                sa.select(contact_requests.c.id).where(
                    contact_requests.c.conversation_id == conversation_id
                )
            ),
        ),
        (
            "contact requests",
            contact_requests,
            contact_requests.c.conversation_id == conversation_id,
        ),
        ("SMS messages", sms.messages, sms.messages.c.conversation_id == conversation_id),
        (
            "SMS consent events",
            sms.consent_events,
            sms.consent_events.c.conversation_id == conversation_id,
        ),
        ("SMS menus", sms.menus, sms.menus.c.conversation_id == conversation_id),
        ("SMS numbers", sms.numbers, sms.numbers.c.conversation_id == conversation_id),
        ("tags", tags, tags.c.conversation_id == conversation_id),
        ("reviews", reviews, reviews.c.conversation_id == conversation_id),
        ("index messages", index.turns, index.turns.c.conversation_id == conversation_id),
        (
            "index conversations",
            index.conversations,
            index.conversations.c.conversation_id == conversation_id,
        ),
    ]


BROKER_ROWS = "event broker events"
ROW_KINDS = [what for what, _, _ in _clinic_rows("", 0.0)] + [BROKER_ROWS]


def _remove(connection: sa.engine.Connection, table: Any, where: Any, dry_run: bool) -> int:
    if dry_run:
        return (
            connection.execute(sa.select(sa.func.count()).select_from(table).where(where)).scalar()
            or 0
        )
    return connection.execute(sa.delete(table).where(where)).rowcount or 0


def _unresolved(connection: sa.engine.Connection, conversation_id: str) -> list[int]:
    return list(
        connection.execute(
            sa.select(escalations.c.id)
            .where(
                escalations.c.conversation_id == conversation_id, escalations.c.status != RESOLVED
            )
            .order_by(escalations.c.id)
        ).scalars()
    )


def _still_old(
    connection: sa.engine.Connection, conversation_id: str, cutoff: dt.datetime
) -> Optional[bool]:
    """True: old, no newer tracker event; False: active again; None: deleted already."""
    last = connection.execute(
        sa.select(index.conversations.c.last_message_at)
        .where(index.conversations.c.conversation_id == conversation_id)
        .with_for_update()
    ).scalar()  # PostgreSQL: the index follower waits for us
    if last is None:
        return None
    newer = connection.execute(
        sa.select(tracker_events.c.id)
        .where(
            tracker_events.c.sender_id == conversation_id,
            tracker_events.c.timestamp >= cutoff.timestamp(),
        )
        .limit(1)
    ).first()
    return last < cutoff and newer is None


def _purge_conversation(
    clinic_engine: sa.engine.Engine,
    broker_engine: Optional[sa.engine.Engine],
    broker_position: int,
    conversation_id: str,
    report: Report,
) -> None:
    with clinic_engine.begin() as connection:
        state = _still_old(connection, conversation_id, report.cutoff)
        if state is None:
            return
        open_escalations = _unresolved(connection, conversation_id)
        if open_escalations:
            report.kept[conversation_id] = open_escalations
            return
        if not state:
            report.active_again += 1
            return
        counts = Counter()
        if broker_engine is not None:  # first, and committed first: see the module docstring
            with broker_engine.begin() as broker:
                counts[BROKER_ROWS] = _remove(
                    broker,
                    broker_events,
                    sa.and_(
                        broker_events.c.sender_id == conversation_id,
                        broker_events.c.id <= broker_position,
                    ),
                    report.dry_run,
                )
        cutoff_ts = report.cutoff.timestamp()
        for what, table, where in _clinic_rows(conversation_id, cutoff_ts):
            counts[what] = _remove(connection, table, where, report.dry_run)
    report.deleted += 1
    report.rows.update(counts)


def _prune_audit_log(engine: sa.engine.Engine, report: Report) -> None:
    """Audit entries older than the cutoff without their search text (dry: counted)."""
    log = accounts.audit_log
    # Only entries that still hold a free-text filter (as `json.dumps` writes a key).
    holds_text = sa.or_(
        *(log.c.target.contains(f'"{name}": ', autoescape=True) for name in FREE_TEXT_FILTERS)
    )
    with engine.begin() as connection:
        entries = connection.execute(
            sa.select(log.c.id, log.c.target).where(
                log.c.at < report.cutoff, log.c.action.in_(FILTERED_LIST_ACTIONS), holds_text
            )
        ).all()
        pruned = []
        for entry_id, target in entries:
            without = without_free_text(target)
            if without != target:
                pruned.append({"entry_id": entry_id, "pruned": without})
        if pruned and not report.dry_run:
            connection.execute(
                sa.update(log)
                .where(log.c.id == sa.bindparam("entry_id"))
                .values(target=sa.bindparam("pruned")),
                pruned,
            )
    report.audit_pruned = len(pruned)


def _candidates(engine: sa.engine.Engine, cutoff: dt.datetime) -> list[str]:
    c = index.conversations.c
    with engine.connect() as connection:
        return list(
            connection.execute(
                sa.select(c.conversation_id)
                .where(c.last_message_at < cutoff)
                .order_by(c.last_message_at, c.conversation_id)
            ).scalars()
        )


def purge(
    clinic_engine: sa.engine.Engine,
    broker_engine: Optional[sa.engine.Engine],
    days: int,
    dry_run: bool = False,
    now: Optional[dt.datetime] = None,
) -> Report:
    """Delete (dry: count) the conversations whose last message is older than `days` days.

    `clinic_engine` is the clinic database, which holds the tracker store, the index and every
    clinic record; `broker_engine` the event broker's database (None: no broker). The index is
    first brought up to date from the broker (a dry run does that too). Then the audit log's
    entries older than the period lose their search text. Audited as user `retention` unless
    dry.
    """
    days = parse_days(days)
    now = now or utc_now()
    report = Report(days=days, cutoff=now - dt.timedelta(days=days), dry_run=dry_run)
    if broker_engine is not None and not sa.inspect(broker_engine).has_table("events"):
        broker_engine = None
    if broker_engine is not None:  # decide on an index that knows the latest messages
        index.catch_up(clinic_engine, broker_engine, index.BROKER)
    chosen = _candidates(clinic_engine, report.cutoff)
    if chosen and not sa.inspect(clinic_engine).has_table(tracker_events.name):
        raise RetentionError(
            "the clinic database has no tracker store table `events`: retention deletes a "
            "conversation's tracker events together with its index rows, so it needs the "
            "tracker store (endpoints.yml) in the clinic database (CLINIC_DATABASE_URL)"
        )
    with clinic_engine.connect() as connection:
        broker_position = (
            connection.execute(
                sa.select(index.checkpoints.c.last_id).where(
                    index.checkpoints.c.source == index.BROKER
                )
            ).scalar()
            or 0
        )
    for conversation_id in chosen:
        _purge_conversation(clinic_engine, broker_engine, broker_position, conversation_id, report)
    _prune_audit_log(clinic_engine, report)
    if not dry_run:
        accounts.audit(
            clinic_engine,
            AUDIT_USER,
            AUDIT_USER,
            f"{report.deleted} conversations older than {days} days deleted, "
            f"{len(report.kept)} kept (escalation not resolved), search text "
            f"removed from {report.audit_pruned} audit entries",
        )
    return report
