"""The analytics page's numbers: how much the assistant is used, how often it answers alone,
what it does not understand, what people ask about and how fast staff acknowledge escalations.

Counts are grouped in SQL by quarter-hour (`quarter_hour`, the same on SQLite and PostgreSQL)
and the quarter-hours are put into the clinic's days and weeks here, so that days follow the
clinic's time zone, summer time included, whatever the database. A quarter-hour, because every
time zone's offset from UTC is a whole number of them.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass
from typing import Any, Optional

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from clinic.db import contact_requests
from clinic.escalations import LEVELS, URGENT, escalations
from projector.index import NOT_UNDERSTOOD, USER, conversations, turns

DAYS = 30
WEEKS = 12
TOP_TOPICS = 10
QUARTER_HOUR = 900  # seconds


class quarter_hour(FunctionElement):  # noqa: N801 (an SQL function, named like one)
    """The quarter-hour a UTC time column falls in: whole seconds since 1970 // 900."""

    type = sa.BigInteger()
    name = "quarter_hour"
    inherit_cache = True


# Only a column and a constant go into these fragments: no value from outside.
@compiles(quarter_hour)
def _quarter_hour(element: quarter_hour, compiler: Any, **kw: Any) -> str:  # PostgreSQL
    column = compiler.process(element.clauses, **kw)
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM {column}) / {QUARTER_HOUR}) AS BIGINT)"


@compiles(quarter_hour, "sqlite")
def _quarter_hour_sqlite(element: quarter_hour, compiler: Any, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)  # stored as UTC text: 2024-06-03 14:05:00
    return f"(CAST(strftime('%s', {column}) AS INTEGER) / {QUARTER_HOUR})"


@dataclass(frozen=True)
class Period:
    """The clinic's last `DAYS` days and last `WEEKS` weeks (Monday to Sunday), up to now."""

    now: dt.datetime
    timezone: dt.tzinfo

    @property
    def today(self) -> dt.date:
        return self.now.astimezone(self.timezone).date()

    @property
    def days(self) -> list[dt.date]:
        return [self.today - dt.timedelta(days=n) for n in range(DAYS - 1, -1, -1)]

    @property
    def weeks(self) -> list[dt.date]:
        monday = self.today - dt.timedelta(days=self.today.weekday())
        return [monday - dt.timedelta(weeks=n) for n in range(WEEKS - 1, -1, -1)]

    def start(self, day: dt.date) -> dt.datetime:
        """The UTC moment the clinic's `day` begins."""
        midnight = dt.datetime.combine(day, dt.time(0), tzinfo=self.timezone)
        return midnight.astimezone(dt.timezone.utc)

    def day_of(self, bucket: int) -> dt.date:
        return dt.datetime.fromtimestamp(bucket * QUARTER_HOUR, self.timezone).date()

    def week_of(self, bucket: int) -> dt.date:
        day = self.day_of(bucket)
        return day - dt.timedelta(days=day.weekday())


@dataclass
class Daily:
    days: list[dt.date]
    channels: list[str]
    counts: dict[str, list[int]]  # channel → conversations started each day

    @property
    def totals(self) -> list[int]:
        return [sum(self.counts[c][i] for c in self.channels) for i in range(len(self.days))]

    @property
    def busiest(self) -> tuple[dt.date, int]:
        """The day with the most conversations (the latest of equals)."""
        return max(zip(self.days, self.totals), key=lambda pair: (pair[1], pair[0]))


def conversations_per_day(connection: sa.engine.Connection, period: Period) -> Daily:
    """Conversations in which the person wrote, by the clinic's day they started and channel."""
    c = conversations.c
    bucket = quarter_hour(c.started_at)
    rows = connection.execute(
        sa.select(c.channel, bucket, sa.func.count())
        .where(c.started_at >= period.start(period.days[0]), c.user_messages > 0)
        .group_by(c.channel, bucket)
    )
    index = {day: i for i, day in enumerate(period.days)}
    counts: dict[str, list[int]] = {}
    for channel, quarter, count in rows:
        day = period.day_of(quarter)
        if day in index:
            counts.setdefault(channel or "unknown", [0] * DAYS)[index[day]] += count
    channels = sorted(counts, key=lambda name: -sum(counts[name]))
    return Daily(period.days, channels, counts)


@dataclass
class BotAlone:
    conversations: int  # in which the person wrote at least one message
    escalated: int
    requested: int  # left a consultation or call-back request
    staff_answered: int
    alone: int  # none of those three

    @property
    def share(self) -> Optional[float]:
        return self.alone / self.conversations if self.conversations else None


