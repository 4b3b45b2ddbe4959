"""The crisis layer inside the NLU pipeline: every message, every channel, before dialogue.

Two detectors, and the higher level wins (neither can lower what the other found):
- the rules (crisis.detector): spaCy token patterns with context, which name what matched;
- the risk model (crisis.model), trained by `rasa train` on `data/crisis/*.jsonl`: the whole
  message over the MiniLM sentence vector the pipeline computed and its character and word
  n-grams, and each sentence of a long message over its n-grams alone (a second model without
  the sentence vector, so a 500-word message costs no extra encoder pass).

Adds `crisis` ({level, categories, evidence, subject, signals, model}) to the parse output of
every message. On an urgent level it overrides whatever was predicted, however confident: the
intent becomes `crisis` (the dialogue answers with the crisis reply from the domain) and the
entity `crisis_subject` says whether the user or someone else is in danger. Last in the
pipeline, so nothing after it can undo the override.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any, Dict, List, Optional, Text, Type

import joblib
import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.featurizer import Featurizer
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from clinic.profile import PROJECT_ROOT
from components.faq_fallback import response_confidence
from components.sentence_encoder import shared_encoder
from crisis import model as risk
from crisis import parse_output
from crisis.detector import default_detector
from crisis.levels import CHECK, NONE, URGENT, highest

logger = logging.getLogger(__name__)

CRISIS_KEY = parse_output.KEY
CRISIS_INTENT = "crisis"
CHECK_INTENT = "crisis_check"
UNWELL_INTENT = "unwell_after_infusion"
UNWELL_CATEGORY = "after_infusion"
# What NLU could not answer; anything else (a clinic question, "goodbye") it answers, if it is
# sure enough of it (`CrisisDetector.answered`).
UNANSWERED = frozenset({None, DEFAULT_NLU_FALLBACK_INTENT_NAME, "out_of_scope"})
INTENT_SURE, ANSWER_SURE = "intent", "answer"  # how NLU answers a message (`answered`)
SUBJECT_ENTITY = "crisis_subject"
FILE = "crisis_model.joblib"
THIRD_PERSON_KINDS = frozenset({"third_person"})


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class CrisisDetector(GraphComponent):
    """Rules and a learned risk model; overrides NLU on an urgent message."""

    @classmethod
    def required_components(cls) -> List[Type]:
        return [Featurizer]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "examples": "data/crisis",  # the risk model's training examples (*.jsonl)
            "dense_featurizer": "minilm",  # whose sentence vector the whole-message model reads
            "dense_weight": 1.0,
            "C": 1.0,  # the inverse of the classifier's regularisation
            "urgent_threshold": 0.9,  # P(urgent) of the message from which the model says urgent
            "any_threshold": 0.6,  # P(not none) from which it says check (or concern)
            # The same for one sentence of a long message (above 1: a sentence never decides).
            "sentence_urgent_threshold": 1.01,
            "sentence_any_threshold": 0.8,
            # A message NLU answers: an intent but fallback or out of scope, with at least this
            # confidence (below it NLU is guessing, and the message is read like any other).
            "answered_min_confidence": 0.5,
            # or a FAQ answer given with at least this confidence (the selector's probability)
            "answered_min_answer_confidence": 0.8,
            # The middle band for a message NLU answers
            "answered_any_threshold": 0.97,
            # and for the model alone to make it urgent (the rules need no such margin)
            "answered_urgent_threshold": 0.98,
            "neighbours": 3,  # training examples recorded beside a level above none
            # The NLU training data (data/nlu: clinic questions, small talk, form answers,
            # out of scope) as more examples of `none`: none of it is a crisis (a test says so).
            "nlu_examples_as_none": True,
        }

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        """The examples' content: Rasa retrains this component when they change."""
        digest = hashlib.sha256()
        for path in sorted(examples_folder(config).glob("*.jsonl")):
            digest.update(path.read_bytes())
        return digest.hexdigest()

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        models: Optional[Dict[str, risk.RiskModel]] = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.detector = default_detector()
        self.models = models or {}
        self.thresholds = risk.Thresholds(
            self.config["urgent_threshold"], self.config["any_threshold"]
        )
        self.sentence_thresholds = risk.Thresholds(
            self.config["sentence_urgent_threshold"], self.config["sentence_any_threshold"]
        )
        self.answered_thresholds = risk.Thresholds(
            self.config["answered_urgent_threshold"], self.config["answered_any_threshold"]
        )
        # one sentence alone never makes a message urgent, answered or not
        self.answered_sentence_thresholds = risk.Thresholds(
            self.config["sentence_urgent_threshold"], self.config["answered_any_threshold"]
        )

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "CrisisDetector":
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        folder = examples_folder(self.config)
        examples = risk.load_examples(folder)
        if not examples:
            raise ValueError(f"CrisisDetector: no examples in {folder}/*.jsonl")
        if self.config["nlu_examples_as_none"]:
            examples += nlu_examples_as_none(training_data)
        dense = shared_encoder().sentence_vectors([example.text for example in examples])
        self.models = {
            "whole": risk.RiskModel(self.config["dense_weight"], self.config["C"]).fit(
                examples, dense
            ),
            "sentence": risk.RiskModel(C=self.config["C"]).fit(examples, None),
        }
        with self._model_storage.write_to(self._resource) as directory:
            joblib.dump(self.models, directory / FILE)
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "CrisisDetector":
        try:
            with model_storage.read_from(resource) as directory:
                models = joblib.load(directory / FILE)
        except (ValueError, FileNotFoundError):
            logger.warning("CrisisDetector: no trained risk model; the rules work alone")
            models = None
        return cls(config, model_storage, resource, models)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            result = self.detector.detect(text).as_dict()
            result["rules_level"] = result["level"]
            answered = self.answered(message)
            learned = self.assess(text, self._dense(message), answered) if text.strip() else None
            if learned is not None:
                result["model"] = learned
                level = highest([result["level"], learned["level"]])
                if level != result["level"]:
                    result["level"] = level
                    result["categories"] = sorted(set(result["categories"]) | {"model"})
                    if level == URGENT:
                        result["subject"] = learned["subject"]
            message.set(CRISIS_KEY, result, add_to_output=True)
            if result["level"] == URGENT:
                override(message, result["subject"])
            elif result["level"] == CHECK:
                override(message, "self", CHECK_INTENT)
            elif UNWELL_CATEGORY in result["categories"] and not (
                answered and "?" in text and not falls_back(message)
            ):
                # told, not asked ("dizzy and threw up after my infusion"), or asked and given no
                # answer (the FAQ gate's fallback): the clinic's advice as the reply, never "did
                # you mean"; a question NLU answers keeps its answer, with the advice below
                override(message, result["subject"], UNWELL_INTENT)
        return messages

    def answered(self, message: Message) -> Optional[str]:
        """How NLU answers the message, if it does: INTENT_SURE, an intent it is
        `answered_min_confidence` sure of (a similarity to the intent's examples); ANSWER_SURE, a
        FAQ answer the gate lets through and the selector is `answered_min_answer_confidence`
        sure of (a probability against "no FAQ question"), which a short question's similarity
        can miss: "could i end up abusing it" is 0.41 like the FAQ examples, 0.86 the addiction
        answer; None: NLU does not answer it."""
        intent = classified_intent(message)
        name = intent.get(INTENT_NAME_KEY)
        if name in UNANSWERED:
            return None
        if (intent.get(PREDICTED_CONFIDENCE_KEY) or 0.0) >= self.config["answered_min_confidence"]:
            return INTENT_SURE
        answer = response_confidence(message.data, name)
        if (
            answer is not None
            and answer >= self.config["answered_min_answer_confidence"]
            and not falls_back(message)
        ):
            return ANSWER_SURE
        return None

    def assess(
        self, text: str, dense: Optional[np.ndarray], answered: Optional[str] = None
    ) -> Optional[Dict[str, Any]]:
        """The risk model's level for a message: the whole message, and each sentence of a
        long one (with thresholds of their own: one sentence out of context says less); the
        highest level wins. A message NLU answers (a clinic question, "goodbye": `answered`) needs
        `answered_any_threshold` for the middle band: the direct question in place of the
        answer to "how long is a session?" would be a wrong answer, and a page for staff. A sure
        FAQ answer (ANSWER_SURE) speaks for the message as a whole, not for each sentence of a
        long story: 300 words about drinking read 0.9 like the addiction question."""
        if not self.models:
            return None
        rows = self.models["whole"].probabilities([text], dense)
        pieces = risk.sentences(text)
        if len(pieces) > 1:
            rows = np.vstack([rows, self.models["sentence"].probabilities(pieces, None)])
        whole = self.answered_thresholds if answered else self.thresholds
        sentence = (
            self.answered_sentence_thresholds
            if answered == INTENT_SURE
            else self.sentence_thresholds
        )
        levels = [whole.level(rows[0])] + [sentence.level(row) for row in rows[1:]]
        urgent, none = risk.CLASSES.index(URGENT), risk.CLASSES.index(NONE)
        deciding = max(
            range(len(rows)), key=lambda i: (risk.CLASSES.index(levels[i]), rows[i, urgent])
        )
        sentence = None if deciding == 0 else pieces[deciding - 1]
        # The nearest examples explain a level to staff (and say whose danger it is); a message
        # at level none has nothing to explain, and looking them up took a quarter of its NLU.
        neighbours = (
            []
            if levels[deciding] == NONE
            else self.models["whole"].nearest(text, dense, self.config["neighbours"])
            if sentence is None
            else self.models["sentence"].nearest(sentence, None, self.config["neighbours"])
        )
        return {
            "level": levels[deciding],
            "score": round(float(rows[0, urgent]), 4),
            "any": round(float(1.0 - rows[0, none]), 4),
            "sentence_score": round(float(rows[1:, urgent].max()), 4) if len(rows) > 1 else 0.0,
            "sentence_any": round(float(1.0 - rows[1:, none].min()), 4) if len(rows) > 1 else 0.0,
            "probabilities": {c: round(float(p), 4) for c, p in zip(risk.CLASSES, rows[deciding])},
            "sentence": sentence,
            "nearest": [n.as_dict() for n in neighbours],
            "subject": "other"
            if neighbours and neighbours[0].kind in THIRD_PERSON_KINDS
            else "self",
        }

    def _dense(self, message: Message) -> Optional[np.ndarray]:
        sentence = message.get_dense_features(TEXT, [self.config["dense_featurizer"]])[1]
        if sentence is None:  # no featurizer ran (an empty text): encode it here
            return shared_encoder().sentence_vectors([message.get(TEXT) or ""])
        return sentence.features.reshape(1, -1).astype(np.float32)


