"""The clinic's own records in SQL (SQLAlchemy Core): the engine, the column types every clinic
table uses, and requests for a consultation or a call back.

Tables are prefixed `clinic_` so they can share a database with Rasa's tracker store. Every
table is declared on `metadata` (clinic/schema.py lists the modules); the migrations in
clinic/migrations/ make them (`python -m clinic.migrate`), never a server.
"""

from __future__ import annotations

import datetime as dt
import json
from functools import lru_cache
from typing import Any, Optional

import sqlalchemy as sa

from clinic import settings

metadata = sa.MetaData()


def utc_now() -> dt.datetime:
    """Now, aware, in UTC: what every UtcDateTime column takes (naive ones are refused)."""
    return dt.datetime.now(dt.timezone.utc)


class UtcDateTime(sa.types.TypeDecorator):
    """Aware UTC datetimes on every database (SQLite keeps no time zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Optional[dt.datetime], dialect: Any) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware one (UTC)")
        value = value.astimezone(dt.timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Optional[dt.datetime], dialect: Any) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


class JsonText(sa.types.TypeDecorator):
    """JSON kept as text, the same on SQLite and PostgreSQL."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Optional[str]:
        return None if value is None else json.dumps(value, ensure_ascii=False)

    def process_result_value(self, value: Optional[str], dialect: Any) -> Any:
        return None if value is None else json.loads(value)


# Rasa's own `events` tables, read (and, by retention, pruned) but never created here: the SQL
# tracker store's, in this database, and the SQL event broker's, in a database of its own,
# which has only `id`, `sender_id` and `data`.
rasa_events = sa.table(
    "events",
    sa.column("id"),
    sa.column("sender_id"),
    sa.column("type_name"),
    sa.column("timestamp"),
    sa.column("data"),
)

contact_requests = sa.Table(
    "clinic_contact_requests",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("conversation_id", sa.String(255), nullable=False, index=True),
    sa.Column("channel", sa.String(64)),
    sa.Column("kind", sa.String(32), nullable=False),  # consultation | callback
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("contact_kind", sa.String(16), nullable=False),  # phone | email
    sa.Column("contact", sa.String(255), nullable=False),
    sa.Column("preferred_time", sa.String(255), nullable=False),
    sa.Column("status", sa.String(32), nullable=False, default="new"),
)


@lru_cache(maxsize=None)
def engine_for(url: str) -> sa.engine.Engine:
    """One engine per database URL, checked to be reachable and at this release's schema."""
    from clinic import migrate  # (it reads the migrations, which import this module)

    engine = create_engine(url)
    check_reachable(engine, settings.DATABASE_URL_ENV)
    migrate.check_current(engine)
    return engine


def create_engine(url: str) -> sa.engine.Engine:
    """An engine as every process of the clinic makes it: errors never show what people wrote,
    connections are tested before use, a locked SQLite file or a silent server is waited for
    only so long."""
    connect_args = {"timeout": 15} if url.startswith("sqlite") else {"connect_timeout": 10}
    return sa.create_engine(
        url, future=True, pool_pre_ping=True, connect_args=connect_args, hide_parameters=True
    )


def hold_write_lock(connection: sa.engine.Connection, key: str, table: sa.Table) -> None:
    """Serialize this transaction with every other that holds the lock of `key`, until it ends:
    on PostgreSQL an advisory lock of the key; on SQLite the database's write lock, taken now by
    a write statement that changes nothing in `table` (a deferred transaction takes it only at
    its first write, after its reads)."""
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})
    elif connection.dialect.name == "sqlite":
        column = next(iter(table.primary_key.columns))
        connection.execute(table.update().where(sa.false()).values({column.name: column}))


class DatabaseUnreachable(settings.SettingsError, sa.exc.OperationalError):
    """A database that cannot be reached, said in one line naming its setting. Also an
    OperationalError, so code that waits for the database and retries keeps doing so."""

    def __init__(self, message: str, orig: BaseException) -> None:
        sa.exc.OperationalError.__init__(self, None, None, orig)
        self.message = message

    def __str__(self) -> str:
        return self.message


def check_reachable(engine: sa.engine.Engine, variable: str) -> None:
    """Raise DatabaseUnreachable, in one line naming `variable`, when the database cannot be
    reached (at start-up: instead of a retry loop or a page of traceback)."""
    try:
        with engine.connect():
            pass
    except sa.exc.SQLAlchemyError as error:
        orig = getattr(error, "orig", None) or error
        reason = str(orig).strip().splitlines()[0]
        raise DatabaseUnreachable(
            f"{variable}: cannot reach the database at "
            f"{engine.url.render_as_string(hide_password=True)} ({reason})",
            orig,
        ) from None


def save_contact_request(
    engine: sa.engine.Engine,
    *,
    conversation_id: str,
    channel: Optional[str],
    kind: str,
    name: str,
    contact_kind: str,
    contact: str,
    preferred_time: str,
    now: Optional[dt.datetime] = None,
) -> int:
    """Store a request and return its id."""
    row = dict(
        created_at=now or utc_now(),
        conversation_id=conversation_id,
        channel=channel,
        kind=kind,
        name=name,
        contact_kind=contact_kind,
        contact=contact,
        preferred_time=preferred_time,
        status="new",
    )
    with engine.begin() as connection:
        result = connection.execute(contact_requests.insert().values(**row))
        return int(result.inserted_primary_key[0])
