"""FaqFallbackClassifier: a FAQ answer needs a confident intent *and* a confident answer."""

import pytest
from rasa.shared.nlu.training_data.message import Message

from components.faq_fallback import FaqFallbackClassifier


def message(intent, intent_confidence, response_confidence, second=0.0):
    return Message(
        data={
            "text": "…",
            "intent": {"name": intent, "confidence": intent_confidence},
            "intent_ranking": [
                {"name": intent, "confidence": intent_confidence},
                {"name": "greet", "confidence": second},
            ],
            "response_selector": {
                "faq": {
                    "response": {
                        "intent_response_key": "faq/cost",
                        "confidence": response_confidence,
                    }
                }
            },
        }
    )


@pytest.fixture()
def classifier():
    return FaqFallbackClassifier(
        {**FaqFallbackClassifier.get_default_config(), "threshold": 0.5, "response_threshold": 0.4}
    )


@pytest.mark.parametrize(
    "intent, intent_confidence, response_confidence, expected",
    [
        ("faq", 0.99, 0.90, "faq"),
        ("faq", 0.99, 0.10, "nlu_fallback"),  # RasaHQ/rasa#9751: confident intent, unsure answer
        ("faq", 0.30, 0.90, "nlu_fallback"),  # unsure intent
        ("greet", 0.99, 0.05, "greet"),  # the answer's score matters only for the FAQ intent
    ],
)
def test_both_scores_must_be_confident_for_a_faq_answer(
    classifier, intent, intent_confidence, response_confidence, expected
):
    [result] = classifier.process([message(intent, intent_confidence, response_confidence)])
    assert result.get("intent")["name"] == expected
    if expected == "nlu_fallback":
        # the original prediction stays in the ranking, for "did you mean" suggestions
        assert [i["name"] for i in result.get("intent_ranking")][:2] == ["nlu_fallback", intent]


def test_a_faq_without_any_chosen_answer_falls_back(classifier):
    msg = message("faq", 0.99, 0.9)
    msg.data["response_selector"] = {}
    [result] = classifier.process([msg])
    assert result.get("intent")["name"] == "nlu_fallback"
