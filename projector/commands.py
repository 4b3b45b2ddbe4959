"""What the projector's command lines run (`python -m projector ACTION`, and the same as
`python -m console index ACTION`), and the feed `python -m console run` starts in a thread."""

from __future__ import annotations

import threading

from clinic import settings
from clinic.db import engine_for
from projector import index

ACTIONS = ("rebuild", "catch-up", "follow")


def databases() -> tuple:
    """The clinic database (also the tracker store's: docs/configuration.md) and the event
    broker's."""
    return (
        engine_for(settings.current().database_url),
        index.broker_engine(settings.current().events_database_url),
    )


def run(action: str) -> int:
    """`rebuild` the index from the tracker store, `catch-up` with the event broker, or
    `follow` the broker until Ctrl-C."""
    clinic_db, broker_db = databases()
    if action == "rebuild":
        added = index.rebuild(clinic_db, clinic_db, broker_db)
        print(f"index: rebuilt from the tracker store, {added} messages")
    elif action == "follow":  # for a console served by several processes: one follower
        print("index: following the event broker (Ctrl-C stops)", flush=True)
        try:
            index.follow(clinic_db, broker_db, threading.Event())
        except KeyboardInterrupt:
            pass
    else:
        added = index.catch_up(clinic_db, broker_db, index.BROKER)
        print(f"index: {added} new messages from the event broker")
    return 0


def start_feed() -> None:
    """Keep the conversation index up to date, in a daemon thread: from RabbitMQ when
    configured, else from the SQL event broker's database."""
    clinic_db, broker_db = databases()
    rabbitmq = settings.current().events_rabbitmq
    if rabbitmq is not None:
        from projector.rabbitmq import start_consumer

        start_consumer(clinic_db, rabbitmq.url, rabbitmq.queue)
    else:
        index.start_follower(clinic_db, broker_db)
