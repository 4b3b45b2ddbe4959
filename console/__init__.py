"""The staff console: a server-rendered Flask application for the clinic's staff.

    python -m console users add NAME [--role staff|admin]   # asks for the password
    python -m console run [--port 8000]

Everything behind a login; every form carries a CSRF token (both `console.auth.guard`); every
view of health information is written to the audit log (`console.auth.accounts`).

One subpackage per feature, each with its blueprint (`routes`), its queries where it has any,
and its templates in `templates/<feature>/`: `auth` (log-in, log-out, one's own password, the
accounts, the guard), `escalations` (the queue, the first screen), `conversations` (list,
search, transcript, take-over, not understood), `teaching`, `answers` (FAQ answers reworded
and approved, served without retraining), `contact_requests`, `analytics` (with its charts) and
`admin` (accounts, the audit log, retention). Shared by several: `labels` (plain
words for codes, the templates' filters), `privacy` (masking), `templates/base.html`. The
conversation index the pages read is built by the projector (`projector/`), a process of its
own that `python -m console run` also runs in a thread.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Optional

from flask import Flask, g, request
from werkzeug.routing import IntegerConverter

from clinic import settings
from clinic.db import engine_for
from clinic.profile import current_profile
from console.auth.guard import SESSION_HOURS, SESSION_IDLE_MINUTES, csrf_token

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
    console_url = settings.current().console_url
    app.config.update(
        SECRET_KEY=settings.current().require_console_secret().reveal(),
        DATABASE_URL=settings.current().database_url,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=console_url.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=SESSION_HOURS),
        SESSION_IDLE_MINUTES=SESSION_IDLE_MINUTES,
        MAX_CONTENT_LENGTH=64 * 1024,
    )
    app.config.update(config or {})

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
        return {
            "csrf_token": csrf_token,
            "user": g.get("user"),
            "clinic_name": current_profile().name,
        }

    from console import labels
    from console.admin import routes as admin
    from console.analytics import routes as analytics
    from console.answers import routes as answers
    from console.auth import routes as auth
    from console.contact_requests import routes as contact_requests
    from console.conversations import routes as conversations
    from console.conversations import takeover
    from console.escalations import routes as escalations
    from console.models import routes as models
    from console.teaching import routes as teaching

    labels.register(app, lambda: current_profile().hours.timezone)
    # auth first: its guard (every request, before any feature's) loads the user, checks the
    # CSRF token and sends anyone not logged in to the login page.
    for feature in (
        auth,
        escalations,
        takeover,
        conversations,
        teaching,
        answers,
        models,
        admin,
        contact_requests,
        analytics,
    ):
        app.register_blueprint(feature.blueprint)
    app.extensions["login_attempts"] = auth.AttemptsPerAddress(
        burst=app.config.get("LOGIN_BURST", 10), per_minute=app.config.get("LOGIN_PER_MINUTE", 10)
    )
    engine_for(app.config["DATABASE_URL"])  # reachable and migrated, or a one-line error
    return app
