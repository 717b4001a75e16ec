"""Silbernagel's pain-monitoring model (Am J Sports Med 2007) as numbers the rules read.

0-2/10 is safe; 3-5 is acceptable while it has settled by the next morning (not worse than the
usual morning level) and does not rise from week to week; above 5 is too much. Within those
lines exercise continues and progresses; outside them it is reduced, not stopped.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from statistics import median
from typing import Literal, Protocol

from .thresholds import RuleThresholds

Zone = Literal["safe", "acceptable", "too_much"]


class _Report(Protocol):
    @property
    def next_morning(self) -> int | None: ...


def zone(level: int, th: RuleThresholds) -> Zone:
    if level <= th.pain_settled_max:
        return "safe"
    return "acceptable" if level <= th.pain_during_max else "too_much"


def usual_morning_level(
    reports: Mapping[date, _Report], day: date, th: RuleThresholds
) -> tuple[float, int] | None:
    """The median next-morning pain over the ``pain_usual_morning_days`` before ``day`` and
    how many reports it rests on; None when there is none (the level is not known yet)."""
    start = day - timedelta(days=th.pain_usual_morning_days)
    mornings = [
        r.next_morning for d, r in reports.items() if start <= d < day and r.next_morning is not None
    ]
    if not mornings:
        return None
    return float(median(mornings)), len(mornings)


__all__ = ["Zone", "usual_morning_level", "zone"]
