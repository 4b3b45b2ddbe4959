"""Retraining from the console and swapping models, timed as the console does them.

    .venv/bin/python -m bench.retraining              # retrain, then swap under load, and back
    .venv/bin/python -m bench.retraining --swap-only  # the swaps only (the model is swapped for itself)

Starts the assistant as `make run` does (bench/latency.py's `start_ours`, with Rasa's API behind
a token), on a temporary SQLite database with a few taught examples, and measures:
- the retraining (retraining/worker.py, as the console's worker runs it): gathering the data,
  training (from scratch, as the console's worker does), checking the new and the running model, in all;
- the swap of the new model into the running server (retraining/swap.py, `PUT /model`), and the
  swap back, each while 10 REST conversations and 10 socket.io conversations talk to the server
  (bench/latency.py's messages): their messages sent, answered, lost (no answer, an error),
  and the slowest answer during the swap; and the same load without a swap, to compare.
Each figure is printed; nothing is asserted here (the tests check that a swap loses nothing).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import List, Optional

from bench.latency import rest_level, socketio_level, start_ours

ROOT = Path(__file__).resolve().parent.parent
TAUGHT = (  # as a member of staff might teach them from "Not understood"
    ("wat do i bring w me on the day", "faq/preparation"),
    ("is there somewhere to leave my car", "faq/visit_logistics"),
    ("can my mom sit with me the whole time", "faq/visit_logistics"),
    ("do u take hsa cards", "faq/payment_options"),
    ("how many mins is one of the drips", "faq/session_length"),
    ("whats the wifi password", "out_of_scope"),
)
USERS = 10
MESSAGES_DURING = 400


def load_during(url: str, action) -> dict:
    """`action()` while USERS REST and USERS socket.io conversations talk to `url`."""
    results: list = []

    def talk() -> None:
        results.append(asyncio.run(rest_level(url, "ours", USERS, MESSAGES_DURING)))

    def chat() -> None:
        results.append(socketio_level(url, USERS, MESSAGES_DURING))

    threads = [threading.Thread(target=talk), threading.Thread(target=chat)]
    for thread in threads:
        thread.start()
    time.sleep(5)  # the load is on before the swap starts
    started = time.perf_counter()
    action()
    seconds = time.perf_counter() - started
    for thread in threads:
        thread.join()
    return {"seconds": seconds, "results": results}


def print_swap(name: str, measured: dict) -> None:
    print(f"\n{name}: {measured['seconds']:.1f} s")
    for result in measured["results"]:
        per_user = MESSAGES_DURING // USERS
        never_sent = result.unconnected * per_user
        sent = len(result.latencies_ms) + result.errors - never_sent
        unconnected = (
            f" ({result.unconnected} sockets did not connect under this load: their "
            f"{never_sent} messages were never sent)"
            if result.unconnected
            else ""
        )
        print(
            f"  {result.channel:<9} {USERS} conversations: {sent} messages sent during the load, "
            f"{len(result.latencies_ms)} answered, {sent - len(result.latencies_ms)} lost"
            f"{unconnected}; p50 {result.percentile(50):.0f} ms, "
            f"slowest {max(result.latencies_ms or [0]):.0f} ms"
        )


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "assistant.tar.gz")
    parser.add_argument("--swap-only", action="store_true", help="no retraining")
    args = parser.parse_args(argv)
    if not args.model.exists():
        parser.error(f"no model at {args.model}: run `make train` first")

    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # not a line per parse of the checks
    with tempfile.TemporaryDirectory(prefix="bench-retraining-") as tmp:
        workdir = Path(tmp)
        token = secrets.token_hex(24)
        database = f"sqlite:///{workdir / 'assistant.db'}"
        os.environ.update(
            {
                "CLINIC_DATABASE_URL": database,
                "CLINIC_RETRAINING_DIR": str(workdir / "retraining"),
                "CLINIC_RASA_API_TOKEN": token,
            }
        )
        from clinic import settings

        settings.reload()
        ours = start_ours(args.model, workdir, token=token)
        os.environ["CLINIC_RASA_REPLICAS"] = ours.url
        settings.reload()
        try:
            from clinic.db import engine_for
            from retraining import runs, swap, worker

            engine = engine_for(database)
            model = args.model
            if not args.swap_only:
                _teach(engine)
                run_id = runs.start(engine, "bench", spawn=False)
                started = time.perf_counter()
                worker.execute(engine, run_id)
                run = runs.get(engine, run_id)
                total = time.perf_counter() - started
                print(
                    f"retraining with {run['examples']} taught examples: {total:.0f} s in all, "
                    f"training {run['training_seconds']} s, the rest gathering and checking; "
                    f"{runs.STATE_NAMES[run['state']].lower()}"
                )
                for reason in run["reasons"] or []:
                    print(f"  {reason}")
                model = Path(run["model_path"])
            print_swap(
                "the same load, no swap (20 s)", load_during(ours.url, lambda: time.sleep(20))
            )
            print_swap("swap to the new model", load_during(ours.url, lambda: swap.swap(model)))
            print_swap("swap back", load_during(ours.url, lambda: swap.swap(args.model)))
            print(f"\nserver memory now {ours.rss_mb():.0f} MB, peak {ours.peak_rss_mb():.0f} MB")
        finally:
            ours.stop()
    return 0


def _teach(engine) -> None:
    from clinic.db import utc_now
    from console.teaching.queries import FROM_NOT_UNDERSTOOD, examples

    now = utc_now()
    with engine.begin() as connection:
        for number, (text, label) in enumerate(TAUGHT, start=1):
            connection.execute(
                examples.insert().values(
                    turn_id=number,
                    conversation_id=f"bench-{number}",
                    text=text,
                    source=FROM_NOT_UNDERSTOOD,
                    answered_as="nlu_fallback",
                    label=label,
                    created_by="bench",
                    created_at=now,
                    labelled_by="bench",
                    labelled_at=now,
                )
            )


if __name__ == "__main__":
    sys.exit(main())
