"""crisis/model.py: the risk model's pieces, on small data made here."""

import json

import numpy as np
import pytest

from crisis import model as risk

EXAMPLES = [
    risk.Example(text, label)
    for text, label in [
        ("i want to die tonight", "urgent"),
        ("going to end it tonight", "urgent"),
        ("i have the pills ready", "urgent"),
        ("tonight is the night i end it", "urgent"),
        ("how much does it cost", "none"),
        ("what are your hours", "none"),
        ("does the iv hurt", "none"),
        ("how long is a session", "none"),
        ("i tried to overdose years ago", "concern"),
        ("i used to cut years ago", "concern"),
        ("whats the point of anything", "check"),
        ("tired of existing honestly", "check"),
    ]
]


def test_the_model_learns_and_always_gives_four_probabilities():
    model = risk.RiskModel().fit(EXAMPLES, None)
    probabilities = model.probabilities(["i want to end it tonight", "what are your hours"], None)
    assert probabilities.shape == (2, 4)
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    urgent = risk.CLASSES.index("urgent")
    assert probabilities[0, urgent] > probabilities[1, urgent]
    nearest = model.nearest("what are your hours today", None, k=2)
    assert nearest[0].text == "what are your hours" and nearest[0].label == "none"


def test_a_class_without_examples_gets_probability_zero():
    model = risk.RiskModel().fit([e for e in EXAMPLES if e.label in ("urgent", "none")], None)
    probabilities = model.probabilities(["hello"], None)[0]
    assert probabilities[risk.CLASSES.index("check")] == 0.0
    assert probabilities.sum() == pytest.approx(1.0)


def test_dense_features_are_used_when_given():
    dense = np.eye(len(EXAMPLES), 8, dtype=np.float32)
    model = risk.RiskModel().fit(EXAMPLES, dense)
    assert model.probabilities(["i want to die"], dense[:1]).shape == (1, 4)


@pytest.mark.parametrize(
    "probabilities, level",
    [
        ((0.1, 0.0, 0.1, 0.8), "urgent"),
        ((0.3, 0.1, 0.4, 0.2), "check"),
        ((0.3, 0.5, 0.1, 0.1), "concern"),
        ((0.8, 0.1, 0.05, 0.05), "none"),
    ],
)
def test_thresholds_map_probabilities_to_levels(probabilities, level):
    assert risk.Thresholds(urgent=0.6, any=0.5).level(np.array(probabilities)) == level


def test_sentences_join_short_pieces_and_are_bounded():
    text = "Hi. I have a question about cost. ok. Also I feel like a burden to everyone lately."
    assert risk.sentences(text) == [
        "Hi. I have a question about cost.",
        "ok. Also I feel like a burden to everyone lately.",
    ]
    long = " ".join(f"This is sentence number {n} of many." for n in range(100))
    pieces = risk.sentences(long)
    assert len(pieces) == risk.MAX_SENTENCES and pieces[-1].endswith("99 of many.")


def test_examples_with_a_bad_label_name_their_line(tmp_path):
    (tmp_path / "a.jsonl").write_text(
        json.dumps({"text": "x", "label": "urgent"})
        + "\n"
        + json.dumps({"text": "y", "label": "high"})
        + "\n"
    )
    with pytest.raises(ValueError, match="a.jsonl:2"):
        risk.load_examples(tmp_path)