def falls_back(message: Message) -> bool:
    """Whether the gates before this component turned the message into the fallback."""
    return (message.get(INTENT) or {}).get(INTENT_NAME_KEY) == DEFAULT_NLU_FALLBACK_INTENT_NAME


def classified_intent(message: Message) -> Dict[str, Any]:
    """The intent the classifier found, before the fallback gates: "i've been depressed for
    years and nothing works" is a clinic question (NLU 0.54 sure) whether or not one FAQ answer
    is sure enough to be given."""
    for item in message.get(INTENT_RANKING_KEY) or []:
        if item.get(INTENT_NAME_KEY) != DEFAULT_NLU_FALLBACK_INTENT_NAME:
            return item
    return message.get(INTENT) or {}


def nlu_examples_as_none(training_data: TrainingData) -> List[risk.Example]:
    """The NLU training examples as examples of `none` for the risk model, once each."""
    texts = dict.fromkeys(
        (example.get(TEXT) or "").strip() for example in training_data.intent_examples
    )
    return [risk.Example(text, NONE, "nlu") for text in texts if text]


def examples_folder(config: Dict[str, Any]) -> Path:
    """The risk model's examples (a relative path is the project's, wherever Rasa runs)."""
    folder = Path(config.get("examples") or "data/crisis")
    return folder if folder.is_absolute() else PROJECT_ROOT / folder


def override(message: Message, subject: Text, intent_name: Text = CRISIS_INTENT) -> None:
    """Make an urgent message the `crisis` intent (hopelessness: `crisis_check`), keeping what
    NLU predicted in the ranking."""
    intent = {INTENT_NAME_KEY: intent_name, PREDICTED_CONFIDENCE_KEY: 1.0}
    ranking = [intent] + [
        item
        for item in message.get(INTENT_RANKING_KEY) or []
        if item.get(INTENT_NAME_KEY) != intent_name
    ]
    text = message.get(TEXT) or ""
    entity = {
        "entity": SUBJECT_ENTITY,
        "value": subject,
        "start": 0,
        "end": len(text),
        "confidence_entity": 1.0,
        "extractor": CrisisDetector.__name__,
    }
    message.set(INTENT, intent, add_to_output=True)
    message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
    message.set(ENTITIES, (message.get(ENTITIES) or []) + [entity], add_to_output=True)
