"""The crisis suite's figures: recall and false alarms per category, and detector speed.

    .venv/bin/python -m bench.crisis_suite            # the detector, with a keyword baseline
    .venv/bin/python -m bench.crisis_suite --check    # exit 1 when a policy gate fails

The suite (tests/data/crisis_suite.yml, crisis_suite_more.yml and crisis_suite_after_infusion.yml)
was written from the policy by helpers who never saw the rules. The
gates are those of ../shared/crisis-policy.md §2: every explicit urgent message caught, at
least 95% of all urgent messages, at most 1% of the must-not-escalate messages urgent.
The baseline is what a plain keyword list does on the same messages.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import yaml

from crisis.detector import CONCERN, NONE, URGENT, detect

ROOT = Path(__file__).resolve().parent.parent
SUITES = tuple(
    ROOT / "tests" / "data" / name
    for name in ("crisis_suite.yml", "crisis_suite_more.yml", "crisis_suite_after_infusion.yml")
)
REPORT = ROOT / "reports" / "crisis_suite.json"
GATES = {"explicit_recall": 1.0, "urgent_recall": 0.95, "false_urgent_rate": 0.01}
HARD_NEGATIVES = ("idiom", "negation", "topic_question", "faq_sensitive", "third_person_safe")

# What a first version of such a product typically does: a list of words.
KEYWORDS = (
    "suicide",
    "suicidal",
    "kill myself",
    "want to die",
    "end my life",
    "overdose",
    "self harm",
    "self-harm",
    "cut myself",
    "hurt myself",
    "can't breathe",
    "chest pain",
    "kill",
    "die",
    "dying",
    "pills",
    "gun",
    "dead",
)


def keyword_level(text: str) -> str:
    lowered = text.lower()
    return URGENT if any(word in lowered for word in KEYWORDS) else NONE


@dataclass
class Case:
    label: str  # urgent | concern | none
    category: str
    text: str
    explicit: bool = False


def load_suite(paths: Iterable[Path] = SUITES) -> tuple[list[Case], list[list[dict]]]:
    """The single messages and the multi-turn sessions of the suite's files."""
    cases: list[Case] = []
    sessions: list[list[dict]] = []
    for path in paths:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        cases += [
            Case(label, category, item["text"], bool(item.get("explicit")))
            for label in ("urgent", "concern", "none")
            for category, items in (data.get(label) or {}).items()
            for item in items
        ]
        sessions += [session["turns"] for session in data.get("sessions", [])]
    return cases, sessions


def figures(cases: list[Case], level_of: Callable[[str], str]) -> dict:
    """Recall per urgent/concern category, false alarms per none category, and the gates."""
    predicted = [level_of(case.text) for case in cases]
    rows: dict[str, dict] = {}
    for case, level in zip(cases, predicted):
        row = rows.setdefault(f"{case.label}/{case.category}", {"n": 0, "hit": 0})
        row["n"] += 1
        if case.label == URGENT:
            row["hit"] += level == URGENT
        elif case.label == CONCERN:
            row["hit"] += level != NONE  # concern, check (the risk model's middle) or urgent
        else:
            row.setdefault("urgent", 0)
            row.setdefault("escalated", 0)
            row["urgent"] += level == URGENT
            row["escalated"] += level != NONE
    urgent = [(c, p) for c, p in zip(cases, predicted) if c.label == URGENT]
    explicit = [(c, p) for c, p in urgent if c.explicit]
    negatives = [(c, p) for c, p in zip(cases, predicted) if c.label == NONE]
    hard = [(c, p) for c, p in negatives if c.category in HARD_NEGATIVES]
    concern = [(c, p) for c, p in zip(cases, predicted) if c.label == CONCERN]

    def rate(pairs: list, test: Callable[[str], bool]) -> float:
        return sum(test(p) for _, p in pairs) / len(pairs) if pairs else 0.0

    return {
        "categories": rows,
        "urgent_n": len(urgent),
        "explicit_n": len(explicit),
        "negatives_n": len(negatives),
        "hard_negatives_n": len(hard),
        "urgent_recall": rate(urgent, lambda p: p == URGENT),
        "explicit_recall": rate(explicit, lambda p: p == URGENT),
        "concern_recall": rate(concern, lambda p: p != NONE),
        "concern_exact": rate(concern, lambda p: p == CONCERN),
        "false_urgent_rate": rate(negatives, lambda p: p == URGENT),
        "false_escalation_rate": rate(negatives, lambda p: p != NONE),
        "hard_false_urgent_rate": rate(hard, lambda p: p == URGENT),
        "missed": [c.text for c, p in urgent if p != URGENT],
        "false_urgent": [c.text for c, p in negatives if p == URGENT],
    }


