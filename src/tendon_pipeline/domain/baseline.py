"""The runner's own level: what a week is compared with, by the rules and by the plan.

RULES.md ("Comparing weeks"): the cohort studies compare with the runner's *own recent level*,
not last week alone (Nielsen 2014 over two weeks; Frandsen 2025). So a week is compared with its
**usual level**: the larger of last week and the mean of the ``baseline_weeks`` weeks before it
that had running. Weeks before the first activity are unknown, not zero; a week without running
is a break, not a low week.

* **Provisional**: with fewer than ``baseline_min_weeks`` completed weeks since the first run,
  the usual level is the declared ``baseline_weekly_km`` (``[[athletes]]``), else unknown.
* **Breaks**: ``break_min_days`` or more without running. For ``break_return_weeks`` after it
  the usual level is at least the pre-break level, so a return below it is not an overload.
* **Two-week ramp** (Nielsen's period): the week against the usual level of the week before.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import date, timedelta
from typing import NamedTuple

from .aggregate import WEEK, HistoryFacts
from .load import week_monday
from .models import RaceEntry
from .thresholds import RuleThresholds


class Level(NamedTuple):
    """A reference level for one week (distance and tendon load) and how it was obtained."""

    km: float
    load_bw: float | None  # None when the level is declared (no load measured for it)
    basis: str  # plain-language: "the larger of last week (x km) and your 4-week mean (y km)"
    kind: str  # "usual", "pre_break", "declared"


class Break(NamedTuple):
    last_run: date  # last run before the gap
    first_run: date  # first run after it
    level: Level  # the usual level when it started


class WeekView(NamedTuple):
    """One completed week as the progression rules and the plan see it."""

    monday: date
    km: float
    load_bw: float
    level: Level | None  # what the week is compared with (None: not known yet)
    ramp_level: Level | None  # the level a week earlier (two-week ramp)
    pre_break: Break | None  # a recent break, when its level still counts
    race: RaceEntry | None  # a declared race in this week (A/B first)


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def first_week(facts: HistoryFacts) -> date | None:
    return week_monday(facts.first_run) if facts.first_run is not None else None


def usual_level(facts: HistoryFacts, monday: date, th: RuleThresholds) -> Level | None:
    """The runner's usual level before the week starting ``monday`` (see the module doc)."""
    start = first_week(facts)
    last = monday - WEEK
    if start is None or monday <= start or (monday - start).days // 7 < th.baseline_min_weeks:
        return _declared(facts, facts.week_km(last))
    earlier = [last - WEEK * i for i in range(1, th.baseline_weeks + 1)]
    earlier = [m for m in earlier if m >= start and facts.week_km(m) > 0]
    last_km, last_load = facts.week_km(last), facts.week_load(last)
    mean_km = _mean([facts.week_km(m) for m in earlier])
    mean_load = _mean([facts.week_load(m) for m in earlier])
    if mean_km is None or last_km >= mean_km:
        return Level(last_km, last_load, f"last week ({last_km:.1f} km)", "usual")
    assert mean_load is not None
    return Level(
        mean_km, max(mean_load, last_load),
        f"your mean of {len(earlier)} earlier week{'s' if len(earlier) > 1 else ''} with running "
        f"({mean_km:.1f} km; last week {last_km:.1f} km)",
        "usual",
    )


def _declared(facts: HistoryFacts, last_km: float) -> Level | None:
    """The declared usual week (or last week, when larger) while the history is short."""
    declared = facts.history.baseline_weekly_km
    if declared is None:
        return None
    if last_km > declared:
        return Level(last_km, None, f"last week ({last_km:.1f} km; above your declared {declared:.1f} km)", "declared")
    return Level(declared, None, f"your declared usual week ({declared:.1f} km; too little history yet)", "declared")


def recent_break(facts: HistoryFacts, monday: date, th: RuleThresholds) -> Break | None:
    """The latest break that ended before ``monday``'s Sunday and still counts for it."""
    sunday = monday + timedelta(days=6)
    key = ("run_dates",)
    if key not in facts.memo:
        facts.memo[key] = sorted({r.local_date for r in facts.running})
    every: list[date] = facts.memo[key]  # type: ignore[assignment]
    dates = every[:bisect_right(every, sunday)]
    for before, after in zip(reversed(dates[:-1]), reversed(dates[1:])):
        if week_monday(after) < monday - WEEK * th.break_return_weeks:
            return None
        gap_days = (after - before).days - 1
        if gap_days < th.break_min_days:
            continue
        if gap_days > th.break_max_days:
            return None
        level = usual_level(facts, week_monday(before) + WEEK, th)
        if level is None or level.km <= 0:
            return None
        pre = Level(level.km, level.load_bw, f"your level before the break ({level.km:.1f} km)", "pre_break")
        return Break(before, after, pre)
    return None


def reference(facts: HistoryFacts, monday: date, th: RuleThresholds) -> tuple[Level | None, Break | None]:
    """What the week starting ``monday`` is compared with: the usual level, raised to the
    pre-break level during a return from a break."""
    level = usual_level(facts, monday, th)
    pause = recent_break(facts, monday, th)
    if pause is not None and (level is None or pause.level.km > level.km):
        return pause.level, pause
    return level, pause


def race_in_week(races: list[RaceEntry], monday: date) -> RaceEntry | None:
    week = [r for r in races if monday <= r.local_date < monday + WEEK]
    return min(week, key=lambda r: (r.priority, -r.distance_km)) if week else None


def week_view(facts: HistoryFacts, monday: date, th: RuleThresholds) -> WeekView:
    """The week as the rules see it (computed once per evaluation and thresholds)."""
    key = ("week_view", monday, id(th))
    if key not in facts.memo:
        facts.memo[key] = _week_view(facts, monday, th)
    return facts.memo[key]  # type: ignore[return-value]


def _week_view(facts: HistoryFacts, monday: date, th: RuleThresholds) -> WeekView:
    level, pause = reference(facts, monday, th)
    ramp_level, _ = reference(facts, monday - WEEK, th)
    return WeekView(
        monday, facts.week_km(monday), facts.week_load(monday), level, ramp_level, pause,
        race_in_week(facts.history.races, monday),
    )


__all__ = ["Break", "Level", "WeekView", "race_in_week", "reference", "usual_level", "week_view"]
