"""The contact_requests blueprint: the filtered, paged list of requests, one request's page, and
changing its status.

Contact details are masked in the list; an admin may reveal them (`reveal=yes`). A request's
own page shows them to the staff member who opens it (to call back), and that view is in the
audit log like every other.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from console.auth import accounts
from console.auth.guard import is_console_path, reveal_requested
from console.contact_requests.queries import (
    KINDS,
    STATUSES,
    RequestError,
    get_request,
    list_requests,
    set_status,
    status_counts,
)
from console.privacy import mask_fields

blueprint = Blueprint("contact_requests", __name__)


def _choice(name: str, allowed: Any) -> str:
    value = request.args.get(name, "").strip()
    if value and value not in allowed:
        flash(f"{name}: {value!r} is not one of {', '.join(allowed)}; ignored")
        return ""
    return value


@blueprint.route("/requests")
def index() -> Any:
    status, kind = _choice("status", STATUSES), _choice("kind", KINDS)
    reveal = reveal_requested()
    try:
        after = int(request.args["after"]) if request.args.get("after") else None
    except ValueError:
        after = None
    rows, next_after = list_requests(g.engine, status, kind, after)
    if not reveal:
        mask_fields(rows, "contact", "preferred_time")
    args = {name: value for name, value in (("status", status), ("kind", kind)) if value}
    accounts.audit(
        g.engine,
        g.user.username,
        "reveal_requests" if reveal else "view_requests",
        f"{len(rows)} requests {json.dumps(args) if args else ''}".strip()[:255],
    )
    page_args = {**args, **({"reveal": "yes"} if reveal else {})}
    return render_template(
        "contact_requests/index.html",
        rows=rows,
        status=status,
        kind=kind,
        reveal=reveal,
        args=args,
        counts=status_counts(g.engine, kind),
        statuses=STATUSES,
        kinds=KINDS,
        next_url=url_for(".index", **page_args, after=next_after) if next_after else None,
        first_url=url_for(".index", **page_args) if after else None,
    )


@blueprint.route("/requests/<int:request_id>")
def detail(request_id: int) -> Any:
    found = get_request(g.engine, request_id)
    if found is None:
        abort(404)
    accounts.audit(g.engine, g.user.username, "view_request", f"request {request_id}")
    return render_template("contact_requests/detail.html", r=found, statuses=STATUSES, kinds=KINDS)


@blueprint.route("/requests/<int:request_id>/status", methods=["POST"])
def change_status(request_id: int) -> Any:
    if get_request(g.engine, request_id) is None:
        abort(404)
    status = request.form.get("status", "")
    try:
        before = set_status(g.engine, request_id, status, by=g.user.username)
    except RequestError as error:
        flash(str(error))
    else:
        accounts.audit(
            g.engine,
            g.user.username,
            "request_status",
            f"request {request_id}: {before} → {status}",
        )
        flash(f"Request #{request_id}: {before} → {status}.")
    back = request.form.get("back", "")
    if not (back.startswith(url_for(".index")) and "//" not in back and is_console_path(back)):
        back = url_for(".detail", request_id=request_id)
    return redirect(back)
