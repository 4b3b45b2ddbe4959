"""Crisis escalations for staff: stored durably first, then delivered by `clinic.delivery`.

An escalation is health information (it carries the user's words); it is read by staff in the
console or with this module's command line on the server, never sent in a notification.

    python -m clinic.escalations list [--status open|acknowledged|resolved|all]
    python -m clinic.escalations show ID
    python -m clinic.escalations ack ID --by NAME
    python -m clinic.escalations resolve ID --by NAME --outcome OUTCOME [--note TEXT]
        (OUTCOME: reached, not_reached or emergency_services)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Any, Iterable, Optional, Sequence
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from clinic import settings, sms
from clinic.db import JsonText, UtcDateTime, engine_for, hold_write_lock, metadata, utc_now
from clinic.profile import ProfileError, current_profile
from crisis.levels import CONCERN, URGENT

LEVELS = (URGENT, CONCERN)  # the levels an escalation can have (a check is a concern)
SUBJECTS = ("self", "other")
ROLES = ("user", "bot")
OPEN, ACKNOWLEDGED, RESOLVED = "open", "acknowledged", "resolved"
STATUSES = (OPEN, ACKNOWLEDGED, RESOLVED)
# What became of the person, recorded when staff resolve an escalation (the crisis policy).
REACHED, NOT_REACHED, EMERGENCY_SERVICES = "reached", "not_reached", "emergency_services"
OUTCOMES = (REACHED, NOT_REACHED, EMERGENCY_SERVICES)
TARGETS = (settings.WEBHOOK, settings.EMAIL)
NEW, REMINDER = "new", "reminder"
# HELD: not sent alone, the target's alerts being capped: a summary will count it.
PENDING, SENT, CANCELLED, HELD = "pending", "sent", "cancelled", "held"
MAX_STAFF_NAME_LENGTH = 120
MAX_EVIDENCE = 50  # evidence items kept on one escalation, however many messages it collects
MAX_COLLECTED_TURNS = 30


escalations = sa.Table(
    "clinic_escalations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("conversation_id", sa.String(255), nullable=False),
    sa.Column("message_id", sa.String(255), nullable=False),
    sa.Column("channel", sa.String(64)),
    sa.Column("level", sa.String(16), nullable=False),
    sa.Column("categories", JsonText, nullable=False),
    sa.Column("evidence", JsonText, nullable=False),
    sa.Column("subject", sa.String(16), nullable=False),
    sa.Column("last_turns", JsonText, nullable=False),
    sa.Column("reach_back", sa.String(255)),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("acknowledged_at", UtcDateTime),
    sa.Column("acknowledged_by", sa.String(MAX_STAFF_NAME_LENGTH)),
    sa.Column("resolved_at", UtcDateTime),
    sa.Column("resolved_by", sa.String(MAX_STAFF_NAME_LENGTH)),
    sa.Column("note", sa.Text),
    sa.Column("reminders_sent", sa.Integer, nullable=False, default=0),
    sa.Column("last_notified_at", UtcDateTime),
    # Later messages of the conversation collected while it was not resolved (their ids).
    sa.Column("collected", JsonText),
    # One of OUTCOMES, set on resolving (None: resolved before outcomes were recorded, or not yet).
    sa.Column("outcome", sa.String(32)),
    sa.UniqueConstraint("conversation_id", "message_id", name="uq_clinic_escalations_message"),
)

deliveries = sa.Table(
    "clinic_escalation_deliveries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "escalation_id",
        sa.Integer,
        sa.ForeignKey("clinic_escalations.id"),
        nullable=False,
        index=True,
    ),
    sa.Column("target", sa.String(16), nullable=False),
    sa.Column("purpose", sa.String(16), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    # pending | sent | held; a reminder whose escalation was acknowledged before it went out:
    # cancelled
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt_at", UtcDateTime, nullable=False),
    sa.Column("lease_until", UtcDateTime),
    sa.Column("last_error", sa.String(200)),
    sa.Column("sent_at", UtcDateTime),
    sa.Column("summarised_at", UtcDateTime),  # sent as part of a summary (HELD before)
    sa.Index("ix_clinic_escalation_deliveries_due", "status", "next_attempt_at"),
)


class EscalationError(ValueError):
    """An escalation does not exist, or cannot make the change asked for."""


def record_escalation(
    engine: sa.engine.Engine,
    *,
    conversation_id: str,
    message_id: str,
    channel: Optional[str],
    level: str,
    categories: Sequence[str],
    evidence: Sequence[dict[str, Any]],
    subject: str,
    last_turns: Sequence[dict[str, str]],
    reach_back: Optional[str] = None,
    targets: Optional[Iterable[str]] = None,
    now: Optional[dt.datetime] = None,
) -> tuple[int, bool]:
    """Store an escalation and a pending delivery per target; (id, created).

    Recording the same message again returns the first escalation's id and adds nothing.
    While the conversation has an escalation that staff have not resolved, at this level or
    higher, a new message is collected into it (its evidence and last turns, no new alert):
    a script repeating a crisis message in one conversation pages staff once, and whoever
    opens the escalation sees every message. `targets` defaults to the targets configured in
    this process (`configured_targets()`).
    """
    targets = list(
        dict.fromkeys(settings.current().alert_targets() if targets is None else targets)
    )
    _check(level, LEVELS, "level")
    _check(subject, SUBJECTS, "subject")
    for target in targets:
        _check(target, TARGETS, "target")
    turns = [{"role": turn["role"], "text": str(turn["text"])} for turn in last_turns]
    for turn in turns:
        _check(turn["role"], ROLES, "last_turns role")
    now = now or utc_now()
    try:
        with engine.begin() as connection:
            _serialize(connection, conversation_id)
            existing = _find(connection, conversation_id, message_id)
            if existing is not None:
                return existing, False
            collecting = _unresolved_at_least(connection, conversation_id, level)
            if collecting is not None:
                _collect(connection, collecting, message_id, categories, evidence, turns)
                return int(collecting["id"]), False
            result = connection.execute(
                escalations.insert().values(
                    created_at=now,
                    conversation_id=conversation_id,
                    message_id=message_id,
                    channel=channel,
                    level=level,
                    categories=list(categories),
                    evidence=list(evidence),
                    subject=subject,
                    last_turns=turns,
                    reach_back=reach_back,
                    status=OPEN,
                    reminders_sent=0,
                )
            )
            escalation_id = int(result.inserted_primary_key[0])
            add_deliveries(connection, escalation_id, targets, NEW, now)
            return escalation_id, True
    except sa.exc.IntegrityError:
        with engine.connect() as connection:
            existing = _find(connection, conversation_id, message_id)
        if existing is None:
            raise
        return existing, False


def add_deliveries(
    connection: sa.engine.Connection,
    escalation_id: int,
    targets: Iterable[str],
    purpose: str,
    now: dt.datetime,
) -> None:
    """One pending delivery of `purpose` per target, due now."""
    rows = [
        dict(
            escalation_id=escalation_id,
            target=target,
            purpose=purpose,
            created_at=now,
            status=PENDING,
            attempts=0,
            next_attempt_at=now,
        )
        for target in targets
    ]
    if rows:
        connection.execute(deliveries.insert(), rows)


def list_escalations(
    engine: sa.engine.Engine, status: Optional[str] = None, limit: int = 100
) -> list[dict[str, Any]]:
    """Escalations, urgent first, then newest first; all statuses when `status` is None."""
    urgent_first = sa.case((escalations.c.level == URGENT, 0), else_=1)
    query = (
        sa.select(escalations)
        .order_by(urgent_first, escalations.c.created_at.desc(), escalations.c.id.desc())
        .limit(limit)
    )
    if status is not None:
        _check(status, STATUSES, "status")
        query = query.where(escalations.c.status == status)
    with engine.connect() as connection:
        return [dict(row) for row in connection.execute(query).mappings()]


def list_resolved(engine: sa.engine.Engine, limit: int = 100) -> list[dict[str, Any]]:
    """Resolved escalations, the most recently resolved first."""
    query = (
        sa.select(escalations)
        .where(escalations.c.status == RESOLVED)
        .order_by(escalations.c.resolved_at.desc(), escalations.c.id.desc())
        .limit(limit)
    )
    with engine.connect() as connection:
        return [dict(row) for row in connection.execute(query).mappings()]


def get_escalation(engine: sa.engine.Engine, escalation_id: int) -> dict[str, Any]:
    """One escalation; EscalationError when there is none with that id."""
    with engine.connect() as connection:
        escalation = _get(connection, escalation_id)
    if not escalation["reach_back"] and escalation["channel"] == sms.CHANNEL:
        escalation["reach_back"] = sms.phone_for(engine, escalation["conversation_id"])
    return escalation


def list_deliveries(engine: sa.engine.Engine, escalation_id: int) -> list[dict[str, Any]]:
    """The notifications of one escalation, oldest first."""
    query = (
        sa.select(deliveries)
        .where(deliveries.c.escalation_id == escalation_id)
        .order_by(deliveries.c.id)
    )
    with engine.connect() as connection:
        return [dict(row) for row in connection.execute(query).mappings()]


def acknowledge(
    engine: sa.engine.Engine, escalation_id: int, by: str, now: Optional[dt.datetime] = None
) -> dict[str, Any]:
    """A staff member has seen an open escalation (reminders stop); the updated record."""
    return _transition(
        engine,
        escalation_id,
        allowed_from=(OPEN,),
        status=ACKNOWLEDGED,
        acknowledged_at=now or utc_now(),
        acknowledged_by=_staff_name(by),
    )


def resolve(
    engine: sa.engine.Engine,
    escalation_id: int,
    by: str,
    outcome: str,
    note: Optional[str] = None,
    now: Optional[dt.datetime] = None,
) -> dict[str, Any]:
    """An open or acknowledged escalation has been dealt with, with what became of the person
    (one of OUTCOMES); the updated record."""
    if outcome not in OUTCOMES:
        raise EscalationError(
            "say what happened: the person was reached, could not be "
            "reached, or emergency services were called"
        )
    return _transition(
        engine,
        escalation_id,
        allowed_from=(OPEN, ACKNOWLEDGED),
        status=RESOLVED,
        resolved_at=now or utc_now(),
        resolved_by=_staff_name(by),
        outcome=outcome,
        note=(note or "").strip() or None,
    )


def _transition(
    engine: sa.engine.Engine,
    escalation_id: int,
    *,
    allowed_from: Sequence[str],
    status: str,
    **changes: Any,
) -> dict[str, Any]:
    with engine.begin() as connection:
        result = connection.execute(
            escalations.update()
            .where(escalations.c.id == escalation_id, escalations.c.status.in_(allowed_from))
            .values(status=status, **changes)
        )
        current = _get(connection, escalation_id)
    if result.rowcount != 1:
        verb = {ACKNOWLEDGED: "acknowledged", RESOLVED: "resolved"}[status]
        raise EscalationError(
            f"escalation #{escalation_id} is {_describe_status(current)}; it cannot be {verb}"
        )
    return current


def _describe_status(escalation: dict[str, Any]) -> str:
    if escalation["status"] == ACKNOWLEDGED:
        return f"already acknowledged by {escalation['acknowledged_by']}"
    if escalation["status"] == RESOLVED:
        return f"already resolved by {escalation['resolved_by']}"
    return escalation["status"]


def _get(connection: sa.engine.Connection, escalation_id: int) -> dict[str, Any]:
    row = (
        connection.execute(sa.select(escalations).where(escalations.c.id == escalation_id))
        .mappings()
        .first()
    )
    if row is None:
        raise EscalationError(f"escalation #{escalation_id} does not exist")
    return dict(row)


def _find(connection: sa.engine.Connection, conversation_id: str, message_id: str) -> Optional[int]:
    """The escalation that recorded or collected this message."""
    rows = connection.execute(
        sa.select(escalations.c.id, escalations.c.message_id, escalations.c.collected)
        .where(escalations.c.conversation_id == conversation_id)
        .order_by(escalations.c.id)
    ).all()
    for row in rows:
        if row.message_id == message_id or message_id in (row.collected or []):
            return int(row.id)
    return None


def _serialize(connection: sa.engine.Connection, conversation_id: str) -> None:
    """Hold the conversation's escalations until this transaction ends, so that two messages
    recorded at once see each other (one collects the other) instead of paging twice."""
    hold_write_lock(connection, f"clinic-escalation:{conversation_id}", escalations)


def _unresolved_at_least(
    connection: sa.engine.Connection, conversation_id: str, level: str
) -> Optional[dict[str, Any]]:
    """The conversation's newest escalation not yet resolved, if its level is `level` or
    higher (a concern never collects an urgent message: that one pages staff)."""
    row = (
        connection.execute(
            sa.select(escalations)
            .where(
                escalations.c.conversation_id == conversation_id, escalations.c.status != RESOLVED
            )
            .order_by(escalations.c.id.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    if row is None or LEVELS.index(row["level"]) > LEVELS.index(level):
        return None
    return dict(row)


def _collect(
    connection: sa.engine.Connection,
    escalation: dict[str, Any],
    message_id: str,
    categories: Sequence[str],
    evidence: Sequence[dict[str, Any]],
    turns: list[dict[str, str]],
) -> None:
    known = escalation["last_turns"]
    overlap = next(
        (n for n in range(min(len(known), len(turns)), 0, -1) if known[-n:] == turns[:n]), 0
    )
    connection.execute(
        escalations.update()
        .where(escalations.c.id == escalation["id"])
        .values(
            collected=(escalation["collected"] or []) + [message_id],
            categories=list(dict.fromkeys([*escalation["categories"], *categories])),
            evidence=[*escalation["evidence"], *evidence][:MAX_EVIDENCE],
            last_turns=(known + turns[overlap:])[-MAX_COLLECTED_TURNS:],
        )
    )


def _check(value: Any, allowed: Sequence[str], what: str) -> None:
    if value not in allowed:
        raise ValueError(f"{what}: {value!r} is not one of {', '.join(allowed)}")


def _staff_name(by: str) -> str:
    name = " ".join((by or "").split())
    if not name or len(name) > MAX_STAFF_NAME_LENGTH:
        raise EscalationError(f"a staff name of 1 to {MAX_STAFF_NAME_LENGTH} characters is needed")
    return name


def format_time(moment: dt.datetime, timezone: dt.tzinfo) -> str:
    """A moment as staff read it, like "Mon 3 Jun 2024 2:05 PM CDT"."""
    local = moment.astimezone(timezone)
    clock = local.strftime("%I:%M %p").lstrip("0")
    return f"{local:%a} {local.day} {local:%b %Y} {clock} {local:%Z}"


# The command line, for staff on the server.


def _clinic_timezone() -> dt.tzinfo:
    try:
        return current_profile().hours.timezone
    except ProfileError:
        return ZoneInfo("UTC")


def _summary_line(escalation: dict[str, Any], timezone: dt.tzinfo) -> str:
    return "  ".join(
        [
            f"#{escalation['id']:<5}",
            format_time(escalation["created_at"], timezone),
            f"{escalation['level'].upper():<7}",
            f"{escalation['channel'] or '-':<10}",
            ",".join(escalation["categories"]) or "-",
            escalation["status"] + (f" ({escalation['outcome']})" if escalation["outcome"] else ""),
        ]
    )


def _show(engine: sa.engine.Engine, escalation_id: int, timezone: dt.tzinfo) -> list[str]:
    escalation = get_escalation(engine, escalation_id)

    def when(field: str) -> str:
        return format_time(escalation[field], timezone) if escalation[field] else "-"

    lines = [
        f"Escalation #{escalation['id']}: {escalation['level'].upper()}, {escalation['status']}",
        f"Created:         {when('created_at')}",
        f"Channel:         {escalation['channel'] or '-'}",
        f"Conversation:    {escalation['conversation_id']} (message {escalation['message_id']})",
        f"About:           {'the user' if escalation['subject'] == 'self' else 'someone else'}",
        f"Categories:      {', '.join(escalation['categories']) or '-'}",
        f"Reach back:      {escalation['reach_back'] or '-'}",
        "Evidence:",
        *(f"  {json.dumps(item, ensure_ascii=False)}" for item in escalation["evidence"]),
        "Last turns:",
        *(f"  {turn['role']:>4}: {turn['text']}" for turn in escalation["last_turns"]),
        f"Acknowledged:    {when('acknowledged_at')} by {escalation['acknowledged_by']}"
        if escalation["acknowledged_by"]
        else "Acknowledged:    -",
        f"Resolved:        {when('resolved_at')} by {escalation['resolved_by']}"
        if escalation["resolved_by"]
        else "Resolved:        -",
        f"Outcome:         {escalation['outcome'] or '-'}",
        f"Note:            {escalation['note'] or '-'}",
        f"Reminders sent:  {escalation['reminders_sent']}",
        "Notifications:",
    ]
    for delivery in list_deliveries(engine, escalation_id):
        state = delivery["status"]
        if delivery["status"] == SENT:
            state += f" {format_time(delivery['sent_at'], timezone)}"
        if delivery["attempts"]:
            state += f", {delivery['attempts']} failed attempt(s)"
        if delivery["status"] == PENDING and delivery["last_error"]:
            state += f", last error: {delivery['last_error']}"
        lines.append(f"  #{delivery['id']} {delivery['target']} ({delivery['purpose']}): {state}")
    return lines


def _escalation_id(text: str) -> int:
    try:
        value = int(text.lstrip("#"))
    except ValueError:
        value = 0
    if value <= 0:
        raise EscalationError(f"{text!r} is not an escalation number")
    return value


def main(argv: Optional[Sequence[str]] = None) -> int:
    """`python -m clinic.escalations ...`: list, show, acknowledge and resolve escalations."""
    parser = argparse.ArgumentParser(
        prog="python -m clinic.escalations", description="Crisis escalations, for staff."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="one line per escalation, no message text")
    listing.add_argument("--status", choices=[*STATUSES, "all"], default="all")
    listing.add_argument("--limit", type=int, default=100)
    commands.add_parser("show", help="the full record").add_argument("id")
    ack = commands.add_parser("ack", help="acknowledge (stops reminders)")
    ack.add_argument("id")
    ack.add_argument("--by", required=True, help="your name")
    done = commands.add_parser("resolve", help="mark as dealt with")
    done.add_argument("id")
    done.add_argument("--by", required=True, help="your name")
    done.add_argument(
        "--outcome",
        required=True,
        choices=OUTCOMES,
        help="what happened: the person was reached, not reached, or emergency "
        "services were called",
    )
    done.add_argument("--note")
    args = parser.parse_args(argv)

    try:
        engine = engine_for(settings.current().database_url)
        timezone = _clinic_timezone()
        if args.command == "list":
            status = None if args.status == "all" else args.status
            rows = list_escalations(engine, status=status, limit=args.limit)
            lines = [_summary_line(row, timezone) for row in rows] or ["No escalations."]
        elif args.command == "show":
            lines = _show(engine, _escalation_id(args.id), timezone)
        elif args.command == "ack":
            done = acknowledge(engine, _escalation_id(args.id), by=args.by)
            lines = [f"Escalation #{done['id']} acknowledged by {done['acknowledged_by']}."]
        else:
            done = resolve(
                engine, _escalation_id(args.id), by=args.by, outcome=args.outcome, note=args.note
            )
            lines = [
                f"Escalation #{done['id']} resolved by {done['resolved_by']} ({done['outcome']})."
            ]
    except EscalationError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except sa.exc.SQLAlchemyError as error:
        print(f"error: cannot use the database ({type(error).__name__})", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
