"""The NumPy MiniLM encoder gives the same vectors as the Hugging Face reference model."""

import numpy as np
import pytest

from components.sentence_encoder import DISK_CACHE_ENV, SentenceEncoder, default_model_dir

TEXTS = [
    "how long does a session take",
    "Is ketamine a PARTY drug?? 🎉",
    "café – naïve résumé",
    "ketamine " * 300,  # longer than the model's window: truncated the same way
]


@pytest.fixture(scope="module")
def encoder():
    return SentenceEncoder()


@pytest.fixture(scope="module")
def reference(monkeypatch_module):
    monkeypatch_module.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch_module.setenv("HF_HUB_OFFLINE", "1")
    from transformers import BertTokenizerFast, TFBertModel

    path = str(default_model_dir())
    return BertTokenizerFast.from_pretrained(path), TFBertModel.from_pretrained(path)


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.mark.parametrize("text", TEXTS)
def test_same_vectors_as_the_reference_model(encoder, reference, text):
    tokenizer, model = reference
    inputs = tokenizer([text], return_tensors="tf", truncation=True, max_length=256)
    hidden = model(inputs).last_hidden_state.numpy()[0]
    sentence = hidden.mean(axis=0)
    sentence /= np.linalg.norm(sentence)
    ours = encoder.encode(text)
    np.testing.assert_allclose(ours.token_vectors, hidden[1:-1], atol=1e-4)
    np.testing.assert_allclose(ours.sentence_vector, sentence, atol=1e-5)


def test_similar_questions_are_closer_than_unrelated_ones(encoder):
    a = encoder.encode("how much does it cost").sentence_vector
    b = encoder.encode("what's the price of treatment").sentence_vector
    c = encoder.encode("what does the infusion feel like").sentence_vector
    assert a @ b > a @ c + 0.1


def test_many_texts_are_encoded_once_each_and_as_one_at_a_time(encoder, monkeypatch):
    texts = ["how long is a session?", "is it covered by insurance", "how long is a session?"]
    first = encoder.sentence_vectors(texts)
    assert np.allclose(first[0], encoder.encode(texts[0]).sentence_vector, atol=1e-5)
    assert np.array_equal(first[0], first[2])
    encoded = []
    original = encoder._sentence_vectors
    monkeypatch.setattr(
        encoder,
        "_sentence_vectors",
        lambda missing, size: encoded.extend(missing) or original(missing, size),
    )
    again = encoder.sentence_vectors(texts[1:] + ["a text not seen before"])
    assert encoded == ["a text not seen before"]
    assert np.array_equal(again[0], first[1]) and np.array_equal(again[1], first[2])


def test_a_training_keeps_vectors_on_disk_by_digest_for_the_next(tmp_path, monkeypatch):
    cache = tmp_path / "vectors.npz"
    monkeypatch.setenv(DISK_CACHE_ENV, str(cache))
    texts = ["can i drive home after", "my sister has pills and wants to die"]
    first = SentenceEncoder().sentence_vectors(texts)
    stored = np.load(cache)
    assert texts[0] not in cache.read_bytes().decode("latin-1")  # digests, never the text
    assert len(stored["digests"]) == 2

    later = SentenceEncoder()  # the next training, in a new process
    encoded = []
    original = later._sentence_vectors
    monkeypatch.setattr(
        later,
        "_sentence_vectors",
        lambda missing, size: encoded.extend(missing) or original(missing, size),
    )
    again = later.sentence_vectors([*texts, "a new example"])
    assert encoded == ["a new example"]
    np.testing.assert_array_equal(again[:2], first)
    assert len(np.load(cache)["digests"]) == 3

    other = SentenceEncoder()
    other.identity = "another model"
    monkeypatch.setattr(
        other,
        "_sentence_vectors",
        lambda missing, size: encoded.extend(missing) or original(missing, size),
    )
    other.sentence_vectors(texts[:1])
    assert encoded[-1] == texts[0]  # another model's vectors are never read
