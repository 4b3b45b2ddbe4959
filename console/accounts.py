"""Staff accounts: Argon2id password hashes, two roles, a lock after repeated failed logins, and
the audit log of who did what.

Tables live beside the clinic's other records (`clinic.db`), prefixed `console_`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Optional

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from clinic.db import UtcDateTime, metadata

STAFF, ADMIN = "staff", "admin"
ROLES = (STAFF, ADMIN)
MAX_FAILURES = 5  # failed logins in a row before the account is locked
LOCK_MINUTES = 15
MIN_PASSWORD_LENGTH = 12
USERNAME = re.compile(r"^[A-Za-z0-9._-]{2,64}$")

_hasher = PasswordHasher()  # Argon2id with the library's current recommended parameters
# Verified when the username does not exist, so that a login takes as long either way.
_DUMMY_HASH = _hasher.hash("not a password anyone has")

users = sa.Table(
    "console_users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("failed_logins", sa.Integer, nullable=False, default=0),
    sa.Column("locked_until", UtcDateTime),
    sa.Column("last_login_at", UtcDateTime),
)

audit_log = sa.Table(
    "console_audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", UtcDateTime, nullable=False, index=True),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),  # view_escalation, acknowledge, login…
    sa.Column("target", sa.String(255)),  # what it was done to, e.g. "escalation 12"
)


class AccountError(ValueError):
    """A user cannot be created, or a login is refused; the message can be shown."""


@dataclass(frozen=True)
class Staff:
    id: int
    username: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def create_user(engine: sa.engine.Engine, username: str, password: str, role: str = STAFF) -> Staff:
    if not USERNAME.match(username or ""):
        raise AccountError("a username is 2 to 64 letters, digits, dots, dashes or underscores")
    if role not in ROLES:
        raise AccountError(f"the role is one of {', '.join(ROLES)}")
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise AccountError(f"a password has at least {MIN_PASSWORD_LENGTH} characters")
    try:
        with engine.begin() as connection:
            new_id = connection.execute(
                sa.insert(users).values(
                    username=username, password_hash=_hasher.hash(password), role=role,
                    created_at=_now(), failed_logins=0,
                )
            ).inserted_primary_key[0]
    except sa.exc.IntegrityError:
        raise AccountError(f"there is already a user {username!r}") from None
    return Staff(id=new_id, username=username, role=role)


def get_user(engine: sa.engine.Engine, user_id: int) -> Optional[Staff]:
    with engine.connect() as connection:
        row = connection.execute(sa.select(users).where(users.c.id == user_id)).mappings().first()
    return Staff(id=row["id"], username=row["username"], role=row["role"]) if row else None


def authenticate(
    engine: sa.engine.Engine, username: str, password: str, now: Optional[dt.datetime] = None
) -> Staff:
    """The user whose password this is; AccountError saying only what a visitor may know."""
    now = now or _now()
    refused = AccountError("Wrong username or password.")
    with engine.connect() as connection:
        row = connection.execute(
            sa.select(users).where(users.c.username == username)
        ).mappings().first()
    if row is None:
        try:
            _hasher.verify(_DUMMY_HASH, password or "-")
        except VerificationError:
            pass
        raise refused
    if row["locked_until"] and row["locked_until"] > now:
        raise AccountError(
            "Too many failed attempts: this account is locked for a few minutes. "
            "Ask an administrator if you need in now."
        )
    try:
        _hasher.verify(row["password_hash"], password or "")
    except (VerificationError, InvalidHashError):
        failures = row["failed_logins"] + 1
        locked = now + dt.timedelta(minutes=LOCK_MINUTES) if failures >= MAX_FAILURES else None
        with engine.begin() as connection:
            connection.execute(
                sa.update(users).where(users.c.id == row["id"]).values(
                    failed_logins=0 if locked else failures, locked_until=locked
                )
            )
        raise refused from None
    values: dict[str, Any] = {"failed_logins": 0, "locked_until": None, "last_login_at": now}
    if _hasher.check_needs_rehash(row["password_hash"]):
        values["password_hash"] = _hasher.hash(password)
    with engine.begin() as connection:
        connection.execute(sa.update(users).where(users.c.id == row["id"]).values(**values))
    return Staff(id=row["id"], username=row["username"], role=row["role"])


def audit(engine: sa.engine.Engine, username: str, action: str, target: Optional[str] = None) -> None:
    """Who did what to which record, and when (every view of health information too)."""
    with engine.begin() as connection:
        connection.execute(
            sa.insert(audit_log).values(at=_now(), username=username, action=action, target=target)
        )


def audit_entries(engine: sa.engine.Engine, limit: int = 200) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        ).mappings()
        return [dict(row) for row in rows]
