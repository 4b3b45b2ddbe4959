"""The delivery worker: tells the clinic's notification targets about stored escalations.

    python -m clinic.delivery [--once] [--poll SECONDS]

Each pending delivery is taken with a lease (clinic/leases.py), sent, and marked sent; a failed one is retried
with backoff for as long as it takes. An urgent escalation nobody has acknowledged in the
profile's time is notified again. Notifications carry no message text, evidence or contact
details: they say that there is an escalation and where staff can open it.

A target gets at most `CLINIC_ALERTS_PER_WINDOW` notifications one by one in a window of
`CLINIC_ALERT_WINDOW_MINUTES`; past that, deliveries are held and one summary a window says
how many more escalations came in ("N more, U urgent: open the queue"). A script sending
crisis messages from many conversations cannot page staff without end, and no escalation is
dropped: every one is in the console's queue, and the summary counts it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import email.utils
import functools
import http.client
import json
import logging
import random
import signal
import smtplib
import ssl
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Callable, Optional, Sequence

import sqlalchemy as sa

from clinic import settings
from clinic.db import engine_for
from clinic.escalations import (
    CANCELLED,
    HELD,
    OPEN,
    PENDING,
    REMINDER,
    SENT,
    URGENT,
    add_deliveries,
    deliveries,
    escalations,
    format_time,
    utc_now,
)
from clinic.leases import LeaseQueue
from clinic.migrate import SchemaNotCurrent
from clinic.profile import ClinicProfile, ProfileError, current_profile
from clinic.settings import EMAIL, WEBHOOK, Secret, SettingsError, SmtpSettings

__all__ = [
    "Notification",
    "DeliveryError",
    "compose",
    "send",
    "send_webhook",
    "send_email",
    "backoff_seconds",
    "create_reminders",
    "run_once",
    "main",
]

logger = logging.getLogger(__name__)
# Workers share the deliveries: each takes one with a lease (a worker that dies lets go of it).
QUEUE = LeaseQueue(deliveries, deliveries.c.id, deliveries.c.lease_until)

SEND_TIMEOUT_SECONDS = 10
MAX_BACKOFF_SECONDS = 300.0
BATCH_SIZE = 100
NO_TARGET_MESSAGE = (
    "escalations are stored and visible with `python -m clinic.escalations list`; "
    "no notification target configured"
)


class DeliveryError(Exception):
    """A notification did not go out; the message is short and safe to log."""


@dataclass(frozen=True)
class Notification:
    """What one delivery sends: no user text, only where to look."""

    target: str
    escalation_id: int
    delivery_id: int
    subject: str
    text: str

    @property
    def idempotency_key(self) -> str:
        return f"escalation-{self.escalation_id}-delivery-{self.delivery_id}"


Sender = Callable[[Notification], None]


def compose(
    escalation: dict[str, Any], delivery: dict[str, Any], profile: ClinicProfile
) -> Notification:
    """The minimum-necessary alert for one delivery of an escalation."""
    number = escalation["id"]
    urgent = escalation["level"] == URGENT
    reminder = delivery["purpose"] == REMINDER
    tag = "[URGENT]" if urgent else "[Concern]"
    kind = "crisis escalation" if urgent else "escalation"
    if reminder:
        subject = f"{tag} Reminder: {kind} #{number} not acknowledged — {profile.name}"
    else:
        subject = f"{tag} {kind.capitalize()} #{number} — {profile.name}"
    lines = [
        f"URGENT crisis escalation #{number} for {profile.name}."
        if urgent
        else f"Concern (normal priority): escalation #{number} for {profile.name}.",
    ]
    if reminder:
        waited = _duration(delivery["created_at"] - escalation["created_at"])
        lines.append(f"REMINDER: not acknowledged after {waited}.")
    link = f"{settings.current().console_url}/escalations/{number}"
    lines += [
        f"Channel: {escalation['channel'] or 'unknown'}",
        f"Time: {format_time(escalation['created_at'], profile.hours.timezone)}",
        f"Categories: {', '.join(escalation['categories']) or 'none recorded'}",
        f"Open it in the staff console: {link}",
        f"or on the server: python -m clinic.escalations show {number}",
        "What the person wrote is only in the console, not in this alert.",
    ]
    return Notification(
        target=delivery["target"],
        escalation_id=number,
        delivery_id=delivery["id"],
        subject=subject,
        text="\n".join(lines),
    )


def _duration(delta: dt.timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    count, unit = (seconds, "second") if seconds < 60 else (seconds // 60, "minute")
    return f"{count} {unit}{'' if count == 1 else 's'}"


def send(notification: Notification, profile: Optional[ClinicProfile] = None) -> None:
    """Send through the target's current settings; DeliveryError when it did not go out."""
    profile = profile or current_profile()
    if notification.target == WEBHOOK:
        url = settings.current().alert_webhook_url(profile)
        if url is None:
            raise DeliveryError("webhook is not configured")
        send_webhook(notification, url)
    elif notification.target == EMAIL:
        smtp = settings.current().delivery.smtp
        if smtp is None or not profile.notifications.email_to:
            raise DeliveryError("email is not configured")
        send_email(notification, smtp, profile.notifications.email_to)
    else:
        raise DeliveryError(f"unknown target {notification.target!r}")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def send_webhook(notification: Notification, url: Secret) -> None:
    """POST Slack/Teams-compatible JSON; any 2xx answer is success (redirects are not)."""
    address = url.reveal()
    if not address.startswith(("https://", "http://")):
        raise DeliveryError("webhook address is not an http(s) URL")
    request = urllib.request.Request(
        address,
        data=json.dumps({"text": notification.text}).encode("utf-8"),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Idempotency-Key": notification.idempotency_key,
            "User-Agent": "clinic-assistant-delivery",
        },
    )
    opener = urllib.request.build_opener(_NoRedirects)
    try:
        with opener.open(request, timeout=SEND_TIMEOUT_SECONDS) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        error.close()
        raise DeliveryError(f"webhook answered HTTP {error.code}") from None
    except urllib.error.URLError as error:
        reason = error.reason if isinstance(error.reason, BaseException) else error
        raise DeliveryError(f"webhook unreachable ({type(reason).__name__})") from None
    except (OSError, http.client.HTTPException) as error:
        raise DeliveryError(f"webhook unreachable ({type(error).__name__})") from None
    if not 200 <= status < 300:
        raise DeliveryError(f"webhook answered HTTP {status}")