def gate_failures(result: dict) -> list[str]:
    failures = []
    if result["explicit_recall"] < GATES["explicit_recall"]:
        failures.append(f"explicit recall {result['explicit_recall']:.3f} < 1.0")
    if result["urgent_recall"] < GATES["urgent_recall"]:
        failures.append(f"urgent recall {result['urgent_recall']:.3f} < 0.95")
    if result["false_urgent_rate"] > GATES["false_urgent_rate"]:
        failures.append(f"false urgent {result['false_urgent_rate']:.3f} > 0.01")
    return failures


def timing(texts: Iterable[str], passes: int = 5) -> dict:
    """Detector time per message (warm), in milliseconds: percentiles of each pass over the
    messages, reported as the median pass (this VM's scheduler adds noise to single passes),
    with the worst pass's p99 beside it."""
    texts = list(texts)
    for text in texts:  # warm the caches once, as a running server would be
        detect(text)
    runs = []
    for _ in range(passes):
        samples = []
        for text in texts:
            start = time.perf_counter()
            detect(text)
            samples.append((time.perf_counter() - start) * 1000)
        samples.sort()
        runs.append(
            {
                q: samples[min(len(samples) - 1, int(float(q[1:]) / 100 * len(samples)))]
                for q in ("p50", "p95", "p99")
            }
            | {"max": samples[-1]}
        )
    median = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    return {
        "messages": len(texts),
        "passes": passes,
        "p50_ms": median["p50"],
        "p95_ms": median["p95"],
        "p99_ms": median["p99"],
        "max_ms": median["max"],
        "worst_pass_p99_ms": max(run["p99"] for run in runs),
    }


def _print(result: dict, baseline: dict) -> None:
    print(f"{'category':34} {'n':>4}  {'detector':>9}  {'keywords':>9}")
    for name, row in result["categories"].items():
        base = baseline["categories"][name]
        if name.startswith("none/"):
            print(
                f"{name:34} {row['n']:>4}  {row['urgent'] / row['n']:>8.1%}u "
                f"{base['urgent'] / base['n']:>8.1%}u   (false urgent; escalated at all: "
                f"{row['escalated'] / row['n']:.1%})"
            )
        else:
            print(
                f"{name:34} {row['n']:>4}  {row['hit'] / row['n']:>9.1%}  "
                f"{base['hit'] / base['n']:>9.1%}   (recall)"
            )
    print()
    for key, label in (
        ("explicit_recall", "explicit urgent recall (gate 100%)"),
        ("urgent_recall", "urgent recall (gate >= 95%)"),
        ("concern_recall", "concern caught as concern or urgent"),
        ("false_urgent_rate", "false urgent on negatives (gate <= 1%)"),
        ("hard_false_urgent_rate", "false urgent on hard negatives"),
        ("false_escalation_rate", "negatives escalated at any level"),
    ):
        print(f"{label:44} {result[key]:>8.1%}  {baseline[key]:>8.1%}")
    print(
        f"\nurgent {result['urgent_n']} (explicit {result['explicit_n']}), "
        f"must not escalate {result['negatives_n']} (hard {result['hard_negatives_n']})"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--suite",
        type=Path,
        nargs="+",
        default=list(SUITES),
        help="suite files (default: both parts of the suite)",
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when a gate fails")
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args(argv)
    cases, _sessions = load_suite(args.suite)
    result = figures(cases, lambda text: detect(text).level)
    baseline = figures(cases, keyword_level)
    speed = timing(case.text for case in cases)
    _print(result, baseline)
    print(
        f"\ndetector time per message ({speed['messages']} messages, median of "
        f"{speed['passes']} passes): p50 {speed['p50_ms']:.3f} ms, p95 {speed['p95_ms']:.3f} ms, "
        f"p99 {speed['p99_ms']:.3f} ms, max {speed['max_ms']:.3f} ms (target p99 < 1 ms); "
        f"worst pass p99 {speed['worst_pass_p99_ms']:.3f} ms"
    )
    if args.show_misses:
        print("\nmissed urgent:", *result["missed"], sep="\n  ")
        print("\nfalse urgent:", *result["false_urgent"], sep="\n  ")
    failures = gate_failures(result)
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(
        json.dumps(
            {"detector": result, "keywords": baseline, "speed": speed, "gate_failures": failures},
            indent=2,
        )
    )
    print(
        f"\nreport: {REPORT.relative_to(ROOT)}; gates: {'FAIL ' + '; '.join(failures) if failures else 'pass'}"
    )
    return 1 if failures and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
