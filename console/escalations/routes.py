"""The escalations blueprint: the queue (the console's first screen, polled for new ones), an
escalation's page, the resolved list, and acknowledging and resolving."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, jsonify, redirect, render_template, request

from clinic import escalations, sms
from console.auth import accounts
from console.auth.guard import safe_next
from console.conversations import queries as conversations

blueprint = Blueprint("escalations", __name__)
QUEUE_STATUSES = (escalations.OPEN, escalations.ACKNOWLEDGED)


@blueprint.route("/")
def queue() -> Any:
    """Open and acknowledged escalations, urgent first, each with what staff need to act."""
    items = [
        escalations.get_escalation(g.engine, item["id"])
        for status in QUEUE_STATUSES
        for item in escalations.list_escalations(g.engine, status=status, limit=200)
    ]
    items.sort(
        key=lambda e: (
            e["level"] != escalations.URGENT,
            e["status"] != escalations.OPEN,
            -e["created_at"].timestamp(),
        )
    )
    accounts.audit(g.engine, g.user.username, "view_queue", f"{len(items)} escalations")
    latest = max((e["id"] for e in items), default=0)
    return render_template("escalations/queue.html", items=_with_people(items), latest=latest)


def _with_people(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each escalation with `person`, whom its conversation is with (`conversations.people`),
    and for SMS whether the number has opted out."""
    people = conversations.people(g.engine, [item["conversation_id"] for item in items])
    for item in items:
        person = item["person"] = people[item["conversation_id"]]
        person["channel"] = person["channel"] or item["channel"]
        item["opted_out"] = item["channel"] == sms.CHANNEL and sms.is_opted_out(
            g.engine, item["conversation_id"]
        )
    return items


@blueprint.route("/escalations/<int:escalation_id>")
def escalation(escalation_id: int) -> Any:
    try:
        item = escalations.get_escalation(g.engine, escalation_id)
    except escalations.EscalationError:
        abort(404)
    accounts.audit(g.engine, g.user.username, "view_escalation", f"escalation {escalation_id}")
    deliveries = escalations.list_deliveries(g.engine, escalation_id)
    return render_template(
        "escalations/escalation.html", item=_with_people([item])[0], deliveries=deliveries
    )


@blueprint.route("/escalations/resolved")
def resolved() -> Any:
    """The escalations resolved most recently, with what became of the person."""
    items = _with_people(escalations.list_resolved(g.engine, limit=200))
    accounts.audit(g.engine, g.user.username, "view_resolved", f"{len(items)} escalations")
    return render_template("escalations/resolved.html", items=items)


@blueprint.route(
    "/escalations/<int:escalation_id>/<any(acknowledge, resolve):action>", methods=["POST"]
)
def change(escalation_id: int, action: str) -> Any:
    back = safe_next(request.form.get("back", ""))
    try:
        if action == "acknowledge":
            escalations.acknowledge(g.engine, escalation_id, by=g.user.username)
        else:
            outcome = request.form.get("outcome", "")
            if outcome not in escalations.OUTCOMES:
                flash(
                    f"Escalation #{escalation_id} is not resolved: say what happened (the "
                    "person was reached, could not be reached, or emergency services were "
                    "called)."
                )
                return redirect(back)
            note = request.form.get("note", "").strip() or None
            escalations.resolve(
                g.engine, escalation_id, by=g.user.username, outcome=outcome, note=note
            )
    except escalations.EscalationError as error:
        flash(str(error))
    else:
        accounts.audit(g.engine, g.user.username, action, f"escalation {escalation_id}")
        flash(
            f"Escalation #{escalation_id}: {'acknowledged' if action == 'acknowledge' else 'resolved'}."
        )
    return redirect(back)


@blueprint.route("/escalations/latest.json")
def latest() -> Any:
    """For the queue page's polling: the newest escalation and how many urgent ones are open."""
    open_items = escalations.list_escalations(g.engine, status=escalations.OPEN, limit=500)
    return jsonify(
        latest=max((e["id"] for e in open_items), default=0),
        urgent_open=sum(1 for e in open_items if e["level"] == escalations.URGENT),
    )
