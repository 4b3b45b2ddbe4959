"""What a matched statement means in its message: the clauses, whether it is asked or
hypothetical, negated, in the past, and who it is about (crisis/detector.py judges with it)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterable

from spacy.tokens import Doc

from crisis import lexicon

if TYPE_CHECKING:
    from crisis.detector import Match

RECENT = frozenset("min mins minute minutes hr hrs hour hours moment".split())  # "2 hrs ago"
STILL_CURRENT = frozenset("want feel think have be suicidal cut cutting hurt wish".split())


class Context:
    """Per-message word lists, computed once: lemmas, surface words and clauses."""

    def __init__(self, doc: Doc) -> None:
        self.lemmas = [t.lemma_ for t in doc]
        self.lowers = [t.lower_ for t in doc]
        self.clause: list[int] = []
        self.ranges: list[list[int]] = []
        for i, word in enumerate(self.lowers):
            if not self.ranges or word in lexicon.CLAUSE_BREAKS or "\n" in word:
                self.ranges.append([i, i])
            self.ranges[-1][1] = i + 1
            self.clause.append(len(self.ranges) - 1)
        self._questions: dict[int, bool] = {}
        self._timings: dict[int, tuple[bool, bool, bool, bool]] = {}
        self.big_numbers: list[int] = doc.user_data.get("big_numbers", [])
        self._span_ends: dict[int, int] = {}  # statements matched: start → furthest end
        self._longest_span = 0

    def set_spans(self, spans: Iterable[tuple[int, int]]) -> None:
        """The statements matched, for `outermost_start`."""
        for start, end in spans:
            self._span_ends[start] = max(end, self._span_ends.get(start, end))
            self._longest_span = max(self._longest_span, end - start)

    def outermost_start(self, start: int, end: int) -> int:
        """The start of the longest matched statement holding tokens start..end."""
        for first in range(max(0, end - self._longest_span), start):
            if self._span_ends.get(first, -1) >= end:
                return first
        return start

    def timing_words(self, index: int) -> tuple[bool, bool, bool, bool]:
        """`_clause_timing` of the clause holding token `index`, computed once per clause."""
        clause = self.clause[index]
        if clause not in self._timings:
            start, end = self.ranges[clause]
            self._timings[clause] = _clause_timing(self.lowers[start:end], self.lemmas[start:end])
        return self._timings[clause]

    def told_as_history_before(self, index: int) -> bool:
        """Whether a clause before token `index`'s says it is the past ("two years ago"), and
        none between says it is now."""
        for clause in range(self.clause[index] - 1, -1, -1):
            current, history, _, _ = self.timing_words(self.ranges[clause][0])
            if current:
                return False
            if history:
                return True
        return False

    def clause_of(self, index: int) -> range:
        start, end = self.ranges[self.clause[index]]
        return range(start, end)

    def is_question(self, index: int) -> bool:
        clause = self.clause[index]
        if clause not in self._questions:
            start, end = self.ranges[clause]
            first = (
                self.lowers[start]
                if self.lowers[start] not in lexicon.CLAUSE_BREAKS
                else (self.lowers[start + 1] if start + 1 < end else "")
            )
            self._questions[clause] = (
                end < len(self.lowers) and self.lowers[end] == "?"
            ) or first in QUESTION_WORDS
        return self._questions[clause]


QUESTION_WORDS = frozenset(
    "is are can does do will what where who which how why could should would".split()
)
_CURRENT_PAIRS = frozenset(
    {
        ("last", "night"),
        ("this", "morning"),
        ("right", "now"),
        ("these", "days"),
        ("this", "week"),
        ("for", "years"),
        ("for", "months"),
        ("for", "weeks"),
        ("just", "took"),
        ("an", "hour"),
        ("minutes", "ago"),
        ("hour", "ago"),
        ("hours", "ago"),
        ("mins", "ago"),
        ("while", "ago"),
        ("min", "ago"),
        ("earlier", "tonight"),
        ("earlier", "today"),
    }
)
_AGE = re.compile(r"[1-9]\d")  # "at 16", "when I was 19"
_YEARS = re.compile(r"(19|20)\d\d|(19|20)?\d0s")


# How far back a subject is looked for in a sentence with no full stop (a bound on the work).
_SUBJECT_REACH = 60


def subject_of(match: Match, ctx: Context) -> str | None:
    """Who the matched words are about: "self", "other", "generic" or None if unsaid."""
    if match.rule.forced_subject:
        return match.rule.forced_subject
    span_words = set(ctx.lemmas[match.start : match.end])
    if span_words & lexicon.SUBJECTS_SELF:
        return "self"
    if span_words & {"him", "her", "them", "his", "their"}:
        return "other"
    for i in range(match.start - 1, max(-1, match.start - 1 - _SUBJECT_REACH), -1):
        found = _subject_word(ctx.lemmas[i])
        if found:
            return found
        if ctx.lowers[i] in (".", "!", "?", "\n") and i < match.start - 1:
            break
    if not ctx.is_question(match.start):  # "suicide is all i think about"
        for i in range(match.end, min(len(ctx.lemmas), match.end + 6)):
            if ctx.clause[i] != ctx.clause[match.start]:
                break
            found = _subject_word(ctx.lemmas[i])
            if found in ("self", "other"):
                return found
    return None


def _subject_word(word: str) -> str | None:
    if word in lexicon.SUBJECTS_SELF:
        return "self"
    if word in lexicon.SUBJECTS_OTHER:
        return "other"
    if word in lexicon.SUBJECTS_GENERIC:
        return "generic"
    return None


def negated(match: Match, ctx: Context) -> bool:
    """A negation word just before the match, or before a longer match that contains it
    ("no thoughts of hurting myself")."""
    width = 5 if match.rule.kind == "term" else 3
    start = ctx.outermost_start(match.start, match.end)
    clause = ctx.clause[match.start]
    return any(
        ctx.lemmas[i] in lexicon.NEGATIONS and ctx.clause[i] == clause
        for i in range(max(0, start - width), start)
    )


def timing(match: Match, ctx: Context) -> str:
    """ "history", "current" or "" from the words of the match's clause; a clause in the past
    tense after one that said when ("Six years ago I was in the worst place. I had thoughts of
    ending things") is history too."""
    current, history, was, recovered = ctx.timing_words(match.start)
    if current:
        return "current"
    if history or (was and recovered) or (recovered and match.rule.kind == "term"):
        return "history"
    told = was or any(ctx.lowers[i] in _TOLD for i in ctx.clause_of(match.start))
    if told and ctx.told_as_history_before(match.start):
        return "history"
    return ""


_TOLD = frozenset("did told said thought".split())  # the past tense of a story being told


def _clause_timing(words: list[str], lemmas: list[str]) -> tuple[bool, bool, bool, bool]:
    """What a clause says about time: (current, history, "was", recovered)."""
    pairs = set(zip(words, words[1:]))
    recovered = any(
        w in lexicon.RECOVERY and not (w == "better" and after == "off")
        for w, after in zip(lemmas, lemmas[1:] + [""])
    )
    current = (
        any(w in lexicon.CURRENT for w in words)
        or bool(pairs & _CURRENT_PAIRS)
        or ("now" in words and not recovered and "ago" not in words)  # not "14 years ago now"
        or any(a == "still" and b in STILL_CURRENT for a, b in zip(words, lemmas[1:]))
    )
    if current:
        return True, False, False, recovered
    was = "was" in words or "were" in words or "had" in words
    history = (
        any(
            w in lexicon.HISTORY and not (w == "ago" and RECENT & set(words[max(0, i - 3) : i]))
            for i, w in enumerate(words)
        )
        or bool(pairs & lexicon.HISTORY_PAIRS)
        or (was and bool(pairs & lexicon.WEAK_HISTORY_PAIRS))
        or any(_YEARS.fullmatch(w) for w in words)
        or any(_AGE.fullmatch(w) for a, w in zip(words, words[1:]) if a in ("at", "age", "aged"))
        or ("when", "i") in pairs
        and any(_AGE.fullmatch(w) for w in words)  # "when I was 19"
    )
    return False, history, was, recovered


# "before I …", "after I …": the act is taken as given, whatever question is around it.
_PRESUPPOSED = frozenset({("before", "i"), ("after", "i"), ("once", "i")})


def hypothetical(match: Match, ctx: Context) -> bool:
    start, clause = match.start, ctx.clause[match.start]
    words = [ctx.lemmas[i] for i in range(max(0, start - 8), start) if ctx.clause[i] == clause]
    if tuple(words[-2:]) in _PRESUPPOSED:  # "what should I pack before I end it": a plan
        return False
    for opener in lexicon.HYPOTHETICAL:
        n = len(opener)
        if opener[0] in words and any(
            tuple(words[i : i + n]) == opener for i in range(len(words) - n + 1)
        ):
            return True
    return False
