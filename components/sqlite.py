"""The Rasa server's own databases (tracker store, event broker): their URL from the
environment, and one SQLite engine setting.

Each write on the server's event loop is a commit. In SQLite's default rollback-journal mode a
commit syncs the file to disk twice and blocks readers (the console, the crisis sweep); with a
write-ahead log and synchronous=NORMAL it appends to the log and stays safe across a crash of
the process (a power cut can lose the last commits, never corrupt the file). One kept
connection, as the server uses them one at a time.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

import sqlalchemy as sa


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def server_engine(url: sa.engine.URL) -> sa.engine.Engine:
    """An engine for `url`: on SQLite, one kept connection in WAL mode; elsewhere each pooled
    connection is checked before use (a restarted database costs no failed request). Its
    errors never carry the bound values (what people wrote, phone numbers) into a log."""
    if url.get_backend_name() != "sqlite":
        return sa.create_engine(
            url, pool_pre_ping=True, hide_parameters=True, connect_args={"connect_timeout": 10}
        )
    engine = sa.create_engine(
        url,
        poolclass=sa.pool.QueuePool,
        pool_size=1,
        hide_parameters=True,
        connect_args={"timeout": 15},
    )
    sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def endpoint_kwargs(url: Optional[str]) -> Dict[str, Any]:
    """Rasa's SQL endpoint settings (dialect, host, port, db, username, password, query) for a
    SQLAlchemy URL, which then takes the place of endpoints.yml's; {} when `url` is None."""
    if not url:
        return {}
    parsed = sa.engine.make_url(url)
    return {
        "dialect": parsed.drivername,
        "host": parsed.host,
        "port": parsed.port,
        "db": parsed.database,
        "username": parsed.username,
        "password": parsed.password,
        "query": dict(parsed.query) or None,
    }
