"""Retraining runs and model deployments, kept in the clinic database with who and when.

A run is started by an administrator in the console and worked by `retraining.worker` in the
background: queued → training → checking → ready (deployable) or refused (worse than the running
model; its reasons say how, with the figures), or failed. One run at a time; a run whose worker
has said nothing for STALE_AFTER is failed, so a crashed worker never blocks the next.

A deployment puts a run's model (or, rolled back, an earlier one) on every Rasa server
(`retraining.swap`). The deployments read as a stack: a deploy pushes a model, a rollback pops
back to the one before it, down to the model the repository shipped (models/assistant.tar.gz).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Optional

import sqlalchemy as sa

from clinic import settings
from clinic.db import JsonText, UtcDateTime, metadata, utc_now
from clinic.profile import PROJECT_ROOT

QUEUED, TRAINING, CHECKING, READY, REFUSED, FAILED = (
    "queued",
    "training",
    "checking",
    "ready",
    "refused",
    "failed",
)
IN_PROGRESS = (QUEUED, TRAINING, CHECKING)
STATE_NAMES = {
    QUEUED: "Starting",
    TRAINING: "Training",
    CHECKING: "Checking the new model",
    READY: "Ready to deploy",
    REFUSED: "Refused: worse than the running model",
    FAILED: "Failed",
}
DEPLOY, ROLLBACK = "deploy", "rollback"
STALE_AFTER = dt.timedelta(minutes=10)  # the worker writes at least every 15 s while it works
# Finished runs whose folder (model, about 120 MB, and training log) is kept when a new run
# starts, besides every run a deploy or a rollback may still need (prune).
KEEP_LATEST = 3
SHIPPED_MODEL = PROJECT_ROOT / "models" / "assistant.tar.gz"
SHIPPED_FINGERPRINT = PROJECT_ROOT / "models" / ".fingerprint"  # scripts/train.sh writes it

model_runs = sa.Table(
    "clinic_model_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("step", sa.String(255), nullable=False),  # what it is doing, in plain words
    sa.Column("started_by", sa.String(64), nullable=False),
    sa.Column("started_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),  # the worker's last word
    sa.Column("finished_at", UtcDateTime),
    sa.Column("base", sa.String(64)),  # the fingerprint of the shipped model it was built beside
    sa.Column("examples", sa.Integer),  # the taught examples it was trained with
    sa.Column("model_path", sa.String(1024)),
    sa.Column("training_seconds", sa.Integer),
    sa.Column("figures", JsonText),  # {"new": …, "running": …, "taught": …} (retraining.checks)
    sa.Column("reasons", JsonText),  # refused or failed: why, each a sentence
)

deployments = sa.Table(
    "clinic_model_deployments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("action", sa.String(16), nullable=False),  # deploy | rollback
    sa.Column("run_id", sa.Integer),  # None: the shipped model
    sa.Column("model_path", sa.String(1024), nullable=False),
    sa.Column("by", sa.String(64), nullable=False),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("seconds", sa.Float),  # how long the swap took on every server
)


class RetrainingError(ValueError):
    """What was asked cannot be done now; the message says why, in plain words."""


def workdir(run_id: int) -> Path:
    return settings.current().retraining_dir / f"run-{run_id}"


def shipped_fingerprint() -> Optional[str]:
    try:
        return SHIPPED_FINGERPRINT.read_text().strip() or None
    except OSError:
        return None


# Runs


def start(engine: sa.engine.Engine, by: str, spawn: bool = True) -> int:
    """A new run, its worker started in the background (unless `spawn` is false: tests)."""
    fail_stale(engine)
    now = utc_now()
    with engine.begin() as connection:
        running = connection.execute(
            sa.select(model_runs.c.id, model_runs.c.started_by).where(
                model_runs.c.state.in_(IN_PROGRESS)
            )
        ).first()
        if running is not None:
            raise RetrainingError(
                f"Retraining {running.id}, started by {running.started_by}, is still running: "
                "wait for it to finish."
            )
        run_id = connection.execute(
            sa.insert(model_runs).values(
                state=QUEUED,
                step="Waiting for the worker to start",
                started_by=by,
                started_at=now,
                updated_at=now,
                base=shipped_fingerprint(),
            )
        ).inserted_primary_key[0]
    prune(engine)
    if spawn:
        spawn_worker(run_id)
    return run_id


def prune(engine: sa.engine.Engine) -> list[int]:
    """Delete the folders of finished runs that no deploy or rollback can need: not in the
    deployment stack (serving, or brought back by rollbacks) and not among the KEEP_LATEST
    newest. Their rows stay (who, when, the figures); deploying one says its model is no
    longer on disk. The runs whose folder went."""
    with engine.connect() as connection:
        needed = {deployment["run_id"] for deployment in _stack(connection)}
        finished = connection.execute(
            sa.select(model_runs.c.id)
            .where(model_runs.c.state.not_in(IN_PROGRESS))
            .order_by(model_runs.c.id.desc())
        ).scalars()
        old = [run_id for run_id in list(finished)[KEEP_LATEST:] if run_id not in needed]
    pruned = []
    for run_id in old:
        if workdir(run_id).exists():
            shutil.rmtree(workdir(run_id), ignore_errors=True)
            pruned.append(run_id)
    return pruned


def spawn_worker(run_id: int) -> None:
    """`python -m retraining.worker RUN_ID`, detached: it outlives the request (and the console)."""
    folder = workdir(run_id)
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "worker.log").open("ab") as log:
        subprocess.Popen(
            [sys.executable, "-m", "retraining.worker", str(run_id)],
            cwd=PROJECT_ROOT,
            env=os.environ.copy(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def update(engine: sa.engine.Engine, run_id: int, **values: Any) -> None:
    """The worker's word: a new state or step, or figures; it keeps the run from going stale."""
    with engine.begin() as connection:
        connection.execute(
            sa.update(model_runs)
            .where(model_runs.c.id == run_id)
            .values(updated_at=utc_now(), **values)
        )


