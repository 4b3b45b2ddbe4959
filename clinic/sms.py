"""The SMS channel's records: phone numbers, opt-outs, processed messages and open menus.

A phone number never becomes a Rasa conversation id: the id is a keyed hash of the number
(`conversation_id_for`), and the number itself sits in `clinic_sms_numbers`, which only staff
views read, so staff can call or text the person back.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any, Optional

import sqlalchemy as sa

from clinic.db import JsonText, UtcDateTime, metadata, utc_now
from clinic.leases import LeaseQueue
from clinic.settings import Secret

CHANNEL = "twilio"  # the SMS connector's channel name, as stored in the tracker
CONVERSATION_PREFIX = "sms-"
OPT_OUT, OPT_IN = "opt_out", "opt_in"
# A processed message: answered in the webhook's reply, sent later through the REST API,
# or not answered (a carrier keyword, an opted-out number).
RECEIVED, ANSWERED, SENT_LATER, NO_REPLY, FAILED = (
    "received",
    "answered",
    "sent_later",
    "no_reply",
    "failed",
)

numbers = sa.Table(
    "clinic_sms_numbers",
    metadata,
    sa.Column("conversation_id", sa.String(64), primary_key=True),
    sa.Column("phone", sa.String(32), nullable=False),
    sa.Column("first_seen_at", UtcDateTime, nullable=False),
    sa.Column("last_seen_at", UtcDateTime, nullable=False),
    sa.Column("opted_out", sa.Boolean, nullable=False, default=False),
    sa.Column("opted_out_at", UtcDateTime),
)

consent_events = sa.Table(
    "clinic_sms_consent_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("conversation_id", sa.String(64), nullable=False, index=True),
    sa.Column("action", sa.String(16), nullable=False),  # opt_out | opt_in
    sa.Column("keyword", sa.String(16)),  # STOP, START, …; None when Twilio reported 21610
    sa.Column("message_sid", sa.String(64)),
    sa.Column("at", UtcDateTime, nullable=False),
)

messages = sa.Table(
    "clinic_sms_messages",
    metadata,
    sa.Column("message_sid", sa.String(64), primary_key=True),
    sa.Column("conversation_id", sa.String(64), nullable=False, index=True),
    sa.Column("received_at", UtcDateTime, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("replies", JsonText),  # the SMS bodies sent back, to answer a retry the same way
    sa.Column("error", sa.String(200)),
    sa.Column("lease_until", UtcDateTime),  # while `received`: the replica answering holds it
)
# A message being answered is held with a lease, renewed while its replica works on it; one
# whose replica died is taken over by a retry or by the recovery loop (channels/sms/recovery.py).
QUEUE = LeaseQueue(messages, messages.c.message_sid, messages.c.lease_until)

# The text of a message taken but not yet processed, so that a replica that dies with it in
# hand loses nothing (another takes it over after the lease); deleted once it is processed.
inbox = sa.Table(
    "clinic_sms_inbox",
    metadata,
    sa.Column("message_sid", sa.String(64), primary_key=True),
    sa.Column("body", sa.Text, nullable=False),
)

menus = sa.Table(
    "clinic_sms_menus",
    metadata,
    sa.Column("conversation_id", sa.String(64), primary_key=True),
    sa.Column("options", JsonText, nullable=False),  # {"1": payload, …}
    sa.Column("offered_at", UtcDateTime, nullable=False),
)


def conversation_id_for(phone: str, key: Secret) -> str:
    """The conversation id of a phone number: a keyed hash, the same for every message."""
    digest = hmac.new(key.reveal().encode(), phone.strip().encode(), hashlib.sha256)
    return CONVERSATION_PREFIX + digest.hexdigest()[:40]


def remember_number(
    engine: sa.engine.Engine, conversation_id: str, phone: str, now: Optional[dt.datetime] = None
) -> bool:
    """Record that the number wrote now; True when it is the number's first message."""
    now = now or utc_now()
    with engine.begin() as connection:
        updated = connection.execute(
            sa.update(numbers)
            .where(numbers.c.conversation_id == conversation_id)
            .values(last_seen_at=now, phone=phone)
        ).rowcount
        if not updated:
            try:
                with connection.begin_nested():
                    connection.execute(
                        sa.insert(numbers).values(
                            conversation_id=conversation_id,
                            phone=phone,
                            first_seen_at=now,
                            last_seen_at=now,
                            opted_out=False,
                        )
                    )
            except sa.exc.IntegrityError:  # the same number's other message got there first
                return False
            return True
    return False


def phone_for(engine: sa.engine.Engine, conversation_id: str) -> Optional[str]:
    """The phone number behind an SMS conversation (for staff views only)."""
    with engine.connect() as connection:
        return connection.execute(
            sa.select(numbers.c.phone).where(numbers.c.conversation_id == conversation_id)
        ).scalar_one_or_none()


def is_opted_out(engine: sa.engine.Engine, conversation_id: str) -> bool:
    with engine.connect() as connection:
        return bool(
            connection.execute(
                sa.select(numbers.c.opted_out).where(numbers.c.conversation_id == conversation_id)
            ).scalar_one_or_none()
        )


