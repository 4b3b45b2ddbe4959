"""A fallback classifier that also distrusts an unsure FAQ answer.

Rasa's FallbackClassifier looks only at the intent's confidence. For a retrieval intent that
is not enough: the `faq` intent can score 0.99 while the chosen answer (components/faq_selector.py)
scores 0.1 (RasaHQ/rasa#9751, #9723), and the user would get a confident wrong answer. This
component predicts `nlu_fallback` when either score is low, so both must be confident before
a FAQ answer is given.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text, Type

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY
from rasa.shared.nlu.training_data.message import Message

from components.faq_selector import FaqAnswerSelector

logger = logging.getLogger(__name__)

RESPONSE_THRESHOLD_KEY = "response_threshold"
RETRIEVAL_INTENT_KEY = "retrieval_intent"


def response_confidence(message_data: Dict[Text, Any], retrieval_intent: Text) -> Optional[float]:
    """The answer selector's confidence in its chosen answer, if it chose one."""
    selector = message_data.get("response_selector", {}).get(retrieval_intent, {})
    return selector.get("response", {}).get(PREDICTED_CONFIDENCE_KEY)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class FaqFallbackClassifier(FallbackClassifier):
    """Predicts `nlu_fallback` when the intent or the chosen FAQ answer is unsure."""

    @classmethod
    def required_components(cls) -> List[Type]:
        return [FaqAnswerSelector]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            **FallbackClassifier.get_default_config(),
            RESPONSE_THRESHOLD_KEY: 0.5,
            RETRIEVAL_INTENT_KEY: "faq",
        }

    def _should_fallback(self, message: Message) -> bool:
        if super()._should_fallback(message):
            return True
        retrieval_intent = self.component_config[RETRIEVAL_INTENT_KEY]
        if message.data[INTENT].get(INTENT_NAME_KEY) != retrieval_intent:
            return False
        confidence = response_confidence(message.data, retrieval_intent)
        threshold = self.component_config[RESPONSE_THRESHOLD_KEY]
        if confidence is None or confidence < threshold:
            logger.debug(
                f"FAQ answer confidence {confidence} is below {threshold:.2f}: "
                f"predicting the fallback intent."
            )
            return True
        return False
