"""The "Retrain" page (console/models/): everyone sees the model answering now and each run's
progress, figures and reasons; only administrators start a retraining, deploy, roll back or
download the patch (staff get 403); each of those is audited."""

from __future__ import annotations

import re

import pytest

from console.auth import accounts
from retraining import runs
from support import add_taught_example

FIGURES = {
    "heldout": {"all": {"questions": 824, "accuracy": 0.951, "wrong": 0.019, "fallback": 0.03}},
    "crisis": {
        "urgent_recall": 0.984,
        "false_urgent_rate": 0.0,
        "gate_failures": [],
        "urgent_n": 502,
        "negatives_n": 410,
    },
}


@pytest.fixture
def spawned(monkeypatch, tmp_path):
    """The workers the page starts (none really: the worker is tested with a real training)."""
    monkeypatch.setenv("CLINIC_RETRAINING_DIR", str(tmp_path / "retraining"))
    started: list[int] = []
    monkeypatch.setattr(runs, "spawn_worker", started.append)
    return started


def token(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def flashes(page: str) -> list[str]:
    return re.findall(r'<p class="flash" role="status">([^<]*)</p>', page)


def test_staff_see_the_page_but_change_nothing(client, log_in, spawned, engine):
    log_in("sam")
    page = client.get("/models").get_data(as_text=True)
    assert "Retrain the assistant" in page and "the model the repository shipped" in page.lower()
    assert "Retrain now" not in page and "Download the taught" not in page
    csrf = token(page)
    for path in ("/models/retrain", "/models/rollback", "/models/1/deploy"):
        assert client.post(path, data={"csrf_token": csrf}).status_code == 403
    assert client.get("/models/patch").status_code == 403
    assert spawned == []


def test_an_administrator_starts_one_retraining_and_follows_it(client, log_in, spawned, engine):
    add_taught_example(engine, "hw long do i sit there", "faq/session_length")
    log_in("alex")
    page = client.get("/models").get_data(as_text=True)
    assert "and the 1 example staff taught" in " ".join(page.split())
    reply = client.post("/models/retrain", data={"csrf_token": token(page)}, follow_redirects=True)
    page = reply.get_data(as_text=True)
    assert flashes(page) == [
        "Retraining 1 started. It trains, then checks the new model against the running one; "
        "this page shows how far it is."
    ]
    assert spawned == [1]
    assert '<meta http-equiv="refresh" content="5">' in page
    assert "Waiting for the worker to start" in page and "Retrain now" not in page
    assert ("start_retraining", "run 1") in [
        (e["action"], e["target"]) for e in accounts.audit_entries(engine)
    ]

    runs.update(engine, 1, state=runs.TRAINING, step="Training: 1 min 40 s so far")
    page = client.get("/models").get_data(as_text=True)
    assert "Training: 1 min 40 s so far" in page


def test_a_refused_run_says_why_and_a_ready_one_can_be_deployed(client, log_in, spawned, engine):
    refused = runs.start(engine, "alex", spawn=False)
    worse = {**FIGURES, "heldout": {"all": {**FIGURES["heldout"]["all"], "accuracy": 0.912}}}
    reason = "It would answer fewer held-out questions correctly: 91.2 % against 95.1 % now (32 fewer of 824)."
    runs.finish(
        engine,
        refused,
        runs.REFUSED,
        "Refused: not deployed",
        figures={
            "new": worse,
            "running": FIGURES,
            "taught": {"examples": 3, "answered_as_taught": 3},
        },
        reasons=[reason],
    )
    ready = runs.start(engine, "alex", spawn=False)
    runs.finish(
        engine,
        ready,
        runs.READY,
        "Ready to deploy",
        figures={
            "new": FIGURES,
            "running": FIGURES,
            "taught": {"examples": 1, "answered_as_taught": 1},
        },
        reasons=[],
    )
    log_in("alex")
    page = client.get("/models").get_data(as_text=True)
    assert "Refused: worse than the running model" in page and reason in page
    assert "91.2 %" in page and "now 95.1 %, of 824" in page
    assert "answers 1 of 1 taught examples as taught" in page
    assert page.count(">Deploy</button>") == 1
    assert (
        f'action="/models/{ready}/deploy"' in page
        and f'action="/models/{refused}/deploy"' not in page
    )
    assert '<meta http-equiv="refresh"' not in page

    reply = client.post(
        f"/models/{refused}/deploy", data={"csrf_token": token(page)}, follow_redirects=True
    )
    assert flashes(reply.get_data(as_text=True)) == [
        f"Retraining {refused} is not ready to deploy (refused: worse than the running model)."
    ]


def test_the_patch_downloads_for_an_administrator_and_is_audited(client, log_in, spawned, engine):
    add_taught_example(engine, "hw long do i sit there", "faq/session_length")
    log_in("alex")
    reply = client.get("/models/patch")
    assert reply.status_code == 200 and reply.mimetype == "text/x-diff"
    assert "attachment" in reply.headers["Content-Disposition"]
    assert "+++ b/data/nlu/staff_taught.yml" in reply.get_data(as_text=True)
    assert "export_patch" in [e["action"] for e in accounts.audit_entries(engine)]
