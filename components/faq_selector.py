"""Which FAQ answer: a logistic regression over the message's meaning and spelling.

Rasa's ResponseSelector (one transformer layer over MiniLM's token vectors, 80 epochs) took
most of `make train` (10.6 of 26 minutes on a slow 2-core machine) and of every retraining
from the console. A multinomial logistic regression over the same message's MiniLM sentence
vector and its character n-grams (sublinear tf-idf, as the intent classifier weighs them)
trains in seconds and chose the right topic more often on both held-out sets, which no
writer of the training data saw (docs/nlu-experiments.md, "The FAQ answer").

It also learns what is no FAQ question: the examples of `none_intents` (out of scope, a
person's own medical question) are one more class, whose probability is taken from every
answer. "Do you do Botox?" then gets no confident answer on a neighbouring topic, and the FAQ
gate turns it into "I can't answer that".

The output is the ResponseSelector's, under `response_selector` → the retrieval intent, so
Rasa's retrieval action, the FAQ gate (components/faq_fallback.py), the console and the
benchmarks read it as before: the chosen `intent_response_key` with its probability as the
confidence, and a ranking of the most likely answers.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text, Type

import numpy as np
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.featurizers.featurizer import Featurizer
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_RESPONSE_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.nearest_examples import Weighting, sentence_feature_rows, unit_rows

logger = logging.getLogger(__name__)

FILE = "faq_selector.npz"
NONE = "<none>"  # the class of `none_intents`' examples; never an answer
RESPONSE_SELECTOR = "response_selector"  # Rasa's keys of the selector's output
ALL_RETRIEVAL_INTENTS = "all_retrieval_intents"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class FaqAnswerSelector(IntentClassifier, GraphComponent):
    """The answer of a retrieval intent (`faq/<topic>`), as Rasa's ResponseSelector gives it."""

    @classmethod
    def required_components(cls) -> List[Type]:
        return [Featurizer]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "retrieval_intent": "faq",
            "none_intents": [],  # intents whose examples are no FAQ question
            "dense_featurizers": [],  # names (aliases) of featurizers; empty: all dense ones
            "sparse_featurizers": [],  # likewise for the sparse (count) features
            "C": 16.0,  # inverse regularisation strength of the regression
            "ranking_length": 10,
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        fitted: Optional[Dict[str, np.ndarray]] = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        if float(self.config["C"]) <= 0:
            raise ValueError("FaqAnswerSelector: C must be above 0")
        self._model_storage = model_storage
        self._resource = resource
        self.fitted = fitted  # labels, coef, intercept, idf (None: untrained)
        self.weighting = Weighting(fitted["idf"]) if fitted and "idf" in fitted else None

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> FaqAnswerSelector:
        return cls(config, model_storage, resource)

    def _features(self, messages: List[Message], fit: bool = False) -> scipy.sparse.csr_matrix:
        """Each message's unit MiniLM sentence vector beside its unit tf-idf character n-grams
        (a message without one kind, an empty text, gets zeros there)."""
        dense_rows, sparse_rows = sentence_feature_rows(
            messages, self.config["dense_featurizers"], self.config["sparse_featurizers"]
        )
        width = next((len(row) for row in dense_rows if row is not None), 0)
        dense = unit_rows(
            np.stack([np.zeros(width) if row is None else row for row in dense_rows]).astype(
                np.float32
            )
        )
        blocks = [scipy.sparse.csr_matrix(dense)]
        present = [row for row in sparse_rows if row is not None]
        if present:
            columns = present[0].shape[1]
            empty = scipy.sparse.csr_matrix((1, columns), dtype=np.float32)
            counts = scipy.sparse.vstack([empty if r is None else r for r in sparse_rows]).tocsr()
            if fit:
                self.weighting = Weighting.fit(counts)
            if self.weighting is not None:
                blocks.append(self.weighting(counts))
        return scipy.sparse.hstack(blocks).tocsr()

    def train(self, training_data: TrainingData) -> Resource:
        from sklearn.linear_model import LogisticRegression

        intent = self.config["retrieval_intent"]
        none = set(self.config["none_intents"])
        examples = [
            e
            for e in training_data.intent_examples
            if e.get(TEXT)
            and ((e.get(INTENT) == intent and e.get(INTENT_RESPONSE_KEY)) or e.get(INTENT) in none)
        ]
        labels = np.array(
            [e.get(INTENT_RESPONSE_KEY) if e.get(INTENT) == intent else NONE for e in examples]
        )
        answers = set(labels.tolist()) - {NONE}
        if not answers:  # an assistant without FAQ answers (HINT3's data, say)
            logger.debug(f"FaqAnswerSelector: no examples of '{intent}/…'; nothing to train.")
            return self._resource
        if len(set(labels.tolist())) < 2:
            raise ValueError(
                f"FaqAnswerSelector: one answer of '{intent}' and nothing else is no choice: "
                "give examples of another answer or of none_intents"
            )
        features = self._features(examples, fit=True)
        regression = LogisticRegression(C=float(self.config["C"]), max_iter=5000)
        regression.fit(features, labels)
        coef, intercept = regression.coef_, regression.intercept_
        if len(regression.classes_) == 2:  # one row for the second class: softmax([0, z]) = σ(z)
            coef = np.vstack([np.zeros_like(coef), coef])
            intercept = np.concatenate([[0.0], intercept])
        self.fitted = {
            "labels": regression.classes_.astype(str),
            "coef": coef.astype(np.float32),
            "intercept": intercept.astype(np.float32),
        }
        if self.weighting is not None:
            self.fitted["idf"] = self.weighting.idf
        self.persist()
        return self._resource

    def probabilities(self, messages: List[Message]) -> np.ndarray:
        """(messages, classes): the regression's probability of each answer (and of none)."""
        logits = self._features(messages) @ self.fitted["coef"].T + self.fitted["intercept"]
        logits = np.asarray(logits) - np.max(logits, axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)

    def process(self, messages: List[Message]) -> List[Message]:
        if not self.fitted or not messages:
            return messages
        labels = self.fitted["labels"]
        answers = np.flatnonzero(labels != NONE)
        intent = self.config["retrieval_intent"]
        for message, row in zip(messages, self.probabilities(messages)):
            order = answers[np.argsort(-row[answers])][: self.config["ranking_length"] or None]
            top = str(labels[order[0]])
            prediction = {
                "response": {
                    "responses": [],  # the text is the domain's, filled in by the NLG
                    PREDICTED_CONFIDENCE_KEY: float(row[order[0]]),
                    INTENT_RESPONSE_KEY: top,
                    "utter_action": f"utter_{top}",
                },
                "ranking": [
                    {
                        "id": int(i),
                        PREDICTED_CONFIDENCE_KEY: float(row[i]),
                        INTENT_RESPONSE_KEY: str(labels[i]),
                    }
                    for i in order
                ],
            }
            selector = message.get(RESPONSE_SELECTOR) or {}
            selector[ALL_RETRIEVAL_INTENTS] = [intent]
            selector[intent] = prediction
            message.set(RESPONSE_SELECTOR, selector, add_to_output=True)
        return messages

    def persist(self) -> None:
        with self._model_storage.write_to(self._resource) as directory:
            np.savez(directory / FILE, **self.fitted)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> FaqAnswerSelector:
        try:
            with model_storage.read_from(resource) as directory:
                with np.load(directory / FILE, allow_pickle=False) as saved:
                    fitted = {key: saved[key] for key in saved.files}
            return cls(config, model_storage, resource, fitted)
        except (ValueError, FileNotFoundError):
            logger.debug(f"FaqAnswerSelector: nothing stored for '{resource.name}'; untrained.")
            return cls.create(config, model_storage, resource, execution_context)
