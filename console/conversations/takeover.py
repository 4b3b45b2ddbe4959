"""Take over a conversation, reply to the user, hand it back to the assistant.

The Rasa server does the work (its staff API, channels/staff.py); these routes call it with the
bearer token the two share (CLINIC_STAFF_API_TOKEN), write the audit log and go back to the
conversation's page. `templates/conversations/_takeover.html` renders the forms. A reply that
could not be sent is shown again, filled in, rather than lost.
"""

from __future__ import annotations

from typing import Any, Optional
from urllib.parse import quote

import requests
from flask import Blueprint, current_app, flash, g, redirect, render_template, request
from flask.blueprints import BlueprintSetupState

from clinic import settings
from console.auth import accounts

blueprint = Blueprint("takeover", __name__)
TIMEOUT_SECONDS = 45  # an SMS reply may wait for Twilio's API (15 s a part)
STATE_TIMEOUT_SECONDS = 3  # asked while a page is drawn
ACTION_ROUTE = '/conversations/<path:conversation_id>/<any("take-over", reply, "hand-back"):action>'
AUDIT_ACTIONS = {"take-over": "take_over", "reply": "reply", "hand-back": "hand_back"}


class TakeoverError(Exception):
    """The staff API refused, failed or could not be reached; the message is for staff."""

    def __init__(self, reason: str, status: int = 503) -> None:
        super().__init__(reason)
        self.status = status


@blueprint.record_once
def _settings(state: BlueprintSetupState) -> None:
    """The Rasa server's URL and the token, unless the app's config (a test's) has them."""
    config = state.app.config
    if "RASA_URL" not in config:
        config["RASA_URL"] = settings.current().rasa_url
    if "STAFF_API_TOKEN" not in config:
        config["STAFF_API_TOKEN"] = settings.current().staff_api_token.get()


def conversation_path(conversation_id: str) -> str:
    """The console's page of a conversation."""
    return f"/conversations/{quote(conversation_id, safe='')}"


def call_staff_api(
    conversation_id: str, action: Optional[str] = None, body: Optional[dict[str, Any]] = None
) -> dict[str, Any]:
    """POST `action` (take-over, reply, hand-back) to the staff API, or GET the conversation's
    state when `action` is None; the API's JSON answer, or TakeoverError saying what went wrong."""
    url = current_app.config["RASA_URL"].rstrip("/")
    token = current_app.config["STAFF_API_TOKEN"]
    if token is None:
        raise TakeoverError(
            "Take-over is not set up: set CLINIC_STAFF_API_TOKEN for the console and the assistant."
        )
    endpoint = f"{url}/webhooks/staff{conversation_path(conversation_id)}"
    headers = {"Authorization": f"Bearer {token.reveal()}"}
    try:
        if action is None:
            reply = requests.get(endpoint, headers=headers, timeout=STATE_TIMEOUT_SECONDS)
        else:
            reply = requests.post(
                f"{endpoint}/{action}", json=body, headers=headers, timeout=TIMEOUT_SECONDS
            )
    except requests.ConnectionError:
        raise TakeoverError(
            f"The assistant could not be reached at {url}: nothing was changed. "
            "Try again once it is running."
        ) from None
    except requests.Timeout:
        raise TakeoverError(
            "The assistant did not answer in time: check the conversation before trying again.", 504
        ) from None
    try:
        answer = reply.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise TakeoverError(
            f"The assistant at {url} has no staff API (HTTP {reply.status_code}): "
            "is channels.staff.StaffInput in its credentials.yml?",
            502,
        )
    if reply.status_code == 401:
        raise TakeoverError(
            "The assistant refused the console's token: CLINIC_STAFF_API_TOKEN "
            "must be the same for both.",
            502,
        )
    if not reply.ok:
        raise TakeoverError(answer.get("error") or f"HTTP {reply.status_code}", reply.status_code)
    return answer


def live_state(conversation_id: str, indexed_paused: bool) -> dict[str, Any]:
    """The conversation as the Rasa server sees it now (the index follows a second or so
    behind): `paused`, and `chat_open` for a web chat (True, False, or None when not known).
    When the server cannot say: what the index says, and None."""
    try:
        state = call_staff_api(conversation_id)
    except TakeoverError:
        return {"paused": indexed_paused, "chat_open": None}
    return {
        "paused": bool(state.get("paused", indexed_paused)),
        "chat_open": state.get("chat_open"),
    }


def _done(action: str, answer: dict[str, Any]) -> str:
    """What to tell the staff member after a success."""
    if action == "reply":
        return "Reply sent."
    told = (
        "The user was told."
        if answer.get("notified")
        else f"The user could not be told: {answer.get('problem')}"
    )
    if action == "take-over":
        return f"You have taken over this conversation: the assistant is paused. {told}"
    return f"The assistant is answering this conversation again. {told}"


@blueprint.route(ACTION_ROUTE, methods=["POST"])
def act(conversation_id: str, action: str) -> Any:
    """Take over, reply or hand back through the staff API, then back to the conversation."""
    body: dict[str, Any] = {"staff": g.user.username}
    if action == "reply":
        body["text"] = request.form.get("text", "").strip()
        if not body["text"]:
            flash("Write a reply first.")
            return redirect(conversation_path(conversation_id))
    try:
        answer = call_staff_api(conversation_id, action, body)
    except TakeoverError as error:
        flash(str(error))
        if action == "reply":  # the text stays on the page, not in a cookie (health information)
            return render_template(
                "conversations/takeover_retry.html",
                conversation_id=conversation_id,
                paused=True,
                channel=request.form.get("channel"),
                draft=body["text"],
                back=conversation_path(conversation_id),
            ), error.status
    else:
        accounts.audit(
            g.engine,
            g.user.username,
            AUDIT_ACTIONS[action],
            f"conversation {conversation_id}"[:255],
        )
        flash(_done(action, answer))
    return redirect(conversation_path(conversation_id))
