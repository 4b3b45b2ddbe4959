"""Rasa's SQL tracker store, streaming new events to the event broker without reading the
whole conversation back first.

Before saving, Rasa's TrackerStore.stream_events retrieves the stored tracker (every event of
the session, replayed into a DialogueStateTracker) only to tell which events are new: with any
broker configured, each message pays for a second full retrieval, longer as the conversation
grows. SQLTrackerStore already knows a cheaper way: the events past the number it has stored
for the session, the very events `save` then writes. They are the ones published here.
On SQLite it keeps one connection in write-ahead-log mode (components/sqlite.py): a save
appends to the log instead of syncing the database file twice.

Rasa's silent fall-back to memory when the database fails is turned off
(components/rasa_patches.py `create_tracker_store`).

CLINIC_DATABASE_URL, when set, takes the place of the dialect and database below: the same
project runs on PostgreSQL (replicas) with no change to this file. A database that cannot be
reached stops the server at start-up with one line saying which (Rasa's own store would retry
every 5 s, for ever, in silence).

    tracker_store:
      type: components.tracker_store.SqlTrackerStore
      dialect: sqlite
      db: var/assistant.db
"""

from __future__ import annotations

import os
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker

from clinic import settings
from clinic.db import check_reachable
from components import rasa_patches
from components.sqlite import endpoint_kwargs, server_engine


class SqlTrackerStore(SQLTrackerStore):
    """SQLTrackerStore whose broker gets exactly the events `save` stores, found by a count."""

    def __init__(self, **kwargs: Any) -> None:
        rasa_patches.apply()  # no silent fall-back to memory when the database fails
        kwargs = {
            "dialect": "sqlite",
            "db": "rasa.db",
            **kwargs,  # Rasa's defaults
            **endpoint_kwargs(os.environ.get(settings.DATABASE_URL_ENV)),
        }
        url = self.get_db_url(
            **{
                key: kwargs.get(key)
                for key in (
                    "dialect",
                    "host",
                    "port",
                    "db",
                    "username",
                    "password",
                    "login_db",
                    "query",
                )
            }
        )
        engine = server_engine(sa.engine.make_url(url))
        check_reachable(engine, settings.DATABASE_URL_ENV)
        super().__init__(**kwargs)
        self.engine.dispose()
        self.engine = engine
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    async def stream_events(self, tracker: DialogueStateTracker) -> None:
        if self.event_broker is None:
            return
        with self.session_scope() as session:
            new_events = list(self._additional_events(session, tracker))
        await self._stream_new_events(self.event_broker, new_events, tracker.sender_id)
