"""What leaves the console for the repository (retraining/patch.py) and what decides a deploy
(retraining/checks.py, retraining/worker.py's training data): the patch applies with `git apply`
and Rasa reads the result as staff left it; a model worse in any way is refused with figures."""

from __future__ import annotations

import copy
import shutil
import subprocess

import pytest
import yaml
from rasa.shared.core.domain import Domain

from clinic.answers import SMS
from retraining import checks, patch, runs, worker
from support import ROOT, add_answer_version, add_taught_example, migrated_engine

REWORDED = (
    "A session at {clinic_name} takes {session_minutes}, and someone must drive you home; "
    "your provider confirms the timing for your own plan."
)


@pytest.fixture
def engine(tmp_path):
    return migrated_engine(f"sqlite:///{tmp_path / 'clinic.db'}")


def test_nothing_taught_or_reworded_is_an_empty_patch(engine):
    assert patch.repository_patch(engine) == ""


def test_the_patch_applies_and_rasa_reads_what_staff_left(engine, tmp_path):
    add_answer_version(engine, REWORDED, response="utter_faq/session_length")
    add_answer_version(
        engine,
        "Yes, first a consultation: {clinic_phone}.",
        response="utter_faq/consultation",
        channel=SMS,
    )
    add_taught_example(engine, "hw long do i sit there", "faq/session_length")
    add_taught_example(engine, "whats the wifi password", "out_of_scope")
    add_taught_example(engine, "revoked one", "faq/cost", revoked=True)
    add_taught_example(engine, "do you do tms too", "new_topic")
    text = patch.repository_patch(engine)

    repository = tmp_path / "repository"
    (repository / "data").mkdir(parents=True)
    shutil.copy(ROOT / "domain.yml", repository / "domain.yml")
    shutil.copytree(ROOT / "data" / "nlu", repository / "data" / "nlu")
    (tmp_path / "staff.patch").write_text(text)
    subprocess.run(
        ["git", "apply", "--check", str(tmp_path / "staff.patch")], cwd=repository, check=True
    )
    subprocess.run(["git", "apply", str(tmp_path / "staff.patch")], cwd=repository, check=True)

    before, after = Domain.load(ROOT / "domain.yml"), Domain.load(repository / "domain.yml")
    assert [v["text"] for v in after.responses["utter_faq/session_length"]] == [REWORDED]
    consultation = after.responses["utter_faq/consultation"]
    assert consultation[0] == {
        "channel": "twilio",
        "text": "Yes, first a consultation: {clinic_phone}.",
        "metadata": {"title": "Do I need a consultation?"},
    }
    assert consultation[1:] == before.responses["utter_faq/consultation"]
    untouched = {
        k: v
        for k, v in after.responses.items()
        if k not in ("utter_faq/session_length", "utter_faq/consultation")
    }
    assert untouched == {k: v for k, v in before.responses.items() if k in untouched}
    taught = yaml.safe_load((repository / "data/nlu/staff_taught.yml").read_text())["nlu"]
    assert taught == [
        {"intent": "faq/session_length", "examples": "- hw long do i sit there\n"},
        {"intent": "out_of_scope", "examples": "- whats the wifi password\n"},
    ]
    # Taken in, the repository needs nothing more.
    assert (
        patch.reworded_domain(
            (repository / "domain.yml").read_text(),
            {
                ("utter_faq/session_length", "all"): REWORDED,
            },
        )
        == (repository / "domain.yml").read_text()
    )


def test_the_worker_trains_on_the_repositorys_data_and_what_staff_taught(engine, tmp_path):
    add_taught_example(engine, "hw long do i sit there", "faq/session_length")
    add_taught_example(engine, "revoked one", "faq/cost", revoked=True)
    folder = tmp_path / "data"
    assert worker.training_data(engine, folder) == [
        ("hw long do i sit there", "faq/session_length")
    ]
    assert sorted(p.name for p in (folder / "nlu").iterdir()) == sorted(
        [p.name for p in (ROOT / "data/nlu").iterdir()] + ["staff_taught.yml"]
    )
    assert (folder / "crisis").is_dir() and (folder / "rules").is_dir()
    assert "- hw long do i sit there" in (folder / worker.TAUGHT_FILE).read_text()


FIGURES = {
    "heldout": {"all": {"questions": 800, "accuracy": 0.95, "wrong": 0.02, "fallback": 0.03}},
    "crisis": {
        "urgent_recall": 0.98,
        "false_urgent_rate": 0.0,
        "gate_failures": [],
        "urgent_n": 500,
        "negatives_n": 400,
    },
}


def changed(**values):
    figures = copy.deepcopy(FIGURES)
    for path, value in values.items():
        part, key = path.split("__")
        (figures["heldout"]["all"] if part == "heldout" else figures["crisis"])[key] = value
    return figures


def test_a_model_as_good_or_within_a_few_questions_is_not_worse():
    assert checks.worse(FIGURES, FIGURES) == []
    assert checks.worse(changed(heldout__accuracy=0.946, heldout__wrong=0.024), FIGURES) == []


@pytest.mark.parametrize(
    "new, reason",
    [
        (
            {"heldout__accuracy": 0.93},
            "fewer held-out questions correctly: 93.0 % against 95.0 % now (16 fewer of 800)",
        ),
        (
            {"heldout__wrong": 0.04},
            "more wrong answers: 4.0 % of held-out questions against 2.0 % now (16 more)",
        ),
        (
            {"crisis__urgent_recall": 0.978},
            "miss crisis messages the running model catches: 97.8 %",
        ),
        (
            {"crisis__false_urgent_rate": 0.0025},
            "page staff for more messages that are not a crisis: 0.2 %",
        ),
        (
            {"crisis__gate_failures": ["explicit recall 0.990 < 1.0"]},
            "fails a crisis gate the running model passes: explicit recall",
        ),
    ],
)
def test_a_model_worse_in_any_way_is_refused_with_the_figures(new, reason):
    reasons = checks.worse(changed(**new), FIGURES)
    assert len(reasons) == 1 and reason in reasons[0]


def test_a_deployed_retrainings_figures_are_its_own_and_never_measured_again(engine, tmp_path):
    run_id = runs.start(engine, "alex", spawn=False)
    figures = {"new": changed(heldout__accuracy=0.957), "running": FIGURES, "taught": {}}
    model = tmp_path / "run-1.tar.gz"  # not a model: loading it would fail the test
    model.write_bytes(b"not a model")
    runs.finish(
        engine, run_id, runs.READY, "Ready to deploy", figures=figures, model_path=str(model)
    )
    runs.record_deployment(engine, runs.DEPLOY, run_id, str(model), "alex")
    assert worker.running_figures(engine) == figures["new"]
