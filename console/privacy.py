"""What the console does to user text before it leaves a transcript: contact details masked in
lists and exports, spreadsheet formulas defused, and similar messages grouped."""

from __future__ import annotations

import re
import unicodedata
import zlib
from typing import Any, Callable, Iterable, Mapping, Sequence, TypeVar

import numpy as np
from scipy import sparse

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Seven or more digits with the usual separators: a phone number in any common layout.
PHONE = re.compile(r"(?<![\w@])\+?\(?\d(?:[\s().-]*\d){6,}(?!\w)")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _mask_email(match: re.Match) -> str:
    local, _, domain = match.group(0).partition("@")
    return f"{local[:1]}***@{domain}"


def _mask_phone(match: re.Match) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return "***-***-" + digits[-2:] if len(digits) > 2 else "***"


def mask_contacts(text: str) -> str:
    """Phone numbers and e-mail addresses in `text`, all but a hint masked."""
    return PHONE.sub(_mask_phone, EMAIL.sub(_mask_email, text))


def mask_fields(rows: Iterable[dict[str, Any]], *fields: str) -> None:
    """`mask_contacts` on these fields of every row, in place (lists and exports)."""
    for row in rows:
        for field in fields:
            if row.get(field):
                row[field] = mask_contacts(row[field])


def spreadsheet_safe(value: Any) -> Any:
    """A cell a spreadsheet will not run as a formula (a leading ' for = + - @), without NUL
    characters (a message may hold one; Python's csv module refuses to write it)."""
    if not isinstance(value, str):
        return value
    value = value.replace("\x00", "\ufffd")
    return "'" + value if value.startswith(FORMULA_START) else value


T = TypeVar("T")
_WORD = re.compile(r"[a-z0-9']+")
_DIMENSIONS = 4096


def _normalised(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(_WORD.findall(text))


def _trigram_matrix(texts: Sequence[str]) -> sparse.csr_matrix:
    """Hashed character trigrams of each text's words, one L2-normalised row per text: close
    for rewordings, typos and plurals."""
    rows, columns = [], []
    for row, text in enumerate(texts):
        for word in text.split():
            padded = f" {word} "
            for i in range(len(padded) - 2):
                rows.append(row)
                columns.append(zlib.crc32(padded[i : i + 3].encode()) % _DIMENSIONS)
    counts = sparse.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, columns)), shape=(len(texts), _DIMENSIONS)
    )  # duplicates are summed
    norms = np.sqrt(np.asarray(counts.multiply(counts).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.diags(1.0 / norms) @ counts


def group_similar(
    items: Sequence[T], text_of: Callable[[T], str], threshold: float = 0.55
) -> list[list[T]]:
    """Items grouped greedily by the similarity of their text, largest group first.

    Each distinct text, in order, joins the group whose first text it is most like, if at
    least `threshold` (cosine of character-trigram counts), or starts a group of its own.
    Same text, same group.
    """
    keys = [_normalised(text_of(item)) for item in items]
    distinct = list(dict.fromkeys(keys))
    if not distinct:
        return []
    matrix = _trigram_matrix(distinct)
    similarity = (matrix @ matrix.T).toarray()
    group_of = np.empty(len(distinct), dtype=np.int64)
    heads: list[int] = []  # the first text of each group
    for i in range(len(distinct)):
        if heads:
            scores = similarity[i, heads]
            best = int(scores.argmax())
            if scores[best] >= threshold:
                group_of[i] = group_of[heads[best]]
                continue
        group_of[i] = len(heads)
        heads.append(i)
    position = {key: i for i, key in enumerate(distinct)}
    groups: list[list[T]] = [[] for _ in heads]
    for item, key in zip(items, keys):
        groups[group_of[position[key]]].append(item)
    return sorted(groups, key=len, reverse=True)


INTENT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}(/[a-z0-9_]{1,64})?$")


def nlu_yaml(examples_by_intent: Mapping[str, Iterable[str]]) -> str:
    """Rasa NLU training data (version 3.1): for each intent (like `faq/parking`) its examples,
    each on one line, each once."""
    lines = ['version: "3.1"', "nlu:"]
    for intent, examples in examples_by_intent.items():
        if not INTENT_NAME.match(intent):
            raise ValueError(f"{intent!r} is not an intent name like faq/parking or out_of_scope")
        seen = dict.fromkeys(" ".join(e.split()) for e in examples if e.strip())
        lines += [f"- intent: {intent}", "  examples: |"]
        lines += [f"    - {example}" for example in seen]
    return "\n".join(lines) + "\n"
