"""Rasa's SQL event broker (the feed of the staff console's conversation index) without the
wait it puts on every message.

Rasa publishes each event synchronously, on the server's event loop: an ORM session, a new
SQLite connection (SQLAlchemy 1.4 pools none for a file) and a commit per event, about 2.5 ms
each and some eight events a message. Here one connection is kept, events go in as one Core
insert each, and SQLite writes ahead (write-ahead log, synced at checkpoints rather than at
every commit: a power cut can lose the last events, never corrupt the file; the tracker store
stays the record the index is rebuilt from, `python -m console index rebuild`). Readers (the
console) no longer block it. `python -m bench.event_broker` prints both brokers' times.

    event_broker:
      type: components.event_broker.SqlEventBroker
      dialect: sqlite
      db: var/events.db

CLINIC_EVENTS_DATABASE_URL, when set, takes the place of the dialect and database (PostgreSQL
for replicas); one that cannot be reached stops the server at start-up, in one line.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, Optional, Text

from rasa.core.brokers.sql import SQLEventBroker
from rasa.core.tracker_store import SQLTrackerStore

from clinic import settings
from clinic.db import check_reachable
from components.sqlite import endpoint_kwargs, server_engine

_events = SQLEventBroker.SQLBrokerEvent.__table__


class SqlEventBroker(SQLEventBroker):
    """Rasa's SQLEventBroker (same table, same rows) with a kept connection and, on SQLite,
    write-ahead logging."""

    def __init__(
        self,
        dialect: Text = "sqlite",
        host: Optional[Text] = None,
        port: Optional[int] = None,
        db: Text = "events.db",
        username: Optional[Text] = None,
        password: Optional[Text] = None,
    ) -> None:
        configured = dict(
            dialect=dialect, host=host, port=port, db=db, username=username, password=password
        )
        from_env = endpoint_kwargs(os.environ.get(settings.EVENTS_DATABASE_URL_ENV))
        from_env.pop("query", None)  # Rasa's broker takes none
        configured.update(from_env)
        engine = server_engine(SQLTrackerStore.get_db_url(**configured))
        check_reachable(engine, settings.EVENTS_DATABASE_URL_ENV)
        super().__init__(**configured)
        self.engine.dispose()
        self.engine = engine

    def publish(self, event: Dict[Text, Any]) -> None:
        """Store one event as Rasa's broker does (sender id, the event as JSON)."""
        with self.engine.begin() as connection:
            connection.execute(
                _events.insert().values(sender_id=event.get("sender_id"), data=json.dumps(event))
            )
