"""Training examples staff make, kept in the database with who and when, reviewable and
revocable.

Two ways in: a message the assistant did not understand, given the right topic from the "not
understood" list; and an answer staff disagree with, marked wrong in a transcript (a row without
a label until someone gives the right one). A label is a FAQ topic (`faq/<id>` of
faq-catalogue.yml), `out_of_scope`, or `new_topic` (a question no topic answers yet: a request
for the catalogue, not a training example). Form answers and messages written to staff never
come here (projector/index.py gives them outcomes of their own). The text is stored with phone
numbers and e-mail addresses masked: training data needs the words, not the person.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Optional

import sqlalchemy as sa

from clinic.db import UtcDateTime, metadata, utc_now
from console.labels import topic_titles
from console.privacy import mask_contacts, nlu_yaml
from projector.index import (
    ANSWERED,
    LOW_CONFIDENCE,
    NOT_UNDERSTOOD,
    USER,
    turns,
)

OUT_OF_SCOPE, NEW_TOPIC = "out_of_scope", "new_topic"
FROM_NOT_UNDERSTOOD, DISAGREED = "not_understood", "disagreed"
# An answer staff can disagree with: the assistant answered (sure or not).
ANSWERS = (ANSWERED, LOW_CONFIDENCE)

examples = sa.Table(
    "console_training_examples",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("turn_id", sa.Integer, nullable=False, unique=True),  # console_turns.id
    sa.Column("conversation_id", sa.String(255), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("answered_as", sa.String(128)),  # the FAQ topic or intent the assistant chose
    sa.Column("label", sa.String(160)),  # None: marked wrong, the right topic still to choose
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("labelled_by", sa.String(64)),
    sa.Column("labelled_at", UtcDateTime),
    sa.Column("revoked_by", sa.String(64)),
    sa.Column("revoked_at", UtcDateTime),
)


class TeachingError(ValueError):
    """What staff asked cannot be done; the message says why, in plain words."""


def label_choices() -> dict[str, str]:
    """Every label, with its words: the catalogue's topics, then out of scope and new topic."""
    choices = {f"faq/{topic}": question for topic, question in topic_titles().items()}
    choices[OUT_OF_SCOPE] = "Not something the assistant should answer (out of scope)"
    choices[NEW_TOPIC] = "A new topic is needed (no answer covers it)"
    return choices


def _check_label(label: str) -> str:
    if label not in label_choices():
        raise TeachingError("Choose a topic, out of scope, or new topic needed.")
    return label


def _user_turn(connection: sa.engine.Connection, turn_id: int) -> dict[str, Any]:
    row = (
        connection.execute(sa.select(turns).where(turns.c.id == turn_id, turns.c.role == USER))
        .mappings()
        .first()
    )
    if row is None:
        raise TeachingError("That message is not in the index (it may have been deleted).")
    return dict(row)


def _save(
    connection: sa.engine.Connection,
    turn: dict[str, Any],
    source: str,
    label: Optional[str],
    by: str,
    now: dt.datetime,
) -> int:
    """Create the message's example, or take it up again (a revoked one, or a new label)."""
    values = {
        "conversation_id": turn["conversation_id"],
        "text": mask_contacts(turn["text"]),
        "source": source,
        "answered_as": turn["faq_topic"] or turn["intent"],
        "label": label,
        "labelled_by": by if label else None,
        "labelled_at": now if label else None,
        "revoked_by": None,
        "revoked_at": None,
    }
    found = connection.execute(
        sa.select(examples.c.id).where(examples.c.turn_id == turn["id"])
    ).scalar()
    if found is None:
        return connection.execute(
            examples.insert().values(turn_id=turn["id"], created_by=by, created_at=now, **values)
        ).inserted_primary_key[0]
    connection.execute(examples.update().where(examples.c.id == found).values(**values))
    return found


def mark_wrong(
    engine: sa.engine.Engine,
    conversation_id: str,
    turn_id: int,
    by: str,
    now: Optional[dt.datetime] = None,
) -> int:
    """An answer staff disagree with: listed until someone gives the right topic."""
    with engine.begin() as connection:
        turn = _user_turn(connection, turn_id)
        if turn["conversation_id"] != conversation_id:
            raise TeachingError("That message is not in this conversation.")
        if turn["outcome"] not in ANSWERS:
            raise TeachingError("Only an answer the assistant gave can be marked wrong.")
        existing = (
            connection.execute(sa.select(examples).where(examples.c.turn_id == turn_id))
            .mappings()
            .first()
        )
        if existing is not None and existing["revoked_at"] is None:
            return existing["id"]
        return _save(connection, turn, DISAGREED, None, by, now or utc_now())


