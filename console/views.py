"""The console's pages: login, changing one's own password, and the escalation queue (its
first screen)."""

from __future__ import annotations

import threading
import time
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from clinic import escalations, sms
from clinic.profile import current_profile
from console import accounts, conversations, csrf_token, start_session

blueprint = Blueprint("views", __name__)
QUEUE_STATUSES = (escalations.OPEN, escalations.ACKNOWLEDGED)


@blueprint.app_template_filter("clinic_time")
def clinic_time(moment: Any) -> str:
    return escalations.format_time(moment, current_profile().hours.timezone) if moment else "-"


def _safe_next(target: str) -> str:
    """Only a path of this console: never another site (an open redirect)."""
    return target if is_console_path(target) else url_for("views.queue")


def is_console_path(target: str) -> bool:
    """A path on this site: one leading slash, no backslash, no control character (browsers and
    Werkzeug drop tabs and line breaks, so "/\t/evil.example" would become "//evil.example",
    and a line break cannot go into a Location header)."""
    return (target.startswith("/") and not target.startswith("//") and "\\" not in target
            and not any(ord(c) < 32 or ord(c) == 127 for c in target))


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
            accounts.audit(g.engine, accounts.known_username(g.engine, username),
                           "login_throttled", address)
            flash("Too many log-in attempts from here: please wait a minute.")
            return render_template("login.html", username=username), 429
        try:
            staff = accounts.authenticate(g.engine, username, request.form.get("password", ""))
        except accounts.AccountError as error:
            accounts.audit(g.engine, accounts.known_username(g.engine, username),
                           "login_failed", address)
            flash(str(error))
            return render_template("login.html", username=username), 401
        start_session(staff)
        csrf_token()
        accounts.audit(g.engine, staff.username, "login")
        return redirect(_safe_next(request.args.get("next", "")))
    return render_template("login.html", username="")


@blueprint.route("/logout", methods=["POST"])
def logout() -> Any:
    accounts.audit(g.engine, g.user.username, "logout")
    accounts.end_sessions(g.engine, g.user.id)
    session.clear()
    return redirect(url_for("views.login"))


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
        new = accounts.typed_twice(request.form.get("password", ""),
                                   request.form.get("password_again", ""))
        staff = accounts.change_own_password(
            g.engine, g.user, request.form.get("current_password", ""), new)
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
    flash("Your password is changed. Every other session of your account has ended; "
          "you are still logged in here.")
    return redirect(url_for("views.change_password"))


def _password_page(status: int = 200) -> Any:
    return render_template("password.html", rule=accounts.PASSWORD_RULE,
                           min_length=accounts.MIN_PASSWORD_LENGTH,
                           max_failures=accounts.MAX_FAILURES,
                           lock_minutes=accounts.LOCK_MINUTES), status


@blueprint.route("/")
def queue() -> Any:
    """Open and acknowledged escalations, urgent first, each with what staff need to act."""
    items = [
        escalations.get_escalation(g.engine, item["id"])
        for status in QUEUE_STATUSES
        for item in escalations.list_escalations(g.engine, status=status, limit=200)
    ]
    items.sort(key=lambda e: (e["level"] != escalations.URGENT, e["status"] != escalations.OPEN,
                              -e["created_at"].timestamp()))
    accounts.audit(g.engine, g.user.username, "view_queue", f"{len(items)} escalations")
    latest = max((e["id"] for e in items), default=0)
    return render_template("queue.html", items=_with_people(items), latest=latest)


def _with_people(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each escalation with `person`, whom its conversation is with (`conversations.people`),
    and for SMS whether the number has opted out."""
    people = conversations.people(g.engine, [item["conversation_id"] for item in items])
    for item in items:
        person = item["person"] = people[item["conversation_id"]]
        person["channel"] = person["channel"] or item["channel"]
        item["opted_out"] = (item["channel"] == sms.CHANNEL
                             and sms.is_opted_out(g.engine, item["conversation_id"]))
    return items


@blueprint.route("/escalations/<int:escalation_id>")
def escalation(escalation_id: int) -> Any:
    try:
        item = escalations.get_escalation(g.engine, escalation_id)
    except escalations.EscalationError:
        abort(404)
    accounts.audit(g.engine, g.user.username, "view_escalation", f"escalation {escalation_id}")
    deliveries = escalations.list_deliveries(g.engine, escalation_id)
    return render_template("escalation.html", item=_with_people([item])[0],
                           deliveries=deliveries)


@blueprint.route("/escalations/resolved")
def resolved() -> Any:
    """The escalations resolved most recently, with what became of the person."""
    items = _with_people(escalations.list_resolved(g.engine, limit=200))
    accounts.audit(g.engine, g.user.username, "view_resolved", f"{len(items)} escalations")
    return render_template("resolved.html", items=items)


@blueprint.route("/escalations/<int:escalation_id>/<any(acknowledge, resolve):action>",
                 methods=["POST"])
def change(escalation_id: int, action: str) -> Any:
    back = _safe_next(request.form.get("back", ""))
    try:
        if action == "acknowledge":
            escalations.acknowledge(g.engine, escalation_id, by=g.user.username)
        else:
            outcome = request.form.get("outcome", "")
            if outcome not in escalations.OUTCOMES:
                flash(f"Escalation #{escalation_id} is not resolved: say what happened (the "
                      "person was reached, could not be reached, or emergency services were "
                      "called).")
                return redirect(back)
            note = request.form.get("note", "").strip() or None
            escalations.resolve(g.engine, escalation_id, by=g.user.username, outcome=outcome,
                                note=note)
    except escalations.EscalationError as error:
        flash(str(error))
    else:
        accounts.audit(g.engine, g.user.username, action, f"escalation {escalation_id}")
        flash(f"Escalation #{escalation_id}: {'acknowledged' if action == 'acknowledge' else 'resolved'}.")
    return redirect(back)


@blueprint.route("/escalations/latest.json")
def latest() -> Any:
    """For the queue page's polling: the newest escalation and how many urgent ones are open."""
    open_items = escalations.list_escalations(g.engine, status=escalations.OPEN, limit=500)
    return jsonify(
        latest=max((e["id"] for e in open_items), default=0),
        urgent_open=sum(1 for e in open_items if e["level"] == escalations.URGENT),
    )
