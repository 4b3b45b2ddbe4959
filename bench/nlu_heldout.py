"""Held-out NLU evaluation: how the trained assistant reads messages it never saw in training.

    .venv/bin/python -m bench.nlu_heldout                # every set, reports/nlu_heldout_<set>.json
    .venv/bin/python -m bench.nlu_heldout --set second   # one set
    .venv/bin/python -m bench.nlu_heldout --thresholds   # also sweep the fallback thresholds

The held-out files (tests/data/heldout_*.yml) are never used in training. Three sets, each from
writers who never saw the training data: `first` (heldout_faq.yml and heldout_other.yml),
`second` (heldout_second.yml, by other writers, all 29 topics) and `entities`
(heldout_entities.yml: questions naming a medicine, a place, an insurer…). The figure that
matters is *response-selection accuracy*: the share of FAQ questions whose final answer is
the right one, after the fallback gate (a fallback counts as wrong).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional

import yaml

ROOT = Path(__file__).resolve().parent.parent
HELDOUT_SETS = {
    "first": (ROOT / "tests/data/heldout_faq.yml", ROOT / "tests/data/heldout_other.yml"),
    "second": (ROOT / "tests/data/heldout_second.yml",),
    # Questions naming a medicine, condition, insurer, place, person or app: mostly a person's
    # own medical question or out of scope, where a confident FAQ answer is the error.
    "entities": (ROOT / "tests/data/heldout_entities.yml",),
}
HELDOUT_FILES = tuple(path for paths in HELDOUT_SETS.values() for path in paths)


def report_path(name: str) -> Path:
    return ROOT / "reports" / f"nlu_heldout_{name}.json"


FALLBACK = "nlu_fallback"


@dataclass(frozen=True)
class Reading:
    """What the assistant made of one held-out message."""

    text: str
    gold: str  # intent, or faq/<topic>
    final: str  # what the assistant acts on: intent, faq/<topic> or nlu_fallback
    intent: str  # the classifier's top intent, before the fallback gate
    intent_confidence: float
    response: Optional[str]  # the selector's top faq/<topic>
    response_confidence: float


def load_examples(paths: Iterable[Path] = HELDOUT_FILES) -> List[tuple]:
    pairs = []
    for path in paths:
        if not path.exists():
            continue
        for block in yaml.safe_load(path.read_text())["nlu"]:
            for line in block["examples"].splitlines():
                if line.startswith("- "):
                    pairs.append((line[2:].strip(), block["intent"]))
    return pairs


def read(text: str, gold: str, parsed: Dict[str, Any]) -> Reading:
    ranking = [i for i in parsed.get("intent_ranking", []) if i["name"] != FALLBACK]
    top = ranking[0] if ranking else {"name": FALLBACK, "confidence": 0.0}
    selector = parsed.get("response_selector", {}).get("faq", {}).get("response", {})
    response = selector.get("intent_response_key")
    final = parsed["intent"]["name"]
    if final == "faq":
        final = response or FALLBACK
    return Reading(
        text,
        gold,
        final,
        top["name"],
        float(top["confidence"]),
        response,
        float(selector.get("confidence") or 0.0),
    )


def evaluate(parse: Callable[[str], Dict[str, Any]], examples=None) -> List[Reading]:
    return [read(text, gold, parse(text)) for text, gold in (examples or load_examples())]


def summarise(readings: List[Reading]) -> Dict[str, Any]:
    faq = [r for r in readings if r.gold.startswith("faq/")]
    other = [r for r in readings if not r.gold.startswith("faq/")]
    out_of_scope = [r for r in other if r.gold == "out_of_scope"]
    per_topic: Dict[str, List[int]] = {}
    for r in faq:
        per_topic.setdefault(r.gold, []).append(r.final == r.gold)
    return {
        "faq_examples": len(faq),
        "response_selection_accuracy": _share(r.final == r.gold for r in faq),
        "faq_wrong_answer_rate": _share(
            r.final.startswith("faq/") and r.final != r.gold for r in faq
        ),
        "faq_fallback_rate": _share(r.final == FALLBACK for r in faq),
        "selector_top1_accuracy": _share(r.response == r.gold for r in faq),
        "other_examples": len(other),
        "other_intent_accuracy": _share(
            r.final == r.gold or (r.gold == "out_of_scope" and r.final == FALLBACK) for r in other
        ),
        "out_of_scope_given_faq_answer": _share(r.final.startswith("faq/") for r in out_of_scope),
        "medical_given_faq_answer": _share(
            r.final.startswith("faq/") for r in other if r.gold == "medical_specific"
        ),
        "per_topic_accuracy": {k: round(sum(v) / len(v), 3) for k, v in sorted(per_topic.items())},
        "errors": [
            {
                "text": r.text,
                "gold": r.gold,
                "final": r.final,
                "intent": f"{r.intent} {r.intent_confidence:.2f}",
                "response": f"{r.response} {r.response_confidence:.2f}",
            }
            for r in readings
            if r.final != r.gold and not (r.gold == "out_of_scope" and r.final == FALLBACK)
        ],
    }


def sweep(readings: List[Reading], intent_thresholds, response_thresholds) -> List[Dict[str, Any]]:
    """FAQ outcomes for each pair of thresholds (ambiguity check left as configured)."""
    faq = [r for r in readings if r.gold.startswith("faq/")]
    oos = [r for r in readings if r.gold == "out_of_scope"]

    def answered(r: Reading, ti: float, tr: float) -> Optional[str]:
        if r.intent == "faq" and r.intent_confidence >= ti and r.response_confidence >= tr:
            return r.response
        return None

    rows = []
    for ti in intent_thresholds:
        for tr in response_thresholds:
            rows.append(
                {
                    "intent_threshold": ti,
                    "response_threshold": tr,
                    "faq_correct": _share(answered(r, ti, tr) == r.gold for r in faq),
                    "faq_wrong": _share(answered(r, ti, tr) not in (None, r.gold) for r in faq),
                    "oos_answered": _share(answered(r, ti, tr) is not None for r in oos),
                }
            )
    return rows


def _share(flags: Iterable[bool]) -> float:
    flags = list(flags)
    return round(sum(flags) / len(flags), 3) if flags else 0.0


def print_summary(summary: Dict[str, Any]) -> None:
    print(f"FAQ held-out examples:            {summary['faq_examples']}")
    print(f"response-selection accuracy:      {summary['response_selection_accuracy']:.3f}")
    print(f"  wrong FAQ answer given:         {summary['faq_wrong_answer_rate']:.3f}")
    print(f"  fell back (not answered):       {summary['faq_fallback_rate']:.3f}")
    print(f"  selector top-1, before the gate: {summary['selector_top1_accuracy']:.3f}")
    print(f"other held-out examples:          {summary['other_examples']}")
    print(f"  intent accuracy:                {summary['other_intent_accuracy']:.3f}")
    print(f"  out-of-scope given a FAQ answer: {summary['out_of_scope_given_faq_answer']:.3f}")
    print(f"  own medical question given a FAQ answer: {summary['medical_given_faq_answer']:.3f}")


def local_parser(model: Path) -> Callable[[str], Dict[str, Any]]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    loop = asyncio.new_event_loop()
    return lambda text: loop.run_until_complete(agent.parse_message(text))


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "assistant.tar.gz")
    parser.add_argument(
        "--set",
        choices=sorted(HELDOUT_SETS),
        action="append",
        help="the held-out set to read (default: all)",
    )
    parser.add_argument("--thresholds", action="store_true", help="sweep fallback thresholds")
    args = parser.parse_args(argv)
    parse = local_parser(args.model)
    for name in args.set or sorted(HELDOUT_SETS):
        readings = evaluate(parse, load_examples(HELDOUT_SETS[name]))
        summary = summarise(readings)
        print(f"\n== held-out set '{name}' ==")
        print_summary(summary)
        print(f"report: {write_report(name, summary).relative_to(ROOT)}")
        if args.thresholds:
            grid = [0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
            print("\nintent  response  faq_correct  faq_wrong  oos_answered")
            for row in sweep(readings, grid, grid):
                print(
                    f"{row['intent_threshold']:>6}  {row['response_threshold']:>8}  "
                    f"{row['faq_correct']:>11.3f}  {row['faq_wrong']:>9.3f}  "
                    f"{row['oos_answered']:>12.3f}"
                )
    return 0


def write_report(name: str, summary: Dict[str, Any]) -> Path:
    path = report_path(name)
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(summary, indent=2))
    return path


if __name__ == "__main__":
    sys.exit(main())
