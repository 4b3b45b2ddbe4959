"""The guard every request of the console passes first (`load_user_and_check_csrf`, which the
auth blueprint registers for the whole app): the logged-in user, a session that still holds,
the CSRF token of every form, and the login page for anyone not logged in; and what the
features check on top of it (`reveal_requested`, `safe_next`)."""

from __future__ import annotations

import hmac
import secrets
import time
from typing import Any

from flask import abort, current_app, g, redirect, request, session, url_for

from clinic.db import engine_for
from console.auth import accounts

SESSION_HOURS = 8  # a session's absolute lifetime, however active
SESSION_IDLE_MINUTES = 15  # logged off after this long without a person using the console
PUBLIC_ENDPOINTS = {"auth.login", "static"}
# Requests a page makes by itself (polling): they keep no screen logged in.
BACKGROUND_ENDPOINTS = {"escalations.latest", "conversations.live"}


def load_user_and_check_csrf() -> Any:
    g.engine = engine_for(current_app.config["DATABASE_URL"])
    user_id = session.get("user_id")
    g.user = accounts.get_user(g.engine, user_id) if user_id else None
    if g.user is not None and not _session_current(g.user, current_app.config):
        session.clear()
        g.user = None
    if request.method == "POST":
        sent = request.form.get("csrf_token", "")
        expected = session.get("csrf", "")
        # as bytes: compare_digest refuses a str with non-ASCII characters (a TypeError)
        if not sent or not hmac.compare_digest(sent.encode(), expected.encode()):
            abort(
                400,
                "This form was not sent by the console or has expired (CSRF check). "
                "Go back, reload the page and try again.",
            )
    if g.user is None and request.endpoint not in PUBLIC_ENDPOINTS:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    return None


def _session_current(user: accounts.Staff, config: dict[str, Any]) -> bool:
    """Whether a logged-in session still holds: signed for the account's current session
    version (log-out and a password change end every earlier one), within its absolute
    lifetime, and used by a person within the idle time. A page's own polling (the queue's, a
    transcript's) is not a person: it keeps no screen logged in (HIPAA's automatic log-off)."""
    now = _timestamp()
    if session.get("version") != user.session_version:
        return False
    if now - session.get("login_at", 0) > config["PERMANENT_SESSION_LIFETIME"].total_seconds():
        return False
    if now - session.get("active_at", 0) > config["SESSION_IDLE_MINUTES"] * 60:
        return False
    if request.endpoint not in BACKGROUND_ENDPOINTS:
        session["active_at"] = now
    return True


def _timestamp() -> float:
    return time.time()


def start_session(user: accounts.Staff) -> None:
    """A new session for `user`, just logged in (nothing of the anonymous one is kept)."""
    session.clear()
    session.permanent = True
    now = _timestamp()
    session.update(user_id=user.id, version=user.session_version, login_at=now, active_at=now)


def reveal_requested() -> bool:
    """Whether a list or export shows contact details in full: admins only, when they ask
    (`reveal=yes`); anyone else asking gets 403."""
    if request.values.get("reveal") != "yes":
        return False
    if not g.user.is_admin:
        abort(403, "Only an administrator can reveal contact details.")
    return True


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def safe_next(target: str) -> str:
    """Only a path of this console: never another site (an open redirect)."""
    return target if is_console_path(target) else url_for("escalations.queue")


def is_console_path(target: str) -> bool:
    """A path on this site: one leading slash, no backslash, no control character (browsers and
    Werkzeug drop tabs and line breaks, so "/\t/evil.example" would become "//evil.example",
    and a line break cannot go into a Location header)."""
    return (
        target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and not any(ord(c) < 32 or ord(c) == 127 for c in target)
    )
