"""Plain words for the codes staff would otherwise read: channels, FAQ topics (the catalogue's
questions), crisis levels and categories, escalation outcomes, and a conversation's name (its channel, when it started and the name the
person gave) instead of its id; and times in the clinic's time zone. The one place these codes
get their words; templates use the filters `register` adds.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any, Callable, Mapping, Optional

import yaml
from flask import Flask

from clinic import escalations
from clinic.db import utc_now
from clinic.profile import PROJECT_ROOT
from crisis.levels import CHECK, CONCERN, NONE, URGENT

CHANNELS = {"webchat": "Web chat", "twilio": "SMS", "rest": "REST API"}
LEVELS = {URGENT: "urgent", CONCERN: "concern", CHECK: "needs a check", NONE: "none"}
# The crisis detector's categories (crisis/lexicon.py RULES, crisis/detector.py) and the
# session's and risk model's (crisis/session.py).
CATEGORIES = {
    "suicidal_ideation": "suicidal thoughts",
    "self_harm": "self-harm",
    "harm_to_others": "harm to others",
    "medical_emergency": "medical emergency",
    "overdose": "overdose",
    "after_infusion": "unwell after an infusion",
    "means": "means at hand (pills, a weapon)",
    "plan_or_time": "a plan or a time",
    "third_person": "about someone else",
    "model": "the risk model's reading",
    "direct_question": "the answer to the direct question",
    "after_crisis": "distress after a crisis",
}
OUTCOMES = {
    escalations.REACHED: "reached the person",
    escalations.NOT_REACHED: "could not reach the person",
    escalations.EMERGENCY_SERVICES: "emergency services called",
}


CATALOGUE = PROJECT_ROOT / "faq-catalogue.yml"


@lru_cache(maxsize=1)
def catalogue_topics() -> dict[str, dict[str, Any]]:
    """The catalogue's topics by id, in its order: each with its question, its facts and the
    profile fields its answer uses."""
    topics = yaml.safe_load(CATALOGUE.read_text(encoding="utf-8"))["topics"]
    return {topic["id"]: topic for topic in topics}


@lru_cache(maxsize=1)
def topic_titles() -> dict[str, str]:
    """Each FAQ topic's question as the catalogue asks it: the topic's name for staff."""
    return {topic: entry["question"] for topic, entry in catalogue_topics().items()}


def topic_name(code: Optional[str]) -> str:
    """`vs_antidepressants` → "How is ketamine different from traditional antidepressants?"."""
    return topic_titles().get(code or "", _plain(code))


def _plain(code: Optional[str]) -> str:
    return (code or "").replace("_", " ")


def channel_name(code: Optional[str]) -> str:
    return CHANNELS.get(code or "", _plain(code) or "unknown channel")


def level_name(code: Optional[str]) -> str:
    return LEVELS.get(code or "", _plain(code))


def category_name(code: Optional[str]) -> str:
    return CATEGORIES.get(code or "", _plain(code))


def outcome_name(code: Optional[str]) -> str:
    return OUTCOMES.get(code or "", _plain(code) or "not recorded")


def short_time(moment: dt.datetime, timezone: dt.tzinfo, now: Optional[dt.datetime] = None) -> str:
    """Like "Sun 6 Dec 2:02 PM", with the year when it is not this year's."""
    local = moment.astimezone(timezone)
    this_year = (now or utc_now()).astimezone(timezone).year
    year = "" if local.year == this_year else f" {local.year}"
    return f"{local:%a} {local.day} {local:%b}{year} {local.strftime('%I:%M %p').lstrip('0')}"


def clinic_time(moment: Optional[dt.datetime], timezone: dt.tzinfo) -> str:
    """A moment as the console writes it, in the clinic's time zone; "-" for none."""
    return escalations.format_time(moment, timezone) if moment else "-"


def conversation_name(conversation: Mapping[str, Any], timezone: dt.tzinfo) -> str:
    """A conversation as staff call it, like "Web chat · Sun 6 Dec 2:02 PM · Jordan": its
    channel, when it started and the name the person gave, of those known (`channel`,
    `started_at`, `person_name`)."""
    parts = [channel_name(conversation.get("channel"))]
    if conversation.get("started_at"):
        parts.append(short_time(conversation["started_at"], timezone))
    if conversation.get("person_name"):
        parts.append(conversation["person_name"])
    return " · ".join(parts)


def register(app: Flask, timezone: Callable[[], dt.tzinfo]) -> None:
    """The filters, for the app's templates; `timezone()` gives the clinic's time zone."""
    app.add_template_filter(channel_name)
    app.add_template_filter(level_name)
    app.add_template_filter(category_name)
    app.add_template_filter(outcome_name)
    app.add_template_filter(topic_name)
    app.add_template_filter(lambda c: conversation_name(c, timezone()), "conversation_name")
    app.add_template_filter(lambda moment: clinic_time(moment, timezone()), "clinic_time")
    app.jinja_env.globals["escalation_outcomes"] = OUTCOMES
