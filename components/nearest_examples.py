"""An intent classifier that scores each intent by how close a message is to its examples.

A trained softmax classifier (DIET) is sure of itself far from its training data: a question
about parking scores 0.9 for some FAQ intent. Here an intent's confidence is a similarity to
its nearest training examples, so it stays low for messages unlike anything the clinic wrote,
which is what the fallback gate needs to say "I can't answer that" instead of guessing.

Similarity of two messages: `dense_weight` × the cosine of their dense sentence features
(all-MiniLM-L6-v2: meaning) + the rest × the cosine of their sparse sentence features,
weighted tf-idf (character n-grams: spelling, typos, SMS shorthand). An intent's confidence
is the mean similarity of its `neighbours` nearest examples, so that one stray example does
not decide alone. Measured on HINT3 and the clinic's held-out set: docs/nlu-experiments.md.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text, Tuple, Type

import numpy as np
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.featurizers.featurizer import Featurizer
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)

INTENT_RANKING = "intent_ranking"
FILE = "nearest_examples.npz"


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)


def unit_sparse_rows(matrix: scipy.sparse.csr_matrix) -> scipy.sparse.csr_matrix:
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1))).ravel()
    return scipy.sparse.diags(1.0 / np.maximum(norms, 1e-12)) @ matrix


def sentence_feature_rows(
    messages: List[Message], dense_featurizers: List[str], sparse_featurizers: List[str]
) -> Tuple[List[Optional[np.ndarray]], List[Optional[scipy.sparse.csr_matrix]]]:
    """Each message's dense and sparse sentence features, from the named featurizers (empty:
    all of the kind); None where a message has none (an empty text has no MiniLM features)."""
    dense_rows, sparse_rows = [], []
    for message in messages:
        dense = message.get_dense_features(TEXT, dense_featurizers or None)[1]
        sparse = message.get_sparse_features(TEXT, sparse_featurizers or None)[1]
        dense_rows.append(None if dense is None else dense.features.reshape(-1))
        sparse_rows.append(None if sparse is None else scipy.sparse.csr_matrix(sparse.features))
    return dense_rows, sparse_rows


class Weighting:
    """Sublinear tf-idf of count features, with the idf learnt from the training examples."""

    def __init__(self, idf: np.ndarray) -> None:
        self.idf = idf.astype(np.float32)

    @classmethod
    def fit(cls, counts: scipy.sparse.csr_matrix) -> Weighting:
        documents = counts.shape[0]
        frequency = np.bincount(counts.tocsr().indices, minlength=counts.shape[1])
        return cls(np.log((1 + documents) / (1 + frequency)) + 1.0)

    def __call__(self, counts: scipy.sparse.csr_matrix) -> scipy.sparse.csr_matrix:
        weighted = counts.astype(np.float32).tocsr(copy=True)
        weighted.data = (1.0 + np.log(np.maximum(weighted.data, 1.0))) * self.idf[weighted.indices]
        return unit_sparse_rows(weighted)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class NearestExamplesClassifier(IntentClassifier, GraphComponent):
    """Intent confidence = similarity to the intent's nearest training examples."""

    @classmethod
    def required_components(cls) -> List[Type]:
        return [Featurizer]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "dense_featurizers": [],  # names (aliases) of featurizers; empty: all dense ones
            "sparse_featurizers": [],  # likewise for the sparse (count) features
            "dense_weight": 0.7,
            "neighbours": 2,
            "ranking_length": 10,
        }

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        if not 0.0 <= float(config["dense_weight"]) <= 1.0:
            raise ValueError("NearestExamplesClassifier: dense_weight must be between 0 and 1")
        if int(config["neighbours"]) < 1:
            raise ValueError("NearestExamplesClassifier: neighbours must be at least 1")

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        examples: Optional[Tuple[np.ndarray, scipy.sparse.csr_matrix, np.ndarray]] = None,
        weighting: Optional[Weighting] = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self.validate_config(self.config)
        self._model_storage = model_storage
        self._resource = resource
        self.weighting = weighting
        self._set_examples(*(examples or (None, None, np.array([]))))

    def _set_examples(
        self,
        dense: Optional[np.ndarray],
        sparse: Optional[scipy.sparse.csr_matrix],
        labels: np.ndarray,
    ) -> None:
        self.dense, self.sparse, self.labels = dense, sparse, labels
        # Feature-major: a message's few non-zero features pick their rows (fast for one message).
        self._sparse_by_feature = None if sparse is None else sparse.T.tocsr()
        self.intents = sorted(set(labels.tolist()))
        self._columns = [np.flatnonzero(labels == intent) for intent in self.intents]

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> NearestExamplesClassifier:
        return cls(config, model_storage, resource)

    def _features(
        self, messages: List[Message]
    ) -> Tuple[Optional[np.ndarray], Optional[scipy.sparse.csr_matrix]]:
        """The messages' dense and sparse sentence features as rows; None for a kind that some
        message lacks (an empty text has no MiniLM features)."""
        dense_rows, sparse_rows = sentence_feature_rows(
            messages, self.config["dense_featurizers"], self.config["sparse_featurizers"]
        )
        dense, sparse = None, None
        if dense_rows and all(row is not None for row in dense_rows):
            dense = np.stack(dense_rows).astype(np.float32)
        if sparse_rows and all(row is not None for row in sparse_rows):
            sparse = scipy.sparse.vstack(sparse_rows).tocsr()
        return dense, sparse

    def train(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        if not examples:
            logger.debug("NearestExamplesClassifier: no intent examples; nothing to train.")
            return self._resource
        dense, sparse = self._features(examples)
        if dense is None and sparse is None:
            raise ValueError(
                "NearestExamplesClassifier needs sentence features on every example: "
                "put a featurizer before it in the pipeline"
            )
        if sparse is not None:
            self.weighting = Weighting.fit(sparse)
            sparse = self.weighting(sparse)
        self._set_examples(
            None if dense is None else unit_rows(dense),
            sparse,
            np.array([e.get(INTENT) for e in examples]),
        )
        self.persist()
        return self._resource

    def similarities(self, messages: List[Message]) -> np.ndarray:
        """(messages, training examples) similarity, from 0 (unrelated) to 1."""
        dense, sparse = self._features(messages)
        parts, weights = [], []
        if self.dense is not None and dense is not None:
            parts.append(np.clip(unit_rows(dense) @ self.dense.T, 0.0, 1.0))
            weights.append(self.config["dense_weight"])
        if self.sparse is not None and sparse is not None:
            parts.append(self._sparse_similarities(self.weighting(sparse)))
            weights.append(1.0 - self.config["dense_weight"])
        if not parts:
            return np.zeros((len(messages), len(self.labels)), dtype=np.float32)
        return sum(w * p for w, p in zip(weights, parts)) / sum(weights)

    def _sparse_similarities(self, weighted: scipy.sparse.csr_matrix) -> np.ndarray:
        """Cosine of each (unit) message row with every (unit) training example."""
        out = np.zeros((weighted.shape[0], self.sparse.shape[0]), dtype=np.float32)
        for row in range(weighted.shape[0]):
            span = slice(weighted.indptr[row], weighted.indptr[row + 1])
            out[row] = self._sparse_by_feature[weighted.indices[span]].T @ weighted.data[span]
        return out

    def scores(self, similarities: np.ndarray) -> np.ndarray:
        """(messages, intents): the mean similarity of each intent's nearest examples."""
        k = self.config["neighbours"]
        columns = []
        for own in self._columns:
            nearest = -np.sort(-similarities[:, own], axis=1)[:, :k]
            columns.append(nearest.mean(axis=1))
        return np.stack(columns, axis=1)

    def process(self, messages: List[Message]) -> List[Message]:
        if not self.intents:
            return messages
        scores = self.scores(self.similarities(messages))
        for message, row in zip(messages, scores):
            order = np.argsort(-row)[: self.config["ranking_length"] or None]
            ranking = [
                {INTENT_NAME_KEY: self.intents[i], PREDICTED_CONFIDENCE_KEY: float(row[i])}
                for i in order
            ]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING, ranking, add_to_output=True)
        return messages

    def persist(self) -> None:
        with self._model_storage.write_to(self._resource) as directory:
            arrays = {"labels": self.labels}
            if self.dense is not None:
                arrays["dense"] = self.dense
            if self.sparse is not None:
                arrays.update(
                    idf=self.weighting.idf,
                    sparse_data=self.sparse.data,
                    sparse_indices=self.sparse.indices,
                    sparse_indptr=self.sparse.indptr,
                    sparse_shape=np.array(self.sparse.shape),
                )
            np.savez(directory / FILE, **arrays)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> NearestExamplesClassifier:
        try:
            with model_storage.read_from(resource) as directory:
                saved = np.load(directory / FILE, allow_pickle=False)
                dense = saved["dense"] if "dense" in saved else None
                sparse, weighting = None, None
                if "sparse_data" in saved:
                    sparse = scipy.sparse.csr_matrix(
                        (saved["sparse_data"], saved["sparse_indices"], saved["sparse_indptr"]),
                        shape=tuple(saved["sparse_shape"]),
                    )
                    weighting = Weighting(saved["idf"])
                return cls(
                    config, model_storage, resource, (dense, sparse, saved["labels"]), weighting
                )
        except (ValueError, FileNotFoundError):
            logger.debug(
                f"NearestExamplesClassifier: nothing stored for '{resource.name}'; untrained."
            )
            return cls.create(config, model_storage, resource, execution_context)
