"""The staff console: a server-rendered Flask application for the clinic's staff.

    python -m console users add NAME [--role staff|admin]   # asks for the password
    python -m console run [--port 8000]

Everything behind a login; every form carries a CSRF token; every view of health information
is written to the audit log (`console.accounts`).
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
import time
from typing import Any, Optional

from flask import Flask, abort, g, redirect, request, session, url_for
from werkzeug.routing import IntegerConverter

from clinic import settings
from clinic.db import engine_for
from clinic.profile import current_profile
from console import accounts

SESSION_HOURS = 8  # a session's absolute lifetime, however active
SESSION_IDLE_MINUTES = 15  # logged off after this long without a person using the console
PUBLIC_ENDPOINTS = {"views.login", "static"}
# Requests a page makes by itself (polling): they keep no screen logged in.
BACKGROUND_ENDPOINTS = {"views.latest", "conversations.live"}


MAX_ID = 2**63 - 1  # the largest id SQL stores; a larger one is no record (404), not a crash


class IdConverter(IntegerConverter):
    """`<int:…>` in the console's routes, bounded to ids SQL can hold (SQLite's driver raises
    OverflowError beyond)."""

    def __init__(self, url_map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def create_app(config: Optional[dict[str, Any]] = None) -> Flask:
    """The console; `config` overrides settings (tests give their own database URL)."""
    app = Flask(__name__)
    app.url_map.converters["int"] = IdConverter  # before the blueprints add their routes
    console_url = settings.console_url()
    app.config.update(
        SECRET_KEY=settings.console_secret().reveal(),
        DATABASE_URL=settings.database_url(),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=console_url.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=SESSION_HOURS),
        SESSION_IDLE_MINUTES=SESSION_IDLE_MINUTES,
        MAX_CONTENT_LENGTH=64 * 1024,
    )
    app.config.update(config or {})

    @app.before_request
    def load_user_and_check_csrf() -> Any:
        g.engine = engine_for(app.config["DATABASE_URL"])
        user_id = session.get("user_id")
        g.user = accounts.get_user(g.engine, user_id) if user_id else None
        if g.user is not None and not _session_current(g.user, app.config):
            session.clear()
            g.user = None
        if request.method == "POST":
            sent = request.form.get("csrf_token", "")
            expected = session.get("csrf", "")
            # as bytes: compare_digest refuses a str with non-ASCII characters (a TypeError)
            if not sent or not hmac.compare_digest(sent.encode(), expected.encode()):
                abort(400, "This form was not sent by the console or has expired (CSRF check). "
                           "Go back, reload the page and try again.")
        if g.user is None and request.endpoint not in PUBLIC_ENDPOINTS:
            return redirect(url_for("views.login", next=request.full_path.rstrip("?")))
        return None

    @app.after_request
    def security_headers(response: Any) -> Any:
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        if request.endpoint != "static":
            response.headers["Cache-Control"] = "no-store"  # health information
        return response

    @app.context_processor
    def template_helpers() -> dict[str, Any]:
        return {"csrf_token": csrf_token, "user": g.get("user"),
                "clinic_name": current_profile().name}

    from console import (
        admin,
        analytics,
        contact_requests,
        conversation_pages,
        labels,
        takeover,
        views,
    )
    labels.register(app, lambda: current_profile().hours.timezone)
    for feature in (views, takeover, conversation_pages, admin, contact_requests, analytics):
        app.register_blueprint(feature.blueprint)
    app.extensions["login_attempts"] = views.AttemptsPerAddress(
        burst=app.config.get("LOGIN_BURST", 10), per_minute=app.config.get("LOGIN_PER_MINUTE", 10))
    engine_for(app.config["DATABASE_URL"])  # reachable and migrated, or a one-line error
    return app


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
