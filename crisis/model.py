"""The learned half of crisis detection: a risk model beside the rules (crisis.detector).

Rules name what they match; they miss what nobody wrote a rule for: the indirect plan, the
preparation, the question about amounts, a third person's situation told without risk words.
This model is trained on the project's own examples (`data/crisis/*.jsonl`, written by
independent writers in the registers people use, never from the evaluation sets) and gives
each message the probability of each level: none, concern, check, urgent.

Features: character n-grams (spelling, typos, shorthand) and word uni- and bigrams, tf-idf
weighted, beside the message's MiniLM sentence vector, which the NLU pipeline has already
computed. The classifier is scikit-learn's multinomial logistic regression, so the same
trained model always gives the same scores.

Levels from the scores (`Thresholds`): urgent when P(urgent) reaches `urgent`; otherwise, when
P(not none) reaches `any`, check (or concern, when past risk is the likeliest kind); none
otherwise. A long message is scored whole and sentence by sentence; the highest wins.
Escalations record the score and the training examples nearest to the message.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from crisis.levels import CHECK, CONCERN, NONE, ORDER, URGENT

CLASSES = ORDER  # the classifier's classes are the policy's levels


@dataclass(frozen=True)
class Example:
    text: str
    label: str
    kind: str = ""


def load_examples(folder: Path) -> list[Example]:
    """Every example of the `*.jsonl` files of `folder` (one {"text", "label", "kind"} a line)."""
    examples = []
    for path in sorted(Path(folder).glob("*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            row = json.loads(line)
            if row.get("label") not in CLASSES or not str(row.get("text", "")).strip():
                raise ValueError(f"{path}:{number}: a label of {', '.join(CLASSES)} and a text")
            examples.append(Example(row["text"], row["label"], row.get("kind", "")))
    return examples


@dataclass(frozen=True)
class Thresholds:
    urgent: float  # P(urgent) at or above: urgent
    any: float  # else P(not none) at or above: check, or concern for past risk

    def level(self, probabilities: np.ndarray) -> str:
        p = dict(zip(CLASSES, probabilities))
        if p[URGENT] >= self.urgent:
            return URGENT
        if 1.0 - p[NONE] >= self.any:
            return CONCERN if p[CONCERN] > max(p[CHECK], p[URGENT]) else CHECK
        return NONE


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\s*\n+\s*")
MIN_SENTENCE_WORDS = 4
MAX_SENTENCES = 40


def sentences(text: str) -> list[str]:
    """The sentences of a message, a piece of under MIN_SENTENCE_WORDS words joined to the
    next; at most MAX_SENTENCES (the rest joined to the last)."""
    pieces, buffer = [], ""
    for piece in _SENTENCE_END.split(text):
        buffer = f"{buffer} {piece.strip()}".strip()
        if len(buffer.split()) >= MIN_SENTENCE_WORDS:
            pieces.append(buffer)
            buffer = ""
    if buffer:
        if pieces:
            pieces[-1] = f"{pieces[-1]} {buffer}"
        else:
            pieces.append(buffer)
    if len(pieces) > MAX_SENTENCES:
        pieces = pieces[: MAX_SENTENCES - 1] + [" ".join(pieces[MAX_SENTENCES - 1 :])]
    return pieces


@dataclass
class Neighbour:
    text: str
    label: str
    kind: str
    similarity: float

    def as_dict(self) -> dict:
        return {
            "text": self.text,
            "label": self.label,
            "kind": self.kind,
            "similarity": round(self.similarity, 3),
        }


class RiskModel:
    """Character and word tf-idf plus a dense sentence vector, into logistic regression."""

    def __init__(self, dense_weight: float = 1.0, C: float = 4.0) -> None:
        self.dense_weight = dense_weight
        self.C = C
        self.chars = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=(2, 5),
            sublinear_tf=True,
            min_df=2,
            max_features=150_000,
            dtype=np.float32,
        )
        self.words = TfidfVectorizer(
            ngram_range=(1, 2),
            sublinear_tf=True,
            min_df=2,
            token_pattern=r"(?u)\b\w[\w']*\b",
            dtype=np.float32,
        )
        self.classifier = LogisticRegression(C=C, max_iter=3000, class_weight="balanced")
        self.examples: list[Example] = []
        self._example_features: Optional[sp.spmatrix] = None

    def _features(
        self, texts: Sequence[str], dense: Optional[np.ndarray], fit: bool = False
    ) -> sp.csr_matrix:
        chars = self.chars.fit_transform(texts) if fit else self.chars.transform(texts)
        words = self.words.fit_transform(texts) if fit else self.words.transform(texts)
        parts = [chars, words]
        if dense is not None:
            parts.append(sp.csr_matrix(dense.astype(np.float32) * self.dense_weight))
        return sp.hstack(parts, format="csr")

    def fit(self, examples: Sequence[Example], dense: Optional[np.ndarray]) -> "RiskModel":
        texts = [example.text for example in examples]
        features = self._features(texts, dense, fit=True)
        self.classifier.fit(features, [CLASSES.index(example.label) for example in examples])
        self.examples = list(examples)
        self._example_features = _unit_rows(features).tocsc()
        return self

    def probabilities(self, texts: Sequence[str], dense: Optional[np.ndarray]) -> np.ndarray:
        """(len(texts), 4): the probability of each of CLASSES (0 for a class with no
        training example)."""
        known = self.classifier.predict_proba(self._features(texts, dense))
        out = np.zeros((len(texts), len(CLASSES)), dtype=np.float64)
        out[:, self.classifier.classes_] = known
        return out

    def nearest(self, text: str, dense: Optional[np.ndarray], k: int = 3) -> list[Neighbour]:
        """The training examples most like `text` (cosine over the model's features): only the
        features the text has count, so only those columns of the examples are read (by
        column, CSC; a product with the whole matrix took 40 ms a message)."""
        row = _unit_rows(self._features([text], dense)).tocsr()
        if not sp.isspmatrix_csc(self._example_features):  # (a model pickled before this)
            self._example_features = self._example_features.tocsc()
        similarities = np.asarray(self._example_features[:, row.indices] @ row.data).ravel()
        best = np.argsort(-similarities)[:k]
        return [
            Neighbour(
                self.examples[i].text,
                self.examples[i].label,
                self.examples[i].kind,
                float(similarities[i]),
            )
            for i in best
        ]


def _unit_rows(matrix: sp.csr_matrix) -> sp.csr_matrix:
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1))).ravel()
    return sp.diags(1.0 / np.maximum(norms, 1e-12)) @ matrix
