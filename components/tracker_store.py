"""Rasa's SQL tracker store, streaming new events to the event broker without reading the
whole conversation back first.

Before saving, Rasa's TrackerStore.stream_events retrieves the stored tracker (every event of
the session, replayed into a DialogueStateTracker) only to tell which events are new: with any
broker configured, each message pays for a second full retrieval, longer as the conversation
grows. SQLTrackerStore already knows a cheaper way: the events past the number it has stored
for the session, the very events `save` then writes. They are the ones published here.
On SQLite it keeps one connection in write-ahead-log mode (components/sqlite.py): a save
appends to the log instead of syncing the database file twice.

    tracker_store:
      type: components.tracker_store.SqlTrackerStore
      dialect: sqlite
      db: var/assistant.db
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker

from components.sqlite import server_engine


class SqlTrackerStore(SQLTrackerStore):
    """SQLTrackerStore whose broker gets exactly the events `save` stores, found by a count."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.engine.url.get_backend_name() == "sqlite":  # elsewhere Rasa's engine settings stay
            url = self.engine.url
            self.engine.dispose()
            self.engine = server_engine(url)
            self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    async def stream_events(self, tracker: DialogueStateTracker) -> None:
        if self.event_broker is None:
            return
        with self.session_scope() as session:
            new_events = list(self._additional_events(session, tracker))
        await self._stream_new_events(self.event_broker, new_events, tracker.sender_id)
