"""components/crisis_detector.py: what the risk model learns, and what the layer makes of a message."""

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


def test_feeling_unwell_asked_and_not_answered_gets_the_clinics_advice(tmp_path):
    """A question about feeling unwell after an infusion that NLU answers keeps its answer; one
    the FAQ gate turned into the fallback gets the clinic's advice, never "did you mean"."""
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource

    from components.crisis_detector import UNWELL_INTENT, CrisisDetector

    detector = CrisisDetector(
        CrisisDetector.get_default_config(), LocalModelStorage(tmp_path), Resource("crisis")
    )  # the rules alone
    text = "ive been dizzy since my infusion yesterday, how long does that last?"

    def read(final_intent):
        message = Message(data={"text": text})
        message.set("intent", {"name": final_intent, "confidence": 0.65})
        message.set("intent_ranking", [{"name": "faq", "confidence": 0.65}])
        [message] = detector.process([message])
        return message.get("intent")["name"], message.get("crisis")["categories"]

    assert read("faq") == ("faq", ["after_infusion"])
    assert read("nlu_fallback") == (UNWELL_INTENT, ["after_infusion"])


def test_a_faq_answer_the_selector_is_sure_of_counts_as_answered(tmp_path):
    """A short FAQ question can be only 0.41 like the FAQ examples while the answer selector is
    0.86 sure of its answer: it is answered (the model's middle band needs more to ask it back)."""
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource

    from components.crisis_detector import ANSWER_SURE, INTENT_SURE, CrisisDetector

    detector = CrisisDetector(
        CrisisDetector.get_default_config(), LocalModelStorage(tmp_path), Resource("crisis")
    )

    def answered(intent, similarity, answer=None):
        message = Message(data={"text": "could i end up abusing it"})
        message.set("intent", {"name": intent, "confidence": similarity})
        message.set("intent_ranking", [{"name": "faq", "confidence": similarity}])
        if answer is not None:
            message.set(
                "response_selector",
                {"faq": {"response": {"confidence": answer, "intent_response_key": "faq/x"}}},
            )
        return detector.answered(message)

    assert answered("faq", 0.41, 0.86) == ANSWER_SURE
    assert answered("faq", 0.55) == INTENT_SURE
    assert answered("faq", 0.41, 0.6) is None  # neither sure enough
    assert answered("faq", 0.41) is None  # no answer chosen
    assert answered("nlu_fallback", 0.41, 0.86) is None  # the gate gave no answer
