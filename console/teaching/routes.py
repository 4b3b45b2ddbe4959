"""The teaching blueprint: the "Teach" page (answers staff disagree with, waiting for the right
topic; what has been taught, with who and when; revoked examples), marking an answer wrong in a
transcript, teaching messages from the "not understood" list, and the examples as NLU YAML."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for

from console import MAX_ID
from console.auth import accounts
from console.teaching import queries as teaching
from console.teaching.queries import TeachingError

blueprint = Blueprint("teaching", __name__)


@blueprint.app_context_processor
def choices() -> dict[str, Any]:
    return {"label_choices": teaching.label_choices}


@blueprint.route("/teach")
def index() -> Any:
    disagreed, taught = teaching.disagreed(g.engine), teaching.taught(g.engine)
    revoked = teaching.taught(g.engine, revoked=True)
    accounts.audit(
        g.engine, g.user.username, "view_teaching", f"{len(disagreed) + len(taught)} examples"
    )
    return render_template(
        "teaching/index.html", disagreed=disagreed, taught=taught, revoked=revoked
    )


def _id(value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        abort(400, "A message id is not a number.")
    if not 0 < number <= MAX_ID:
        abort(400, "A message id is out of range.")
    return number


@blueprint.route("/conversations/<path:conversation_id>/wrong", methods=["POST"])
def mark_wrong(conversation_id: str) -> Any:
    """An answer in a transcript marked wrong: it waits on the Teach page for the right topic."""
    turn_id = _id(request.form.get("turn"))
    try:
        teaching.mark_wrong(g.engine, conversation_id, turn_id, g.user.username)
    except TeachingError as error:
        flash(str(error))
    else:
        accounts.audit(g.engine, g.user.username, "mark_wrong", f"message {turn_id}")
        flash("Marked wrong: give the right topic on the Teach page.")
    return redirect(url_for("conversations.transcript", conversation_id=conversation_id))


@blueprint.route("/teach/not-understood", methods=["POST"])
def from_not_understood() -> Any:
    ids = [_id(value) for value in request.form.getlist("message")]
    if not ids:
        flash("Choose at least one message to teach.")
        return redirect(url_for("conversations.not_understood"))
    label = request.form.get("label", "")
    try:
        count = teaching.teach_not_understood(g.engine, ids, label, g.user.username)
    except TeachingError as error:
        flash(str(error))
        return redirect(url_for("conversations.not_understood"))
    accounts.audit(g.engine, g.user.username, "teach", f"{count} messages as {label}"[:255])
    flash(f"Saved {count} training example{'s' if count != 1 else ''}.")
    return redirect(url_for(".index"))


@blueprint.route("/teach/<int:example_id>", methods=["POST"])
def change(example_id: int) -> Any:
    """Give an example its label, or revoke it."""
    try:
        if request.form.get("revoke") == "yes":
            teaching.revoke(g.engine, example_id, g.user.username)
            done, action, target = "Revoked: it will not be trained on.", "revoke_example", ""
        else:
            label = request.form.get("label", "")
            teaching.set_label(g.engine, example_id, label, g.user.username)
            done, action, target = "Saved.", "label_example", f" as {label}"
    except TeachingError as error:
        flash(str(error))
    else:
        accounts.audit(g.engine, g.user.username, action, f"example {example_id}{target}"[:255])
        flash(done)
    return redirect(url_for(".index"))


@blueprint.route("/teach/examples.yml")
def export() -> Any:
    """The taught examples as Rasa NLU YAML, for a developer to add to data/nlu/."""
    body = teaching.training_data(g.engine)
    accounts.audit(g.engine, g.user.username, "export_taught_examples", None)
    return Response(
        body,
        mimetype="application/x-yaml; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="nlu-taught.yml"'},
    )
