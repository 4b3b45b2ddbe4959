"""The crisis layer's field in Rasa's parse output, `parse_data["crisis"]`: written by
components/crisis_detector.py, read through here by the session rules, the sweep and the
console's index (a message stored before the field existed reads as level none).

    {level, rules_level, categories, evidence, subject, signals,
     model: {level, score, any, probabilities, sentence, nearest, subject}}
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from crisis.levels import NONE

KEY = "crisis"


def crisis_field(parse_data: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    """The field of a parse output (a user event's `parse_data`), {} when there is none."""
    return (parse_data or {}).get(KEY) or {}


def level_of(parse_data: Optional[Dict[str, Any]]) -> str:
    return crisis_field(parse_data).get("level") or NONE
