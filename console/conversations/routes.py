"""The conversations blueprint: the list with filters and search, a transcript with tags, the
reviewed mark and a note, exports, and what the bot did not understand.

Every view of conversations is written to the audit log. Contact details are masked in lists
and exports; an admin may reveal them (`reveal=yes`), which is audited too.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)

from clinic import sms
from clinic.db import utc_now
from clinic.profile import current_profile
from console import MAX_ID
from console.auth import accounts
from console.auth.guard import reveal_requested
from console.conversations import queries as conversations
from console.conversations.queries import AnnotationError, Cursor, Filters
from console.conversations.takeover import live_state
from console.privacy import group_similar, mask_contacts, mask_fields, nlu_yaml, spreadsheet_safe
from console.teaching import queries as teaching

blueprint = Blueprint("conversations", __name__)
EXPORT_LIMIT = 10_000
NOT_UNDERSTOOD_DAYS = (7, 30, 90, 365)
EXPORT_COLUMNS = (
    "conversation_id",
    "channel",
    "started_at",
    "last_message_at",
    "user_messages",
    "not_understood",
    "crisis_level",
    "escalated",
    "booked",
    "reviewed",
    "tags",
    "first_message",
)


def _timezone() -> dt.tzinfo:
    return current_profile().hours.timezone


@blueprint.route("/conversations")
def index() -> Any:
    filters = Filters.from_args(request.args)
    for problem in filters.errors:
        flash(problem)
    reveal = reveal_requested()
    after = Cursor.decode(request.args.get("after", ""))
    rows, next_cursor = conversations.list_conversations(
        g.engine,
        filters,
        _timezone(),
        after,
        current_app.config.get("CONSOLE_PAGE_SIZE", conversations.PAGE_SIZE),
    )
    if not reveal:
        mask_fields(rows, "first_message")
    args = filters.as_args()
    accounts.audit(
        g.engine,
        g.user.username,
        "reveal_conversations" if reveal else "view_conversations",
        conversations.audit_target(len(rows), filters),
    )
    return render_template(
        "conversations/index.html",
        rows=rows,
        filters=filters,
        args=args,
        reveal=reveal,
        facets=conversations.facets(g.engine),
        crisis_levels=tuple(conversations.CRISIS_RANKS),
        next_url=url_for(".index", **args, after=next_cursor.encode()) if next_cursor else None,
        first_url=url_for(".index", **args) if after else None,
    )


@blueprint.route("/conversations/<path:conversation_id>")
def transcript(conversation_id: str) -> Any:
    found = conversations.get_conversation(g.engine, conversation_id)
    if found is None:
        abort(404)
    accounts.audit(g.engine, g.user.username, "view_conversation", conversation_id[:255])
    return render_template("conversations/transcript.html", c=found, **_reach(found))


def _reach(person: dict[str, Any]) -> dict[str, Any]:
    """How staff can reach the person now (`conversations/_reach.html`, `_takeover.html`):
    whether the bot is paused and the web chat open (the Rasa server's word), the SMS number and
    its opt-out."""
    conversation_id, channel = person["conversation_id"], person["channel"]
    reach = {
        "channel": channel,
        "contacts": person["contacts"],
        "phone": None,
        "opted_out": False,
        **live_state(conversation_id, bool(person.get("paused"))),
    }
    if channel == sms.CHANNEL:
        reach.update(
            phone=sms.phone_for(g.engine, conversation_id),
            opted_out=sms.is_opted_out(g.engine, conversation_id),
        )
    return reach


@blueprint.route("/conversations/<path:conversation_id>/live.json")
def live(conversation_id: str) -> Any:
    """For a transcript page's polling: the messages after the first `shown`, drawn as the
    page draws them, and how the person can be reached now: nothing the page itself does not
    show. A poll that brings new messages is written to the audit log."""
    person = conversations.people(g.engine, [conversation_id])[conversation_id]
    if person["started_at"] is None:  # not in the index: no such conversation (yet)
        abort(404)
    shown = request.args.get("shown", 0, type=int)
    new = conversations.turns_after(g.engine, conversation_id, shown)
    if new:
        accounts.audit(
            g.engine, g.user.username, "view_new_messages", f"{len(new)} in {conversation_id}"[:255]
        )
    return jsonify(
        shown=max(0, shown) + len(new),
        turns=[render_template("conversations/_turn.html", t=turn) for turn in new],
        reach=render_template("conversations/_reach.html", **_reach(person)),
    )


def _back(conversation_id: str) -> Any:
    return redirect(url_for(".transcript", conversation_id=conversation_id))


@blueprint.route("/conversations/<path:conversation_id>/annotate", methods=["POST"])
def annotate(conversation_id: str) -> Any:
    """Tags, the reviewed mark and the note: whichever the form sent."""
    if conversations.get_conversation(g.engine, conversation_id) is None:
        abort(404)
    form, who = request.form, g.user.username
    try:
        if form.get("add_tag"):
            tag = conversations.add_tag(g.engine, conversation_id, form["add_tag"], who)
            done = f"Tagged “{tag}”."
        elif form.get("remove_tag"):
            conversations.remove_tag(g.engine, conversation_id, form["remove_tag"])
            done = f"Tag “{form['remove_tag']}” removed."
        elif form.get("reviewed") in ("yes", "no"):
            conversations.set_reviewed(g.engine, conversation_id, form["reviewed"] == "yes", who)
            done = "Marked reviewed." if form["reviewed"] == "yes" else "Marked not reviewed."
        elif "note" in form:
            conversations.set_note(g.engine, conversation_id, form["note"], who)
            done = "Note saved."
        else:
            abort(400, "Nothing to change: the form sent no tag, mark or note.")
    except AnnotationError as error:
        flash(str(error))
    else:
        accounts.audit(g.engine, who, "annotate", conversation_id[:255])
        flash(done)
    return _back(conversation_id)


@blueprint.route("/conversations.<any(csv, json):kind>")
def export(kind: str) -> Any:
    """The filtered conversations (not their messages), masked unless they reveal: for
    administrators only (bulk health information leaves the console)."""
    if not g.user.is_admin:
        abort(403, "Only an administrator can export conversations.")
    filters = Filters.from_args(request.args)
    reveal = reveal_requested()
    rows = conversations.iter_conversations(g.engine, filters, _timezone(), EXPORT_LIMIT)
    if not reveal:
        mask_fields(rows, "first_message")
    accounts.audit(
        g.engine,
        g.user.username,
        f"export_{kind}" + ("_revealed" if reveal else ""),
        conversations.audit_target(len(rows), filters),
    )
    records = [_export_record(row) for row in rows]
    stamp = dt.datetime.now(_timezone()).strftime("%Y%m%d-%H%M")
    if kind == "json":
        body = json.dumps(records, ensure_ascii=False, indent=1)
        mimetype = "application/json"
    else:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS)
        writer.writeheader()
        for record in records:
            writer.writerow({k: spreadsheet_safe(v) for k, v in record.items()})
        body, mimetype = out.getvalue(), "text/csv"
    return Response(
        body,
        mimetype=f"{mimetype}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="conversations-{stamp}.{kind}"'},
    )


def _export_record(row: dict[str, Any]) -> dict[str, Any]:
    record = {name: row.get(name) for name in EXPORT_COLUMNS}
    for name in ("started_at", "last_message_at"):
        record[name] = row[name].isoformat()
    record["tags"] = ", ".join(row["tags"])
    return record


@blueprint.route("/not-understood")
def not_understood() -> Any:
    """Messages that fell back or were answered unsure, grouped by similarity, with counts;
    not those staff have taught already."""
    try:
        days = int(request.args.get("days", 30))
    except ValueError:
        days = 30
    days = days if days in NOT_UNDERSTOOD_DAYS else 30
    since = utc_now() - dt.timedelta(days=days)
    messages = conversations.not_understood_messages(g.engine, since)
    taught = teaching.taught_turn_ids(g.engine, [m["id"] for m in messages])
    messages = [m for m in messages if m["id"] not in taught]
    mask_fields(messages, "text")
    groups = group_similar(messages, lambda m: m["text"])
    accounts.audit(g.engine, g.user.username, "view_not_understood", f"{len(messages)} messages")
    return render_template(
        "conversations/not_understood.html",
        groups=groups,
        days=days,
        choices=NOT_UNDERSTOOD_DAYS,
        total=len(messages),
    )


@blueprint.route("/not-understood/export", methods=["POST"])
def export_training_data() -> Any:
    """The chosen messages as Rasa NLU YAML for one intent, to review and add to data/nlu/."""
    intent = request.form.get("intent", "").strip()
    try:
        ids = [int(v) for v in request.form.getlist("message")]
    except ValueError:
        abort(400, "A message id is not a number.")
    if any(not 0 < i <= MAX_ID for i in ids):
        abort(400, "A message id is out of range.")
    messages = conversations.messages_by_id(g.engine, ids)
    if not messages:
        flash("Choose at least one message to export.")
        return redirect(url_for(".not_understood"))
    try:
        body = nlu_yaml({intent: [mask_contacts(m["text"]) for m in messages]})
    except ValueError as error:
        flash(str(error))
        return redirect(url_for(".not_understood"))
    accounts.audit(
        g.engine,
        g.user.username,
        "export_training_data",
        f"{len(messages)} messages as {intent}"[:255],
    )
    name = intent.replace("/", "-")
    return Response(
        body,
        mimetype="application/x-yaml; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="nlu-{name}.yml"'},
    )
