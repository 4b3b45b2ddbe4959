"""One retraining run, in the background: `python -m retraining.worker RUN_ID` (the console
starts it; retraining/runs.py).

1. The training data: the repository's `data/` and the examples staff taught that are not
   revoked (`data/nlu/staff_taught.yml`, in the run's folder; texts as stored, contacts masked),
   a copy deleted once training ends.
2. Training: `rasa train` with the repository's config and domain, its progress in the run's
   step every few seconds (and its log in the run's folder, never in the console's).
3. Checks (retraining/checks.py): the new model and the running one on the held-out sets and
   the crisis suite (the running model's figures are kept by its digest, measured once), and the
   taught examples.
4. The decision: ready to deploy, or refused with each reason, figures side by side.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

import sqlalchemy as sa

from clinic import settings
from clinic.db import engine_for
from clinic.profile import PROJECT_ROOT
from components.sentence_encoder import DISK_CACHE_ENV
from console.teaching import queries as teaching
from retraining import checks, runs

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 15
TRAINING_TIMEOUT_SECONDS = 3 * 3600
RASA = Path(sys.executable).with_name("rasa")
TAUGHT_FILE = Path("nlu") / "staff_taught.yml"
SENTENCE_VECTORS = PROJECT_ROOT / "var" / "cache" / "sentence-vectors.npz"  # also make train's


class WorkerError(RuntimeError):
    """The run cannot go on; the message is the reason the console shows."""


def training_data(engine: sa.engine.Engine, folder: Path) -> list[tuple[str, str]]:
    """The repository's data/ in `folder`, with the taught examples beside it; those examples
    (text, label), as read once: what the model learns is what it is checked on."""
    if folder.exists():
        shutil.rmtree(folder)
    shutil.copytree(PROJECT_ROOT / "data", folder)
    taught = teaching.training_examples(engine)
    (folder / TAUGHT_FILE).write_text(teaching.as_nlu_yaml(taught), encoding="utf-8")
    return taught


def train(engine: sa.engine.Engine, run_id: int, data: Path, out: Path) -> tuple[Path, int]:
    """`rasa train` on `data` with the repository's config and domain, from scratch (a few
    minutes: no component of the pipeline trains for epochs); the model's path and the seconds
    it took. Says how far it is."""
    started = time.monotonic()
    model = out / f"run-{run_id}.tar.gz"
    code = _rasa_train(engine, run_id, data, out, started)
    if code != 0 or not model.is_file():
        raise WorkerError(
            f"Training failed (rasa train exited with {code}); its log is {out / 'train.log'}."
        )
    return model, round(time.monotonic() - started)


def _rasa_train(
    engine: sa.engine.Engine,
    run_id: int,
    data: Path,
    out: Path,
    started: float,
) -> int:
    typical = runs.last_training_seconds(engine)
    expected = f", usually about {max(1, round(typical / 60))} min" if typical else ""
    log = out / "train.log"
    command = [
        str(RASA),
        "train",
        "--config",
        str(PROJECT_ROOT / "config.yml"),
        "--domain",
        str(PROJECT_ROOT / "domain.yml"),
        "--data",
        str(data),
        "--out",
        str(out),
        "--fixed-model-name",
        f"run-{run_id}",
        "--skip-validation",
    ]
    with log.open("ab") as output:
        process = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env={
                **os.environ,
                "TF_CPP_MIN_LOG_LEVEL": "2",
                "HF_HUB_OFFLINE": "1",
                DISK_CACHE_ENV: str(SENTENCE_VECTORS),
            },
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        while True:
            try:
                code = process.wait(timeout=HEARTBEAT_SECONDS)
                break
            except subprocess.TimeoutExpired:
                elapsed = time.monotonic() - started
                if elapsed > TRAINING_TIMEOUT_SECONDS:
                    process.kill()
                    raise WorkerError(
                        "Training took more than three hours and was stopped."
                    ) from None
                runs.update(engine, run_id, step=f"Training: {_minutes(elapsed)} so far{expected}")
    return code


def execute(engine: sa.engine.Engine, run_id: int) -> None:
    folder = runs.workdir(run_id)
    folder.mkdir(parents=True, exist_ok=True)
    runs.update(engine, run_id, state=runs.TRAINING, step="Gathering the training data")
    examples = training_data(engine, folder / "data")
    runs.update(engine, run_id, examples=len(examples), step="Training: starting")
    try:
        model, seconds = train(engine, run_id, folder / "data", folder)
    finally:
        # The copy holds the taught texts, and the model is what is kept: an example revoked
        # later must not stay behind in a folder nobody looks at.
        shutil.rmtree(folder / "data", ignore_errors=True)
    runs.update(
        engine,
        run_id,
        state=runs.CHECKING,
        model_path=str(model),
        training_seconds=seconds,
        step="Checking the new model on held-out questions and the crisis suite",
    )
    parse = checks.local_parser(model)
    new = checks.measure(parse)
    taught = checks.taught(parse, examples)
    runs.update(engine, run_id, step="Checking the running model the same way")
    running = running_figures(engine)
    reasons = checks.worse(new, running)
    figures = {"new": new, "running": running, "taught": taught}
    if reasons:
        runs.finish(
            engine, run_id, runs.REFUSED, "Refused: not deployed", figures=figures, reasons=reasons
        )
    else:
        runs.finish(engine, run_id, runs.READY, "Ready to deploy", figures=figures, reasons=[])


def running_figures(engine: sa.engine.Engine) -> dict:
    """The serving model's figures: a deployed run's own, measured when it was checked; the
    shipped model's measured once and kept by the model file's digest."""
    serving = runs.serving(engine)
    if serving["run_id"] is not None:
        figures = runs.get(engine, serving["run_id"])["figures"]
        if figures:
            return figures["new"]
    cache = settings.current().retraining_dir / "figures"
    return checks.measure_model(Path(serving["model_path"]), cache)


def _minutes(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"


def main(argv: Optional[list[str]] = None) -> int:
    from rasa.utils.log_utils import configure_structlog

    # Warnings only: Rasa's debug lines of each parse carry the text, taught examples included.
    configure_structlog(logging.WARNING)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )
    logging.getLogger("rasa").setLevel(logging.WARNING)
    args = argv if argv is not None else sys.argv[1:]
    if len(args) != 1 or not args[0].isdecimal():
        print("usage: python -m retraining.worker RUN_ID", file=sys.stderr)
        return 2
    run_id = int(args[0])
    engine = engine_for(settings.current().database_url)
    try:
        execute(engine, run_id)
    except WorkerError as error:
        runs.finish(engine, run_id, runs.FAILED, "Failed", reasons=[str(error)])
        return 1
    except Exception as error:  # the run must not stay "in progress"; the log has the traceback
        logger.exception("Retraining %s failed", run_id)
        runs.finish(
            engine,
            run_id,
            runs.FAILED,
            "Failed",
            reasons=[
                f"An unexpected error stopped it ({type(error).__name__}); see the worker log."
            ],
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
