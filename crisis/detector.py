"""Crisis language detection on one message (levels of ../shared/crisis-policy.md).

Deterministic and explainable: spaCy's English tokenizer over the normalised text
(crisis/normalize.py), then token patterns (spaCy `Matcher`, compiled by crisis/patterns.py)
over each token's lemma, then context rules for negation, history, hypotheticals and who the
statement is about (crisis/context.py). No statistical model is involved, so the same text always gives the same
result, and every result says which words matched and why.

    >>> detect("how much is it? honestly i want to end it all").level
    'urgent'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable

import spacy
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span, Token

from crisis import lexicon
from crisis import normalize as normalizing
from crisis.context import QUESTION_WORDS, Context, hypothetical, negated, subject_of, timing
from crisis.levels import CHECK, CONCERN, NONE, URGENT, highest
from crisis.normalize import MAX_CHARS, correct, lemma, normalize  # noqa: F401 (the API)
from crisis.patterns import anchor_words, forced_subject, rule_patterns, windows

# Bounds on one message's work, so that no input can hold up the server's event loop
# (python -m bench.crisis_adversarial prints the worst case). Only the first MAX_CHARS characters
# are read: the channels refuse longer messages (web chat and REST 1,000, SMS 1,600). The rules
# run over at most MATCH_BUDGET tokens of context windows, nearest the start first: a real
# message uses a few hundred; text stuffed with risk words would use thousands.
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
            "text": self.text,
            "rule": self.rule,
            "category": self.category,
            "level": self.level,
            "reason": self.reason,
            "subject": self.subject,
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


@dataclass
class _Rule:
    name: str
    category: str
    kind: str
    forced_subject: str | None = None


@dataclass
class Match:
    rule: _Rule
    start: int
    end: int
    span: Span


@dataclass
class Detector:
    """The compiled rules; use `detect()` for the shared instance."""

    nlp: spacy.language.Language = field(init=False)
    matchers: list[tuple[Matcher, int]] = field(init=False)  # (matcher, reach) per anchor set
    by_anchor: dict[str, list[int]] = field(init=False)  # word → matchers it can start
    rules: dict[str, _Rule] = field(init=False)

    def __post_init__(self) -> None:
        if not Token.has_extension("bignum"):
            Token.set_extension("bignum", default=False)
        self.nlp = spacy.blank("en")
        self.matchers, self.by_anchor = [], {}
        self.rules = {}
        # One matcher per set of anchor words (a rule's rarest required words), run only near
        # them: a message wakes up a handful, which keeps the p99 under 1 ms (python -m
        # bench.crisis_suite). Rules that share anchors share a matcher, run once per window
        # with the widest reach among them: every match holds an anchor, so a wider window
        # finds nothing a rule's own would not, and a text stuffed with risk words costs a
        # call per anchor set, not per rule.
        groups: dict[frozenset[str], int] = {}
        for name, category, kind, pattern in lexicon.RULES:
            slots = pattern.split()
            self.rules[name] = _Rule(name, category, kind, forced_subject(name, slots))
            reach = sum(int(slot[1:]) if slot.startswith("*") else 1 for slot in slots)
            anchors = anchor_words(slots)
            if anchors not in groups:
                groups[anchors] = len(self.matchers)
                self.matchers.append((Matcher(self.nlp.vocab), 0))
                for word in anchors:
                    self.by_anchor.setdefault(word, []).append(groups[anchors])
            matcher, widest = self.matchers[groups[anchors]]
            matcher.add(name, rule_patterns(slots))
            self.matchers[groups[anchors]] = (matcher, max(widest, reach))

    def _find(self, doc: Doc, ctx: "Context") -> set[tuple[int, int, int]]:
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
            for group in self.by_anchor.get(word, ()):
                hits.setdefault(group, []).extend(where)
        work = sorted(
            (start, end, group)
            for group, where in hits.items()
            for start, end in windows(sorted(set(where)), self.matchers[group][1], len(doc))
        )
        found: set[tuple[int, int, int]] = set()
        budget = MATCH_BUDGET
        for start, end, group in work:
            budget -= end - start
            if budget < 0:
                break
            matcher = self.matchers[group][0]
            found.update((k, start + s, start + e) for k, s, e in matcher(doc[start:end]))
        return found

    def _doc(self, text: str) -> Doc:
        doc = self.nlp.make_doc(normalize(text))
        doc.user_data["big_numbers"] = []
        corrected: dict[str, str] = {}
        for token in doc:
            norm = token.norm_
            if norm not in corrected and len(corrected) < normalizing.CORRECTION_BUDGET:
                corrected[norm] = normalizing.correct(norm)
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
        ctx = Context(doc)
        matches = [
            Match(self.rules[doc.vocab.strings[key]], start, end, doc[start:end])
            for key, start, end in sorted(self._find(doc, ctx), key=lambda m: (m[1], m[2], m[0]))
        ]
        idioms = [m for m in matches if m.rule.kind == "idiom"]
        ctx.set_spans((m.start, m.end) for m in matches if m.rule.kind in _STATEMENTS)
        signals = sorted({m.rule.kind for m in matches if m.rule.kind in SESSION_SIGNALS})
        evidence: list[Evidence] = []
        for match in matches:
            if match.rule.kind not in _STATEMENTS:
                continue
            if any(
                i.start <= match.start < i.end or match.start <= i.start < match.end for i in idioms
            ):
                continue
            level, reason, subject = _judge(match, ctx)
            evidence.append(
                Evidence(
                    match.span.text, match.rule.name, match.rule.category, level, reason, subject
                )
            )
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
                    evidence.append(
                        Evidence(
                            match.span.text,
                            match.rule.name,
                            match.rule.category,
                            level,
                            "with risk",
                            "self",
                        )
                    )
        subject = "self" if any(e.subject == "self" for e in deciding) else "other"
        if level == URGENT and subject == "other":
            categories.add("third_person")
        return CrisisResult(
            level, tuple(sorted(categories)), tuple(evidence), subject, tuple(signals)
        )


def _means_with_intent(matches: list[Match], idioms: list[Match], ctx: "Context") -> list[Evidence]:
    """A means ("a rope", "my pills") with what the person is doing with it, not asked."""
    means = [m for m in matches if m.rule.kind == "means" and not _in_idiom(m, idioms)]
    cues = [
        (m, subject)
        for m in matches
        if m.rule.kind == "cue"
        and not ctx.is_question(m.start)
        and not hypothetical(m, ctx)
        and (subject := subject_of(m, ctx)) != "generic"
    ]
    if not means or not cues:
        return []
    found = [
        Evidence(m.span.text, m.rule.name, "means", URGENT, "means with intent", "self")
        for m in means + [cue for cue, _ in cues]
    ]
    subjects = {subject for _, subject in cues}
    if "self" not in subjects and "other" in subjects:
        found = [Evidence(e.text, e.rule, e.category, e.level, e.reason, "other") for e in found]
    return found


def _in_idiom(match: Match, idioms: list[Match]) -> bool:
    return any(i.start <= match.start < i.end for i in idioms)


def _dose(matches: list[Match], ctx: "Context") -> list[Evidence]:
    """Having taken a lot ("took way more of my meds", "swallowed a handful") of something."""
    doses = [
        m
        for m in matches
        if m.rule.kind == "dose"
        and subject_of(m, ctx) in ("self", "other", None)
        and not hypothetical(m, ctx)
        and not negated(m, ctx)
    ]
    context = [m for m in matches if m.rule.kind == "dose_context"]
    if not doses or not context:
        return []
    subject = "other" if any(subject_of(m, ctx) == "other" for m in doses) else "self"
    return [
        Evidence(m.span.text, m.rule.name, "overdose", URGENT, "took a lot", subject)
        for m in doses + context
    ]


_UNWELL_IF = frozenset("if whether said told heard read".split())
_NOT = lexicon.NEGATIONS | frozenset("wont dont doesnt didnt cant".split())
_UNWELL_OVER = frozenset("away passed gone".split())
_UNWELL_HISTORY = frozenset("year years month months decade used previously past".split())
_FUTURE = frozenset(
    "tomorrow next upcoming due schedule scheduled will gonna 'll first-time".split()
)


def _unwell_after_treatment(matches: list[Match], ctx: "Context") -> list[Evidence]:
    """Feeling unwell after an infusion ("dizzy and threw up after my infusion yesterday"): a
    concern. Not a question about it in general ("is it normal to feel sick after?")."""
    symptoms = []
    for m in matches:
        if m.rule.kind != "unwell":
            continue
        subject = subject_of(m, ctx)
        clause = ctx.clause_of(m.start)
        asked = ctx.lowers[clause[0]] in QUESTION_WORDS and (
            len(clause) < 2 or ctx.lemmas[clause[1]] != "not"
        )  # not "can't sleep since"
        if subject == "generic" or (subject is None and asked):
            continue  # "how long does the nausea last after?"; not "dizzy since, is that normal?"
        if hypothetical(m, ctx) or negated(m, ctx):
            continue
        if any(ctx.lowers[i] in _UNWELL_IF for i in clause if i < m.start) or any(
            ctx.lemmas[i] in _UNWELL_HISTORY for i in clause
        ):
            continue  # "who do I call if I'm dizzy after?", "my friend said she got sick"
        if any(
            ctx.lemmas[i] in _UNWELL_OVER
            and not {ctx.lemmas[i - 1], ctx.lemmas[i - 2], ctx.lowers[i - 2]} & _NOT
            for i in range(m.end, len(ctx.lemmas))
        ):
            continue  # "the dizziness went away after an hour"; not "won't go away"
        symptoms.append((m, subject or "self"))
    treatment = [
        m
        for m in matches
        if m.rule.kind == "treatment"
        and not any(ctx.lemmas[i] in _FUTURE for i in ctx.clause_of(m.start))
    ]
    if not symptoms or not treatment:
        return []
    subject = "self" if any(s == "self" for _, s in symptoms) else "other"
    return [
        Evidence(
            m.span.text, m.rule.name, "after_infusion", CONCERN, "unwell after treatment", subject
        )
        for m in [m for m, _ in symptoms] + treatment
    ]


def _dedupe(evidence: Iterable[Evidence]) -> list[Evidence]:
    seen, kept = set(), []
    for item in evidence:
        key = (item.rule, item.text)
        if key not in seen:
            seen.add(key)
            kept.append(item)
    return kept


_STATEMENTS = frozenset({"risk", "term", "emergency", "harm", "seeking", "passive"})
# Asking how to stop or help is not seeking means: "ways to stop self-harming".
_HELP_WORDS = frozenset(
    "stop stopping prevent preventing avoid cope coping resist quit support supporting recover "
    "recovery help helping treat treating heal talk".split()
)
# Fainting said in the simple present with "when": what happens to someone, not what is happening
# now ("I pass out when I see needles"); "I'm passing out", "about to pass out" stay urgent.
_HABITUAL_FAINTING = frozenset({"pass_out", "feel_faint"})
_SIMPLE_PRESENT = frozenset({"pass", "passes", "feel", "feels"})
_NUMBER_WORDS = frozenset(
    "ten eleven twelve fifteen twenty thirty forty fifty sixty hundred dozen".split()
)


def _judge(match: Match, ctx: Context) -> tuple[str, str, str]:
    """The level of one match in its context, the reason, and who it is about."""
    kind = match.rule.kind
    if kind == "seeking":  # a question for a method or an amount: never answered, urgent
        if any(ctx.lemmas[i] in _HELP_WORDS for i in ctx.clause_of(match.start)) or negated(
            match, ctx
        ):
            return NONE, "topic", "self"
        return URGENT, "seeking means", "self"
    subject = subject_of(match, ctx)
    if subject == "generic":
        return NONE, "topic", "other"
    if subject is None:
        if kind == "harm" or (
            kind in ("term", "emergency", "risk", "passive") and ctx.is_question(match.start)
        ):
            return NONE, "topic", "self"  # "does the dissociation feel like dying?"
        if kind == "term" and timing(match, ctx) != "current":
            return NONE, "topic", "self"  # "suicidal thoughts and ketamine"; not "… again rn"
        subject = "self"
    if negated(match, ctx):  # "I'm not going to hurt myself"; never "I don't want to live"
        return NONE, "negated", subject
    if hypothetical(match, ctx):  # "what if I feel suicidal after?": answered, with 988
        return NONE, "hypothetical", subject
    when = timing(match, ctx)
    if kind == "passive":  # hopelessness now: the direct question; in the past, nothing
        return (NONE, "history", subject) if when == "history" else (CHECK, "current", subject)
    if when == "history":
        if kind == "emergency":
            return NONE, "history", subject
        return (CONCERN if subject == "self" else NONE), "history", subject
    if kind == "emergency" and any(
        ctx.lowers[i] in ("before", "ever", "usually", "sometimes", "always")
        for i in ctx.clause_of(match.start)
    ):
        return NONE, "history", subject
    if (
        match.rule.name in _HABITUAL_FAINTING
        and ctx.lowers[match.start] in _SIMPLE_PRESENT
        and any(ctx.lowers[i] in ("when", "whenever") for i in ctx.clause_of(match.start))
    ):
        return NONE, "history", subject  # "i pass out when i see needles, is that a problem"
    if kind == "emergency" and any(
        ctx.lowers[i] in ("if", "whether") for i in ctx.clause_of(match.start) if i < match.start
    ):
        return NONE, "hypothetical", subject  # "… or if I will feel faint?"
    return URGENT, "current", subject


@lru_cache(maxsize=1)
def default_detector() -> Detector:
    return Detector()


def detect(text: str) -> CrisisResult:
    """The crisis level of one message, with the words that decided it."""
    return default_detector().detect(text)