def bot_alone(connection: sa.engine.Connection, period: Period) -> BotAlone:
    """Conversations started in the last `DAYS` days that no person had to take part in."""
    c = conversations.c
    escalated = sa.exists().where(escalations.c.conversation_id == c.conversation_id)
    requested = sa.exists().where(contact_requests.c.conversation_id == c.conversation_id)
    staff = c.staff_messages > 0

    def how_many(condition: Any) -> Any:
        return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)

    row = connection.execute(
        sa.select(
            sa.func.count(),
            how_many(escalated),
            how_many(requested),
            how_many(staff),
            how_many(sa.and_(~escalated, ~requested, ~staff)),
        ).where(c.started_at >= period.start(period.days[0]), c.user_messages > 0)
    ).one()
    return BotAlone(*(int(value) for value in row))


@dataclass(frozen=True)
class WeekRate:
    week: dt.date  # its Monday
    not_understood: int
    messages: int

    @property
    def rate(self) -> Optional[float]:
        return self.not_understood / self.messages if self.messages else None


def fallback_by_week(connection: sa.engine.Connection, period: Period) -> list[WeekRate]:
    """Per week: user messages that fell back, were out of scope or were answered unsure."""
    bucket = quarter_hour(turns.c.at)
    missed = sa.func.sum(sa.case((turns.c.outcome.in_(NOT_UNDERSTOOD), 1), else_=0))
    rows = connection.execute(
        sa.select(bucket, missed, sa.func.count())
        .where(turns.c.role == USER, turns.c.at >= period.start(period.weeks[0]))
        .group_by(bucket)
    )
    totals = {week: [0, 0] for week in period.weeks}
    for quarter, not_understood, count in rows:
        week = totals.get(period.week_of(quarter))
        if week is not None:
            week[0] += int(not_understood or 0)
            week[1] += count
    return [WeekRate(week, *totals[week]) for week in period.weeks]


def top_topics(connection: sa.engine.Connection, period: Period) -> list[tuple[str, int]]:
    """The FAQ topics of user messages in the last `DAYS` days, most asked first."""
    count = sa.func.count().label("messages")
    rows = connection.execute(
        sa.select(turns.c.faq_topic, count)
        .where(
            turns.c.role == USER,
            turns.c.faq_topic.is_not(None),
            turns.c.at >= period.start(period.days[0]),
        )
        .group_by(turns.c.faq_topic)
        .order_by(count.desc(), turns.c.faq_topic)
        .limit(TOP_TOPICS)
    )
    return [(topic, messages) for topic, messages in rows]


def escalations_by_week(connection: sa.engine.Connection, period: Period) -> dict[str, list[int]]:
    """Level → escalations that came in each week."""
    bucket = quarter_hour(escalations.c.created_at)
    rows = connection.execute(
        sa.select(escalations.c.level, bucket, sa.func.count())
        .where(escalations.c.created_at >= period.start(period.weeks[0]))
        .group_by(escalations.c.level, bucket)
    )
    index = {week: i for i, week in enumerate(period.weeks)}
    counts = {level: [0] * WEEKS for level in LEVELS}
    for level, quarter, count in rows:
        i = index.get(period.week_of(quarter))
        if i is not None and level in counts:
            counts[level][i] += count
    return counts


@dataclass(frozen=True)
class AckTime:
    level: str
    escalations: int
    acknowledged: int
    median: Optional[dt.timedelta]
    within: Optional[int]  # acknowledged within the target (urgent only)


def time_to_acknowledge(
    connection: sa.engine.Connection, period: Period, target_minutes: int
) -> list[AckTime]:
    """Per level, for escalations of the last `WEEKS` weeks: the median time from coming in
    to being acknowledged (or resolved, when staff resolved it straight away)."""
    e = escalations.c
    rows = connection.execute(
        sa.select(e.level, e.created_at, sa.func.coalesce(e.acknowledged_at, e.resolved_at)).where(
            e.created_at >= period.start(period.weeks[0])
        )
    )
    waits: dict[str, list[dt.timedelta]] = {level: [] for level in LEVELS}
    counts = dict.fromkeys(LEVELS, 0)
    for level, created_at, seen_at in rows:
        if level not in counts:
            continue
        counts[level] += 1
        if seen_at is not None:
            waits[level].append(seen_at - created_at)
    target = dt.timedelta(minutes=target_minutes)
    return [
        AckTime(
            level,
            counts[level],
            len(waits[level]),
            statistics.median(waits[level]) if waits[level] else None,
            sum(w <= target for w in waits[level]) if level == URGENT else None,
        )
        for level in LEVELS
    ]