def record_consent(
    engine: sa.engine.Engine,
    conversation_id: str,
    action: str,
    keyword: Optional[str] = None,
    message_sid: Optional[str] = None,
    now: Optional[dt.datetime] = None,
) -> None:
    """An opt-out or opt-in: the number's state, and an audit row saying when and why."""
    if action not in (OPT_OUT, OPT_IN):
        raise ValueError(f"unknown consent action {action!r}")
    now = now or utc_now()
    with engine.begin() as connection:
        connection.execute(
            sa.update(numbers)
            .where(numbers.c.conversation_id == conversation_id)
            .values(opted_out=action == OPT_OUT, opted_out_at=now if action == OPT_OUT else None)
        )
        connection.execute(
            sa.insert(consent_events).values(
                conversation_id=conversation_id,
                action=action,
                keyword=keyword,
                message_sid=message_sid,
                at=now,
            )
        )


def consent_history(engine: sa.engine.Engine, conversation_id: str) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(consent_events)
            .where(consent_events.c.conversation_id == conversation_id)
            .order_by(consent_events.c.id)
        ).mappings()
        return [dict(row) for row in rows]


@dataclass(frozen=True)
class Claim:
    """Whether this process handles a message, or what happened to it the first time."""

    first: bool
    status: str
    replies: Optional[list[str]]
    taken_over: bool = False  # from a process that died with it: it may be in the tracker


def claim_message(
    engine: sa.engine.Engine,
    message_sid: str,
    conversation_id: str,
    *,
    lease: dt.timedelta,
    now: Optional[dt.datetime] = None,
    body: str = "",
) -> Claim:
    """Claim a message by its MessageSid; a second claim (Twilio's retry) says it was taken.

    A claim still `received` after its lease ran out was taken by a process that died before
    answering (a replica killed in the middle of a turn): the retry takes it over, so it is not
    lost. The body is kept in the inbox until `finish_message`, for `stale_messages`.
    """
    current = now or utc_now()
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.insert(messages).values(
                    message_sid=message_sid,
                    conversation_id=conversation_id,
                    received_at=current,
                    status=RECEIVED,
                    lease_until=current + lease,
                )
            )
            connection.execute(sa.insert(inbox).values(message_sid=message_sid, body=body))
        return Claim(first=True, status=RECEIVED, replies=None)
    except sa.exc.IntegrityError:
        if take_over(engine, message_sid, lease, current):
            return Claim(first=True, status=RECEIVED, replies=None, taken_over=True)
        with engine.connect() as connection:
            row = connection.execute(
                sa.select(messages.c.status, messages.c.replies).where(
                    messages.c.message_sid == message_sid
                )
            ).one()
        return Claim(first=False, status=row.status, replies=row.replies)


def take_over(
    engine: sa.engine.Engine,
    message_sid: str,
    lease: dt.timedelta,
    now: Optional[dt.datetime] = None,
) -> bool:
    """Take a claim whose lease ran out, unanswered: True for exactly one taker."""
    with engine.begin() as connection:
        return QUEUE.take(
            connection, message_sid, now or utc_now(), lease, messages.c.status == RECEIVED
        )


def renew_claim(
    engine: sa.engine.Engine,
    message_sid: str,
    lease: dt.timedelta,
    now: Optional[dt.datetime] = None,
) -> None:
    """Keep a claim while its message is being handled (so it is never taken over)."""
    with engine.begin() as connection:
        QUEUE.renew(connection, message_sid, now or utc_now(), lease, messages.c.status == RECEIVED)


@dataclass(frozen=True)
class Pending:
    message_sid: str
    conversation_id: str
    received_at: dt.datetime
    body: str


def stale_messages(
    engine: sa.engine.Engine, now: Optional[dt.datetime] = None, limit: int = 20
) -> list[Pending]:
    """Messages whose lease ran out unanswered: the process answering them died."""
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(
                messages.c.message_sid,
                messages.c.conversation_id,
                messages.c.received_at,
                inbox.c.body,
            )
            .join(inbox, inbox.c.message_sid == messages.c.message_sid)
            .where(messages.c.status == RECEIVED, QUEUE.expired(now or utc_now()))
            .order_by(messages.c.received_at)
            .limit(limit)
        ).all()
    return [Pending(*row) for row in rows]


def finish_message(
    engine: sa.engine.Engine,
    message_sid: str,
    status: str,
    replies: Optional[list[str]] = None,
    error: Optional[str] = None,
) -> None:
    with engine.begin() as connection:
        QUEUE.let_go(
            connection,
            message_sid,
            status=status,
            replies=replies,
            error=error[:200] if error else None,
        )
        connection.execute(sa.delete(inbox).where(inbox.c.message_sid == message_sid))


def offer_menu(
    engine: sa.engine.Engine,
    conversation_id: str,
    options: dict[str, str],
    now: Optional[dt.datetime] = None,
) -> None:
    """Remember the numbered options just sent, so that a reply of "1" means the first."""
    with engine.begin() as connection:
        connection.execute(sa.delete(menus).where(menus.c.conversation_id == conversation_id))
        if options:
            connection.execute(
                sa.insert(menus).values(
                    conversation_id=conversation_id, options=options, offered_at=now or utc_now()
                )
            )


def take_menu(engine: sa.engine.Engine, conversation_id: str) -> dict[str, str]:
    """The options offered last (they answer only the next message, so they are removed)."""
    with engine.begin() as connection:
        options = connection.execute(
            sa.select(menus.c.options).where(menus.c.conversation_id == conversation_id)
        ).scalar_one_or_none()
        if options is not None:
            connection.execute(sa.delete(menus).where(menus.c.conversation_id == conversation_id))
    return options or {}
