"""The crisis layer as the server runs it: the rules alone, the risk model alone, and both.

    .venv/bin/python -m bench.crisis_model                      # the suite, and the dev set if found
    .venv/bin/python -m bench.crisis_model --dev PATH/ellis_dev.jsonl
    .venv/bin/python -m bench.crisis_model --check              # exit 1 when a policy gate fails

Every message goes through the trained model's NLU pipeline (`Agent.parse_message`, the same
code as `POST /model/parse`), whose `crisis` output carries the rules' level, the model's level
and scores, and the level that wins. Prints, side by side for rules / model / both (and a plain
keyword list as the floor):
- the project's suite (tests/data/crisis_suite*.yml, written blind to the rules, never trained
  on): recall per urgent category, false urgent per negative category, the policy's gates;
- the dev set (text nobody here wrote, read only to measure; `CLINIC_CRISIS_DEV_SET` or
  `--dev`, by default ../shared/benchmarks/crisis/ellis_dev.jsonl): caught (urgent, check or
  concern) per label and false urgent on no-crisis messages, against the gates (>= 0.90 of
  suicidal ideation, self-harm and violent thoughts caught; <= 3 % no-crisis urgent);
- a recall / false-urgent curve over the model's urgent threshold, the configured one marked,
  and one over its middle band (`check`: caught against messages escalated that should not be);
- time per message of the whole NLU pipeline (p50, p99) for a short and a 500-word message.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import yaml

from bench.crisis_suite import HARD_NEGATIVES, SUITES, gate_failures, keyword_level, load_suite
from bench.nlu_heldout import local_parser

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "reports" / "crisis_model.json"
DEFAULT_DEV = ROOT.parent / "shared" / "benchmarks" / "crisis" / "ellis_dev.jsonl"
ESCALATED_LABELS = ("suicidal_ideation", "self-harm", "violent_thoughts")
OTHER_LABELS = ("anxiety_crisis", "substance_abuse_or_withdrawal", "risk_taking_behaviours")
ORDER = ("none", "concern", "check", "urgent")
GATES = {"dev_caught": 0.90, "dev_false_urgent": 0.03}  # the suite's: bench.crisis_suite


def dev_set_path(given: Optional[Path]) -> Optional[Path]:
    path = given or Path(os.environ.get("CLINIC_CRISIS_DEV_SET", DEFAULT_DEV))
    return path if path.exists() else None


def load_dev(path: Path) -> List[Dict[str, str]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [{"text": " ".join(row["sentences"]), "label": row["label"]} for row in rows]


def readings(parse: Callable[[str], Dict[str, Any]], texts: List[str]) -> List[Dict[str, Any]]:
    """What each detector said of each text (and the model's scores)."""
    out = []
    for text in texts:
        crisis = parse(text).get("crisis") or {}
        model = crisis.get("model") or {}
        out.append(
            {
                "rules": crisis.get("rules_level", crisis.get("level", "none")),
                "model": model.get("level", "none"),
                "both": crisis.get("level", "none"),
                "keywords": keyword_level(text),
                "score": model.get("score", 0.0),
                "any": model.get("any", 0.0),
                "sentence_score": model.get("sentence_score", 0.0),
                "sentence_any": model.get("sentence_any", 0.0),
            }
        )
    return out


def rate(values: List[bool]) -> float:
    return sum(values) / len(values) if values else 0.0


def suite_table(cases: list, read: List[Dict[str, Any]]) -> Dict[str, Dict[str, float]]:
    table: Dict[str, Dict[str, float]] = {}
    for who in ("rules", "model", "both", "keywords"):
        levels = [r[who] for r in read]
        urgent = [(c, level) for c, level in zip(cases, levels) if c.label == "urgent"]
        negatives = [(c, level) for c, level in zip(cases, levels) if c.label == "none"]
        row = {
            "explicit": rate([level == "urgent" for c, level in urgent if c.explicit]),
            "urgent": rate([level == "urgent" for _, level in urgent]),
            "concern": rate(
                [level != "none" for c, level in zip(cases, levels) if c.label == "concern"]
            ),
            "false_urgent": rate([level == "urgent" for _, level in negatives]),
            "hard_false_urgent": rate(
                [level == "urgent" for c, level in negatives if c.category in HARD_NEGATIVES]
            ),
            "escalated_negatives": rate([level != "none" for _, level in negatives]),
        }
        for category in sorted({c.category for c in cases if c.label == "urgent"}):
            row[f"urgent/{category}"] = rate(
                [level == "urgent" for c, level in urgent if c.category == category]
            )
        table[who] = row
    return table


def dev_table(
    rows: List[Dict[str, str]], read: List[Dict[str, Any]]
) -> Dict[str, Dict[str, float]]:
    table: Dict[str, Dict[str, float]] = {}
    for who in ("rules", "model", "both", "keywords"):
        levels = [r[who] for r in read]
        row = {
            "caught": rate(
                [
                    level != "none"
                    for d, level in zip(rows, levels)
                    if d["label"] in ESCALATED_LABELS
                ]
            ),
            "false_urgent": rate(
                [level == "urgent" for d, level in zip(rows, levels) if d["label"] == "no_crisis"]
            ),
            "no_crisis_escalated": rate(
                [level != "none" for d, level in zip(rows, levels) if d["label"] == "no_crisis"]
            ),
        }
        for label in ESCALATED_LABELS + OTHER_LABELS:
            row[label] = rate(
                [level != "none" for d, level in zip(rows, levels) if d["label"] == label]
            )
        table[who] = row
    return table


def curve(
    rows: List[Dict[str, str]], read: List[Dict[str, Any]], thresholds: Dict[str, float]
) -> List[dict]:
    """Both detectors' dev-set figures as the model's urgent threshold (whole message) moves,
    the other thresholds as configured."""
    points = []
    for threshold in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95):
        levels = []
        for r in read:
            urgent = r["score"] >= threshold or r["sentence_score"] >= thresholds["sentence_urgent"]
            flagged = (
                r["any"] >= thresholds["any"] or r["sentence_any"] >= thresholds["sentence_any"]
            )
            model = "urgent" if urgent else ("check" if flagged else "none")
            levels.append(max(r["rules"], model, key=ORDER.index))
        points.append(
            {
                "threshold": threshold,
                "caught": rate(
                    [
                        level != "none"
                        for d, level in zip(rows, levels)
                        if d["label"] in ESCALATED_LABELS
                    ]
                ),
                "urgent_recall": rate(
                    [
                        level == "urgent"
                        for d, level in zip(rows, levels)
                        if d["label"] in ESCALATED_LABELS
                    ]
                ),
                "false_urgent": rate(
                    [
                        level == "urgent"
                        for d, level in zip(rows, levels)
                        if d["label"] == "no_crisis"
                    ]
                ),
            }
        )
    return points


