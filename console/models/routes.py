"""The retraining blueprint: the "Retrain" page (the model serving now, the runs with their
progress, figures and reasons), and its forms: an administrator starts a retraining, deploys a
model that passed its checks, rolls back, and downloads the taught examples and approved
wordings as a patch for the repository (retraining/)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, url_for

from console.auth import accounts
from console.teaching import queries as teaching
from retraining import patch, runs
from retraining.runs import RetrainingError

blueprint = Blueprint("models", __name__)


@blueprint.app_context_processor
def words() -> dict[str, Any]:
    return {"run_state_names": runs.STATE_NAMES}


def _admins_only(what: str) -> None:
    if not g.user.is_admin:
        abort(403, f"Only an administrator can {what}.")


@blueprint.route("/models")
def index() -> Any:
    recent = runs.recent(g.engine)
    serving = runs.serving(g.engine)
    serving_run = next((r for r in recent if r["id"] == serving["run_id"]), None)
    if serving["run_id"] is not None and serving_run is None:
        serving_run = runs.get(g.engine, serving["run_id"])
    return render_template(
        "models/index.html",
        runs=recent,
        serving=serving,
        serving_run=serving_run,
        back=runs.before_serving(g.engine),
        in_progress=any(r["state"] in runs.IN_PROGRESS for r in recent),
        taught=len(teaching.training_examples(g.engine)),
    )


@blueprint.route("/models/retrain", methods=["POST"])
def retrain() -> Any:
    _admins_only("start a retraining")
    try:
        run_id = runs.start(g.engine, g.user.username)
    except RetrainingError as error:
        flash(str(error))
        return redirect(url_for(".index"))
    accounts.audit(g.engine, g.user.username, "start_retraining", f"run {run_id}")
    flash(
        f"Retraining {run_id} started. It trains, then checks the new model against the running "
        "one; this page shows how far it is."
    )
    return redirect(url_for(".index"))


@blueprint.route("/models/<int:run_id>/deploy", methods=["POST"])
def deploy(run_id: int) -> Any:
    _admins_only("deploy a model")
    try:
        seconds = runs.deploy(g.engine, run_id, g.user.username)
    except RetrainingError as error:
        flash(str(error))
        return redirect(url_for(".index"))
    accounts.audit(g.engine, g.user.username, "deploy_model", f"run {run_id}")
    flash(
        f"Deployed: the assistant answers with the model of retraining {run_id} ({seconds:.0f} s)."
    )
    return redirect(url_for(".index"))


@blueprint.route("/models/rollback", methods=["POST"])
def rollback() -> Any:
    _admins_only("roll back the model")
    try:
        back = runs.rollback(g.engine, g.user.username)
    except RetrainingError as error:
        flash(str(error))
        return redirect(url_for(".index"))
    which = f"retraining {back['run_id']}" if back["run_id"] else "the shipped model"
    accounts.audit(g.engine, g.user.username, "rollback_model", which)
    flash(f"Rolled back: the assistant answers with {which} again.")
    return redirect(url_for(".index"))


@blueprint.route("/models/patch")
def download_patch() -> Any:
    _admins_only("export the taught examples and wordings")
    text = patch.repository_patch(g.engine)
    accounts.audit(g.engine, g.user.username, "export_patch", f"{len(text)} bytes")
    return Response(
        text,
        mimetype="text/x-diff",
        headers={"Content-Disposition": 'attachment; filename="staff-teaching.patch"'},
    )
