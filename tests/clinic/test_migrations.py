"""The schema is the migrations' (clinic/migrations/): they make exactly the tables the code
declares, on SQLite and PostgreSQL; they take over a database the release before them made,
keeping its rows; a server refuses a database that is not at this release's revision."""

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from clinic import migrate
from clinic.db import create_engine, engine_for
from clinic.escalations import escalations
from clinic.schema import metadata
from console.auth import accounts
from support import ROOT, postgres_database

BEFORE_MIGRATIONS = Path(__file__).parents[1] / "data" / "schemas" / "before_migrations.sqlite.sql"
SEARCH_INDEX = "console_turns_search"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'clinic.db'}"
        return
    with postgres_database("migrations") as url:
        yield url


def differences(url: str) -> list:
    """What autogenerate would write: the tables the code declares against the database."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_name": migrate.include_name}
            )
            return compare_metadata(context, metadata)
    finally:
        engine.dispose()


def test_the_migrations_make_the_tables_the_code_declares(empty_url):
    migrate.upgrade(empty_url)
    assert differences(empty_url) == []
    assert migrate.current(create_engine(empty_url)) == migrate.head()
    migrate.upgrade(empty_url)  # a second run changes nothing
    assert differences(empty_url) == []


def test_they_can_be_undone_and_done_again(empty_url):
    migrate.upgrade(empty_url)
    engine = create_engine(empty_url)
    with engine.begin() as connection:
        command.downgrade(migrate._config(connection), "base")
    assert [
        name
        for name in sa.inspect(engine).get_table_names()
        if name.startswith(("clinic_", "console_")) and name != migrate.VERSION_TABLE
    ] == []
    migrate.upgrade(engine)
    assert differences(empty_url) == []


def test_a_database_the_release_before_migrations_made_is_taken_over_with_its_rows(tmp_path):
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    engine = create_engine(url)
    with engine.begin() as connection:
        sql = "".join(
            line
            for line in BEFORE_MIGRATIONS.read_text().splitlines(keepends=True)
            if not line.startswith("--")
        )
        for statement in sql.split(";\n"):
            if statement.strip():
                connection.exec_driver_sql(statement)
        # An even older one: console_users before accounts could be disabled.
        connection.exec_driver_sql("ALTER TABLE console_users DROP COLUMN disabled_at")
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO console_users (username, password_hash, role, created_at, failed_logins, "
                "session_version) VALUES ('ada', :hash, 'admin', :now, 0, 0)"
            ),
            {
                "hash": accounts._hasher.hash("a long enough password"),
                "now": dt.datetime(2026, 11, 1),
            },
        )
        connection.execute(
            escalations.insert().values(
                created_at=dt.datetime(2026, 11, 2, tzinfo=dt.timezone.utc),
                conversation_id="c-1",
                message_id="m-1",
                level="urgent",
                categories=["suicidal_ideation"],
                evidence=[],
                subject="self",
                last_turns=[],
                status="open",
                reminders_sent=0,
            )
        )
    with pytest.raises(migrate.SchemaNotCurrent, match="make migrate"):
        engine_for(url)

    migrate.upgrade(url)

    assert differences(url) == []
    migrated = engine_for(url)  # the servers accept it now
    assert accounts.authenticate(migrated, "ada", "a long enough password").role == accounts.ADMIN
    with migrated.connect() as connection:
        [row] = connection.execute(sa.select(escalations)).mappings()
        assert row["conversation_id"] == "c-1" and row["categories"] == ["suicidal_ideation"]
        assert SEARCH_INDEX in sa.inspect(connection).get_table_names()


def test_a_server_refuses_a_database_never_migrated_in_one_line(tmp_path):
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    with pytest.raises(migrate.SchemaNotCurrent) as refused:
        engine_for(url)
    assert str(refused.value) == (
        f"the database at CLINIC_DATABASE_URL has no clinic schema yet; this release needs "
        f"{migrate.head()}: run `make migrate` (python -m clinic.migrate)"
    )


def test_the_migrate_command_makes_the_folder_and_says_what_it_did(tmp_path):
    url = f"sqlite:///{tmp_path / 'var' / 'assistant.db'}"
    run = lambda *args: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "clinic.migrate", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"CLINIC_DATABASE_URL": url, "PATH": "/usr/bin:/bin"},
    )
    first = run()
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == f"migrate: database at {migrate.head()} (was empty)"
    assert run().stdout.strip() == f"migrate: database at {migrate.head()}"
    assert run("current").stdout.strip() == migrate.head()


def test_an_sms_left_unanswered_across_the_upgrade_is_taken_over_at_once(empty_url):
    """0002 moves an SMS claim from `received_at` (overwritten on every renewal) to a lease:
    a message still being answered when the servers stopped for the upgrade belonged to a
    process that is gone, so the recovery loop takes it at once, and the time it came stays."""
    from clinic import sms

    came = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.timezone.utc)
    migrate.upgrade(empty_url, "0001")
    engine = create_engine(empty_url)
    old_messages = sa.table(
        "clinic_sms_messages",
        *(sa.column(name) for name in ("message_sid", "conversation_id", "received_at", "status")),
    )
    with engine.begin() as connection:
        connection.execute(
            old_messages.insert().values(
                message_sid="SM1",
                conversation_id="sms-a",
                received_at=came.replace(tzinfo=None) if engine.dialect.name == "sqlite" else came,
                status=sms.RECEIVED,
            )
        )
        connection.execute(sms.inbox.insert().values(message_sid="SM1", body="hi"))
    migrate.upgrade(engine)
    stale = sms.stale_messages(engine, now=came + dt.timedelta(seconds=1))
    assert [(p.message_sid, p.received_at, p.body) for p in stale] == [("SM1", came, "hi")]
    assert sms.take_over(engine, "SM1", dt.timedelta(seconds=30), now=came + dt.timedelta(1))
    assert sms.stale_messages(engine, now=came + dt.timedelta(1)) == []
