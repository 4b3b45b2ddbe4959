"""The analytics blueprint: the page, its charts (`console.analytics.charts`) built from the
numbers of `console.analytics.queries`, and how it writes durations, shares and days."""

from __future__ import annotations

import datetime as dt
from typing import Any, Optional

from flask import Blueprint, g, render_template

from clinic.db import utc_now
from clinic.escalations import CONCERN, URGENT
from clinic.profile import current_profile
from console.analytics import charts
from console.analytics.queries import (
    TOP_TOPICS,
    AckTime,
    BotAlone,
    Daily,
    Period,
    WeekRate,
    bot_alone,
    conversations_per_day,
    escalations_by_week,
    fallback_by_week,
    time_to_acknowledge,
    top_topics,
)
from console.auth import accounts
from console.labels import topic_name

blueprint = Blueprint("analytics", __name__)


def duration(value: Optional[dt.timedelta]) -> str:
    """Like "45 s", "12 min", "2 h 05 min" or "3 d 4 h"."""
    if value is None:
        return "-"
    seconds = int(round(value.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60 + (seconds % 60 >= 30)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 24 * 60:
        return f"{minutes // 60} h {minutes % 60:02d} min"
    return f"{minutes // (24 * 60)} d {minutes // 60 % 24} h"


def percent(value: Optional[float]) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _day(day: dt.date) -> str:
    return f"{day.day} {day:%b}"


def build_charts(
    daily: Daily,
    alone: BotAlone,
    rates: list[WeekRate],
    topics: list[tuple[str, int]],
    weekly: dict[str, list[int]],
    acks: list[AckTime],
    weeks: list[dt.date],
) -> dict[str, charts.Chart]:
    week_names = [_day(week) for week in weeks]
    return {
        "daily": charts.columns(
            [_day(day) for day in daily.days],
            [
                (name, charts.series_class(i), daily.counts[name])
                for i, name in enumerate(daily.channels)
            ],
            label_every=5,
        ),
        "alone": charts.bars(
            [
                ("By the bot alone", round(alone.alone / alone.conversations * 100, 1), "series-2"),
                (
                    "With a person",
                    round(100 - alone.alone / alone.conversations * 100, 1),
                    "series-1",
                ),
            ]
            if alone.conversations
            else [],
            format_value=lambda value: f"{charts.number(value)}%",
            maximum=100,
            label_width=130,
        ),
        "fallback": charts.columns(
            week_names,
            [("not understood", "series-1", [round((r.rate or 0) * 100, 1) for r in rates])],
            label_every=2,
            unit="%",
        ),
        "topics": charts.bars([(topic_name(topic), count, "series-0") for topic, count in topics]),
        "escalations": charts.columns(
            week_names,
            [(level, f"bar-{level}", weekly[level]) for level in (URGENT, CONCERN)],
            label_every=2,
        ),
        "ack": charts.bars(
            [
                (a.level, round(a.median.total_seconds() / 60, 1), f"bar-{a.level}")
                for a in acks
                if a.median is not None
            ],
            format_value=lambda minutes: f"{charts.number(minutes)} min",
            label_width=90,
        ),
    }


@blueprint.route("/analytics")
def index() -> Any:
    profile = current_profile()
    period = Period(utc_now(), profile.hours.timezone)
    target = profile.notifications.urgent_ack_minutes
    with g.engine.connect() as connection:
        daily = conversations_per_day(connection, period)
        alone = bot_alone(connection, period)
        rates = fallback_by_week(connection, period)
        topics = top_topics(connection, period)
        weekly = escalations_by_week(connection, period)
        acks = time_to_acknowledge(connection, period, target)
    accounts.audit(g.engine, g.user.username, "view_analytics")
    return render_template(
        "analytics/index.html",
        period=period,
        daily=daily,
        alone=alone,
        rates=rates,
        topics=topics,
        weekly=weekly,
        acks=acks,
        target=target,
        levels=(URGENT, CONCERN),
        charts=build_charts(daily, alone, rates, topics, weekly, acks, period.weeks),
        daily_legend=[(name, charts.series_class(i)) for i, name in enumerate(daily.channels)],
        top_n=TOP_TOPICS,
        percent=percent,
        duration=duration,
        day=_day,
    )
