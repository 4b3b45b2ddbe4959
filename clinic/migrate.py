"""The clinic database's schema, owned by Alembic (`clinic/migrations/`).

`python -m clinic.migrate` (`make migrate`; `make run`, `make scale` and a deployment's
prepare-stores step run it before any server starts) brings the database
at CLINIC_DATABASE_URL to this release's schema; the servers only check that it is there.
A database made before the migrations existed (by `create_all`) is taken over by the first
revision. To add a change: edit the tables, then
`.venv/bin/python -m clinic.migrate revision "what changed"` and read what it wrote.
"""

from __future__ import annotations

import argparse
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional, Union

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from clinic import db, settings

SCRIPTS = Path(__file__).parent / "migrations"
VERSION_TABLE = "clinic_alembic_version"  # prefixed like the clinic's tables (beside Rasa's)
# Made by the migrations, declared by no table: the search index of messages on PostgreSQL.
MIGRATION_ONLY = {"ix_console_turns_text_trigrams"}


class SchemaNotCurrent(settings.SettingsError):
    """The database's schema is not this release's: say how to migrate it."""


def include_name(name: Optional[str], kind: str, parent: Any) -> bool:
    """What migrations compare: the clinic's tables (Rasa's own `events` share the database and
    are Rasa's business) and their indexes, but for those only the migrations make."""
    from clinic.schema import metadata

    return name in metadata.tables if kind == "table" else name not in MIGRATION_ONLY


def _config(connection: Optional[sa.engine.Connection] = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    config.attributes["connection"] = connection
    return config


@lru_cache(maxsize=None)
def head() -> str:
    """The revision this release's code expects."""
    return ScriptDirectory.from_config(_config()).get_current_head()


def current(engine: sa.engine.Engine) -> Optional[str]:
    """The database's revision (None: never migrated)."""
    with engine.connect() as connection:
        return MigrationContext.configure(
            connection, opts={"version_table": VERSION_TABLE}
        ).get_current_revision()


def upgrade(target: Union[str, sa.engine.Engine], revision: str = "head") -> None:
    """Run the migrations up to `revision` on a database (a URL or an engine)."""
    if isinstance(target, str):
        _make_folder(target)
    engine = db.create_engine(target) if isinstance(target, str) else target
    try:
        with engine.begin() as connection:
            command.upgrade(_config(connection), revision)
    finally:
        if isinstance(target, str):
            engine.dispose()


def sqlite_path(url: str) -> Optional[Path]:
    """The file of an SQLite database URL (None: another database, or one in memory)."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def _make_folder(url: str) -> None:
    """The folder of an SQLite file (var/ on a fresh clone)."""
    path = sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)


def check_current(engine: sa.engine.Engine, variable: str = settings.DATABASE_URL_ENV) -> None:
    """Raise SchemaNotCurrent, in one line, unless the database is at this release's revision."""
    found = current(engine)
    if found != head():
        state = "has no clinic schema yet" if found is None else f"is at revision {found}"
        raise SchemaNotCurrent(
            f"the database at {variable} {state}; this release needs {head()}: "
            "run `make migrate` (python -m clinic.migrate)"
        )


def main(argv: Optional[list[str]] = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m clinic.migrate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("upgrade", help="bring the database to this release's schema (the default)")
    sub.add_parser("current", help="print the database's revision")
    new = sub.add_parser(
        "revision",
        help="write a migration from the difference between the "
        "tables and a database at head (developers)",
    )
    new.add_argument("message")
    args = parser.parse_args(argv)
    url = settings.current().database_url
    _make_folder(url)
    engine = db.create_engine(url)
    try:
        db.check_reachable(engine, settings.DATABASE_URL_ENV)
        if args.command == "revision":
            with engine.begin() as connection:
                command.revision(_config(connection), message=args.message, autogenerate=True)
        elif args.command == "current":
            print(current(engine) or "none")
        else:
            before = current(engine)
            upgrade(engine)
            print(
                f"migrate: database at {head()}"
                + ("" if before == head() else f" (was {before or 'empty'})")
            )
    finally:
        engine.dispose()


if __name__ == "__main__":
    main()