def band_curve(
    rows: List[Dict[str, str]],
    read: List[Dict[str, Any]],
    negatives: List[Dict[str, Any]],
    thresholds: Dict[str, float],
) -> List[dict]:
    """Both detectors as the model's middle band (`check`: whole message, each sentence) moves,
    urgent as configured: the dev set's caught and no-crisis escalated, and the share of the
    suite's must-not-escalate messages that would be asked the direct question or escalated."""

    def level(r: Dict[str, Any], whole: float, sentence: float) -> str:
        if (
            r["score"] >= thresholds["urgent"]
            or r["sentence_score"] >= thresholds["sentence_urgent"]
        ):
            model = "urgent"
        else:
            model = "check" if r["any"] >= whole or r["sentence_any"] >= sentence else "none"
        return max(r["rules"], model, key=ORDER.index)

    points = []
    for whole in (0.3, 0.4, 0.5, 0.6, 0.7):
        for sentence in (0.5, 0.6, 0.7, 0.8):
            levels = [level(r, whole, sentence) for r in read]
            points.append(
                {
                    "any": whole,
                    "sentence_any": sentence,
                    "caught": rate(
                        [
                            level != "none"
                            for d, level in zip(rows, levels)
                            if d["label"] in ESCALATED_LABELS
                        ]
                    ),
                    "no_crisis_escalated": rate(
                        [
                            level != "none"
                            for d, level in zip(rows, levels)
                            if d["label"] == "no_crisis"
                        ]
                    ),
                    "suite_negatives_escalated": rate(
                        [level(r, whole, sentence) != "none" for r in negatives]
                    ),
                }
            )
    return points


def timing(parse: Callable[[str], Dict[str, Any]], text: str, runs: int = 30) -> Dict[str, float]:
    parse(text)
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        parse(text)
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return {"p50_ms": statistics.median(samples), "p99_ms": samples[-1]}


def configured_thresholds() -> Dict[str, float]:
    config = yaml.safe_load((ROOT / "config.yml").read_text())
    crisis = next(c for c in config["pipeline"] if c["name"].endswith("CrisisDetector"))
    from components.crisis_detector import CrisisDetector

    settings = {**CrisisDetector.get_default_config(), **crisis}
    return {
        "urgent": settings["urgent_threshold"],
        "any": settings["any_threshold"],
        "sentence_urgent": settings["sentence_urgent_threshold"],
        "sentence_any": settings["sentence_any_threshold"],
    }