def send_email(notification: Notification, smtp: SmtpSettings, to: str) -> None:
    """A plain-text e-mail through the clinic's SMTP server."""
    domain = to.rpartition("@")[2]
    message = EmailMessage()
    message["Subject"] = notification.subject
    message["From"] = smtp.sender or f"assistant@{domain}"
    message["To"] = to
    message["Date"] = email.utils.formatdate()
    # The same id on a resent copy lets mail clients drop the duplicate.
    message["Message-ID"] = f"<{notification.idempotency_key}@{domain}>"
    message["X-Escalation-Delivery"] = str(notification.delivery_id)
    message.set_content(notification.text)
    try:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=SEND_TIMEOUT_SECONDS) as client:
            if smtp.starttls:
                client.starttls(context=ssl.create_default_context())
            if smtp.user:
                client.login(smtp.user, smtp.password.reveal() if smtp.password else "")
            client.send_message(message)
    except smtplib.SMTPResponseException as error:
        raise DeliveryError(f"SMTP server answered {error.smtp_code}") from None
    except (smtplib.SMTPException, OSError) as error:
        raise DeliveryError(f"SMTP server unreachable ({type(error).__name__})") from None


def backoff_seconds(attempts: int) -> float:
    """The wait after the `attempts`-th failure: doubling from the base, capped, jittered."""
    delay = settings.current().delivery.backoff_seconds * 2 ** min(max(attempts, 1) - 1, 30)
    return min(MAX_BACKOFF_SECONDS, delay) * random.uniform(0.9, 1.0)


