"""components/crisis_detector.py: what the risk model is trained on."""

from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.crisis_detector import nlu_examples_as_none


def test_the_nlu_training_examples_are_examples_of_none_once_each():
    data = TrainingData(
        [
            Message(
                data={
                    "text": "how much does it cost",
                    "intent": "faq",
                    "intent_response_key": "faq/cost",
                }
            ),
            Message(
                data={
                    "text": "how much does it cost ",
                    "intent": "faq",
                    "intent_response_key": "faq/cost",
                }
            ),
            Message(data={"text": "i take lithium, is that ok", "intent": "medical_specific"}),
            Message(data={"text": "what time is it in tokyo", "intent": "out_of_scope"}),
            Message(data={"text": " ", "intent": "inform"}),
        ]
    )
    examples = nlu_examples_as_none(data)
    assert [(e.text, e.label) for e in examples] == [
        ("how much does it cost", "none"),
        ("i take lithium, is that ok", "none"),
        ("what time is it in tokyo", "none"),
    ]


def test_answered_is_read_from_the_classifier_not_the_fallback_gate():
    from components.crisis_detector import classified_intent

    message = Message(data={"text": "i've been depressed for years and nothing works"})
    message.set("intent", {"name": "nlu_fallback", "confidence": 0.4})
    message.set(
        "intent_ranking",
        [{"name": "nlu_fallback", "confidence": 0.4}, {"name": "faq", "confidence": 0.54}],
    )
    assert classified_intent(message) == {"name": "faq", "confidence": 0.54}
    bare = Message(data={"text": "hi"})
    bare.set("intent", {"name": "greet", "confidence": 0.9})
    assert classified_intent(bare) == {"name": "greet", "confidence": 0.9}