def finish(engine: sa.engine.Engine, run_id: int, state: str, step: str, **values: Any) -> None:
    update(engine, run_id, state=state, step=step[:255], finished_at=utc_now(), **values)


def fail_stale(engine: sa.engine.Engine, now: Optional[dt.datetime] = None) -> int:
    """Runs in progress whose worker has said nothing for STALE_AFTER are failed; how many."""
    now = now or utc_now()
    with engine.begin() as connection:
        return connection.execute(
            sa.update(model_runs)
            .where(
                model_runs.c.state.in_(IN_PROGRESS),
                model_runs.c.updated_at < now - STALE_AFTER,
            )
            .values(
                state=FAILED,
                step="Stopped without finishing",
                finished_at=now,
                reasons=["The retraining stopped without finishing (its worker is gone)."],
            )
        ).rowcount


def get(engine: sa.engine.Engine, run_id: int) -> dict[str, Any]:
    with engine.connect() as connection:
        row = (
            connection.execute(sa.select(model_runs).where(model_runs.c.id == run_id))
            .mappings()
            .first()
        )
    if row is None:
        raise RetrainingError(f"There is no retraining {run_id}.")
    return dict(row)


def recent(engine: sa.engine.Engine, limit: int = 20) -> list[dict[str, Any]]:
    """The newest runs first."""
    fail_stale(engine)
    with engine.connect() as connection:
        return [
            dict(row)
            for row in connection.execute(
                sa.select(model_runs).order_by(model_runs.c.id.desc()).limit(limit)
            ).mappings()
        ]


def last_training_seconds(engine: sa.engine.Engine) -> Optional[int]:
    with engine.connect() as connection:
        return connection.execute(
            sa.select(model_runs.c.training_seconds)
            .where(model_runs.c.training_seconds.is_not(None))
            .order_by(model_runs.c.id.desc())
            .limit(1)
        ).scalar()


# Deployments


