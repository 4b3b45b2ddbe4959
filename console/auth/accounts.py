"""Staff accounts: Argon2id password hashes, two roles, a lock after repeated failed logins,
accounts an administrator can disable, a password staff change themselves (giving the current
one, counted as a log-in is), and the audit log of who did what.

Tables live beside the clinic's other records (`clinic.db`), prefixed `console_`.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from dataclasses import dataclass
from typing import Any, Optional

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from clinic.db import UtcDateTime, metadata, utc_now

STAFF, ADMIN = "staff", "admin"
ROLES = (STAFF, ADMIN)
MAX_FAILURES = 5  # failed logins in a row before the account is locked
LOCK_MINUTES = 15
REFUSED = (
    f"Wrong username or password, or too many attempts: after {MAX_FAILURES} an account "
    f"is locked for {LOCK_MINUTES} minutes (an administrator can unlock it)."
)
WRONG_CURRENT_PASSWORD = (
    f"The current password is wrong, or there were too many attempts: after {MAX_FAILURES} wrong "
    f"passwords in a row, here or at log-in, the account is locked for {LOCK_MINUTES} minutes "
    f"(an administrator can unlock it)."
)
HASHING_AT_ONCE = 2  # password checks at once in one process (Argon2: 64 MiB each)
HASHING_WAIT_SECONDS = 10.0
MIN_PASSWORD_LENGTH = 12
PASSWORD_RULE = f"a password has at least {MIN_PASSWORD_LENGTH} characters"
USERNAME = re.compile(r"^[A-Za-z0-9._-]{2,64}$")

_hasher = PasswordHasher()  # Argon2id with the library's current recommended parameters
_hashing = threading.BoundedSemaphore(HASHING_AT_ONCE)
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
    # Bumped at log-out and at a password change: every session signed before stops working.
    sa.Column("session_version", sa.Integer),
    # Set: the account cannot log in and its open sessions stop working (`get_user`).
    sa.Column("disabled_at", UtcDateTime),
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


class WrongCurrentPassword(AccountError):
    """A staff member changing their password did not give the current one (a counted attempt)."""


@dataclass(frozen=True)
class Staff:
    id: int
    username: str
    role: str
    session_version: int = 0

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN


def _check_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise AccountError(PASSWORD_RULE)


def typed_twice(password: str, again: str) -> str:
    """A new password from a form that asks for it twice: the same both times."""
    if password != again:
        raise AccountError("The two passwords differ.")
    return password


def create_user(engine: sa.engine.Engine, username: str, password: str, role: str = STAFF) -> Staff:
    if not USERNAME.match(username or ""):
        raise AccountError("a username is 2 to 64 letters, digits, dots, dashes or underscores")
    if role not in ROLES:
        raise AccountError(f"the role is one of {', '.join(ROLES)}")
    _check_password(password)
    try:
        with engine.begin() as connection:
            new_id = connection.execute(
                sa.insert(users).values(
                    username=username,
                    password_hash=_hasher.hash(password),
                    role=role,
                    created_at=utc_now(),
                    failed_logins=0,
                )
            ).inserted_primary_key[0]
    except sa.exc.IntegrityError:
        raise AccountError(f"there is already a user {username!r}") from None
    return Staff(id=new_id, username=username, role=role)


def get_user(engine: sa.engine.Engine, user_id: int) -> Optional[Staff]:
    """The account of a session; None when it no longer exists or has been disabled."""
    with engine.connect() as connection:
        row = connection.execute(sa.select(users).where(users.c.id == user_id)).mappings().first()
    if row is None or row["disabled_at"] is not None:
        return None
    return Staff(
        id=row["id"],
        username=row["username"],
        role=row["role"],
        session_version=row["session_version"] or 0,
    )


def authenticate(
    engine: sa.engine.Engine, username: str, password: str, now: Optional[dt.datetime] = None
) -> Staff:
    """The user whose password this is; AccountError saying only what a visitor may know.

    Each attempt is counted before its password is checked, in one conditional UPDATE, so
    guesses sent in parallel count one each (read, hash, then write counted them once); the
    MAX_FAILURES-th failure locks the account for LOCK_MINUTES. A locked account and a wrong
    password get the same answer, and at most HASHING_AT_ONCE checks run at a time (Argon2
    takes 64 MiB each).
    """
    now = now or utc_now()
    with engine.connect() as connection:
        row = (
            connection.execute(sa.select(users).where(users.c.username == username))
            .mappings()
            .first()
        )
    if row is None:
        _verify(_DUMMY_HASH, password or "-")
        raise AccountError(REFUSED)
    if not _counted_check(engine, row, password, now):
        raise AccountError(REFUSED)
    if row["disabled_at"] is not None:  # said only to whoever knows the password
        raise AccountError("This account is disabled. Ask an administrator.")
    values: dict[str, Any] = {"failed_logins": 0, "locked_until": None, "last_login_at": now}
    if _hasher.check_needs_rehash(row["password_hash"]):
        values["password_hash"] = _hasher.hash(password)
    with engine.begin() as connection:
        connection.execute(sa.update(users).where(users.c.id == row["id"]).values(**values))
    return Staff(
        id=row["id"],
        username=row["username"],
        role=row["role"],
        session_version=row["session_version"] or 0,
    )


def _counted_check(engine: sa.engine.Engine, row: Any, password: str, now: dt.datetime) -> bool:
    """Whether `password` is the account's (`row`), the attempt counted before the check, as
    `authenticate` describes; False also for a locked account. A success does not reset the
    count: the caller does, with what else it writes."""
    not_locked = sa.or_(users.c.locked_until.is_(None), users.c.locked_until <= now)
    with engine.begin() as connection:
        counted = connection.execute(
            sa.update(users)
            .where(users.c.id == row["id"], not_locked, users.c.failed_logins < MAX_FAILURES)
            .values(failed_logins=users.c.failed_logins + 1)
        ).rowcount
    if counted != 1:  # locked, or its last allowed attempts are being checked right now
        return False
    if not _verify(row["password_hash"], password or ""):
        with engine.begin() as connection:
            connection.execute(
                sa.update(users)
                .where(users.c.id == row["id"], users.c.failed_logins >= MAX_FAILURES)
                .values(failed_logins=0, locked_until=now + dt.timedelta(minutes=LOCK_MINUTES))
            )
        return False
    return True


def change_own_password(
    engine: sa.engine.Engine, user: Staff, current: str, new: str, now: Optional[dt.datetime] = None
) -> Staff:
    """A staff member's new password, given with their current one; the account as it is now.

    The new password is checked against the rule first (a typo in it costs no attempt); the
    current one is checked as a log-in checks it, counted and locking after MAX_FAILURES
    (WrongCurrentPassword). The change bumps the session version: every session of the
    account ends, so the caller starts a new one for the person making the change.
    """
    _check_password(new)
    now = now or utc_now()
    with engine.connect() as connection:
        row = connection.execute(sa.select(users).where(users.c.id == user.id)).mappings().first()
    if row is None or row["disabled_at"] is not None:
        raise AccountError("There is no such account.")
    if not _counted_check(engine, row, current, now):
        raise WrongCurrentPassword(WRONG_CURRENT_PASSWORD)
    new_hash = _hasher.hash(new)
    with engine.begin() as connection:
        connection.execute(
            sa.update(users)
            .where(users.c.id == user.id)
            .values(
                password_hash=new_hash,
                failed_logins=0,
                locked_until=None,
                session_version=sa.func.coalesce(users.c.session_version, 0) + 1,
            )
        )
        version = connection.execute(
            sa.select(users.c.session_version).where(users.c.id == user.id)
        ).scalar()
    return Staff(id=row["id"], username=row["username"], role=row["role"], session_version=version)


def _verify(password_hash: str, password: str) -> bool:
    """Whether `password` matches, with at most HASHING_AT_ONCE checks in this process."""
    if not _hashing.acquire(timeout=HASHING_WAIT_SECONDS):
        raise AccountError("The console is busy: please try again in a moment.")
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    finally:
        _hashing.release()


UNKNOWN_USERNAME = "(no such account)"


def known_username(engine: sa.engine.Engine, typed: str) -> str:
    """What a failed log-in's audit entry names: the account, when one has that name, else
    UNKNOWN_USERNAME (what was typed may be a password typed into the wrong field)."""
    with engine.connect() as connection:
        found = connection.execute(
            sa.select(users.c.username).where(users.c.username == typed[:64])
        ).scalar()
    return found or UNKNOWN_USERNAME


def audit(
    engine: sa.engine.Engine, username: str, action: str, target: Optional[str] = None
) -> None:
    """Who did what to which record, and when (every view of health information too)."""
    with engine.begin() as connection:
        connection.execute(
            sa.insert(audit_log).values(
                at=utc_now(), username=username, action=action, target=target
            )
        )


def audit_entries(
    engine: sa.engine.Engine, limit: int = 200, before: Optional[int] = None
) -> list[dict[str, Any]]:
    """The newest entries first; `before` an entry id: the page that follows it."""
    query = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if before is not None:
        query = query.where(audit_log.c.id < before)
    with engine.connect() as connection:
        return [dict(row) for row in connection.execute(query).mappings()]


# What administrators do to accounts (`console.admin.routes`). Each returns the account's username.


def list_users(engine: sa.engine.Engine) -> list[dict[str, Any]]:
    """Every account without its password hash, by username."""
    columns = [c for c in users.c if c.name != "password_hash"]
    with engine.connect() as connection:
        return [
            dict(row)
            for row in connection.execute(sa.select(*columns).order_by(users.c.username)).mappings()
        ]


def _account(connection: sa.engine.Connection, user_id: int) -> dict[str, Any]:
    row = (
        connection.execute(sa.select(users).where(users.c.id == user_id).with_for_update())
        .mappings()
        .first()
    )
    if row is None:
        raise AccountError("There is no such account.")
    return dict(row)


def _keep_an_admin(connection: sa.engine.Connection, account: dict[str, Any], change: str) -> None:
    """Refuse a change that would leave no enabled administrator to manage the accounts."""
    if account["role"] != ADMIN or account["disabled_at"] is not None:
        return
    others = connection.execute(
        sa.select(users.c.id)
        .where(users.c.role == ADMIN, users.c.disabled_at.is_(None), users.c.id != account["id"])
        .with_for_update()
    ).first()
    if others is None:
        raise AccountError(
            f"{account['username']} is the last administrator: make another "
            f"account an administrator before you {change} this one."
        )


def set_role(engine: sa.engine.Engine, user_id: int, role: str) -> str:
    if role not in ROLES:
        raise AccountError(f"the role is one of {', '.join(ROLES)}")
    with engine.begin() as connection:
        account = _account(connection, user_id)
        if role != ADMIN:
            _keep_an_admin(connection, account, "demote")
        connection.execute(sa.update(users).where(users.c.id == user_id).values(role=role))
    return account["username"]


def set_disabled(
    engine: sa.engine.Engine, user_id: int, disabled: bool, now: Optional[dt.datetime] = None
) -> str:
    with engine.begin() as connection:
        account = _account(connection, user_id)
        if disabled:
            _keep_an_admin(connection, account, "disable")
            if account["disabled_at"] is None:
                connection.execute(
                    sa.update(users)
                    .where(users.c.id == user_id)
                    .values(disabled_at=now or utc_now())
                )
        else:
            connection.execute(
                sa.update(users).where(users.c.id == user_id).values(disabled_at=None)
            )
    return account["username"]


def unlock(engine: sa.engine.Engine, user_id: int) -> str:
    with engine.begin() as connection:
        account = _account(connection, user_id)
        connection.execute(
            sa.update(users).where(users.c.id == user_id).values(failed_logins=0, locked_until=None)
        )
    return account["username"]


def set_password(engine: sa.engine.Engine, user_id: int, password: str) -> str:
    """A new password, chosen by an administrator; it also lifts a lock."""
    _check_password(password)
    new_hash = _hasher.hash(password)
    with engine.begin() as connection:
        account = _account(connection, user_id)
        connection.execute(
            sa.update(users)
            .where(users.c.id == user_id)
            .values(
                password_hash=new_hash,
                failed_logins=0,
                locked_until=None,
                session_version=sa.func.coalesce(users.c.session_version, 0) + 1,
            )
        )
    return account["username"]


def end_sessions(engine: sa.engine.Engine, user_id: int) -> None:
    """Every session of this account stops working (log-out: a copied cookie too)."""
    with engine.begin() as connection:
        connection.execute(
            sa.update(users)
            .where(users.c.id == user_id)
            .values(session_version=sa.func.coalesce(users.c.session_version, 0) + 1)
        )
