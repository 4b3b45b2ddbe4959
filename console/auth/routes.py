"""The auth blueprint: log-in (throttled per address), log-out and changing one's own password;
and, for the whole app, the guard (`console.auth.guard`) every request passes first."""

from __future__ import annotations

import threading
import time
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from console.auth import accounts
from console.auth.guard import csrf_token, load_user_and_check_csrf, safe_next, start_session

blueprint = Blueprint("auth", __name__)
blueprint.before_app_request(load_user_and_check_csrf)


class AttemptsPerAddress:
    """At most `burst` log-in attempts at once from one address, then `per_minute`: a token
    bucket per address, in this process (each worker of the console's server has its own)."""

    def __init__(self, burst: int, per_minute: float) -> None:
        self.burst, self.per_second = burst, per_minute / 60
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, address: str) -> bool:
        now = time.monotonic()
        with self._lock:
            if len(self._buckets) > 10_000:
                self._buckets.clear()  # a bound on memory; buckets refill within a minute
            tokens, at = self._buckets.get(address, (self.burst, now))
            tokens = min(self.burst, tokens + (now - at) * self.per_second)
            allowed = tokens >= 1
            self._buckets[address] = (tokens - 1 if allowed else tokens, now)
            return allowed


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        address = request.remote_addr or "unknown"
        if not current_app.extensions["login_attempts"].allow(address):
            accounts.audit(
                g.engine, accounts.known_username(g.engine, username), "login_throttled", address
            )
            flash("Too many log-in attempts from here: please wait a minute.")
            return render_template("auth/login.html", username=username), 429
        try:
            staff = accounts.authenticate(g.engine, username, request.form.get("password", ""))
        except accounts.AccountError as error:
            accounts.audit(
                g.engine, accounts.known_username(g.engine, username), "login_failed", address
            )
            flash(str(error))
            return render_template("auth/login.html", username=username), 401
        start_session(staff)
        csrf_token()
        accounts.audit(g.engine, staff.username, "login")
        return redirect(safe_next(request.args.get("next", "")))
    return render_template("auth/login.html", username="")


@blueprint.route("/logout", methods=["POST"])
def logout() -> Any:
    accounts.audit(g.engine, g.user.username, "logout")
    accounts.end_sessions(g.engine, g.user.id)
    session.clear()
    return redirect(url_for("auth.login"))


@blueprint.route("/password", methods=["GET", "POST"])
def change_password() -> Any:
    """Anyone logged in changes their own password, giving the current one; their other
    sessions end, this one goes on (a new session, as after a log-in)."""
    if request.method == "GET":
        return _password_page()
    address = request.remote_addr or "unknown"
    if not current_app.extensions["login_attempts"].allow(address):
        accounts.audit(g.engine, g.user.username, "change_password_throttled", address)
        flash("Too many password attempts from here: please wait a minute.")
        return _password_page(429)
    try:
        new = accounts.typed_twice(
            request.form.get("password", ""), request.form.get("password_again", "")
        )
        staff = accounts.change_own_password(
            g.engine, g.user, request.form.get("current_password", ""), new
        )
    except accounts.WrongCurrentPassword as error:
        accounts.audit(g.engine, g.user.username, "change_password_failed", address)
        flash(str(error))
        return _password_page(401)
    except accounts.AccountError as error:
        flash(f"Your password was not changed: {error}")
        return _password_page(400)
    start_session(staff)
    csrf_token()
    accounts.audit(g.engine, staff.username, "change_password", f"user {staff.username}")
    flash(
        "Your password is changed. Every other session of your account has ended; "
        "you are still logged in here."
    )
    return redirect(url_for("auth.change_password"))


def _password_page(status: int = 200) -> Any:
    return render_template(
        "auth/password.html",
        rule=accounts.PASSWORD_RULE,
        min_length=accounts.MIN_PASSWORD_LENGTH,
        max_failures=accounts.MAX_FAILURES,
        lock_minutes=accounts.LOCK_MINUTES,
    ), status
