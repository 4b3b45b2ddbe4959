"""FaqAnswerSelector: the FAQ answer from a regression over meaning and spelling, given as Rasa's
ResponseSelector gives it (the retrieval action and the FAQ gate read it)."""

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

from components.faq_selector import FaqAnswerSelector

# Hand-made features: 3 dense dimensions ("meaning") and 4 count columns ("spelling").
EXAMPLES = [
    ("how much is it", "faq/cost", [1.0, 0.0, 0.0], [2, 1, 0, 0]),
    ("what is the price", "faq/cost", [0.9, 0.1, 0.0], [1, 1, 0, 0]),
    ("when are you open", "faq/hours", [0.0, 1.0, 0.0], [0, 0, 3, 0]),
    ("opening times", "faq/hours", [0.1, 0.9, 0.0], [0, 0, 2, 1]),
    ("how long is a session", "faq/session_length", [0.0, 0.0, 1.0], [0, 0, 0, 3]),
    ("hello", "greet", [0.5, 0.5, 0.5], [1, 1, 1, 1]),  # not a retrieval intent: not learned
]
OUT_OF_SCOPE = [
    ("do you do botox", "out_of_scope", [0.0, -1.0, 0.0], [0, 0, 0, 0]),
    ("fix my faucet", "out_of_scope", [-0.1, -0.9, 0.1], [0, 0, 0, 0]),
]


def message(text, dense, counts, label=None) -> Message:
    data = {"text": text}
    if label:
        intent, _, key = label.partition("/")
        data.update(intent=intent, **({"intent_response_key": label} if key else {}))
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


def context():
    return ExecutionContext(node_name="faq_selector", graph_schema=None)


def trained(storage, examples=EXAMPLES, **config):
    selector = FaqAnswerSelector.create(
        {**FaqAnswerSelector.get_default_config(), **config},
        storage,
        Resource("faq_selector"),
        context(),
    )
    selector.train(TrainingData([message(t, d, c, label) for t, label, d, c in examples]))
    return selector


@pytest.fixture()
def storage(tmp_path):
    return LocalModelStorage(tmp_path)


def test_the_answer_is_given_as_rasas_response_selector_gives_it(storage):
    [result] = trained(storage).process([message("price?", [0.95, 0.05, 0.0], [2, 1, 0, 0])])
    selector = result.get("response_selector")
    assert selector["all_retrieval_intents"] == ["faq"]
    response = selector["faq"]["response"]
    assert response["intent_response_key"] == "faq/cost"
    assert response["utter_action"] == "utter_faq/cost"
    assert response["confidence"] > 0.5
    ranking = selector["faq"]["ranking"]
    assert [r["intent_response_key"] for r in ranking][0] == "faq/cost"
    assert {r["intent_response_key"] for r in ranking} == {
        "faq/cost",
        "faq/hours",
        "faq/session_length",
    }  # the greeting is no answer
    assert sum(r["confidence"] for r in ranking) == pytest.approx(1.0, abs=1e-5)
    assert result.as_dict_nlu()["response_selector"] is selector  # in the parse output


def test_spelling_decides_where_meaning_is_silent(storage):
    """A message with no sentence vector (an empty featurizer output) is read by its n-grams."""
    [result] = trained(storage).process([message("opn?", [0.0, 0.0, 0.0], [0, 0, 3, 0])])
    assert result.get("response_selector")["faq"]["response"]["intent_response_key"] == "faq/hours"


def test_an_ambiguous_message_is_unsure(storage):
    [result] = trained(storage).process([message("?", [0.5, 0.5, 0.0], [1, 1, 1, 0])])
    assert result.get("response_selector")["faq"]["response"]["confidence"] < 0.7


def test_what_is_no_faq_question_takes_the_confidence_of_every_answer(storage):
    botox = message("botox?", [0.0, -0.95, 0.05], [0, 0, 0, 0])
    [alone] = trained(storage, EXAMPLES + OUT_OF_SCOPE).process([botox])
    assert alone.get("response_selector")["faq"]["response"]["confidence"] > 0.3  # a guess
    [taught] = trained(storage, EXAMPLES + OUT_OF_SCOPE, none_intents=["out_of_scope"]).process(
        [message("botox?", [0.0, -0.95, 0.05], [0, 0, 0, 0])]
    )
    selector = taught.get("response_selector")["faq"]
    assert selector["response"]["confidence"] < 0.1
    assert all(r["intent_response_key"].startswith("faq/") for r in selector["ranking"])
    assert len(selector["ranking"]) == 3
    # a FAQ question keeps its answer
    [price] = trained(storage, EXAMPLES + OUT_OF_SCOPE, none_intents=["out_of_scope"]).process(
        [message("price?", [0.95, 0.05, 0.0], [2, 1, 0, 0])]
    )
    assert price.get("response_selector")["faq"]["response"]["intent_response_key"] == "faq/cost"
    assert price.get("response_selector")["faq"]["response"]["confidence"] > 0.5


def test_the_ranking_is_cut_at_its_length(storage):
    [result] = trained(storage, ranking_length=2).process(
        [message("price?", [1.0, 0.0, 0.0], [2, 1, 0, 0])]
    )
    assert len(result.get("response_selector")["faq"]["ranking"]) == 2


def test_a_loaded_selector_answers_as_the_trained_one(storage):
    probe = [message("price?", [0.8, 0.2, 0.1], [1, 1, 1, 0])]
    before = trained(storage).probabilities(probe)
    loaded = FaqAnswerSelector.load(
        FaqAnswerSelector.get_default_config(), storage, Resource("faq_selector"), context()
    )
    np.testing.assert_allclose(loaded.probabilities(probe), before, rtol=1e-5)


def test_untrained_it_leaves_messages_alone(storage):
    selector = FaqAnswerSelector.load(
        FaqAnswerSelector.get_default_config(), storage, Resource("nothing"), context()
    )
    [result] = selector.process([message("price?", [1.0, 0.0, 0.0], [2, 1, 0, 0])])
    assert result.get("response_selector") is None


def test_one_answer_is_no_choice(storage):
    with pytest.raises(ValueError, match="is no choice"):
        trained(storage, examples=EXAMPLES[:2])
    # beside what is no FAQ question, one answer is a choice
    selector = trained(storage, EXAMPLES[:2] + OUT_OF_SCOPE, none_intents=["out_of_scope"])
    [result] = selector.process([message("price?", [1.0, 0.0, 0.0], [2, 1, 0, 0])])
    assert result.get("response_selector")["faq"]["response"]["intent_response_key"] == "faq/cost"


def test_without_faq_examples_there_is_nothing_to_learn(storage):
    selector = trained(
        storage, examples=EXAMPLES[-1:] + OUT_OF_SCOPE, none_intents=["out_of_scope"]
    )
    [result] = selector.process([message("price?", [1.0, 0.0, 0.0], [2, 1, 0, 0])])
    assert result.get("response_selector") is None


def test_a_non_positive_regularisation_is_refused(storage):
    with pytest.raises(ValueError, match="C must be above 0"):
        trained(storage, C=0)
