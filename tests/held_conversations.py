"""Conversations held with the real running assistant, and the console's conversation index of
them in a fresh database: what the projector's tests (tests/projector/) and the console's
conversation pages (tests/console/test_conversation_pages.py) work on, through the `held`,
`index_url` and `index_db` fixtures of conftest.py."""

from __future__ import annotations

import sqlite3
import uuid
from typing import Dict

import sqlalchemy as sa

from clinic.db import engine_for
from projector import index
from support import RunningAssistant

XSS = "<script>alert(1)</script> what does it cost"
FORMULA = "=HYPERLINK(\"http://evil.example\",\"hours\") when are you open"

# name → the user's messages, sent over the REST channel, one conversation each.
SCRIPTS = {
    "faq": ["how long is a session?", "and what are the side effects?"],
    "gibberish": ["blorptastic wizzle frob", "zzkx qqv plim"],
    "crisis": ["I want to kill myself tonight"],
    "xss": [XSS],
    "formula": [FORMULA],
    "contact": ["can you call me back on 555-010-7788 or mail jo.doe@example.com"],
}


def hold(assistant: RunningAssistant) -> Dict[str, str]:
    """The scripted conversations, held with the assistant: name → conversation id."""
    ids = {}
    for name, messages in SCRIPTS.items():
        ids[name] = f"rest-console-{name}-{uuid.uuid4().hex[:8]}"
        for text in messages:
            assistant.send(ids[name], text)
    return ids


def fresh_index(index_url: str, assistant: RunningAssistant) -> sa.engine.Engine:
    """A fresh copy of the assistant's database (its tracker store, escalations and requests,
    as in production the console's), its index caught up with the assistant's event broker."""
    source = sqlite3.connect(assistant.database_url.removeprefix("sqlite:///"))
    with sqlite3.connect(index_url.removeprefix("sqlite:///")) as copy:
        source.backup(copy)
    source.close()
    engine = engine_for(index_url)
    index.catch_up(engine, index.broker_engine(assistant.events_database_url), index.BROKER)
    return engine


def indexed_turns(engine, conversation_id):
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(index.turns)
            .where(index.turns.c.conversation_id == conversation_id)
            .order_by(index.turns.c.at)
        ).mappings()
        return [{k: v for k, v in row.items() if k != "id"} for row in rows]


def summary(engine, conversation_id):
    with engine.connect() as connection:
        return dict(
            connection.execute(
                sa.select(index.conversations).where(
                    index.conversations.c.conversation_id == conversation_id
                )
            )
            .mappings()
            .one()
        )
