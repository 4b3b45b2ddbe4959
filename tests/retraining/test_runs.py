"""Retraining runs and deployments (retraining/runs.py): one run at a time, a run whose worker
went quiet is failed, deployments read as a stack that rollbacks pop down to the shipped model,
and a server starts with the deployed model only when it was built beside the shipped one."""

from __future__ import annotations

import datetime as dt

import pytest

from clinic.db import utc_now
from retraining import runs
from retraining.runs import RetrainingError
from support import migrated_engine


@pytest.fixture
def engine(tmp_path, monkeypatch):
    monkeypatch.setenv("CLINIC_RETRAINING_DIR", str(tmp_path / "retraining"))
    fingerprint = tmp_path / "fingerprint"
    fingerprint.write_text("shipped-1\n")
    monkeypatch.setattr(runs, "SHIPPED_FINGERPRINT", fingerprint)
    return migrated_engine(f"sqlite:///{tmp_path / 'clinic.db'}")


def ready_run(engine, tmp_path, name: str = "model") -> int:
    run_id = runs.start(engine, "alex", spawn=False)
    model = tmp_path / f"{name}.tar.gz"
    model.write_bytes(b"a model")
    runs.finish(engine, run_id, runs.READY, "Ready to deploy", model_path=str(model))
    return run_id


def test_one_run_at_a_time_and_a_silent_worker_fails_its_run(engine):
    first = runs.start(engine, "alex", spawn=False)
    assert runs.get(engine, first)["state"] == runs.QUEUED
    assert runs.get(engine, first)["base"] == "shipped-1"
    with pytest.raises(RetrainingError, match=f"Retraining {first}, started by alex"):
        runs.start(engine, "kim", spawn=False)

    runs.update(engine, first, state=runs.TRAINING, step="Training: 2 min so far")
    assert runs.fail_stale(engine) == 0
    later = utc_now() + runs.STALE_AFTER + dt.timedelta(seconds=1)
    assert runs.fail_stale(engine, now=later) == 1
    failed = runs.get(engine, first)
    assert failed["state"] == runs.FAILED
    assert failed["reasons"] == ["The retraining stopped without finishing (its worker is gone)."]
    assert runs.start(engine, "kim", spawn=False) == first + 1


def test_deployments_are_a_stack_that_rollbacks_pop_down_to_the_shipped_model(engine, tmp_path):
    assert runs.serving(engine)["run_id"] is None
    assert runs.before_serving(engine) is None
    one, two = ready_run(engine, tmp_path, "one"), None
    runs.record_deployment(engine, runs.DEPLOY, one, str(tmp_path / "one.tar.gz"), "alex")
    two = ready_run(engine, tmp_path, "two")
    runs.record_deployment(engine, runs.DEPLOY, two, str(tmp_path / "two.tar.gz"), "alex")
    assert runs.serving(engine)["run_id"] == two
    assert runs.before_serving(engine)["run_id"] == one

    runs.record_deployment(engine, runs.ROLLBACK, one, str(tmp_path / "one.tar.gz"), "alex")
    assert runs.serving(engine)["run_id"] == one
    assert runs.before_serving(engine) == runs.shipped()
    runs.record_deployment(engine, runs.ROLLBACK, None, str(runs.SHIPPED_MODEL), "alex")
    assert runs.serving(engine) == runs.shipped()
    assert runs.before_serving(engine) is None
    with pytest.raises(RetrainingError, match="nothing to roll back"):
        runs.rollback(engine, "alex")


def test_a_server_starts_with_the_deployed_model_only_beside_its_shipped_model(engine, tmp_path):
    run_id = ready_run(engine, tmp_path)
    model = tmp_path / "model.tar.gz"
    runs.record_deployment(engine, runs.DEPLOY, run_id, str(model), "alex")
    assert runs.serving_model_path(engine) == model

    runs.SHIPPED_FINGERPRINT.write_text("shipped-2\n")  # the repository's model was retrained
    assert runs.serving_model_path(engine) == runs.SHIPPED_MODEL
    runs.SHIPPED_FINGERPRINT.write_text("shipped-1\n")
    model.unlink()
    assert runs.serving_model_path(engine) == runs.SHIPPED_MODEL


def test_only_a_ready_model_of_this_shipped_model_is_deployed(engine, tmp_path):
    queued = runs.start(engine, "alex", spawn=False)
    with pytest.raises(RetrainingError, match="not ready to deploy"):
        runs.deploy(engine, queued, "alex")
    runs.finish(engine, queued, runs.REFUSED, "Refused", reasons=["worse"])
    with pytest.raises(RetrainingError, match=r"not ready to deploy \(refused"):
        runs.deploy(engine, queued, "alex")

    run_id = ready_run(engine, tmp_path)
    runs.SHIPPED_FINGERPRINT.write_text("shipped-2\n")
    with pytest.raises(RetrainingError, match="retrain again"):
        runs.deploy(engine, run_id, "alex")
    runs.SHIPPED_FINGERPRINT.write_text("shipped-1\n")
    (tmp_path / "model.tar.gz").unlink()
    with pytest.raises(RetrainingError, match="no longer on disk"):
        runs.deploy(engine, run_id, "alex")


def test_a_new_run_deletes_the_folders_no_deploy_or_rollback_can_need(engine):
    """Every model a rollback may bring back stays, and the KEEP_LATEST newest finished runs;
    the older ones' folders (models of about 120 MB) go, their rows stay."""

    def finished_run() -> int:
        run_id = runs.start(engine, "alex", spawn=False)
        runs.workdir(run_id).mkdir(parents=True)
        model = runs.workdir(run_id) / f"run-{run_id}.tar.gz"
        model.write_bytes(b"a model")
        runs.finish(engine, run_id, runs.READY, "Ready to deploy", model_path=str(model))
        return run_id

    first, second, third = finished_run(), finished_run(), finished_run()
    runs.record_deployment(engine, runs.DEPLOY, first, str(runs.workdir(first)), "alex")
    runs.record_deployment(engine, runs.DEPLOY, second, str(runs.workdir(second)), "alex")
    runs.record_deployment(engine, runs.ROLLBACK, first, str(runs.workdir(first)), "alex")
    newest = [finished_run() for _ in range(runs.KEEP_LATEST)]

    started = runs.start(engine, "kim", spawn=False)
    kept = {run_id for run_id in (first, second, third, *newest) if runs.workdir(run_id).exists()}
    # first is serving; second was rolled back (off the stack), third is older than the newest
    assert kept == {first, *newest}
    assert runs.get(engine, third)["state"] == runs.READY  # the row stays
    with pytest.raises(RetrainingError, match="no longer on disk"):
        runs.deploy(engine, third, "alex")
    assert runs.get(engine, started)["state"] == runs.QUEUED