def _stack(connection: sa.engine.Connection) -> list[dict[str, Any]]:
    """The deployments in force, oldest first: deploys pushed, each rollback popping one."""
    stack: list[dict[str, Any]] = []
    for row in connection.execute(sa.select(deployments).order_by(deployments.c.id)).mappings():
        if row["action"] == DEPLOY:
            stack.append(dict(row))
        elif stack:
            stack.pop()
    return stack


def shipped() -> dict[str, Any]:
    return {"run_id": None, "model_path": str(SHIPPED_MODEL), "by": None, "at": None}


def serving(engine: sa.engine.Engine) -> dict[str, Any]:
    """The model deployed last and not rolled back: {run_id (None: shipped), model_path, by, at}."""
    with engine.connect() as connection:
        stack = _stack(connection)
    return stack[-1] if stack else shipped()


def before_serving(engine: sa.engine.Engine) -> Optional[dict[str, Any]]:
    """What a rollback brings back: the model deployed before the serving one, or the shipped
    model; None when the shipped model is serving (nothing to roll back)."""
    with engine.connect() as connection:
        stack = _stack(connection)
    if not stack:
        return None
    return stack[-2] if len(stack) > 1 else shipped()


def record_deployment(
    engine: sa.engine.Engine,
    action: str,
    run_id: Optional[int],
    model_path: str,
    by: str,
    seconds: Optional[float] = None,
) -> None:
    with engine.begin() as connection:
        connection.execute(
            sa.insert(deployments).values(
                action=action,
                run_id=run_id,
                model_path=model_path,
                by=by,
                at=utc_now(),
                seconds=seconds,
            )
        )


def serving_model_path(engine: sa.engine.Engine) -> Path:
    """The model a Rasa server starts with: the one deployed from the console, if its file is
    there and it was trained beside the shipped model now in models/ (else a retraining of the
    repository's data has superseded it, and the shipped model serves)."""
    deployed = serving(engine)
    if deployed["run_id"] is None:
        return SHIPPED_MODEL
    path = Path(deployed["model_path"])
    run = get(engine, deployed["run_id"])
    if not path.is_file() or run["base"] != shipped_fingerprint():
        return SHIPPED_MODEL
    return path


def deploy(engine: sa.engine.Engine, run_id: int, by: str) -> float:
    """The run's model onto every Rasa server (retraining/swap.py); the seconds it took."""
    run = get(engine, run_id)
    if run["state"] != READY:
        raise RetrainingError(
            f"Retraining {run_id} is not ready to deploy ({STATE_NAMES[run['state']].lower()})."
        )
    if run["base"] != shipped_fingerprint():
        raise RetrainingError(
            f"The repository's model changed after retraining {run_id} started: retrain again."
        )
    current = serving(engine)
    if current["run_id"] == run_id:
        raise RetrainingError(f"The model of retraining {run_id} is already the one serving.")
    model = Path(run["model_path"])
    if not model.is_file():
        raise RetrainingError(f"The model of retraining {run_id} is no longer on disk.")
    seconds = _swap(model, Path(current["model_path"]))
    record_deployment(engine, DEPLOY, run_id, str(model), by, seconds)
    return seconds


def rollback(engine: sa.engine.Engine, by: str) -> dict[str, Any]:
    """Back to the model that served before the serving one; what serves now."""
    back = before_serving(engine)
    if back is None:
        raise RetrainingError("The shipped model is serving: there is nothing to roll back.")
    model = Path(back["model_path"])
    if not model.is_file():
        raise RetrainingError(f"The earlier model ({model.name}) is no longer on disk.")
    seconds = _swap(model, Path(serving(engine)["model_path"]))
    record_deployment(engine, ROLLBACK, back["run_id"], str(model), by, seconds)
    return back


def _swap(model: Path, previous: Path) -> float:
    from retraining import swap

    try:
        return swap.swap(model, previous)
    except swap.SwapError as error:
        raise RetrainingError(f"Nothing was deployed: {error}") from None