def teach_not_understood(
    engine: sa.engine.Engine,
    turn_ids: list[int],
    label: str,
    by: str,
    now: Optional[dt.datetime] = None,
) -> int:
    """Give messages of the "not understood" list a label; how many examples were saved."""
    label = _check_label(label)
    with engine.begin() as connection:
        chosen = [_user_turn(connection, turn_id) for turn_id in dict.fromkeys(turn_ids)]
        if any(turn["outcome"] not in NOT_UNDERSTOOD for turn in chosen):
            raise TeachingError("Only messages of the not understood list can be taught here.")
        for turn in chosen:
            _save(connection, turn, FROM_NOT_UNDERSTOOD, label, by, now or utc_now())
    return len(chosen)


def _open_example(connection: sa.engine.Connection, example_id: int) -> dict[str, Any]:
    row = (
        connection.execute(
            sa.select(examples).where(examples.c.id == example_id, examples.c.revoked_at.is_(None))
        )
        .mappings()
        .first()
    )
    if row is None:
        raise TeachingError("That example does not exist or was revoked.")
    return dict(row)


def set_label(
    engine: sa.engine.Engine,
    example_id: int,
    label: str,
    by: str,
    now: Optional[dt.datetime] = None,
) -> None:
    label = _check_label(label)
    with engine.begin() as connection:
        _open_example(connection, example_id)
        connection.execute(
            examples.update()
            .where(examples.c.id == example_id)
            .values(label=label, labelled_by=by, labelled_at=now or utc_now())
        )


def revoke(
    engine: sa.engine.Engine, example_id: int, by: str, now: Optional[dt.datetime] = None
) -> None:
    """Take an example back: it is kept, marked revoked, and no longer trained on."""
    with engine.begin() as connection:
        _open_example(connection, example_id)
        connection.execute(
            examples.update()
            .where(examples.c.id == example_id)
            .values(revoked_by=by, revoked_at=now or utc_now())
        )


def disagreed(engine: sa.engine.Engine) -> list[dict[str, Any]]:
    """Answers marked wrong whose right topic nobody has given yet, newest first."""
    return _list(engine, examples.c.label.is_(None), examples.c.revoked_at.is_(None))


def taught(engine: sa.engine.Engine, revoked: bool = False) -> list[dict[str, Any]]:
    """Examples with their label (the revoked ones instead, given `revoked`), newest first."""
    state = examples.c.revoked_at.is_not(None) if revoked else examples.c.revoked_at.is_(None)
    return _list(engine, examples.c.label.is_not(None), state)


def taught_turn_ids(engine: sa.engine.Engine, turn_ids: list[int]) -> set[int]:
    """Which of these messages have an example that is not revoked."""
    found: set[int] = set()
    with engine.connect() as connection:
        for start in range(0, len(turn_ids), 500):
            found.update(
                connection.execute(
                    sa.select(examples.c.turn_id).where(
                        examples.c.turn_id.in_(turn_ids[start : start + 500]),
                        examples.c.revoked_at.is_(None),
                    )
                ).scalars()
            )
    return found


def _list(engine: sa.engine.Engine, *conditions: Any) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        return [
            dict(row)
            for row in connection.execute(
                sa.select(examples).where(*conditions).order_by(examples.c.id.desc()).limit(2000)
            ).mappings()
        ]


def training_examples(engine: sa.engine.Engine) -> list[tuple[str, str]]:
    """Every taught example a model learns from, oldest first: (text, label) for FAQ topics and
    out of scope (a new topic needs its answer written first, so it is left out)."""
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(examples.c.text, examples.c.label)
            .where(
                examples.c.label.is_not(None),
                examples.c.label != NEW_TOPIC,
                examples.c.revoked_at.is_(None),
            )
            .order_by(examples.c.id)
        )
        return [(row.text, row.label) for row in rows]


def as_nlu_yaml(pairs: list[tuple[str, str]]) -> str:
    """(text, label) pairs as Rasa NLU YAML, intents in order."""
    by_intent: dict[str, list[str]] = {}
    for text, label in pairs:
        by_intent.setdefault(label, []).append(text)
    return nlu_yaml(dict(sorted(by_intent.items())))


def training_data(engine: sa.engine.Engine) -> str:
    """The taught examples as Rasa NLU YAML, for data/nlu/."""
    return as_nlu_yaml(training_examples(engine))
