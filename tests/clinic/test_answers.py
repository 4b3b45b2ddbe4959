"""Reworded answers (clinic/answers.py): which version is current, and the cache the Rasa server
reads them through: fresh within seconds, no query per reply, shipped texts (and one warning)
when the database cannot be read."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

import sqlalchemy as sa

from clinic import answers
from clinic.answers import ALL_CHANNELS, APPROVED, DRAFT, REJECTED, REVERTED, SMS, ApprovedTexts
from support import add_answer_version, migrated_engine

COST = "utter_faq/cost"
T0 = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.timezone.utc)


def add(engine, text, status=APPROVED, channel=ALL_CHANNELS, response=COST, at=T0):
    """A version as the console stores it, decided at `at` (drafts are not)."""
    add_answer_version(engine, text, response=response, channel=channel, status=status, at=at)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_latest_approval_is_current_and_a_revert_brings_back_the_shipped_text(tmp_path):
    engine = migrated_engine(f"sqlite:///{tmp_path / 'clinic.db'}")
    add(engine, "drafted", status=DRAFT)
    add(engine, "turned down", status=REJECTED)
    with engine.connect() as connection:
        assert answers.current_texts(connection) == {}
    # Approved in the other order than written: the later approval is current.
    add(engine, "approved second", at=T0 + dt.timedelta(minutes=2))
    add(engine, "approved first", at=T0 + dt.timedelta(minutes=1))
    add(engine, "short", channel=SMS, at=T0 + dt.timedelta(minutes=1))
    with engine.connect() as connection:
        assert answers.current_texts(connection) == {
            (COST, ALL_CHANNELS): "approved second",
            (COST, SMS): "short",
        }
    add(engine, "the shipped text", status=REVERTED, at=T0 + dt.timedelta(minutes=3))
    with engine.connect() as connection:
        assert answers.current_texts(connection) == {(COST, SMS): "short"}
        assert answers.current_texts(connection, "utter_faq/contact") == {}


def test_texts_are_read_once_per_few_seconds_not_once_per_reply(tmp_path):
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    engine = migrated_engine(url)
    clock = Clock()
    texts = ApprovedTexts(url, max_age=5.0, clock=clock)
    statements = []
    sa.event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    asyncio.run(texts.refresh_if_stale())
    assert texts.text_for(COST, "rest") is None and len(statements) == 1

    add(engine, "New wording")
    statements.clear()
    for _ in range(20):  # replies within the five seconds: no query, the old text
        asyncio.run(texts.refresh_if_stale())
        assert texts.text_for(COST, "rest") is None
    assert statements == []
    clock.now += 5.0
    asyncio.run(texts.refresh_if_stale())
    assert texts.text_for(COST, "rest") == "New wording" and len(statements) == 1


def test_sms_reads_its_own_variant_first_and_only_faq_answers_are_ever_given(tmp_path):
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    engine = migrated_engine(url)
    add(engine, "Everywhere")
    add(engine, "Crisis words", response="utter_crisis")  # never from the console; never served
    texts = ApprovedTexts(url)
    texts.refresh()
    assert texts.text_for(COST, "twilio") == "Everywhere"
    add(engine, "On SMS", channel=SMS)
    texts.refresh()
    assert texts.text_for(COST, "twilio") == "On SMS"
    assert texts.text_for(COST, "webchat") == "Everywhere"
    assert texts.text_for("utter_crisis", "rest") is None


def test_an_unreachable_database_serves_the_shipped_texts_with_one_warning(tmp_path, caplog):
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    engine = migrated_engine(url)
    add(engine, "Secret new wording")
    clock = Clock()
    texts = ApprovedTexts(url, max_age=5.0, retry_after=30.0, clock=clock)
    texts.refresh()
    assert texts.text_for(COST, "rest") == "Secret new wording"

    with engine.begin() as connection:  # the table is gone: every read fails from here
        connection.execute(sa.text("ALTER TABLE clinic_answer_versions RENAME TO elsewhere"))
    caplog.set_level(logging.INFO, logger="clinic.answers")
    for _ in range(3):
        clock.now += 30.0
        texts.refresh()
        assert texts.text_for(COST, "rest") is None  # the shipped text
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "shipped texts are served" in warnings[0].getMessage()
    assert "Secret" not in caplog.text

    with engine.begin() as connection:
        connection.execute(sa.text("ALTER TABLE elsewhere RENAME TO clinic_answer_versions"))
    clock.now += 30.0
    texts.refresh()
    assert texts.text_for(COST, "rest") == "Secret new wording"
    assert "read from the clinic database again" in caplog.text


def test_a_database_that_was_never_there_is_no_error(tmp_path, caplog):
    texts = ApprovedTexts(f"sqlite:///{tmp_path / 'no' / 'such' / 'folder.db'}")
    asyncio.run(texts.refresh_if_stale())
    assert texts.text_for(COST, "rest") is None
    assert "cannot be read" in caplog.text
