"""The backstop that makes escalations independent of the action server.

Rasa's SQL tracker store keeps every user message with its parse data, the crisis result
included, in the table `events` of the same database as the escalations. The delivery worker
reads the events it has not seen yet, and records an escalation for every urgent or concern
message (with the session rules of crisis.session) that has none. Recording is idempotent
per (conversation, message), so the action server recording the same message first is fine.
"""

from __future__ import annotations

import json
import logging
from typing import Sequence

import sqlalchemy as sa

from clinic.db import metadata
from clinic.db import rasa_events as events
from clinic.escalations import record_escalation
from crisis import session
from crisis.detector import SESSION_SIGNALS
from crisis.levels import NONE
from crisis.parse_output import crisis_field

logger = logging.getLogger(__name__)

checkpoint = sa.Table(
    "clinic_crisis_sweep",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("last_event_id", sa.BigInteger, nullable=False),
)


def _interesting(data: dict) -> bool:
    crisis = crisis_field(data.get("parse_data"))
    signals = set(crisis.get("signals", ()))
    return crisis.get("level", NONE) != NONE or bool(signals & SESSION_SIGNALS)


def sweep(engine: sa.engine.Engine, targets: Sequence[str], batch: int = 1000) -> int:
    """Record escalations for tracker events not swept yet; returns how many were new."""
    if not sa.inspect(engine).has_table(events.name):
        return 0
    created = 0
    while True:
        new, more = _sweep_batch(engine, targets, batch)
        created += new
        if not more:
            return created


def _sweep_batch(engine: sa.engine.Engine, targets: Sequence[str], batch: int) -> tuple[int, bool]:
    with engine.connect() as connection:
        last = connection.execute(sa.select(checkpoint.c.last_event_id)).scalar() or 0
        rows = connection.execute(
            sa.select(events.c.id, events.c.sender_id, events.c.data)
            .where(events.c.id > last, events.c.type_name == "user")
            .order_by(events.c.id)
            .limit(batch)
        ).all()
    if not rows:
        return 0, False
    senders = {row.sender_id for row in rows if _interesting(json.loads(row.data))}
    created = sum(_record_conversation(engine, sender, targets) for sender in sorted(senders))
    with engine.begin() as connection:
        if connection.execute(sa.select(checkpoint.c.id)).first():
            connection.execute(checkpoint.update().values(last_event_id=rows[-1].id))
        else:
            connection.execute(checkpoint.insert().values(id=1, last_event_id=rows[-1].id))
    return created, len(rows) == batch


def _conversation_events(engine: sa.engine.Engine, sender: str) -> list[dict]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(events.c.data).where(events.c.sender_id == sender).order_by(events.c.id)
        ).all()
    return [json.loads(data) for (data,) in rows]


def _record_conversation(engine: sa.engine.Engine, sender: str, targets: Sequence[str]) -> int:
    created = 0
    for turn in session.levels(_conversation_events(engine, sender)):
        facts = session.escalation_facts(sender, turn)
        if facts is None:
            continue
        _id, new = record_escalation(engine, targets=list(targets), **facts.as_kwargs())
        if new:
            logger.info(
                "Sweep recorded escalation %s (%s) missed by the action server", _id, facts.level
            )
            created += 1
    return created
