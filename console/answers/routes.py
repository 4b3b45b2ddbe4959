"""The answers blueprint: the "Answers" list (which FAQ answers have an approved new wording or a
text waiting), an answer's page (shipped and current texts, versions, what it may say), and its
forms: staff propose a text; administrators approve, reject and revert to the shipped text."""

from __future__ import annotations

from typing import Any, Callable

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from console.answers import queries as answers
from console.answers.queries import CHANNEL_NAMES, STATUS_NAMES, AnswerError
from console.auth import accounts

blueprint = Blueprint("answers", __name__)


@blueprint.app_context_processor
def words() -> dict[str, Any]:
    return {"answer_channel_names": CHANNEL_NAMES, "answer_status_names": STATUS_NAMES}


def _admins_only(what: str) -> None:
    if not g.user.is_admin:
        abort(403, f"Only an administrator can {what}.")


def _page_of(response: str) -> str:
    """The answer's page, or the list when there is no such answer."""
    if response in answers.editable_answers():
        return url_for(".answer", response=response)
    return url_for(".index")


def _audit(action: str, version: dict[str, Any]) -> None:
    target = f"{version['response']} ({version['channel']}) version {version['id']}"
    accounts.audit(g.engine, g.user.username, action, target[:255])


@blueprint.route("/answers")
def index() -> Any:
    return render_template("answers/index.html", answers=answers.overview(g.engine))


@blueprint.route("/answers/<path:response>")
def answer(response: str) -> Any:
    try:
        page = answers.answer(g.engine, response)
    except AnswerError as error:
        abort(404, str(error))
    return render_template("answers/answer.html", answer=page, draft=None)


@blueprint.route("/answers/propose", methods=["POST"])
def propose() -> Any:
    response, channel = request.form.get("response", ""), request.form.get("channel", "")
    text = request.form.get("text", "")
    try:
        answers.check_response(response)
    except AnswerError as error:
        flash(str(error))
        return redirect(url_for(".index"))
    try:
        version_id = answers.propose(g.engine, response, channel, text, g.user.username)
    except AnswerError as error:
        flash(f"Nothing was saved: {error}")
        page = answers.answer(g.engine, response)
        page["draft_segments"] = answers.sms_segments(text)
        draft = {"text": text, "channel": channel}
        return render_template("answers/answer.html", answer=page, draft=draft), 400
    _audit("propose_answer", {"response": response, "channel": channel, "id": version_id})
    if g.user.is_admin:
        flash("Saved as a proposal: approve it below to have the assistant send it.")
    else:
        flash("Saved as a proposal: an administrator approves it before the assistant sends it.")
    return redirect(url_for(".answer", response=response))


@blueprint.route("/answers/versions/<int:version_id>/approve", methods=["POST"])
def approve(version_id: int) -> Any:
    _admins_only("approve a new wording")
    done = "Approved: the assistant sends the new wording within a few seconds."
    return _decide(answers.approve, version_id, "approve_answer", done)


@blueprint.route("/answers/versions/<int:version_id>/reject", methods=["POST"])
def reject(version_id: int) -> Any:
    _admins_only("reject a proposed wording")
    return _decide(answers.reject, version_id, "reject_answer", "Rejected: nothing else changed.")


def _decide(decide: Callable[..., dict[str, Any]], version_id: int, action: str, done: str) -> Any:
    """Approve or reject a proposal (`decide`), audited; back to the answer's page."""
    try:
        response = answers.version(g.engine, version_id)["response"]
    except AnswerError as error:
        flash(f"Nothing changed: {error}")
        return redirect(url_for(".index"))
    try:
        version = decide(g.engine, version_id, g.user.username)
    except AnswerError as error:
        flash(f"Nothing changed: {error}")
        return redirect(_page_of(response))
    _audit(action, version)
    flash(done)
    return redirect(url_for(".answer", response=version["response"]))


@blueprint.route("/answers/revert", methods=["POST"])
def revert() -> Any:
    _admins_only("revert an answer to its shipped text")
    response, channel = request.form.get("response", ""), request.form.get("channel", "")
    try:
        version_id = answers.revert(g.engine, response, channel, g.user.username)
    except AnswerError as error:
        flash(f"Nothing changed: {error}")
        return redirect(_page_of(response))
    _audit("revert_answer", {"response": response, "channel": channel, "id": version_id})
    flash(
        f"Back to the shipped text on {CHANNEL_NAMES[channel]}: "
        "the assistant sends it within a few seconds."
    )
    return redirect(url_for(".answer", response=response))
