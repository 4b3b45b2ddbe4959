"""The crisis layer inside the NLU pipeline: every message, every channel, before dialogue.

Adds `crisis` ({level, categories, evidence, subject, signals}; see crisis.detector) to the
parse output of every message. On an urgent level it overrides whatever was predicted,
however confident: the intent becomes `crisis` (the dialogue answers with the crisis reply
from the domain) and the entity `crisis_subject` says whether the user or someone else is in
danger. Last in the pipeline, so nothing after it can undo the override.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from crisis.detector import URGENT, default_detector

CRISIS_KEY = "crisis"
CRISIS_INTENT = "crisis"
SUBJECT_ENTITY = "crisis_subject"


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False
)
class CrisisDetector(GraphComponent):
    """Rule-based crisis detection (spaCy token patterns) that overrides NLU on urgent."""

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "CrisisDetector":
        return cls()

    def __init__(self) -> None:
        self.detector = default_detector()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            result = self.detector.detect(message.get(TEXT) or "")
            message.set(CRISIS_KEY, result.as_dict(), add_to_output=True)
            if result.level == URGENT:
                override(message, result.subject)
        return messages


def override(message: Message, subject: Text) -> None:
    """Make an urgent message the `crisis` intent, keeping what NLU predicted in the ranking."""
    intent = {INTENT_NAME_KEY: CRISIS_INTENT, PREDICTED_CONFIDENCE_KEY: 1.0}
    ranking = [intent] + [
        item for item in message.get(INTENT_RANKING_KEY) or []
        if item.get(INTENT_NAME_KEY) != CRISIS_INTENT
    ]
    text = message.get(TEXT) or ""
    entity = {
        "entity": SUBJECT_ENTITY, "value": subject, "start": 0, "end": len(text),
        "confidence_entity": 1.0, "extractor": CrisisDetector.__name__,
    }
    message.set(INTENT, intent, add_to_output=True)
    message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
    message.set(ENTITIES, (message.get(ENTITIES) or []) + [entity], add_to_output=True)
