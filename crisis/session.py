"""Crisis levels across a conversation, and what an escalation for staff carries.

The detector judges one message. The policy adds two rules that need the conversation:
after an urgent message the session stays flagged, and then distress without risk words, or a
retraction ("jk ignore that"), is a concern — a retraction never clears the flag.

Works on Rasa events as dicts (`Event.as_dict()`, the rasa-sdk tracker's `events`, or the
`data` column of the SQL tracker store), so the Rasa server, the action server and the
delivery worker all compute the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Optional

from crisis.detector import SESSION_SIGNALS, detect
from crisis.levels import CONCERN, NONE, URGENT, escalation_level
from crisis.parse_output import crisis_field

LAST_TURNS = 6


@dataclass
class TurnLevel:
    """The crisis level of one user message in its conversation."""

    event: dict[str, Any]
    level: str
    crisis: dict[str, Any]
    flagged: bool  # the session had an urgent message before or at this one
    reason: str = ""
    turns: list[dict[str, str]] = field(default_factory=list)  # last turns up to this one


def crisis_of(event: dict[str, Any]) -> dict[str, Any]:
    """The detector's result stored with a user event (computed again if it is missing)."""
    stored = crisis_field(event.get("parse_data"))
    return stored if stored else detect(event.get("text") or "").as_dict()


CHECK_QUESTION = "utter_crisis_check"
YES, NO = ("crisis_check_yes", "affirm"), ("crisis_check_no", "deny")


def levels(events: Iterable[dict[str, Any]]) -> Iterator[TurnLevel]:
    """Every user message's level, in order, with the session rules applied."""
    flagged, asked = False, False
    turns: list[dict[str, str]] = []
    for event in events:
        kind = event.get("event")
        if kind == "session_started":
            flagged, asked, turns = False, False, []
        elif kind == "bot":  # (after a crisis the question is not asked: see profile_nlg)
            asked = (event.get("metadata") or {}).get(
                "utter_action"
            ) == CHECK_QUESTION and not flagged
            if event.get("text"):
                turns = (turns + [{"role": "bot", "text": event["text"]}])[-LAST_TURNS:]
        elif kind == "user":
            turns = (turns + [{"role": "user", "text": event.get("text") or ""}])[-LAST_TURNS:]
            crisis = crisis_of(event)
            # hopelessness (check): asked directly, and escalated as a concern
            level, reason = escalation_level(crisis.get("level", NONE)), ""
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            if intent == YES[0] or (asked and intent == YES[1]):
                level, reason = URGENT, "yes to the direct question"
                crisis = {**crisis, "categories": ["suicidal_ideation"], "subject": "self"}
            elif asked and level == NONE and intent not in NO:
                level, reason = CONCERN, "no answer to the direct question"
            asked = False
            signals = set(crisis.get("signals", ()))
            if level == URGENT:
                flagged = True
            elif flagged and level == NONE and signals & SESSION_SIGNALS:
                level = CONCERN
                reason = (
                    "retraction after a crisis"
                    if "retraction" in signals
                    else "distress after a crisis"
                )
            yield TurnLevel(event, level, crisis, flagged, reason, list(turns))


def latest(events: Iterable[dict[str, Any]]) -> Optional[TurnLevel]:
    """The level of the last user message (None when there is none)."""
    last = None
    for last in levels(events):  # noqa: B007 (what the loop leaves is the last)
        pass
    return last


@dataclass(frozen=True)
class EscalationFacts:
    """What `clinic.escalations.record_escalation` needs, from the conversation."""

    conversation_id: str
    message_id: str
    channel: Optional[str]
    level: str
    categories: list[str]
    evidence: list[dict[str, Any]]
    subject: str
    last_turns: list[dict[str, str]]

    def as_kwargs(self) -> dict[str, Any]:
        return dict(self.__dict__)


def escalation_facts(conversation_id: str, turn: TurnLevel) -> Optional[EscalationFacts]:
    """The escalation a turn calls for, or None for level none."""
    if turn.level == NONE:
        return None
    channel = turn.event.get("input_channel")
    crisis = turn.crisis
    evidence = [e for e in crisis.get("evidence", []) if e.get("level") != NONE]
    model = crisis.get("model") or {}
    if model.get("level", NONE) != NONE:
        evidence.append(
            {
                "text": model.get("sentence") or turn.event.get("text", ""),
                "rule": "risk model",
                "category": "model",
                "level": model["level"],
                "reason": f"score {model.get('score', 0):.2f}",
                "subject": model.get("subject", "self"),
                "nearest": model.get("nearest", []),
            }
        )
    session_category = "direct_question" if "direct question" in turn.reason else "after_crisis"
    if turn.reason:
        evidence.append(
            {
                "text": turn.event.get("text", ""),
                "rule": "session",
                "category": session_category,
                "level": turn.level,
                "reason": turn.reason,
                "subject": "self",
            }
        )
    categories = list(crisis.get("categories") or []) or [session_category]
    message_id = turn.event.get("message_id") or f"ts-{turn.event.get('timestamp')}"
    return EscalationFacts(
        conversation_id=conversation_id,
        message_id=str(message_id),
        channel=channel,
        level=turn.level,
        categories=categories,
        evidence=evidence,
        subject=crisis.get("subject", "self"),
        last_turns=turn.turns,
    )
