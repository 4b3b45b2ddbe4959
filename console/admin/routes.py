"""The admin blueprint: staff accounts, the audit log and the retention period.

Administrators only (staff get 403). Every change is written to the audit log; so is every
view of the audit log.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from clinic.db import utc_now
from console.admin import retention
from console.auth import accounts

blueprint = Blueprint("admin", __name__, url_prefix="/admin")
AUDIT_PAGE_SIZE = 100


@blueprint.before_request
def admins_only() -> None:
    if not g.user.is_admin:  # the app has sent anyone not logged in to the login page
        abort(403, "Only an administrator can open the admin pages.")


def _new_password() -> str:
    return accounts.typed_twice(
        request.form.get("password", ""), request.form.get("password_again", "")
    )


@blueprint.route("/")
def home() -> Any:
    return redirect(url_for("admin.users"))


@blueprint.route("/users", methods=["GET", "POST"])
def users() -> Any:
    """Every account, with its actions; the form that creates one."""
    form = {"username": "", "role": accounts.STAFF}
    status = 200
    if request.method == "POST":
        form = {
            "username": request.form.get("username", "").strip(),
            "role": request.form.get("role", ""),
        }
        try:
            created = accounts.create_user(
                g.engine, form["username"], _new_password(), form["role"]
            )
        except accounts.AccountError as error:
            flash(f"The account was not created: {error}")
            status = 400
        else:
            accounts.audit(
                g.engine,
                g.user.username,
                "create_user",
                f"user {created.username} ({created.role})",
            )
            flash(f"Created {created.role} account {created.username}.")
            return redirect(url_for("admin.users"))
    return render_template(
        "admin/users.html",
        accounts=accounts.list_users(g.engine),
        roles=accounts.ROLES,
        form=form,
        now=utc_now(),
    ), status


@blueprint.route("/users/<int:user_id>/role", methods=["POST"])
def change_role(user_id: int) -> Any:
    role = request.form.get("role", "")
    try:
        username = accounts.set_role(g.engine, user_id, role)
    except accounts.AccountError as error:
        flash(str(error))
    else:
        accounts.audit(g.engine, g.user.username, "change_role", f"user {username}: {role}")
        flash(f"{username} is now {role}.")
    return redirect(url_for("admin.users"))


@blueprint.route("/users/<int:user_id>/<any(unlock, disable, enable):action>", methods=["POST"])
def change_access(user_id: int, action: str) -> Any:
    try:
        if action == "unlock":
            username = accounts.unlock(g.engine, user_id)
        else:
            username = accounts.set_disabled(g.engine, user_id, disabled=action == "disable")
    except accounts.AccountError as error:
        flash(str(error))
    else:
        accounts.audit(g.engine, g.user.username, f"{action}_user", f"user {username}")
        done = {"unlock": "unlocked", "disable": "disabled", "enable": "enabled"}[action]
        flash(f"{username}: {done}.")
    return redirect(url_for("admin.users"))


@blueprint.route("/users/<int:user_id>/password", methods=["GET", "POST"])
def reset_password(user_id: int) -> Any:
    account = next((a for a in accounts.list_users(g.engine) if a["id"] == user_id), None)
    if account is None:
        abort(404)
    if request.method == "POST":
        try:
            username = accounts.set_password(g.engine, user_id, _new_password())
        except accounts.AccountError as error:
            flash(f"The password was not changed: {error}")
            return render_template("admin/password.html", account=account), 400
        accounts.audit(g.engine, g.user.username, "reset_password", f"user {username}")
        flash(f"{username} has a new password (and is no longer locked).")
        return redirect(url_for("admin.users"))
    return render_template("admin/password.html", account=account)


@blueprint.route("/audit")
def audit_log() -> Any:
    """The audit log, newest first, a page at a time (`before`: the last id of a page)."""
    before = request.args.get("before", type=int)
    entries = accounts.audit_entries(g.engine, limit=AUDIT_PAGE_SIZE + 1, before=before)
    more = len(entries) > AUDIT_PAGE_SIZE
    entries = entries[:AUDIT_PAGE_SIZE]
    accounts.audit(
        g.engine, g.user.username, "view_audit_log", f"before {before}" if before else None
    )
    return render_template(
        "admin/audit.html",
        entries=entries,
        next_before=entries[-1]["id"] if more else None,
        first=before is None,
    )


@blueprint.route("/retention", methods=["GET", "POST"])
def retention_period() -> Any:
    """The retention period the `python -m console retention` command uses."""
    if request.method == "POST":
        try:
            days = (
                None
                if request.form.get("clear")
                else retention.parse_days(request.form.get("days", ""))
            )
        except retention.RetentionError as error:
            flash(f"The retention period was not changed: {error}.")
        else:
            retention.set_retention_days(g.engine, days, by=g.user.username)
            accounts.audit(
                g.engine,
                g.user.username,
                "change_retention",
                f"{days} days" if days else "no retention period",
            )
            flash(
                f"Conversations are now deleted {days} days after their last message."
                if days
                else "No retention period: conversations are kept."
            )
        return redirect(url_for("admin.retention_period"))
    days = retention.retention_days(g.engine)
    preview = retention.preview(g.engine, days, utc_now()) if days else None
    return render_template(
        "admin/retention.html",
        days=days,
        preview=preview,
        last_run=retention.last_run(g.engine),
        min_days=retention.MIN_DAYS,
        max_days=retention.MAX_DAYS,
    )
