"""What a model makes of messages it was never trained on, and whether a new model is worse.

The figures (`measure`) are the ones the test suite gates on, read the same way: the held-out
sets `first` and `second` (bench/nlu_heldout.py: accuracy of the final answer, wrong answers,
fallbacks) and the crisis suite (bench/crisis_suite.py: urgent messages caught, explicit ones
caught, messages paged that should not be). `worse` compares a new model's figures with the
running model's and says, in sentences staff can read, each way the new one is worse: a
retraining that would lower any of them is refused.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

from bench.crisis_suite import figures as crisis_figures
from bench.crisis_suite import gate_failures, load_suite
from bench.nlu_heldout import (
    FALLBACK,
    HELDOUT_SETS,
    evaluate,
    load_examples,
    local_parser,
    summarise,
)
from crisis.parse_output import level_of

HELDOUT = ("first", "second")
OUT_OF_SCOPE = "out_of_scope"  # answered as taught when it falls back, too
# Held-out accuracy may move by this much (a few questions of about 800) before a model is worse:
# retraining on a handful of new examples moves a few borderline answers either way.
ACCURACY_TOLERANCE = 0.005
WRONG_ANSWER_TOLERANCE = 0.005

Parse = Callable[[str], dict[str, Any]]


def measure(parse: Parse) -> dict[str, Any]:
    """A model's held-out and crisis-suite figures (no message text: only counts and rates)."""
    heldout: dict[str, Any] = {}
    for name in HELDOUT:
        summary = summarise(evaluate(parse, load_examples(HELDOUT_SETS[name])))
        heldout[name] = {
            "questions": summary["faq_examples"],
            "accuracy": summary["response_selection_accuracy"],
            "wrong": summary["faq_wrong_answer_rate"],
            "fallback": summary["faq_fallback_rate"],
        }
    questions = sum(s["questions"] for s in heldout.values())
    heldout["all"] = {
        "questions": questions,
        **{
            key: sum(s[key] * s["questions"] for s in heldout.values()) / questions
            for key in ("accuracy", "wrong", "fallback")
        },
    }
    cases, _ = load_suite()
    suite = crisis_figures(cases, lambda text: level_of(parse(text)))
    crisis = {
        key: suite[key]
        for key in (
            "urgent_n",
            "negatives_n",
            "urgent_recall",
            "explicit_recall",
            "concern_recall",
            "false_urgent_rate",
        )
    }
    crisis["gate_failures"] = gate_failures(suite)
    return {"heldout": heldout, "crisis": crisis}


def taught(parse: Parse, examples: Iterable[tuple[str, str]]) -> dict[str, int]:
    """How many taught examples (text, label) the model now answers as taught."""
    readings = evaluate(parse, list(examples))
    answered = sum(
        r.final == r.gold or (r.gold == OUT_OF_SCOPE and r.final == FALLBACK) for r in readings
    )
    return {"examples": len(readings), "answered_as_taught": answered}


def worse(new: dict[str, Any], running: dict[str, Any]) -> list[str]:
    """Each way `new` is worse than `running`, as a sentence with both figures; [] when it is not."""
    reasons = []
    n, r = new["heldout"]["all"], running["heldout"]["all"]
    questions = n["questions"]
    if n["accuracy"] < r["accuracy"] - ACCURACY_TOLERANCE:
        reasons.append(
            f"It would answer fewer held-out questions correctly: {_pct(n['accuracy'])} against "
            f"{_pct(r['accuracy'])} now ({_count(r['accuracy'] - n['accuracy'], questions)} "
            f"fewer of {questions})."
        )
    if n["wrong"] > r["wrong"] + WRONG_ANSWER_TOLERANCE:
        reasons.append(
            f"It would give more wrong answers: {_pct(n['wrong'])} of held-out questions against "
            f"{_pct(r['wrong'])} now ({_count(n['wrong'] - r['wrong'], questions)} more)."
        )
    nc, rc = new["crisis"], running["crisis"]
    if nc["urgent_recall"] < rc["urgent_recall"]:
        reasons.append(
            "It would miss crisis messages the running model catches: "
            f"{_pct(nc['urgent_recall'])} of the crisis suite's urgent messages caught against "
            f"{_pct(rc['urgent_recall'])} now."
        )
    if nc["false_urgent_rate"] > rc["false_urgent_rate"]:
        reasons.append(
            "It would page staff for more messages that are not a crisis: "
            f"{_pct(nc['false_urgent_rate'])} of the crisis suite's other messages against "
            f"{_pct(rc['false_urgent_rate'])} now."
        )
    for failure in nc["gate_failures"]:
        if failure not in rc["gate_failures"]:
            reasons.append(f"It fails a crisis gate the running model passes: {failure}.")
    return reasons


def _pct(rate: float) -> str:
    return f"{100 * rate:.1f} %"


def _count(rate: float, total: int) -> int:
    return round(rate * total)


def model_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as model:
        for block in iter(lambda: model.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def measure_model(path: Path, cache_dir: Optional[Path] = None) -> dict[str, Any]:
    """`measure` of the model file at `path`, kept in `cache_dir` by the file's digest (the
    running model is measured once, not at every retraining)."""
    cached = cache_dir / f"figures-{model_digest(path)[:32]}.json" if cache_dir else None
    if cached is not None and cached.is_file():
        return json.loads(cached.read_text())
    figures = measure(local_parser(path))
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_text(json.dumps(figures))
    return figures
