"""Rasa's SpacyNLP without the parts of the spaCy pipeline nothing here reads.

Rasa loads the whole model but its dependency parser. Our pipeline reads tokens and lemmas
(SpacyTokenizer; the lemmas need the tagger and attribute ruler) and named entities (the
second look at FAQ answers, components/unknown_names.py); the parser is removed.
"""

from __future__ import annotations

from typing import Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.utils.spacy_utils import SpacyModel
from rasa.nlu.utils.spacy_utils import SpacyNLP as RasaSpacyNLP

UNUSED_PIPES = ("parser",)


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.MODEL_LOADER, DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER],
    is_trainable=False,
    model_from="SpacyNLP",
)
class SpacyNLP(RasaSpacyNLP):
    """SpacyNLP whose spaCy pipeline keeps only what tokens and lemmas need."""

    @staticmethod
    def load_model(spacy_model_name: Text) -> SpacyModel:
        loaded = RasaSpacyNLP.load_model(spacy_model_name)
        for name in UNUSED_PIPES:
            if name in loaded.model.component_names:
                loaded.model.remove_pipe(name)
        return loaded
