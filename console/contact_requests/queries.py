"""Consultation and call-back requests (`clinic_contact_requests`, left through the assistant's
contact form) as staff work through them: a filtered, paged list, one request with its history,
and its status (new → contacted → booked or closed) with who changed it when.

The request table has no room for who changed what, so each change is also a row of
`console_request_events`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Optional

import sqlalchemy as sa

from clinic.db import UtcDateTime, contact_requests, metadata, utc_now

NEW, CONTACTED, BOOKED, CLOSED = "new", "contacted", "booked", "closed"
STATUSES = (NEW, CONTACTED, BOOKED, CLOSED)
KINDS = {"consultation": "consultation", "callback": "call back"}  # stored → shown
PAGE_SIZE = 50

request_events = sa.Table(
    "console_request_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    # Deleted with its request (retention); SQLite, which does not enforce foreign keys,
    # keeps the rows, which then name a request that no longer exists.
    sa.Column(
        "request_id",
        sa.Integer,
        sa.ForeignKey("clinic_contact_requests.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("from_status", sa.String(32), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("changed_by", sa.String(64), nullable=False),
    sa.Column("changed_at", UtcDateTime, nullable=False),
)


class RequestError(ValueError):
    """A status change that cannot be made; the message can be shown."""


def _utc(moment: dt.datetime) -> dt.datetime:
    """`created_at` is a plain DateTime: naive on SQLite, where it was stored as UTC."""
    return moment.replace(tzinfo=dt.timezone.utc) if moment.tzinfo is None else moment


def _where(status: str, kind: str) -> list[Any]:
    where = []
    if status:
        where.append(contact_requests.c.status == status)
    if kind:
        where.append(contact_requests.c.kind == kind)
    return where


def list_requests(
    engine: sa.engine.Engine,
    status: str = "",
    kind: str = "",
    after: Optional[int] = None,
    limit: int = PAGE_SIZE,
) -> tuple[list[dict[str, Any]], Optional[int]]:
    """A page of requests, newest first, each with its last change; and the id the next page
    starts after (None: this is the last page)."""
    r = contact_requests.c
    query = sa.select(contact_requests).where(*_where(status, kind))
    if after is not None:  # keyset: after that request in the newest-first order
        created = sa.select(r.created_at).where(r.id == after).scalar_subquery()
        query = query.where(
            sa.or_(r.created_at < created, sa.and_(r.created_at == created, r.id < after))
        )
    query = query.order_by(r.created_at.desc(), r.id.desc()).limit(limit + 1)
    with engine.connect() as connection:
        rows = [dict(row) for row in connection.execute(query).mappings()]
        more = len(rows) > limit
        rows = rows[:limit]
        last_change: dict[int, dict[str, Any]] = {}
        if rows:
            for event in connection.execute(
                sa.select(request_events)
                .where(request_events.c.request_id.in_([row["id"] for row in rows]))
                .order_by(request_events.c.id)
            ).mappings():
                last_change[event["request_id"]] = dict(event)
    for row in rows:
        row["created_at"] = _utc(row["created_at"])
        row["last_change"] = last_change.get(row["id"])
    return rows, rows[-1]["id"] if more else None


def status_counts(engine: sa.engine.Engine, kind: str = "") -> dict[str, int]:
    """How many requests have each status (of one kind, or all)."""
    r = contact_requests.c
    with engine.connect() as connection:
        found = dict(
            connection.execute(
                sa.select(r.status, sa.func.count()).where(*_where("", kind)).group_by(r.status)
            ).all()
        )
    return {status: found.get(status, 0) for status in STATUSES}


def get_request(engine: sa.engine.Engine, request_id: int) -> Optional[dict[str, Any]]:
    """One request with its status changes, oldest first; None when there is no such one."""
    with engine.connect() as connection:
        row = (
            connection.execute(
                sa.select(contact_requests).where(contact_requests.c.id == request_id)
            )
            .mappings()
            .first()
        )
        if row is None:
            return None
        found = dict(row, created_at=_utc(row["created_at"]))
        found["history"] = [
            dict(event)
            for event in connection.execute(
                sa.select(request_events)
                .where(request_events.c.request_id == request_id)
                .order_by(request_events.c.id)
            ).mappings()
        ]
    return found


def set_status(
    engine: sa.engine.Engine,
    request_id: int,
    status: str,
    by: str,
    now: Optional[dt.datetime] = None,
) -> str:
    """Change a request's status and record who did it; the status it had before."""
    if status not in STATUSES:
        raise RequestError(f"A request's status is one of {', '.join(STATUSES)}.")
    r = contact_requests.c
    with engine.begin() as connection:
        current = connection.execute(sa.select(r.status).where(r.id == request_id)).scalar()
        if current is None:
            raise RequestError(f"There is no request #{request_id}.")
        if current == status:
            raise RequestError(f"Request #{request_id} is {status} already.")
        changed = connection.execute(
            contact_requests.update()
            .where(r.id == request_id, r.status == current)
            .values(status=status)
        ).rowcount
        if changed != 1:  # someone else changed it in between
            raise RequestError(f"Request #{request_id} was changed meanwhile; reload the page.")
        connection.execute(
            request_events.insert().values(
                request_id=request_id,
                from_status=current,
                status=status,
                changed_by=by,
                changed_at=now or utc_now(),
            )
        )
    return current
