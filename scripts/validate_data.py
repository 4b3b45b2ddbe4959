"""`rasa data validate`, failing on every warning that is not explained by how Rasa 3.6 works.

Rasa's validator reports a response as "not used in any story or rule" when a form asks with
it (`utter_ask_<slot>`), when a default action utters it (the two-stage fallback), or when a
custom action or our response generator (components/profile_nlg.py) uses it; it reports the
`crisis`, `crisis_check` and `unwell_after_infusion` intents as missing from the NLU data, because the crisis detector
sets them, not the classifier (components/crisis_detector.py), and the direct question's answers,
which only its buttons send; and it reports the retrieval intent as "duplicated" because it
merges the intent it finds in the NLU data into the domain that already lists it. Those are
checked to be true here (the form slot exists, the name is in actions/ or components/), then
let through.
Every other warning, and every error, fails.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ACTION_RESPONSES = {"utter_ask_rephrase", "utter_default"}
_UNUSED = re.compile(r"The utterance '([^']+)' is not used in any story or rule")
_NO_EXAMPLES = re.compile(
    r"The intent '([^']+)' is listed in the domain file, but is not found in the NLU"
)
_DUPLICATED = re.compile(r"duplicated intents have been found across multiple domain files: (.+)")


def explained(warning: str, domain: dict, action_sources: str) -> bool:
    """`action_sources`: the Python of actions/, components/, channels/ and the load balancer's
    configuration in deploy/ (names in quotes)."""
    unused = _UNUSED.search(warning)
    if unused:
        response = unused.group(1)
        form_slots = {
            slot for form in domain.get("forms", {}).values() for slot in form["required_slots"]
        }
        return (
            response in DEFAULT_ACTION_RESPONSES
            or response.removeprefix("utter_ask_") in form_slots
            or f'"{response}"' in action_sources
        )
    no_examples = _NO_EXAMPLES.search(warning)
    if no_examples:  # set by the crisis detector, or only by a button of a response
        intent = no_examples.group(1)
        payloads = {
            button.get("payload")
            for variants in domain.get("responses", {}).values()
            for variant in variants
            for button in variant.get("buttons", [])
        }
        return f'_INTENT = "{intent}"' in action_sources or f"/{intent}" in payloads
    duplicated = _DUPLICATED.search(warning)
    if duplicated:
        return [name.strip() for name in duplicated.group(1).split(",")] == ["faq"]
    return False


def main() -> int:
    result = subprocess.run(
        [Path(sys.executable).parent / "rasa", "data", "validate"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    output = result.stdout + result.stderr
    domain = yaml.safe_load((ROOT / "domain.yml").read_text())
    action_sources = "\n".join(
        p.read_text()
        for folder, pattern in (
            ("actions", "*.py"),
            ("components", "*.py"),
            ("channels", "*.py"),
            ("deploy", "*.conf"),
        )  # nginx answers for unreachable actions
        for p in (ROOT / folder).rglob(pattern)
    )
    # Each warning is one "UserWarning: …" up to the next blank line or log line.
    warnings = re.findall(r"UserWarning: (.*?)(?=\n\S*\d{4}-\d\d-\d\d |\n\x1b|\Z)", output, re.S)
    unexplained = [w.strip() for w in warnings if not explained(w, domain, action_sources)]
    for warning in unexplained:
        print(f"validate: {warning}")
    if result.returncode != 0:
        print(output[-4000:])
        print("validate: rasa data validate failed")
        return 1
    if unexplained:
        print(f"validate: {len(unexplained)} unexplained warning(s)")
        return 1
    print(f"validate: data is valid ({len(warnings)} warning(s), all explained)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