def create_reminders(
    engine: sa.engine.Engine,
    now: dt.datetime,
    targets: Sequence[str],
    ack_minutes: float,
) -> int:
    """Remind every target of open urgent escalations not acknowledged in time; how many."""
    if not targets:
        return 0
    wait = dt.timedelta(minutes=ack_minutes)
    with engine.connect() as connection:
        candidates = connection.execute(
            sa.select(
                escalations.c.id,
                escalations.c.created_at,
                escalations.c.last_notified_at,
                escalations.c.reminders_sent,
            ).where(escalations.c.level == URGENT, escalations.c.status == OPEN)
        ).all()
        waiting = set(
            connection.execute(
                sa.select(deliveries.c.escalation_id, deliveries.c.target)
                .join(escalations, escalations.c.id == deliveries.c.escalation_id)
                .where(
                    escalations.c.level == URGENT,
                    escalations.c.status == OPEN,
                    deliveries.c.purpose == REMINDER,
                    deliveries.c.status == PENDING,
                )
            ).all()
        )
    created = 0
    for candidate in candidates:
        if (candidate.last_notified_at or candidate.created_at) + wait > now:
            continue
        missing = [target for target in targets if (candidate.id, target) not in waiting]
        if not missing:
            continue
        with engine.begin() as connection:
            claimed = connection.execute(
                escalations.update()
                .where(
                    escalations.c.id == candidate.id,
                    escalations.c.status == OPEN,
                    escalations.c.reminders_sent == candidate.reminders_sent,
                )
                .values(reminders_sent=escalations.c.reminders_sent + 1, last_notified_at=now)
            ).rowcount
            if claimed != 1:
                continue
            add_deliveries(connection, candidate.id, missing, REMINDER, now)
        created += len(missing)
        logger.info(
            "escalation #%d not acknowledged: reminder %d to %s",
            candidate.id,
            candidate.reminders_sent + 1,
            ", ".join(missing),
        )
    return created