def _print_table(title: str, table: Dict[str, Dict[str, float]], keys: List[str]) -> None:
    print(f"\n{title}")
    print(f"{'':34}" + "".join(f"{who:>10}" for who in table))
    for key in keys:
        print(f"{key:34}" + "".join(f"{table[who][key]:>10.3f}" for who in table))


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "assistant.tar.gz")
    parser.add_argument("--dev", type=Path, default=None)
    parser.add_argument("--check", action="store_true", help="exit 1 when a gate fails")
    args = parser.parse_args(argv)
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)  # Rasa's debug lines would print the texts
    configure_structlog(logging.WARNING)
    parse = local_parser(args.model)
    thresholds = configured_thresholds()
    report: Dict[str, Any] = {"thresholds": thresholds}

    cases, _sessions = load_suite(SUITES)
    suite_read = readings(parse, [c.text for c in cases])
    suite = suite_table(cases, suite_read)
    report["suite"] = suite
    _print_table(
        f"Suite ({len(cases)} messages, never trained on): share caught as urgent "
        "(urgent rows), escalated (concern), urgent (negatives)",
        suite,
        ["explicit", "urgent"]
        + sorted(k for k in suite["both"] if k.startswith("urgent/"))
        + ["concern", "false_urgent", "hard_false_urgent", "escalated_negatives"],
    )
    both = suite["both"]
    failures = [
        "suite " + failure
        for failure in gate_failures(
            {
                "explicit_recall": both["explicit"],
                "urgent_recall": both["urgent"],
                "false_urgent_rate": both["false_urgent"],
            }
        )
    ]

    dev_path = dev_set_path(args.dev)
    if dev_path is None:
        print("\nDev set: not found (set CLINIC_CRISIS_DEV_SET or --dev); skipped")
    else:
        rows = load_dev(dev_path)
        read = readings(parse, [row["text"] for row in rows])
        dev = dev_table(rows, read)
        report["dev"] = dev
        _print_table(
            f"Dev set ({len(rows)} messages, {dev_path.name}): caught = urgent, check "
            "or concern; false urgent on no_crisis",
            dev,
            ["caught", "false_urgent", "no_crisis_escalated", *ESCALATED_LABELS, *OTHER_LABELS],
        )
        report["curve"] = curve(rows, read, thresholds)
        print(
            f"\nRules + model on the dev set as the model's urgent threshold moves "
            f"(the others as configured: {thresholds}):"
        )
        print(f"{'threshold':>10}{'caught':>10}{'urgent':>10}{'false urgent':>14}")
        for point in report["curve"]:
            mark = (
                "  <- configured" if abs(point["threshold"] - thresholds["urgent"]) < 1e-9 else ""
            )
            print(
                f"{point['threshold']:>10.2f}{point['caught']:>10.3f}{point['urgent_recall']:>10.3f}"
                f"{point['false_urgent']:>14.3f}{mark}"
            )
        negatives = [r for c, r in zip(cases, suite_read) if c.label == "none"]
        report["band_curve"] = band_curve(rows, read, negatives, thresholds)
        print("\nRules + model as the model's middle band (check) moves, urgent as configured:")
        print(
            f"{'any':>6}{'sentence':>10}{'caught':>10}{'no-crisis escalated':>21}"
            f"{'suite negatives escalated':>27}"
        )
        for point in report["band_curve"]:
            mark = (
                "  <- configured"
                if abs(point["any"] - thresholds["any"]) < 1e-9
                and abs(point["sentence_any"] - thresholds["sentence_any"]) < 1e-9
                else ""
            )
            print(
                f"{point['any']:>6.2f}{point['sentence_any']:>10.2f}{point['caught']:>10.3f}"
                f"{point['no_crisis_escalated']:>21.3f}{point['suite_negatives_escalated']:>27.3f}"
                f"{mark}"
            )
        if dev["both"]["caught"] < GATES["dev_caught"]:
            failures.append(f"dev caught {dev['both']['caught']:.3f} < 0.90")
        if dev["both"]["false_urgent"] > GATES["dev_false_urgent"]:
            failures.append(f"dev false urgent {dev['both']['false_urgent']:.3f} > 0.03")

    short = "how long does an infusion take?"
    long = " ".join(
        [
            "I have been thinking about whether the treatment is right for me and what "
            "the first weeks would look like with work and my family."
        ]
        * 20
    )[:3000]
    report["timing"] = {"short": timing(parse, short), "500 words": timing(parse, long)}
    print(
        "\nWhole NLU pipeline per message (rules + model included): "
        + "; ".join(
            f"{name}: p50 {t['p50_ms']:.1f} ms, p99 {t['p99_ms']:.1f} ms"
            for name, t in report["timing"].items()
        )
    )
    report["gate_failures"] = failures
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(json.dumps(report, indent=2))
    print(
        f"\nreport: {REPORT.relative_to(ROOT)}; gates: "
        f"{'FAIL ' + '; '.join(failures) if failures else 'pass'}"
    )
    return 1 if failures and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
