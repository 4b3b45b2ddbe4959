"""The rule notation of crisis/lexicon.py compiled into spaCy `Matcher` patterns, and which
words of a message can wake a rule (its anchors) and how far its matches reach."""

from __future__ import annotations

import itertools
import math

from crisis import lexicon
from crisis.normalize import lemma


def _alternatives(slot: str) -> list[str]:
    """A slot's words, with @NAME sets spelled out ("=" marks a surface form)."""
    return [
        expanded
        for word in slot.rstrip("?").split("|")
        for expanded in (lexicon.WORD_SETS[word[1:]].split() if word.startswith("@") else [word])
    ]


def _slot(text: str) -> dict:
    optional = text.endswith("?")
    text = text.rstrip("?")
    if text.startswith("*"):
        return {"OP": f"{{0,{int(text[1:])}}}"}
    if text == "BIGNUM":
        spec: dict = {"_": {"bignum": True}}
    else:
        words = _alternatives(text)
        surface = [w[1:] for w in words if w.startswith("=")]
        lemmas = sorted({lemma(w) for w in words if not w.startswith("=")})
        spec = {"LOWER": {"IN": surface}} if surface and not lemmas else {"LEMMA": {"IN": lemmas}}
    if optional:
        spec["OP"] = "?"
    return spec


def _slot_choices(text: str) -> list[dict]:
    """A slot as exact-value alternatives when it has few words (matched in C by spaCy),
    or as one `IN` set otherwise (a Python predicate: slower per token)."""
    spec = _slot(text)
    for attr in ("LEMMA", "LOWER"):
        values = spec.get(attr, {}).get("IN") if isinstance(spec.get(attr), dict) else None
        if values is not None and len(values) <= _EXPAND_UP_TO:
            extra = {"OP": spec["OP"]} if "OP" in spec else {}
            return [{attr: value, **extra} for value in values]
    return [spec]


def rule_patterns(slots: list[str]) -> list[list[dict]]:
    choices = [_slot_choices(slot) for slot in slots]
    if math.prod(len(c) for c in choices) > _MAX_EXPANDED:
        return [[_slot(slot) for slot in slots]]
    return [list(combination) for combination in itertools.product(*choices)]


_EXPAND_UP_TO = 12
_MAX_EXPANDED = 200


def forced_subject(name: str, slots: list[str]) -> str | None:
    """Who a rule is about whatever precedes it: "kill himself" is someone else, "kill
    myself" the user; None when the words around the match decide."""
    if name in lexicon.SELF_EVIDENT:
        return "self"
    if "@REFLEXIVE_OTHER" in slots or any(slot.split("|")[0] in ("his", "he") for slot in slots):
        return "other"
    fixed_words = {slot for slot in slots if "|" not in slot and not slot.endswith("?")}
    return "self" if fixed_words & lexicon.SUBJECTS_SELF else None


def windows(hits: list[int], reach: int, length: int) -> list[tuple[int, int]]:
    """Token ranges within `reach` of the hits, merged where they overlap."""
    windows: list[list[int]] = []
    for i in hits:
        start, end = max(0, i - reach), min(length, i + reach + 1)
        if windows and start <= windows[-1][1]:
            windows[-1][1] = max(windows[-1][1], end)
        else:
            windows.append([start, end])
    return [(start, end) for start, end in windows]


def anchor_words(slots: list[str]) -> frozenset[str]:
    """The words of a pattern's required slot with the fewest alternatives."""
    required = []
    for slot in slots:
        if slot.endswith("?") or slot.startswith("*"):
            continue
        required.append({word.lstrip("=") for word in _alternatives(slot)})
    return frozenset(min(required, key=lambda words: len(words) + 100 * len(words & _COMMON)))


# Words too common to decide whether a rule is worth running.
_COMMON = frozenset(
    "i me my be not to a an the it have do want go gonna need wish feel think and of in "
    "on at for with this that all so just can will would could no never what how".split()
)
