"""A database error never carries what people wrote (SQLAlchemy puts the bound values of a
failed statement into the exception's text, which the servers log, unless told not to)."""

import logging

import pytest
import sqlalchemy as sa

from clinic.db import create_engine
from components.sqlite import server_engine
from projector.index import broker_engine

SECRET = "i want to kill myself, call me on 555 010 4477"


@pytest.mark.parametrize(
    "make_engine",
    [
        lambda url: server_engine(sa.engine.make_url(url)),  # tracker store and event broker
        create_engine,  # the clinic's tables
        broker_engine,  # the console's index reader
    ],
    ids=["rasa-server", "clinic", "console-index"],
)
def test_a_failed_statement_does_not_log_its_values(tmp_path, caplog, make_engine):
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    caplog.set_level(logging.DEBUG)
    with pytest.raises(sa.exc.OperationalError) as failure:
        with engine.begin() as connection:
            connection.execute(
                sa.text("INSERT INTO no_such_table (text) VALUES (:text)"), {"text": SECRET}
            )
    logging.getLogger("test").exception("as a server would log it", exc_info=failure.value)
    assert "no_such_table" in str(failure.value)
    assert SECRET not in str(failure.value)
    assert SECRET not in caplog.text
