"""Normalising a message for the crisis rules: lower case, leetspeak and stretched or spaced
letters undone, spellings and slang spelled out, emoji read as words; then each word's
spelling correction towards the risk words (bounded: see CORRECTION_BUDGET) and its lemma.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from crisis import lexicon

# Only the first MAX_CHARS characters are read: the channels refuse longer messages (web chat
# and REST 1,000, SMS 1,600).
MAX_CHARS = 5_000

_LEET = str.maketrans(
    {
        "1": "i",
        "!": "i",
        "|": "i",
        "3": "e",
        "0": "o",
        "4": "a",
        "@": "a",
        "$": "s",
        "5": "s",
        "7": "t",
        "*": "",
        ".": "",
    }
)
# A word mixing letters with digits or symbols ("su1c1de", "k!ll", "s*icide", "s.u.i.c.i.d.e").
# (The look-ahead is bounded: unbounded, a long run of such characters takes quadratic time.)
_LEET_WORD = re.compile(r"\b[a-z](?:[a-z]|[0-9!|@$*.](?=[a-z0-9!|@$*.]{0,30}[a-z]))+[a-z!]?", re.I)
_REPEATS = re.compile(r"([a-z])\1{2,}")
_DOUBLE = re.compile(r"([a-z])\1+")
_BLANKS = re.compile(r"[ \t]{2,}")
_STRETCHED = re.compile(r"\b[a-z]*([a-z])\1{2,}[a-z]*\b")
_SPACED = re.compile(r"(?<![^\s])(?:[a-z] ){3,}[a-z]\b")  # "k i l l"
_SPELLINGS = re.compile(
    r"\b(" + "|".join(sorted(map(re.escape, lexicon.SPELLINGS), key=len, reverse=True)) + r")\b"
)


def _unleet(match: re.Match) -> str:
    word = match.group(0)
    if word.isalpha() or word.count(".") == 1:
        return word
    mapped = word.translate(_LEET)
    return mapped if mapped.isalpha() and len(mapped) >= 3 else word


def _unstretch(match: re.Match) -> str:
    """ "diieee" → "die", "kiiill" → "kill"; other stretched words keep doubled letters."""
    word = match.group(0)
    single = _DOUBLE.sub(r"\1", word)
    single = lexicon.SPELLINGS.get(single, single)
    return single if lemma(single) in _known_stems() else _REPEATS.sub(r"\1\1", word)


_EMOJI_WORDS = {"🔫": "gun", "💊": "pills", "🔪": "knife", "🪢": "rope", "🩸": "blood"}
_EMOJI_RUN = re.compile("[" + "".join(_EMOJI_WORDS) + "]+")


def _emoji_words(match: re.Match) -> str:
    """A run of these emoji as its words, each once ("🔫🔫💊" → " gun pills ")."""
    return " " + " ".join(_EMOJI_WORDS[c] for c in dict.fromkeys(match.group(0))) + " "


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def normalize(text: str) -> str:
    """Lower case, plain letters, no stretched or disguised spelling; same words otherwise."""
    text = text[:MAX_CHARS].lower()
    if not text.isascii():
        # a lone surrogate (a "\ud800" escape a client can send) is no letter, and spaCy
        # cannot hash it: read it as the replacement character, as a browser shows it
        text = _LONE_SURROGATE.sub("\ufffd", text)
        text = unicodedata.normalize("NFKC", text).casefold()
        text = _EMOJI_RUN.sub(_emoji_words, text)
        text = "".join(
            c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
        )
        text = text.replace("\u2019", "'").replace("\u2018", "'")
    text = text.replace("`", "'")
    text = _LEET_WORD.sub(_unleet, text)
    text = _SPACED.sub(lambda m: m.group(0).replace(" ", ""), text)
    text = _STRETCHED.sub(_unstretch, text)
    text = _BLANKS.sub(" ", text)
    return _SPELLINGS.sub(lambda m: lexicon.SPELLINGS[m.group(0)], text)


def _deletes(word: str, distance: int) -> set[str]:
    found, frontier = {word}, {word}
    for _ in range(distance):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        found |= frontier
    return found


def _fuzzy_distance(word: str) -> int:
    return 2 if len(word) >= 8 else 1


@lru_cache(maxsize=1)
def _fuzzy_index() -> dict[str, set[str]]:
    index: dict[str, set[str]] = {}
    for target in lexicon.FUZZY_TARGETS:
        for variant in _deletes(target, _fuzzy_distance(target)):
            index.setdefault(variant, set()).add(target)
    return index


def _damerau(a: str, b: str) -> int:
    rows = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        rows[i][0] = i
    for j in range(len(b) + 1):
        rows[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            rows[i][j] = min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                rows[i][j] = min(rows[i][j], rows[i - 2][j - 2] + 1)
    return rows[-1][-1]


# No target is longer than this, and no correction changes a length by more than 2: a longer
# token is never corrected (the deletion variants grow with the cube of a token's length).
_LONGEST_CORRECTABLE = max(map(len, lexicon.FUZZY_TARGETS)) + 2
# At most this many distinct tokens are corrected per message: a bound on one message's work.
CORRECTION_BUDGET = 200


@lru_cache(maxsize=50_000)
def correct(word: str) -> str:
    """The risk word a misspelt token stands for ("sucidal" → "suicidal"), or the token itself."""
    if (
        not 6 <= len(word) <= _LONGEST_CORRECTABLE
        or word in lexicon.FUZZY_PROTECTED
        or not word.isalpha()
    ):
        return word
    index = _fuzzy_index()
    candidates: set[str] = set()
    for variant in _deletes(word, 2 if len(word) >= 7 else 1):
        candidates |= index.get(variant, set())
    best = sorted(
        (d, t)
        for t in candidates
        if (d := _damerau(word, t)) <= _fuzzy_distance(t) and abs(len(t) - len(word)) <= 2
    )
    return best[0][1] if best else word


@lru_cache(maxsize=1)
def _known_stems() -> frozenset[str]:
    stems = set(lexicon.IRREGULAR_LEMMAS.values())
    for _name, _category, _kind, pattern in lexicon.RULES:
        for slot in pattern.split():
            stems.update(w.lstrip("=") for w in slot.rstrip("?").split("|"))
    for words in lexicon.WORD_SETS.values():
        stems.update(words.split())
    return frozenset(stems)


@lru_cache(maxsize=50_000)
def lemma(word: str) -> str:
    """A small lookup lemmatizer for the words the rules use (plus regular -s/-ed/-ing)."""
    if word in lexicon.IRREGULAR_LEMMAS:
        return lexicon.IRREGULAR_LEMMAS[word]
    stems = _known_stems()
    for suffix, replacements in (
        ("ing", ("", "e")),
        ("ed", ("", "e")),
        ("es", ("",)),
        ("s", ("",)),
    ):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            base = word[: -len(suffix)]
            for candidate in (*(base + r for r in replacements), base[:-1]):
                if candidate in stems:
                    return candidate
    return word


# --- matching ------------------------------------------------------------------------------
