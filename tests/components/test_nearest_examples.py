"""NearestExamplesClassifier: an intent's confidence is the similarity to its nearest examples."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.nearest_examples import NearestExamplesClassifier, Weighting

# Tiny hand-made features: 3 dense dimensions ("meaning") and 4 count columns ("spelling").
EXAMPLES = [
    ("how much is it", "cost", [1.0, 0.0, 0.0], [2, 1, 0, 0]),
    ("what is the price", "cost", [0.9, 0.1, 0.0], [1, 1, 0, 0]),
    ("hello", "greet", [0.0, 1.0, 0.0], [0, 0, 3, 0]),
    ("hi there", "greet", [0.1, 0.9, 0.0], [0, 0, 2, 1]),
]


def message(text, dense, counts, intent=None) -> Message:
    data = {"text": text, **({"intent": intent} if intent else {})}
    msg = Message(data=data)
    msg.add_features(Features(np.array([dense], dtype=np.float32), "sentence", "text", "minilm"))
    msg.add_features(
        Features(
            scipy.sparse.coo_matrix(np.array([counts], dtype=np.float32)),
            "sentence",
            "text",
            "char",
        )
    )
    return msg


@pytest.fixture()
def storage(tmp_path):
    return LocalModelStorage(tmp_path)


def trained(storage, **config):
    context = ExecutionContext(node_name="nearest", graph_schema=None)
    classifier = NearestExamplesClassifier.create(
        {**NearestExamplesClassifier.get_default_config(), **config},
        storage,
        Resource("nearest"),
        context,
    )
    classifier.train(TrainingData([message(t, d, c, i) for t, i, d, c in EXAMPLES]))
    return classifier


def test_a_message_like_an_intents_examples_gets_it_with_high_confidence(storage):
    [result] = trained(storage).process([message("how much", [1.0, 0.05, 0.0], [2, 1, 0, 0])])
    assert result.get("intent")["name"] == "cost"
    assert result.get("intent")["confidence"] > 0.9
    assert [i["name"] for i in result.get("intent_ranking")] == ["cost", "greet"]


def test_a_message_unlike_every_example_gets_low_confidence(storage):
    [result] = trained(storage).process([message("parking?", [0.0, 0.0, 1.0], [0, 0, 0, 5])])
    # only the 4th count column is shared (with one greeting): far from everything
    assert result.get("intent")["confidence"] < 0.3


def test_confidence_is_the_weighted_mean_of_both_similarities(storage):
    classifier = trained(storage, dense_weight=1.0, neighbours=1)
    [result] = classifier.process([message("x", [1.0, 0.0, 0.0], [0, 0, 0, 1])])
    assert result.get("intent")["confidence"] == pytest.approx(1.0)  # dense only: same vector
    classifier = trained(storage, dense_weight=0.0, neighbours=1)
    [result] = classifier.process([message("x", [1.0, 0.0, 0.0], [0, 0, 3, 0])])
    assert result.get("intent") == {"name": "greet", "confidence": pytest.approx(1.0)}


def test_neighbours_average_the_nearest_examples_of_an_intent(storage):
    one = trained(storage, dense_weight=1.0, neighbours=1)
    two = trained(storage, dense_weight=1.0, neighbours=2)
    probe = [message("x", [1.0, 0.0, 0.0], [1, 0, 0, 0])]
    best = one.process(probe)[0].get("intent")["confidence"]
    probe = [message("x", [1.0, 0.0, 0.0], [1, 0, 0, 0])]
    mean_of_two = two.process(probe)[0].get("intent")["confidence"]
    second = 0.9 / np.linalg.norm([0.9, 0.1, 0.0])
    assert best == pytest.approx(1.0)
    assert mean_of_two == pytest.approx((1.0 + second) / 2, abs=1e-6)


def test_what_is_persisted_is_what_is_loaded(storage):
    classifier = trained(storage)
    probe = lambda: [message("hey", [0.05, 1.0, 0.0], [0, 0, 2, 0])]  # noqa: E731
    before = classifier.process(probe())[0].get("intent_ranking")
    loaded = NearestExamplesClassifier.load(
        NearestExamplesClassifier.get_default_config(),
        storage,
        Resource("nearest"),
        ExecutionContext(node_name="nearest", graph_schema=None),
    )
    assert loaded.process(probe())[0].get("intent_ranking") == before


def test_an_untrained_classifier_leaves_messages_alone(storage):
    classifier = NearestExamplesClassifier.create(
        NearestExamplesClassifier.get_default_config(),
        storage,
        Resource("empty"),
        ExecutionContext(node_name="empty", graph_schema=None),
    )
    [result] = classifier.process([message("hello", [0.0, 1.0, 0.0], [0, 0, 3, 0])])
    assert result.get("intent") is None


def test_tf_idf_weighting_is_scikit_learns_sublinear_smooth_tf_idf():
    from sklearn.feature_extraction.text import TfidfTransformer

    counts = scipy.sparse.csr_matrix(np.array([[1, 4, 0], [1, 0, 2], [3, 0, 0]], dtype=np.float32))
    weighting = Weighting.fit(counts)
    assert weighting.idf[0] < weighting.idf[1] == weighting.idf[2]  # column 0 is in every row
    reference = TfidfTransformer(sublinear_tf=True).fit(counts)
    assert weighting(counts).toarray() == pytest.approx(
        reference.transform(counts).toarray(), abs=1e-6
    )


@pytest.mark.parametrize("config", [{"dense_weight": 1.5}, {"neighbours": 0}])
def test_bad_settings_are_refused(config):
    with pytest.raises(ValueError):
        NearestExamplesClassifier.validate_config(
            {**NearestExamplesClassifier.get_default_config(), **config}
        )


def test_a_message_without_dense_features_is_scored_on_its_sparse_ones(storage):
    msg = Message(data={"text": "hello"})
    msg.add_features(
        Features(
            scipy.sparse.coo_matrix(np.array([[0, 0, 3, 0]], dtype=np.float32)),
            "sentence",
            "text",
            "char",
        )
    )
    [result] = trained(storage, neighbours=1).process([msg])
    assert result.get("intent")["name"] == "greet"
    assert result.get("intent")["confidence"] == pytest.approx(1.0)  # the same counts as "hello"
