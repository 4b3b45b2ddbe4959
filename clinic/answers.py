"""FAQ answers reworded by staff: every version of an answer's text, and the approved ones the
Rasa server serves instead of the domain's (without retraining).

Staff propose a text in the console (console/answers/), for every channel or as an SMS variant;
an administrator approves or rejects it, or reverts an answer to the text it shipped with (a
version of its own, so the history stays whole). Only FAQ answers (`utter_faq/<topic>`) can be
reworded: the crisis reply and its footers are the crisis policy's and never change here.

`ApprovedTexts` is what the Rasa server's response generator (components/profile_nlg.py) reads:
the current approved texts, from the clinic database at most every few seconds, read in a worker
thread so the server's event loop never waits on the database; the shipped texts when the
database cannot be read.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Callable, Optional

import sqlalchemy as sa

from clinic import settings, sms
from clinic.db import UtcDateTime, engine_for, metadata

logger = logging.getLogger(__name__)

EDITABLE_PREFIX = "utter_faq/"  # the FAQ answers; nothing else is reworded in the console
ALL_CHANNELS, SMS = "all", "sms"
CHANNELS = (ALL_CHANNELS, SMS)
DRAFT, APPROVED, REJECTED, REVERTED = "draft", "approved", "rejected", "reverted"
STATUSES = (DRAFT, APPROVED, REJECTED, REVERTED)

versions = sa.Table(
    "clinic_answer_versions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("response", sa.String(128), nullable=False, index=True),  # utter_faq/<topic>
    sa.Column("channel", sa.String(8), nullable=False),  # all | sms
    # A reverted version holds the shipped text it brought back, so the history reads whole.
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # draft | approved | rejected | reverted
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("reviewed_by", sa.String(64)),  # who approved, rejected or reverted it
    sa.Column("reviewed_at", UtcDateTime),
)


def is_editable(response: str) -> bool:
    return response.startswith(EDITABLE_PREFIX) and len(response) > len(EDITABLE_PREFIX)


def channel_for(output_channel: str) -> str:
    """The version channel a reply on `output_channel` reads first: SMS on the SMS connector's."""
    return SMS if output_channel == sms.CHANNEL else ALL_CHANNELS


def current_texts(
    connection: sa.engine.Connection, response: Optional[str] = None
) -> dict[tuple[str, str], str]:
    """The text each (response, channel) has now (only `response`'s, given one): its latest
    approved version, unless it was reverted to the shipped text after that (then none here)."""
    query = (
        sa.select(versions.c.response, versions.c.channel, versions.c.status, versions.c.text)
        .where(versions.c.status.in_((APPROVED, REVERTED)))
        .order_by(versions.c.reviewed_at, versions.c.id)
    )
    if response is not None:
        query = query.where(versions.c.response == response)
    decided = connection.execute(query)
    latest: dict[tuple[str, str], Optional[str]] = {}
    for row in decided:
        latest[(row.response, row.channel)] = row.text if row.status == APPROVED else None
    return {key: text for key, text in latest.items() if text is not None}


class ApprovedTexts:
    """The approved texts as a reply needs them, kept for `max_age` seconds: an approval is
    served within seconds, and replies do not each query the database.

    `refresh_if_stale` (awaited before a reply) reads them again when they are older than
    `max_age`; `text_for` answers from what was read, never touching the database. When the
    database cannot be read, the shipped texts are served (no approved text at all), one warning
    is logged, and it is tried again after `retry_after` seconds.
    """

    def __init__(
        self,
        database_url: Optional[str] = None,  # None: the clinic database of this process's settings
        max_age: float = 5.0,
        retry_after: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.database_url = database_url
        self.max_age, self.retry_after, self.clock = max_age, retry_after, clock
        self._texts: dict[tuple[str, str], str] = {}
        self._next_read: Optional[float] = None  # None: never read
        self._failing = False
        self._reading = threading.Lock()

    def text_for(self, response: str, output_channel: str) -> Optional[str]:
        """The approved text of `response` on `output_channel` (on SMS its SMS variant, else
        its text for every channel); None: the domain's own."""
        if not is_editable(response):
            return None
        texts = self._texts
        channel = channel_for(output_channel)
        if channel != ALL_CHANNELS and (response, channel) in texts:
            return texts[(response, channel)]
        return texts.get((response, ALL_CHANNELS))

    def is_stale(self) -> bool:
        return self._next_read is None or self.clock() >= self._next_read

    async def refresh_if_stale(self) -> None:
        """Read the texts again if they are stale, in a worker thread."""
        if self.is_stale():
            await asyncio.to_thread(self._refresh_once)

    def _refresh_once(self) -> None:
        with self._reading:  # replies waiting meanwhile find the texts fresh, and read nothing
            if self.is_stale():
                self.refresh()

    def refresh(self) -> None:
        """Read the approved texts now."""
        try:
            engine = engine_for(self.database_url or settings.current().database_url)
            with engine.connect() as connection:
                texts = current_texts(connection)
        except Exception as error:  # whatever it is, a reply still goes out, with shipped text
            self._texts = {}
            self._next_read = self.clock() + self.retry_after
            if not self._failing:
                logger.warning(
                    "Reworded answers cannot be read from the clinic database (%s): "
                    "the shipped texts are served until it can be read again",
                    type(error).__name__,
                )
            self._failing = True
            return
        if self._failing:
            logger.info("Reworded answers are read from the clinic database again")
        self._texts, self._failing = texts, False
        self._next_read = self.clock() + self.max_age
