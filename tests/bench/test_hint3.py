"""The HINT3 benchmark's own parts: reading the data, training data for Rasa, the paper's metrics."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

from bench.hint3 import (
    OUT_OF_SCOPE,
    TRAIN_SETS,
    Prediction,
    best_mcc,
    nlu_yaml,
    published,
    read_csv,
    scores,
    seeded_config,
    summarise,
)
from support import ROOT, SHARED

HINT3 = SHARED / "benchmarks" / "hint3"


@pytest.fixture(scope="module")
def hint3():
    if not (HINT3 / "train").is_dir():
        pytest.skip(
            f"HINT3 is not beside the project ({HINT3}: ../shared/benchmarks/hint3, or "
            "CLINIC_SHARED_DIR)"
        )
    return HINT3


def test_every_train_set_becomes_rasa_training_data_with_every_sentence(hint3):
    for train, test, _ in TRAIN_SETS.values():
        rows = read_csv(hint3 / "train" / f"{train}.csv")
        data = RasaYAMLReader().reads(nlu_yaml(rows))
        sentences = {(" ".join(s.split()), label) for s, label in rows}
        assert {(m.get("text"), m.get("intent")) for m in data.intent_examples} == sentences
        assert OUT_OF_SCOPE not in {label for _, label in rows}
        assert any(label == OUT_OF_SCOPE for _, label in read_csv(hint3 / "test" / f"{test}.csv"))


def test_quoted_newlines_stay_inside_one_sentence(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('sentence,label\n"two\nlines",A\nplain,B\n', encoding="utf-8")
    assert read_csv(path) == [("two\nlines", "A"), ("plain", "B")]
    assert "- two lines\n" in nlu_yaml(read_csv(path))


def test_metrics_at_a_threshold_follow_the_papers_definitions():
    predictions = [
        Prediction("A", "A", 0.9),  # right
        Prediction("A", "B", 0.8),  # wrong intent
        Prediction("B", "B", 0.3),  # right, but under 0.5: becomes out of scope
        Prediction(OUT_OF_SCOPE, "A", 0.2),  # rejected at 0.5: right
        Prediction(OUT_OF_SCOPE, "B", 0.7),  # accepted: wrong
        Prediction(OUT_OF_SCOPE, "nlu_fallback", 0.99),  # the gate's intent is never a label
    ]
    at_half = scores(predictions, 0.5)
    assert at_half["accuracy"] == pytest.approx(3 / 6)
    assert at_half["inscope_accuracy"] == pytest.approx(1 / 3)
    assert at_half["oos_recall"] == pytest.approx(2 / 3)
    from sklearn.metrics import matthews_corrcoef

    gold = ["A", "A", "B", OUT_OF_SCOPE, OUT_OF_SCOPE, OUT_OF_SCOPE]
    predicted = ["A", "B", OUT_OF_SCOPE, OUT_OF_SCOPE, "B", OUT_OF_SCOPE]
    assert at_half["mcc"] == pytest.approx(matthews_corrcoef(gold, predicted))
    assert scores(predictions, 0.1)["oos_recall"] == pytest.approx(1 / 3)


def test_the_best_threshold_is_the_one_with_the_best_mean_over_seeds():
    sure = [
        Prediction("A", "A", 0.95),
        Prediction(OUT_OF_SCOPE, "A", 0.35),
        Prediction("B", "B", 0.6),
    ]
    unsure = [
        Prediction("A", "A", 0.45),
        Prediction(OUT_OF_SCOPE, "B", 0.35),
        Prediction("B", "B", 0.6),
    ]
    summary = summarise({1: sure, 2: unsure})
    threshold, mean, sd = best_mcc(summary)
    # only at 0.4 is every row of both seeds right: out of scope rejected, answers kept
    assert (threshold, mean, sd) == (0.4, pytest.approx(1.0), pytest.approx(0.0))
    assert all(row["mcc"]["mean"] < 1.0 for t, row in summary.items() if t != 0.4)


def test_published_best_figures_are_the_ones_to_beat(hint3):
    best = {
        name: max(max(rows.values()) for rows in published(name, hint3).values())
        for name in TRAIN_SETS
    }
    assert best == pytest.approx(
        {
            "sofmattress": 0.638,
            "sofmattress_subset": 0.555,
            "curekart": 0.603,
            "curekart_subset": 0.604,
        },
        abs=5e-4,
    )


def test_only_the_seed_of_the_shipped_pipeline_changes():
    import yaml

    shipped = yaml.safe_load((ROOT / "config.yml").read_text())
    seeded = yaml.safe_load(seeded_config(ROOT / "config.yml", 7))
    assert [c["name"] for c in seeded["pipeline"]] == [c["name"] for c in shipped["pipeline"]]
    for before, after in zip(shipped["pipeline"], seeded["pipeline"]):
        assert {k: v for k, v in after.items() if k != "random_seed"} == {
            k: v for k, v in before.items() if k != "random_seed"
        }
        assert after.get("random_seed", 7) == 7
