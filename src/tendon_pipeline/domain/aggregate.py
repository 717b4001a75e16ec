"""Numbers derived from an athlete's history: weekly distance and tendon load, tendon
sessions, calf 1RM, pain levels, program weeks and the per-day/per-week `LoadMetrics`.

Only running activities (``is_running``) contribute distance and tendon load: the per-step
Achilles model is a running model, and cadence from other sports (e.g. cycling rpm) would
give meaningless "steps".
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from functools import cached_property
from typing import NamedTuple

import numpy as np
import pandas as pd

from .load import (
    as_daily_series,
    ewma_acwr,
    ewma_acwr_values,
    is_week_complete,
    iso_week_label,
    monotony,
    nan_to_none,
    rolling_acwr,
    rolling_acwr_values,
    strain,
    week_monday,
)
from .models import AthleteHistory, LoadMetrics, RunSummary, StrengthEntry
from .thresholds import RuleThresholds

WEEK = timedelta(days=7)


def up_to(history: AthleteHistory, as_of: date) -> AthleteHistory:
    """The history as it stood at the end of ``as_of`` (later entries dropped)."""
    return history.model_copy(
        update={
            "runs": [r for r in history.runs if r.local_date <= as_of],
            "strength": [s for s in history.strength if s.local_date <= as_of],
            "pain": [p for p in history.pain if p.local_date <= as_of],
            "visa_a": [v for v in history.visa_a if v.local_date <= as_of],
            "max_tests": [m for m in history.max_tests if m.local_date <= as_of],
            "unwell_days": [d for d in history.unwell_days if d <= as_of],
            # races stay: a planned race after as_of is known in advance (taper)
        }
    )


# --------------------------------------------------------------------------- weeks


def completed_weeks(history: AthleteHistory, as_of: date) -> list[date]:
    """Mondays of the completed weeks from the first recorded entry up to ``as_of``."""
    first = history.first_date()
    if first is None:
        return []
    monday, weeks = week_monday(first), []
    while is_week_complete(monday, as_of):
        weeks.append(monday)
        monday += WEEK
    return weeks


def in_week(day: date, monday: date) -> bool:
    return monday <= day < monday + WEEK


# --------------------------------------------------------------------------- running


def running_runs(history: AthleteHistory) -> list[RunSummary]:
    """Running activities in start order (activity id breaks ties)."""
    runs = [r for r in history.runs if r.is_running]
    return sorted(runs, key=lambda r: (r.start_utc, r.activity_id))


def runs_in_week(history: AthleteHistory, monday: date) -> list[RunSummary]:
    return [r for r in running_runs(history) if in_week(r.local_date, monday)]


def weekly_running_km(history: AthleteHistory, monday: date) -> float:
    return sum(r.distance_m for r in runs_in_week(history, monday)) / 1000.0


def weekly_tendon_load(history: AthleteHistory, monday: date) -> float:
    return sum(r.tendon_load_bw for r in runs_in_week(history, monday))


def first_run_date(history: AthleteHistory) -> date | None:
    runs = running_runs(history)
    return min(r.local_date for r in runs) if runs else None


def daily_tendon_load(history: AthleteHistory, start: date, end: date) -> pd.Series:
    """Tendon load (BW units) per calendar day over [start, end], rest days = 0."""
    per_day: dict[date, float] = defaultdict(float)
    for run in running_runs(history):
        if start <= run.local_date <= end:
            per_day[run.local_date] += run.tendon_load_bw
    return as_daily_series(pd.Series(per_day, dtype=float), start, end)


def longest_run_km(history: AthleteHistory, start: date, end: date) -> float | None:
    distances = [r.distance_m for r in running_runs(history) if start <= r.local_date <= end]
    return max(distances) / 1000.0 if distances else None


# --------------------------------------------------------------------------- strength


def is_tendon_loading(entry: StrengthEntry, thresholds: RuleThresholds) -> bool:
    """Heavy calf/Achilles work counts; plyometrics alone do not (Kubo et al. 2017)."""
    return (
        entry.kind in ("strength", "isometric")
        and entry.exercise in thresholds.tendon_loading_exercises
        and entry.sets > 0
    )


def tendon_session_dates(
    history: AthleteHistory, monday: date, thresholds: RuleThresholds
) -> list[date]:
    """Days of the week with at least one tendon-loading exercise (one session per day)."""
    days = {
        s.local_date
        for s in history.strength
        if in_week(s.local_date, monday) and is_tendon_loading(s, thresholds)
    }
    return sorted(days)


SECONDS_PER_REP = 6.0  # 3 s up, 3 s down (Beyer et al. 2015's heavy slow resistance)


def strength_minutes(entry: StrengthEntry) -> float:
    """Time under tension of a strength entry: held seconds, or reps x 6 s, per set."""
    per_set = entry.seconds if entry.seconds is not None else (entry.reps or 0) * SECONDS_PER_REP
    return entry.sets * per_set / 60.0


class SetCounts(NamedTuple):
    strength: int
    plyometric: int


def sets_by_kind(history: AthleteHistory, monday: date) -> SetCounts:
    """Strength (incl. isometric) and plyometric sets in the week."""
    week = [s for s in history.strength if in_week(s.local_date, monday)]
    return SetCounts(
        strength=sum(s.sets for s in week if s.kind in ("strength", "isometric")),
        plyometric=sum(s.sets for s in week if s.kind == "plyometric"),
    )


# --------------------------------------------------------------------------- program


def program_start_of(history: AthleteHistory, thresholds: RuleThresholds) -> date | None:
    """The declared program start, or else the first day with tendon-loading work."""
    if history.program_start is not None:
        return history.program_start
    days = [s.local_date for s in history.strength if is_tendon_loading(s, thresholds)]
    return min(days) if days else None


def program_week(start: date | None, day: date) -> int | None:
    """1-based program week containing ``day`` (weeks are ISO weeks from the start's week)."""
    if start is None or day < week_monday(start):
        return None
    return (week_monday(day) - week_monday(start)).days // 7 + 1


# --------------------------------------------------------------------------- pain


class DayPain(NamedTuple):
    during: int
    next_morning: int | None

    @property
    def level(self) -> int:
        """The day's pain: the worse of during and next morning."""
        return max(self.during, self.next_morning or 0)


def daily_pain(history: AthleteHistory) -> dict[date, DayPain]:
    """One pain report per day (the worst of several reports that day)."""
    out: dict[date, DayPain] = {}
    for entry in history.pain:
        seen = out.get(entry.local_date)
        during = entry.during if seen is None else max(seen.during, entry.during)
        mornings = [m for m in (entry.next_morning, seen and seen.next_morning) if m is not None]
        out[entry.local_date] = DayPain(during, max(mornings) if mornings else None)
    return dict(sorted(out.items()))


def weekly_pain_level(history: AthleteHistory, monday: date) -> tuple[float, int] | None:
    """Mean daily pain level over reported days of the week, and how many days reported."""
    levels = [p.level for d, p in daily_pain(history).items() if in_week(d, monday)]
    if not levels:
        return None
    return sum(levels) / len(levels), len(levels)


def daily_visa_a(history: AthleteHistory) -> dict[date, int]:
    """One VISA-A score per day (the lowest when several were entered)."""
    out: dict[date, int] = {}
    for entry in history.visa_a:
        out[entry.local_date] = min(entry.score, out.get(entry.local_date, entry.score))
    return dict(sorted(out.items()))


# --------------------------------------------------------------------------- LoadMetrics


def acwr_frame(
    history: AthleteHistory, start: date, end: date, thresholds: RuleThresholds
) -> pd.DataFrame:
    """Daily load with rolling and EWMA ratios up to ``end``. The series starts at the first
    run (or earlier, to cover ``start`` and one full chronic window); earlier days are rest."""
    first = first_run_date(history) or start
    start = min(first, start, end - timedelta(days=thresholds.chronic_days - 1))
    daily = daily_tendon_load(history, start, end)
    frame = rolling_acwr(daily, thresholds.acute_days, thresholds.chronic_days)
    frame = frame.join(ewma_acwr(daily, thresholds.acute_days, thresholds.chronic_days))
    frame["load"] = daily
    return frame


def load_metrics(
    history: AthleteHistory,
    thresholds: RuleThresholds,
    start: date,
    end: date,
    granularity: str = "day",
) -> list[LoadMetrics]:
    """Per-day or per-ISO-week load metrics over [start, end]; ratios are taken at each
    period's last day. Weeks carry monotony and strain of their 7 days."""
    if granularity not in ("day", "week"):
        raise ValueError("granularity must be 'day' or 'week'")
    if granularity == "week":
        start, end = week_monday(start), week_monday(end) + timedelta(days=6)
    frame = acwr_frame(history, start, end, thresholds)
    periods = _periods(start, end, granularity)
    return [_metrics_for(history, frame, first, last, granularity) for first, last in periods]


def _periods(start: date, end: date, granularity: str) -> list[tuple[date, date]]:
    step = timedelta(days=1) if granularity == "day" else WEEK
    out, first = [], start
    while first <= end:
        out.append((first, first + step - timedelta(days=1)))
        first += step
    return out


def _metrics_for(
    history: AthleteHistory, frame: pd.DataFrame, first: date, last: date, granularity: str
) -> LoadMetrics:
    runs = [r for r in running_runs(history) if first <= r.local_date <= last]
    row = frame.loc[pd.Timestamp(last)]
    days = frame.loc[pd.Timestamp(first) : pd.Timestamp(last), "load"]
    newtons = [r.tendon_load_n for r in runs]
    is_week = granularity == "week"
    return LoadMetrics(
        athlete_id=history.athlete_id,
        granularity=granularity,
        period=iso_week_label(first) if is_week else first.isoformat(),
        start=first,
        end=last,
        distance_km=sum(r.distance_m for r in runs) / 1000.0,
        running_sessions=len(runs),
        tendon_load_bw=sum(r.tendon_load_bw for r in runs),
        tendon_load_n=sum(newtons) if newtons and None not in newtons else None,
        acute_load=nan_to_none(row["acute"]),
        chronic_load=nan_to_none(row["chronic_coupled"]),
        acwr_coupled=nan_to_none(row["acwr_coupled"]),
        acwr_uncoupled=nan_to_none(row["acwr_uncoupled"]),
        ewma_acute=nan_to_none(row["ewma_acute"]),
        ewma_chronic=nan_to_none(row["ewma_chronic"]),
        acwr_ewma=nan_to_none(row["acwr_ewma"]),
        monotony=monotony(days) if is_week else None,
        strain=strain(days) if is_week else None,
    )


# --------------------------------------------------------------------------- per-evaluation facts

ACWR_COLUMNS = ("acute", "chronic_coupled", "chronic_uncoupled", "acwr_coupled", "acwr_uncoupled", "acwr_ewma")


class HistoryFacts:
    """One history cut at ``as_of`` and what the rules derive from it, each computed once (on
    first use) instead of once per week. Built for one evaluation; nothing outlives it.

    Every figure equals the per-week helper's (``weekly_running_km``, ``daily_tendon_load``,
    ``acwr_frame`` ...): same entries, same order of summation.
    """

    def __init__(self, history: AthleteHistory, as_of: date) -> None:
        self.history = up_to(history, as_of)
        self.as_of = as_of
        self.memo: dict[tuple, object] = {}  # derived per-week values other modules compute once

    @cached_property
    def weeks(self) -> list[date]:
        return completed_weeks(self.history, self.as_of)

    # running ------------------------------------------------------------------

    @cached_property
    def running(self) -> list[RunSummary]:
        return running_runs(self.history)

    @cached_property
    def first_run(self) -> date | None:
        return min((r.local_date for r in self.running), default=None)

    @cached_property
    def _run_dates(self) -> list[date] | None:
        """Local dates in running order, or None when time zones make them go backwards."""
        dates = [r.local_date for r in self.running]
        return dates if all(a <= b for a, b in zip(dates, dates[1:])) else None

    def earlier_runs_from(self, index: int, start: date) -> list[RunSummary]:
        """Runs before ``running[index]``, those dated before ``start`` skipped when the dates
        are in order (otherwise all of them: callers still filter by date)."""
        dates = self._run_dates
        lo = bisect_left(dates, start, 0, index) if dates is not None else 0
        return self.running[lo:index]

    @cached_property
    def _runs_by_week(self) -> dict[date, list[RunSummary]]:
        out: dict[date, list[RunSummary]] = defaultdict(list)
        for run in self.running:
            out[week_monday(run.local_date)].append(run)
        return dict(out)

    def runs_in_week(self, monday: date) -> list[RunSummary]:
        return self._runs_by_week.get(monday, [])

    def week_km(self, monday: date) -> float:
        return sum(r.distance_m for r in self.runs_in_week(monday)) / 1000.0

    def week_load(self, monday: date) -> float:
        return sum(r.tendon_load_bw for r in self.runs_in_week(monday))

    @cached_property
    def _daily_load(self) -> dict[date, float]:
        per_day: dict[date, float] = defaultdict(float)
        for run in self.running:
            per_day[run.local_date] += run.tendon_load_bw
        return dict(per_day)

    def week_daily_loads(self, monday: date) -> list[float]:
        """The 7 days' tendon load, Monday first, rest days 0."""
        return [self._daily_load.get(monday + timedelta(days=i), 0.0) for i in range(7)]

    @cached_property
    def _daily_minutes(self) -> dict[date, float]:
        """Every activity's duration, plus the time under tension of strength sets no counted
        activity holds (logged by hand): a session recorded on the watch is counted once."""
        per_day: dict[date, float] = defaultdict(float)
        for activity in self.history.runs:  # every sport: the whole day's training
            per_day[activity.local_date] += activity.duration_s / 60.0
        counted = {activity.activity_id for activity in self.history.runs}
        for entry in self.history.strength:
            if entry.activity_id not in counted:
                per_day[entry.local_date] += strength_minutes(entry)
        return dict(per_day)

    def week_daily_minutes(self, monday: date) -> list[float]:
        """The 7 days' training minutes (all activities and strength sets, each once), Monday first."""
        return [self._daily_minutes.get(monday + timedelta(days=i), 0.0) for i in range(7)]

    def acwr_rows(self, sundays: Sequence[date], thresholds: RuleThresholds) -> dict[date, dict[str, float]]:
        """For each Sunday, the last row of ``acwr_frame(history, first_run, sunday)``.

        Frames that start on the first run (a full chronic window after it) are prefixes of
        one frame, and rolling means and EWMA only look back: one frame serves them all.
        Earlier Sundays (frames padded before the first run) get their own frame.
        """
        first = self.first_run
        if first is None or not sundays:
            return {}
        reach = timedelta(days=thresholds.chronic_days - 1)
        shared = [s for s in sundays if s - reach >= first]
        out: dict[date, dict[str, float]] = {}
        if shared:
            columns = self._acwr_columns(first, max(shared), thresholds)
            for sunday in shared:
                i = (sunday - first).days
                out[sunday] = {c: values[i] for c, values in columns.items()}
        for sunday in sundays:
            if sunday not in out:
                row = acwr_frame(self.history, first, sunday, thresholds).iloc[-1]
                out[sunday] = {c: row[c] for c in ACWR_COLUMNS}
        return out

    def _acwr_columns(self, first: date, end: date, thresholds: RuleThresholds) -> dict[str, np.ndarray]:
        """``acwr_frame(history, first, end)`` columns as arrays, for an ``end`` at least
        ``chronic_days - 1`` after the first run (so the frame starts on it)."""
        days = (end - first).days + 1
        values = np.array([self._daily_load.get(first + timedelta(days=i), 0.0) for i in range(days)])
        acute, chronic = thresholds.acute_days, thresholds.chronic_days
        return {**rolling_acwr_values(values, acute, chronic), **ewma_acwr_values(values, acute, chronic)}

    # strength -----------------------------------------------------------------

    @cached_property
    def _strength_by_week(self) -> dict[date, list[StrengthEntry]]:
        out: dict[date, list[StrengthEntry]] = defaultdict(list)
        for entry in self.history.strength:
            out[week_monday(entry.local_date)].append(entry)
        return dict(out)

    def strength_in_week(self, monday: date) -> list[StrengthEntry]:
        return self._strength_by_week.get(monday, [])

    def tendon_session_dates(self, monday: date, thresholds: RuleThresholds) -> list[date]:
        return sorted({s.local_date for s in self.strength_in_week(monday) if is_tendon_loading(s, thresholds)})

    def sets_by_kind(self, monday: date) -> SetCounts:
        week = self.strength_in_week(monday)
        return SetCounts(
            strength=sum(s.sets for s in week if s.kind in ("strength", "isometric")),
            plyometric=sum(s.sets for s in week if s.kind == "plyometric"),
        )

    # pain ---------------------------------------------------------------------

    @cached_property
    def daily_pain(self) -> dict[date, DayPain]:
        return daily_pain(self.history)

    @cached_property
    def _pain_levels_by_week(self) -> dict[date, list[int]]:
        out: dict[date, list[int]] = defaultdict(list)
        for day, pain in self.daily_pain.items():
            out[week_monday(day)].append(pain.level)
        return dict(out)

    def weekly_pain_level(self, monday: date) -> tuple[float, int] | None:
        levels = self._pain_levels_by_week.get(monday)
        if not levels:
            return None
        return sum(levels) / len(levels), len(levels)

    @cached_property
    def daily_visa_a(self) -> dict[date, int]:
        return daily_visa_a(self.history)
