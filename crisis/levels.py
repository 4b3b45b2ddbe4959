"""The crisis policy's levels, in one place (../shared/crisis-policy.md §1).

    none < concern < check < urgent

`check` (hopelessness without a clear statement of risk) is the risk model's middle band: the
assistant asks the direct question, and staff get a concern escalation (`escalation_level`).
The rules give none, concern or urgent; the model any of the four; the highest wins.
"""

from __future__ import annotations

from typing import Iterable

NONE, CONCERN, CHECK, URGENT = "none", "concern", "check", "urgent"
ORDER = (NONE, CONCERN, CHECK, URGENT)


def rank(level: str) -> int:
    return ORDER.index(level)


def highest(levels: Iterable[str]) -> str:
    """The highest of some levels (none when there are none)."""
    return max(levels, key=rank, default=NONE)


def escalation_level(level: str) -> str:
    """The level of the escalation staff get: a check is escalated as a concern."""
    return CONCERN if level == CHECK else level
