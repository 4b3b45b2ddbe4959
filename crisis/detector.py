"""Crisis language detection on one message (levels of ../shared/crisis-policy.md).

Deterministic and explainable: spaCy's English tokenizer, then token patterns (spaCy `Matcher`)
over each token's lemma, then context rules for negation, history, hypotheticals and who the
statement is about. No statistical model is involved, so the same text always gives the same
result, and every result says which words matched and why.

    >>> detect("how much is it? honestly i want to end it all").level
    'urgent'
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable

import spacy
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span, Token

from crisis import lexicon
from crisis.levels import CONCERN, NONE, URGENT, highest

# Bounds on one message's work, so that no input can hold up the server's event loop
# (python -m bench.crisis_adversarial prints the worst case). Only the first MAX_CHARS characters
# are read: the channels refuse longer messages (web chat and REST 1,000, SMS 1,600). The rules
# run over at most MATCH_BUDGET tokens of context windows, nearest the start first: a real
# message uses a few hundred; text stuffed with risk words would use thousands.
MAX_CHARS = 5_000
MATCH_BUDGET = 3_000
# Signals that raise a message to a concern after a crisis earlier in the session.
SESSION_SIGNALS = frozenset({"distress", "retraction"})


@dataclass(frozen=True)
class Evidence:
    """One matched phrase, what it means, and why it got its level."""

    text: str
    rule: str
    category: str
    level: str
    reason: str
    subject: str

    def as_dict(self) -> dict:
        return {
            "text": self.text, "rule": self.rule, "category": self.category,
            "level": self.level, "reason": self.reason, "subject": self.subject,
        }


@dataclass(frozen=True)
class CrisisResult:
    level: str = NONE
    categories: tuple[str, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    subject: str = "self"  # who is in danger for an urgent result: "self" or "other"
    signals: tuple[str, ...] = ()  # "distress", "retraction", "topic" (crisis.session)

    def as_dict(self) -> dict:
        return {
            "level": self.level,
            "categories": list(self.categories),
            "evidence": [item.as_dict() for item in self.evidence],
            "subject": self.subject,
            "signals": list(self.signals),
        }


# --- text normalisation --------------------------------------------------------------------

_LEET = str.maketrans({"1": "i", "!": "i", "|": "i", "3": "e", "0": "o", "4": "a", "@": "a",
                       "$": "s", "5": "s", "7": "t", "*": "", ".": ""})
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
    """"diieee" → "die", "kiiill" → "kill"; other stretched words keep doubled letters."""
    word = match.group(0)
    single = _DOUBLE.sub(r"\1", word)
    single = lexicon.SPELLINGS.get(single, single)
    return single if lemma(single) in _known_stems() else _REPEATS.sub(r"\1\1", word)


_EMOJI_WORDS = {"🔫": "gun", "💊": "pills", "🔪": "knife", "🪢": "rope", "🩸": "blood"}
_EMOJI_RUN = re.compile("[" + "".join(_EMOJI_WORDS) + "]+")


def _emoji_words(match: re.Match) -> str:
    """A run of these emoji as its words, each once ("🔫🔫💊" → " gun pills ")."""
    return " " + " ".join(_EMOJI_WORDS[c] for c in dict.fromkeys(match.group(0))) + " "


def normalize(text: str) -> str:
    """Lower case, plain letters, no stretched or disguised spelling; same words otherwise."""
    text = text[:MAX_CHARS].lower()
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text).casefold()
        text = _EMOJI_RUN.sub(_emoji_words, text)
        text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
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
        frontier = {w[:i] + w[i + 1:] for w in frontier for i in range(len(w))}
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
    if not 6 <= len(word) <= _LONGEST_CORRECTABLE or word in lexicon.FUZZY_PROTECTED \
            or not word.isalpha():
        return word
    index = _fuzzy_index()
    candidates: set[str] = set()
    for variant in _deletes(word, 2 if len(word) >= 7 else 1):
        candidates |= index.get(variant, set())
    best = sorted(
        (d, t) for t in candidates
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
    for suffix, replacements in (("ing", ("", "e")), ("ed", ("", "e")), ("es", ("",)), ("s", ("",))):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            base = word[: -len(suffix)]
            for candidate in (*(base + r for r in replacements), base[:-1]):
                if candidate in stems:
                    return candidate
    return word


# --- matching ------------------------------------------------------------------------------

def _alternatives(slot: str) -> list[str]:
    """A slot's words, with @NAME sets spelled out ("=" marks a surface form)."""
    return [
        expanded for word in slot.rstrip("?").split("|")
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


def _patterns(slots: list[str]) -> list[list[dict]]:
    choices = [_slot_choices(slot) for slot in slots]
    if math.prod(len(c) for c in choices) > _MAX_EXPANDED:
        return [[_slot(slot) for slot in slots]]
    return [list(combination) for combination in itertools.product(*choices)]


_EXPAND_UP_TO = 12
_MAX_EXPANDED = 200


def _forced_subject(name: str, slots: list[str]) -> str | None:
    """Who a rule is about whatever precedes it: "kill himself" is someone else, "kill
    myself" the user; None when the words around the match decide."""
    if name in lexicon.SELF_EVIDENT:
        return "self"
    if "@REFLEXIVE_OTHER" in slots or any(slot.split("|")[0] in ("his", "he") for slot in slots):
        return "other"
    fixed_words = {slot for slot in slots if "|" not in slot and not slot.endswith("?")}
    return "self" if fixed_words & lexicon.SUBJECTS_SELF else None


def _windows(hits: list[int], reach: int, length: int) -> list[tuple[int, int]]:
    """Token ranges within `reach` of the hits, merged where they overlap."""
    windows: list[list[int]] = []
    for i in hits:
        start, end = max(0, i - reach), min(length, i + reach + 1)
        if windows and start <= windows[-1][1]:
            windows[-1][1] = max(windows[-1][1], end)
        else:
            windows.append([start, end])
    return [(start, end) for start, end in windows]


def _anchor(slots: list[str]) -> frozenset[str]:
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


@dataclass
class _Rule:
    name: str
    category: str
    kind: str
    forced_subject: str | None = None


@dataclass
class _Match:
    rule: _Rule
    start: int
    end: int
    span: Span


@dataclass
class Detector:
    """The compiled rules; use `detect()` for the shared instance."""

    nlp: spacy.language.Language = field(init=False)
    matchers: list[tuple[Matcher, int]] = field(init=False)
    by_anchor: dict[str, list[int]] = field(init=False)  # word → rules it can start
    rules: dict[str, _Rule] = field(init=False)

    def __post_init__(self) -> None:
        if not Token.has_extension("bignum"):
            Token.set_extension("bignum", default=False)
        self.nlp = spacy.blank("en")
        self.matchers, self.by_anchor = [], {}
        self.rules = {}
        for name, category, kind, pattern in lexicon.RULES:
            slots = pattern.split()
            self.rules[name] = _Rule(name, category, kind, _forced_subject(name, slots))
            # One matcher per rule, run only near the rule's rarest word: a message wakes up a
            # handful of rules, which keeps the p99 under 1 ms (python -m bench.crisis_suite).
            matcher = Matcher(self.nlp.vocab)
            matcher.add(name, _patterns(slots))
            reach = sum(int(slot[1:]) if slot.startswith("*") else 1 for slot in slots)
            for word in _anchor(slots):
                self.by_anchor.setdefault(word, []).append(len(self.matchers))
            self.matchers.append((matcher, reach))

    def _find(self, doc: Doc, ctx: "_Context") -> set[tuple[int, int, int]]:
        """Every rule's matches; a rule runs only near the words it cannot match without."""
        positions: dict[str, list[int]] = {}
        for i, (lemma_, lower) in enumerate(zip(ctx.lemmas, ctx.lowers)):
            positions.setdefault(lemma_, []).append(i)
            if lower != lemma_:
                positions.setdefault(lower, []).append(i)
        for i in ctx.big_numbers:
            positions.setdefault("BIGNUM", []).append(i)
        hits: dict[int, list[int]] = {}
        for word, where in positions.items():
            for rule in self.by_anchor.get(word, ()):
                hits.setdefault(rule, []).extend(where)
        work = sorted(
            (start, end, rule) for rule, where in hits.items()
            for start, end in _windows(sorted(where), self.matchers[rule][1], len(doc))
        )
        found: set[tuple[int, int, int]] = set()
        budget = MATCH_BUDGET
        for start, end, rule in work:
            budget -= end - start
            if budget < 0:
                break
            matcher = self.matchers[rule][0]
            found.update((k, start + s, start + e) for k, s, e in matcher(doc[start:end]))
        return found

    def _doc(self, text: str) -> Doc:
        doc = self.nlp.make_doc(normalize(text))
        doc.user_data["big_numbers"] = []
        corrected: dict[str, str] = {}
        for token in doc:
            norm = token.norm_
            if norm not in corrected and len(corrected) < CORRECTION_BUDGET:
                corrected[norm] = correct(norm)
            word = corrected.get(norm, norm)
            if word != norm:
                token.norm_ = word
            token.lemma_ = lemma(token.norm_)
            if token.like_num and (len(token.text) >= 2 or token.lower_ in _NUMBER_WORDS):
                token._.bignum = True
                doc.user_data["big_numbers"].append(token.i)
        return doc

    def detect(self, text: str) -> CrisisResult:
        if not text or not text.strip():
            return CrisisResult()
        doc = self._doc(text)
        ctx = _Context(doc)
        matches = [
            _Match(self.rules[doc.vocab.strings[key]], start, end, doc[start:end])
            for key, start, end in sorted(self._find(doc, ctx), key=lambda m: (m[1], m[2], m[0]))
        ]
        idioms = [m for m in matches if m.rule.kind == "idiom"]
        ctx.set_spans((m.start, m.end) for m in matches if m.rule.kind in _STATEMENTS)
        signals = sorted({m.rule.kind for m in matches if m.rule.kind in SESSION_SIGNALS})
        evidence: list[Evidence] = []
        for match in matches:
            if match.rule.kind not in _STATEMENTS:
                continue
            if any(i.start <= match.start < i.end or match.start <= i.start < match.end
                   for i in idioms):
                continue
            level, reason, subject = _judge(match, ctx)
            evidence.append(Evidence(match.span.text, match.rule.name, match.rule.category,
                                     level, reason, subject))
            if level == URGENT and subject == "self":
                break  # nothing later can raise the level or change who is in danger
        if not any(e.level == URGENT for e in evidence):
            evidence.extend(_means_with_intent(matches, idioms, ctx))
        if not any(e.level == URGENT for e in evidence):
            evidence.extend(_dose(matches, ctx))
        evidence.extend(_unwell_after_treatment(matches, ctx))
        evidence = _dedupe(evidence)
        level = highest(e.level for e in evidence)
        if level == NONE:
            if any(e.reason in ("topic", "hypothetical", "negated") for e in evidence):
                signals = sorted(set(signals) | {"topic"})
            return CrisisResult(NONE, (), tuple(evidence), "self", tuple(signals))
        deciding = [e for e in evidence if e.level == level]
        categories = {e.category for e in deciding}
        if level == URGENT:
            for match in matches:
                if match.rule.kind in ("means", "time") and not _in_idiom(match, idioms):
                    categories.add(match.rule.category)
                    evidence.append(Evidence(match.span.text, match.rule.name,
                                             match.rule.category, level, "with risk", "self"))
        subject = "self" if any(e.subject == "self" for e in deciding) else "other"
        if level == URGENT and subject == "other":
            categories.add("third_person")
        return CrisisResult(level, tuple(sorted(categories)), tuple(evidence), subject,
                            tuple(signals))


_STILL_CURRENT = frozenset("want feel think have be suicidal cut cutting hurt wish".split())
_NUMBER_WORDS = frozenset(
    "ten eleven twelve fifteen twenty thirty forty fifty sixty hundred dozen".split()
)


def _means_with_intent(matches: list[_Match], idioms: list[_Match],
                       ctx: "_Context") -> list[Evidence]:
    """A means ("a rope", "my pills") with what the person is doing with it, not asked."""
    means = [m for m in matches if m.rule.kind == "means" and not _in_idiom(m, idioms)]
    cues = [
        (m, subject) for m in matches
        if m.rule.kind == "cue" and not ctx.is_question(m.start) and not _hypothetical(m, ctx)
        and (subject := _subject(m, ctx)) != "generic"
    ]
    if not means or not cues:
        return []
    found = [Evidence(m.span.text, m.rule.name, "means", URGENT, "means with intent", "self")
             for m in means + [cue for cue, _ in cues]]
    subjects = {subject for _, subject in cues}
    if "self" not in subjects and "other" in subjects:
        found = [Evidence(e.text, e.rule, e.category, e.level, e.reason, "other") for e in found]
    return found


def _in_idiom(match: _Match, idioms: list[_Match]) -> bool:
    return any(i.start <= match.start < i.end for i in idioms)


def _dose(matches: list[_Match], ctx: "_Context") -> list[Evidence]:
    """Having taken a lot ("took way more of my meds", "swallowed a handful") of something."""
    doses = [m for m in matches if m.rule.kind == "dose"
             and _subject(m, ctx) in ("self", "other", None)
             and not _hypothetical(m, ctx) and not _negated(m, ctx)]
    context = [m for m in matches if m.rule.kind == "dose_context"]
    if not doses or not context:
        return []
    subject = "other" if any(_subject(m, ctx) == "other" for m in doses) else "self"
    return [Evidence(m.span.text, m.rule.name, "overdose", URGENT, "took a lot", subject)
            for m in doses + context]


_RECENT = frozenset("min mins minute minutes hr hrs hour hours moment".split())  # "2 hrs ago"
_UNWELL_IF = frozenset("if whether said told heard read".split())
_NOT = lexicon.NEGATIONS | frozenset("wont dont doesnt didnt cant".split())
_UNWELL_OVER = frozenset("away passed gone".split())
_UNWELL_HISTORY = frozenset("year years month months decade used previously past".split())
_FUTURE = frozenset("tomorrow next upcoming due schedule scheduled will gonna 'll first-time".split())


def _unwell_after_treatment(matches: list[_Match], ctx: "_Context") -> list[Evidence]:
    """Feeling unwell after an infusion ("dizzy and threw up after my infusion yesterday"): a
    concern. Not a question about it in general ("is it normal to feel sick after?")."""
    symptoms = []
    for m in matches:
        if m.rule.kind != "unwell":
            continue
        subject = _subject(m, ctx)
        clause = ctx.clause_of(m.start)
        asked = ctx.lowers[clause[0]] in _QUESTION_WORDS and (
            len(clause) < 2 or ctx.lemmas[clause[1]] != "not")  # not "can't sleep since"
        if subject == "generic" or (subject is None and asked):
            continue  # "how long does the nausea last after?"; not "dizzy since, is that normal?"
        if _hypothetical(m, ctx) or _negated(m, ctx):
            continue
        if any(ctx.lowers[i] in _UNWELL_IF for i in clause if i < m.start)  \
                or any(ctx.lemmas[i] in _UNWELL_HISTORY for i in clause):
            continue  # "who do I call if I'm dizzy after?", "my friend said she got sick"
        if any(ctx.lemmas[i] in _UNWELL_OVER and not {ctx.lemmas[i - 1], ctx.lemmas[i - 2],
               ctx.lowers[i - 2]} & _NOT for i in range(m.end, len(ctx.lemmas))):
            continue  # "the dizziness went away after an hour"; not "won't go away"
        symptoms.append((m, subject or "self"))
    treatment = [m for m in matches if m.rule.kind == "treatment"
                 and not any(ctx.lemmas[i] in _FUTURE for i in ctx.clause_of(m.start))]
    if not symptoms or not treatment:
        return []
    subject = "self" if any(s == "self" for _, s in symptoms) else "other"
    return [Evidence(m.span.text, m.rule.name, "after_infusion", CONCERN, "unwell after treatment",
                     subject) for m in [m for m, _ in symptoms] + treatment]


def _dedupe(evidence: Iterable[Evidence]) -> list[Evidence]:
    seen, kept = set(), []
    for item in evidence:
        key = (item.rule, item.text)
        if key not in seen:
            seen.add(key)
            kept.append(item)
    return kept


class _Context:
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

    def clause_of(self, index: int) -> range:
        start, end = self.ranges[self.clause[index]]
        return range(start, end)

    def is_question(self, index: int) -> bool:
        clause = self.clause[index]
        if clause not in self._questions:
            start, end = self.ranges[clause]
            first = self.lowers[start] if self.lowers[start] not in lexicon.CLAUSE_BREAKS else (
                self.lowers[start + 1] if start + 1 < end else "")
            self._questions[clause] = (
                (end < len(self.lowers) and self.lowers[end] == "?") or first in _QUESTION_WORDS
            )
        return self._questions[clause]


_STATEMENTS = frozenset({"risk", "term", "emergency", "harm", "seeking"})
# Asking how to stop or help is not seeking means: "ways to stop self-harming".
_HELP_WORDS = frozenset(
    "stop stopping prevent preventing avoid cope coping resist quit support supporting recover "
    "recovery help helping treat treating heal talk".split())
_QUESTION_WORDS = frozenset(
    "is are can does do will what where who which how why could should would".split()
)
_CURRENT_PAIRS = frozenset({
    ("last", "night"), ("this", "morning"), ("right", "now"), ("these", "days"), ("this", "week"),
    ("for", "years"), ("for", "months"), ("for", "weeks"), ("just", "took"), ("an", "hour"),
    ("minutes", "ago"), ("hour", "ago"), ("hours", "ago"), ("mins", "ago"), ("while", "ago"),
    ("min", "ago"), ("earlier", "tonight"), ("earlier", "today"),
})
_YEARS = re.compile(r"(19|20)\d\d|(19|20)?\d0s")


# How far back a subject is looked for in a sentence with no full stop (a bound on the work).
_SUBJECT_REACH = 60


def _subject(match: _Match, ctx: _Context) -> str | None:
    """Who the matched words are about: "self", "other", "generic" or None if unsaid."""
    if match.rule.forced_subject:
        return match.rule.forced_subject
    span_words = set(ctx.lemmas[match.start:match.end])
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


def _negated(match: _Match, ctx: _Context) -> bool:
    """A negation word just before the match, or before a longer match that contains it
    ("no thoughts of hurting myself")."""
    width = 5 if match.rule.kind == "term" else 3
    start = ctx.outermost_start(match.start, match.end)
    clause = ctx.clause[match.start]
    return any(ctx.lemmas[i] in lexicon.NEGATIONS and ctx.clause[i] == clause
               for i in range(max(0, start - width), start))


def _timing(match: _Match, ctx: _Context) -> str:
    """"history", "current" or "" from the words of the match's clause."""
    current, history, was, recovered = ctx.timing_words(match.start)
    if current:
        return "current"
    if history or (was and recovered) or (recovered and match.rule.kind == "term"):
        return "history"
    return ""


def _clause_timing(words: list[str], lemmas: list[str]) -> tuple[bool, bool, bool, bool]:
    """What a clause says about time: (current, history, "was", recovered)."""
    pairs = set(zip(words, words[1:]))
    recovered = any(w in lexicon.RECOVERY and not (w == "better" and after == "off")
                    for w, after in zip(lemmas, lemmas[1:] + [""]))
    current = (
        any(w in lexicon.CURRENT for w in words)
        or bool(pairs & _CURRENT_PAIRS)
        or ("now" in words and not recovered)
        or any(a == "still" and b in _STILL_CURRENT for a, b in zip(words, lemmas[1:]))
    )
    if current:
        return True, False, False, recovered
    was = "was" in words or "were" in words or "had" in words
    history = (
        any(w in lexicon.HISTORY and not (w == "ago" and _RECENT & set(words[max(0, i - 3):i]))
            for i, w in enumerate(words))
        or bool(pairs & lexicon.HISTORY_PAIRS)
        or (was and bool(pairs & lexicon.WEAK_HISTORY_PAIRS))
        or any(_YEARS.fullmatch(w) for w in words)
    )
    return False, history, was, recovered


def _hypothetical(match: _Match, ctx: _Context) -> bool:
    start, clause = match.start, ctx.clause[match.start]
    words = [ctx.lemmas[i] for i in range(max(0, start - 8), start) if ctx.clause[i] == clause]
    for opener in lexicon.HYPOTHETICAL:
        n = len(opener)
        if opener[0] in words and any(
            tuple(words[i:i + n]) == opener for i in range(len(words) - n + 1)
        ):
            return True
    return False


def _judge(match: _Match, ctx: _Context) -> tuple[str, str, str]:
    """The level of one match in its context, the reason, and who it is about."""
    kind = match.rule.kind
    if kind == "seeking":  # a question for a method or an amount: never answered, urgent
        if any(ctx.lemmas[i] in _HELP_WORDS for i in ctx.clause_of(match.start)) \
                or _negated(match, ctx):
            return NONE, "topic", "self"
        return URGENT, "seeking means", "self"
    subject = _subject(match, ctx)
    if subject == "generic":
        return NONE, "topic", "other"
    if subject is None:
        if kind == "harm" or (kind in ("term", "emergency", "risk") and ctx.is_question(match.start)):
            return NONE, "topic", "self"  # "does the dissociation feel like dying?"
        if kind == "term" and _timing(match, ctx) != "current":
            return NONE, "topic", "self"  # "suicidal thoughts and ketamine"; not "… again rn"
        subject = "self"
    if _negated(match, ctx):  # "I'm not going to hurt myself"; never "I don't want to live"
        return NONE, "negated", subject
    if _hypothetical(match, ctx):  # "what if I feel suicidal after?": answered, with 988
        return NONE, "hypothetical", subject
    timing = _timing(match, ctx)
    if timing == "history":
        if kind == "emergency":
            return NONE, "history", subject
        return (CONCERN if subject == "self" else NONE), "history", subject
    if kind == "emergency" and any(ctx.lowers[i] in ("before", "ever", "usually", "sometimes")
                                   for i in ctx.clause_of(match.start)):
        return NONE, "history", subject
    if kind == "emergency" and any(ctx.lowers[i] in ("if", "whether")
                                   for i in ctx.clause_of(match.start) if i < match.start):
        return NONE, "hypothetical", subject  # "… or if I will feel faint?"
    return URGENT, "current", subject


@lru_cache(maxsize=1)
def default_detector() -> Detector:
    return Detector()


def detect(text: str) -> CrisisResult:
    """The crisis level of one message, with the words that decided it."""
    return default_detector().detect(text)