def run_once(
    engine: sa.engine.Engine,
    now: Optional[dt.datetime] = None,
    sender: Optional[Sender] = None,
    *,
    profile: Optional[ClinicProfile] = None,
    ack_minutes: Optional[float] = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> dict[str, int]:
    """One pass: create due reminders, then send every due delivery; counts of what happened.

    `ack_minutes` overrides the profile's `urgent_ack_minutes`; `should_stop` is asked before
    each delivery, so a stopping worker finishes the one it is sending and no more.
    """
    profile = profile or current_profile()
    sender = sender or functools.partial(send, profile=profile)
    minutes = profile.notifications.urgent_ack_minutes if ack_minutes is None else ack_minutes
    if minutes <= 0:
        raise ValueError(f"ack_minutes: {minutes!r} is not a positive number of minutes")

    def clock() -> dt.datetime:
        return now or utc_now()

    counts = {"sent": 0, "failed": 0, "reminders": 0, "held": 0, "summaries": 0}
    counts["reminders"] = create_reminders(
        engine, clock(), settings.current().alert_targets(profile), minutes
    )
    cap = settings.current().delivery.alert_cap
    window = dt.timedelta(minutes=cap.window_minutes)
    for delivery_id in _due(engine, clock()):
        if should_stop():
            break
        claimed = _claim(engine, delivery_id, clock())
        if claimed is None:
            continue
        delivery, escalation = claimed
        if delivery["purpose"] == REMINDER and escalation["status"] != OPEN:
            _finish(engine, delivery_id, status=CANCELLED)
            continue
        if _notified(engine, delivery["target"], clock() - window) >= cap.per_window:
            _finish(engine, delivery_id, status=HELD)
            counts["held"] += 1
            continue
        try:
            sender(compose(escalation, delivery, profile))
        except Exception as error:
            attempts = delivery["attempts"] + 1
            reason = _describe(error)
            delay = backoff_seconds(attempts)
            _finish(
                engine,
                delivery_id,
                attempts=deliveries.c.attempts + 1,
                last_error=reason,
                next_attempt_at=clock() + dt.timedelta(seconds=delay),
            )
            counts["failed"] += 1
            logger.warning(
                "delivery #%d of escalation #%d to %s failed (attempt %d): %s; retrying in %.3g s",
                delivery_id,
                escalation["id"],
                delivery["target"],
                attempts,
                reason,
                delay,
            )
        else:
            _finish(engine, delivery_id, status=SENT, sent_at=clock(), last_error=None)
            counts["sent"] += 1
            logger.info(
                "delivery #%d of escalation #%d sent to %s (%s)",
                delivery_id,
                escalation["id"],
                delivery["target"],
                delivery["purpose"],
            )
    for target in _held_targets(engine):
        if not should_stop() and _summarise(engine, target, clock(), window, sender, profile):
            counts["summaries"] += 1
    return counts


def _notified(engine: sa.engine.Engine, target: str, since: dt.datetime) -> int:
    """Notifications `target` got since then: one per delivery sent alone, one per summary."""
    sent_since = sa.and_(
        deliveries.c.target == target, deliveries.c.status == SENT, deliveries.c.sent_at >= since
    )
    with engine.connect() as connection:
        alone = connection.execute(
            sa.select(sa.func.count()).where(sent_since, deliveries.c.summarised_at.is_(None))
        ).scalar()
        summaries = connection.execute(
            sa.select(sa.func.count(sa.distinct(deliveries.c.summarised_at))).where(
                sent_since, deliveries.c.summarised_at.is_not(None)
            )
        ).scalar()
    return int(alone) + int(summaries)


def _held_targets(engine: sa.engine.Engine) -> list[str]:
    with engine.connect() as connection:
        return list(
            connection.execute(
                sa.select(deliveries.c.target).where(deliveries.c.status == HELD).distinct()
            ).scalars()
        )


def _summarise(
    engine: sa.engine.Engine,
    target: str,
    now: dt.datetime,
    window: dt.timedelta,
    sender: Sender,
    profile: ClinicProfile,
) -> bool:
    """One notification for the deliveries held for `target`, at most one a window."""
    with engine.connect() as connection:
        last = connection.execute(
            sa.select(sa.func.max(deliveries.c.summarised_at)).where(deliveries.c.target == target)
        ).scalar()
        if last is not None and last.tzinfo is None:
            last = last.replace(tzinfo=dt.timezone.utc)
        if last is not None and now - last < window:
            return False
        held = connection.execute(
            sa.select(deliveries.c.id, escalations.c.id.label("escalation"), escalations.c.level)
            .join(escalations, escalations.c.id == deliveries.c.escalation_id)
            .where(deliveries.c.target == target, deliveries.c.status == HELD)
            .order_by(deliveries.c.id)
        ).all()
    if not held:
        return False
    escalation_ids = sorted({row.escalation for row in held})
    urgent = len({row.escalation for row in held if row.level == URGENT})
    text = "\n".join(
        [
            f"{len(escalation_ids)} more escalation{'s' if len(escalation_ids) != 1 else ''} for "
            f"{profile.name} ({urgent} urgent), after {settings.current().delivery.alert_cap.per_window} alerts in "
            f"{_duration(window)}: alerts are summarised until it is quieter.",
            f"Newest: #{escalation_ids[-1]}. Open the queue: {settings.current().console_url}/",
            "What the people wrote is only in the console, not in this alert.",
        ]
    )
    try:
        sender(
            Notification(
                target=target,
                escalation_id=escalation_ids[-1],
                delivery_id=held[-1].id,
                subject=f"[URGENT] {len(escalation_ids)} more escalations — {profile.name}"
                if urgent
                else f"{len(escalation_ids)} more escalations — {profile.name}",
                text=text,
            )
        )
    except Exception as error:  # held ones stay held; the next pass tries again
        logger.warning(
            "summary of %d held deliveries to %s failed: %s", len(held), target, _describe(error)
        )
        return False
    with engine.begin() as connection:
        connection.execute(
            deliveries.update()
            .where(deliveries.c.id.in_([row.id for row in held]), deliveries.c.status == HELD)
            .values(status=SENT, sent_at=now, summarised_at=now, last_error=None)
        )
    logger.info(
        "summary of %d held deliveries (%d escalations) sent to %s",
        len(held),
        len(escalation_ids),
        target,
    )
    return True


def _due(engine: sa.engine.Engine, now: dt.datetime) -> list[int]:
    urgent_first = sa.case((escalations.c.level == URGENT, 0), else_=1)
    query = (
        sa.select(deliveries.c.id)
        .join(escalations, escalations.c.id == deliveries.c.escalation_id)
        .where(*_claimable(now))
        .order_by(urgent_first, deliveries.c.next_attempt_at, deliveries.c.id)
        .limit(BATCH_SIZE)
    )
    with engine.connect() as connection:
        return list(connection.execute(query).scalars())


def _claimable(now: dt.datetime) -> tuple:
    return deliveries.c.status == PENDING, deliveries.c.next_attempt_at <= now, QUEUE.free(now)


def _claim(
    engine: sa.engine.Engine, delivery_id: int, now: dt.datetime
) -> Optional[tuple[dict[str, Any], dict[str, Any]]]:
    """Take the lease on a due delivery; None when another worker has it or it is done."""
    lease = dt.timedelta(seconds=settings.current().delivery.lease_seconds)
    with engine.begin() as connection:
        if not QUEUE.take(connection, delivery_id, now, lease, *_claimable(now)):
            return None
        delivery = (
            connection.execute(sa.select(deliveries).where(deliveries.c.id == delivery_id))
            .mappings()
            .one()
        )
        escalation = (
            connection.execute(
                sa.select(escalations).where(escalations.c.id == delivery["escalation_id"])
            )
            .mappings()
            .one()
        )
    return dict(delivery), dict(escalation)


def _finish(engine: sa.engine.Engine, delivery_id: int, **values: Any) -> None:
    """Let go of a delivery with its outcome (or its next attempt's time)."""
    with engine.begin() as connection:
        QUEUE.let_go(connection, delivery_id, **values)


def _describe(error: Exception) -> str:
    """A short reason that names no address, secret or message text."""
    text = str(error) if isinstance(error, (DeliveryError, SettingsError)) else type(error).__name__
    return text[:200]


def main(argv: Optional[Sequence[str]] = None) -> int:
    """`python -m clinic.delivery`: deliver until SIGTERM or Ctrl-C."""
    parser = argparse.ArgumentParser(
        prog="python -m clinic.delivery", description="Deliver crisis escalations to staff."
    )
    parser.add_argument("--once", action="store_true", help="one pass, then exit")
    parser.add_argument(
        "--poll",
        type=float,
        default=2.0,
        metavar="SECONDS",
        help="pause between passes (default 2)",
    )
    args = parser.parse_args(argv)
    if args.poll <= 0:
        parser.error("--poll must be a positive number of seconds")
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        profile = current_profile()
        targets = settings.reload().alert_targets(profile)  # checks every setting, at start
    except (ProfileError, SettingsError) as error:
        logger.error("cannot start: %s", error)
        return 1
    if targets:
        logger.info("delivering escalations to: %s", ", ".join(targets))
    else:
        logger.warning(NO_TARGET_MESSAGE)

    from crisis.sweep import sweep  # loads spaCy's tokenizer: only in the worker process

    stopping = threading.Event()

    def stop(signum: int, frame: Any) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    problem: Optional[str] = None  # why the database cannot be used, as last logged
    while not stopping.is_set():
        passed, now = False, None
        try:
            engine = engine_for(settings.current().database_url)
            sweep(engine, targets)  # escalations the action server could not record
            run_once(engine, profile=profile, should_stop=stopping.is_set)
            passed = True
        except sa.exc.SQLAlchemyError as error:
            reason = type(getattr(error, "orig", None) or error).__name__  # the driver's
            now = f"cannot reach the database ({reason})"
        except SchemaNotCurrent as error:  # a deployment migrating right now, or not yet
            now = str(error)
        except Exception as error:  # logged by type only: its text may hold private data
            logger.error(
                "delivery pass failed (%s); retrying in %g s", type(error).__name__, args.poll
            )
        if now is not None and now != problem:
            logger.error("%s; retrying every %g s", now, args.poll)
            problem = now
        if passed and problem is not None:
            logger.info("the database is reachable again")
            problem = None
        if args.once:
            return 0 if passed else 1
        stopping.wait(args.poll)
    logger.info("delivery worker stopped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
