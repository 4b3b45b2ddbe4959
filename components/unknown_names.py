"""A second look at a FAQ answer to a message that names something no training example names.

"Is the Mayo Clinic in Rochester open on weekends?" is close enough to "when are you open?"
to get the clinic's own hours, and "I take Nardil, is ketamine compatible?" to get "who is it
for". A message that names a person, place, company or product (spaCy's named entities) that
appears in no training example is about something the answers do not cover unless NLU is
clearly sure: below `min_intent_confidence` its FAQ answer becomes `nlu_fallback`, so the
person is offered the likeliest topics ("did you mean") or told what the assistant can help
with, instead of a confident answer about a neighbouring topic.

Measured with `python -m bench.nlu_heldout --set entities` (questions naming a medicine, an
insurer, a place, a person, an app, by a writer who saw only the topics): docs/benchmarks.md.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any, Dict, Iterable, List, Optional, Set, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import SPACY_DOCS
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from clinic.profile import current_profile

logger = logging.getLogger(__name__)

FILE = "known_words.json"
_WORD = re.compile(r"[\w']+")
MIN_WORD_LENGTH = 3  # shorter pieces ("s", "ur") are shorthand more often than names


def words(text: str) -> Set[str]:
    return {word for word in _WORD.findall(text.lower()) if len(word) >= MIN_WORD_LENGTH}


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class UnknownNamesGate(GraphComponent):
    """Turns an unsure FAQ answer to a message naming something unknown into the fallback."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "retrieval_intent": "faq",
            # An answer this sure stands, whatever the message names.
            "min_intent_confidence": 0.55,
            # spaCy's entity labels that name something (not dates, amounts or numbers).
            "entity_labels": [
                "PERSON",
                "ORG",
                "GPE",
                "FAC",
                "LOC",
                "PRODUCT",
                "NORP",
                "WORK_OF_ART",
                "EVENT",
            ],
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        known: Optional[Set[str]] = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.known = known or set()
        self._profile_words: Optional[Set[str]] = None

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "UnknownNamesGate":
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        self.known = set().union(
            *(words(example.get(TEXT) or "") for example in training_data.intent_examples)
        )
        with self._model_storage.write_to(self._resource) as directory:
            (directory / FILE).write_text(json.dumps(sorted(self.known)), encoding="utf-8")
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "UnknownNamesGate":
        try:
            with model_storage.read_from(resource) as directory:
                known = set(json.loads((directory / FILE).read_text(encoding="utf-8")))
        except (ValueError, FileNotFoundError):
            logger.debug("UnknownNamesGate: nothing stored; every name counts as known.")
            known = None
        return cls(config, model_storage, resource, known)

    def unknown_names(self, entities: Iterable[Any]) -> List[str]:
        """The named entities with a word neither the training data nor the profile has."""
        if self._profile_words is None:  # the clinic's own name, street and town are known
            self._profile_words = words(" ".join(current_profile().template_values().values()))
        labels = set(self.config["entity_labels"])
        return [
            entity.text
            for entity in entities
            if entity.label_ in labels and words(entity.text) - self.known - self._profile_words
        ]

    def process(self, messages: List[Message]) -> List[Message]:
        if not self.known:
            return messages
        for message in messages:
            intent = message.get(INTENT) or {}
            if (
                intent.get(INTENT_NAME_KEY) != self.config["retrieval_intent"]
                or (intent.get(PREDICTED_CONFIDENCE_KEY) or 0.0)
                >= self.config["min_intent_confidence"]
            ):
                continue
            doc = message.get(SPACY_DOCS[TEXT])
            if doc is None or not self.unknown_names(doc.ents):
                continue
            fallback = {
                INTENT_NAME_KEY: DEFAULT_NLU_FALLBACK_INTENT_NAME,
                PREDICTED_CONFIDENCE_KEY: self.config["min_intent_confidence"],
            }
            ranking = message.get(INTENT_RANKING_KEY) or []
            message.set(INTENT, fallback, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [fallback] + ranking, add_to_output=True)
        return messages
