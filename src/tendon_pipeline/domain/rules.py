"""Overuse rules: one small function per rule, each declared once with ``@rule(id, family=...,
source=...)`` (see ``registry``) and callable as ``(history, thresholds, as_of) -> alerts``.

``as_of`` is the last day whose data is complete. Per-run and per-report rules look only at
data up to that run or report; weekly rules run only for completed weeks (Sunday <= as_of)
and look only at data up to that Sunday. So evaluating again later, with the same data,
never changes an alert already raised.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from datetime import date, timedelta
from typing import NamedTuple

import pandas as pd

from .aggregate import (
    WEEK,
    HistoryFacts,
    is_tendon_loading,
    program_start_of,
    program_week,
    tendon_session_dates,
    up_to,
)
from .baseline import WeekView, week_view
from .calf import METHOD_TEXT, calf_max, entry_per_leg_kg, position_of
from .exercises import describe, variant_of
from .load import iso_week_label, monotony, nan_to_none, percent_1rm, strain, week_monday
from .models import (
    SEVERITY_RANK,
    Alert,
    AthleteHistory,
    EvidenceValue,
    ProgramAdherence,
    RaceEntry,
    RunSummary,
    Severity,
    StrengthEntry,
)
from .pain_model import usual_morning_level, zone
from .registry import RegisteredRule, all_rules, context_rules, non_context_rules, rule, rule_ids, source_of
from .thresholds import RuleThresholds

# --------------------------------------------------------------------------- helpers


def _alert(
    history: AthleteHistory,
    rule_id: str,
    severity: Severity,
    day: date,
    period: str,
    message: str,
    evidence: dict[str, EvidenceValue],
) -> Alert:
    return Alert(
        athlete_id=history.athlete_id,
        rule=rule_id,
        severity=severity,
        date=day,
        period=period,
        message=message,
        evidence=evidence,
        source=source_of(rule_id),
    )


def _week_alert(history: AthleteHistory, rule_id: str, severity: Severity, monday: date, message: str,
                evidence: dict[str, EvidenceValue]) -> Alert:
    """An alert about the ISO week that starts on ``monday`` (its period: the week label)."""
    return _alert(history, rule_id, severity, monday, iso_week_label(monday), message, evidence)


def _day_alert(history: AthleteHistory, rule_id: str, severity: Severity, day: date, message: str,
               evidence: dict[str, EvidenceValue]) -> Alert:
    """An alert about one reported day (its period: the ISO date)."""
    return _alert(history, rule_id, severity, day, day.isoformat(), message, evidence)


def _band(increase: float, bands: Iterable[tuple[float, Severity]]) -> Severity | None:
    """The highest severity whose line the increase is strictly above."""
    for line, severity in sorted(bands, reverse=True):
        if increase > line:
            return severity
    return None


def _pct(fraction: float) -> float:
    return round(fraction * 100.0, 1)


def _ladder_evidence(th: RuleThresholds, ladder: str) -> dict[str, EvidenceValue]:
    """The lines of a fractional ladder as evidence: ``caution_above_pct``, ``warning_above_pct``."""
    return {f"{severity}_above_pct": _pct(line) for line, severity in th.ladder(ladder)}


def _r(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def _day_name(day: date) -> str:
    return day.strftime("%A")


def _short_date(day: date) -> str:
    return f"{day.strftime('%a')} {day.day} {day.strftime('%b')}"


def _weekly(facts: HistoryFacts, check: Callable[[date], Alert | None]) -> list[Alert]:
    alerts = [check(monday) for monday in facts.weeks]
    return [a for a in alerts if a is not None]


# --------------------------------------------------------------------------- load method

METHOD_WORDS = {
    "measured_dynamics": "measured dynamics",
    "cadence_only": "cadence only",
    "estimated": "estimated steps",
}


def load_method_text(runs: Sequence[RunSummary]) -> str:
    """How a load figure was obtained: measured dynamics (contact and flight times), cadence only
    (measured steps, modelled force) or estimated (steps estimated from speed); mixed weeks list
    each with its number of runs."""
    counts: dict[str, int] = {}
    for run in runs:
        counts[run.load_method] = counts.get(run.load_method, 0) + 1
    if len(counts) == 1:
        return METHOD_WORDS[next(iter(counts))]
    return ", ".join(f"{METHOD_WORDS[m]} ({n} run{'s' if n > 1 else ''})" for m, n in sorted(counts.items()))


# --------------------------------------------------------------------------- weekly progression


class Progression(NamedTuple):
    """A week's progression on the runner's usual level: the numbers behind one incident."""

    view: WeekView
    step: float  # distance vs the usual level
    ramp: float | None  # distance vs the usual level a week earlier (two-week ramp)
    load_step: float | None  # tendon load vs the usual level's load
    severity: Severity | None  # of the distance progression (None: distance within the lines)


def _rise(value: float, base: float | None, min_base: float, min_rise: float) -> float | None:
    """Relative rise over ``base``, or None on a small or unknown base or a small rise."""
    if base is None or base < min_base or value - base < min_rise:
        return None
    return (value - base) / base


def _said_this_week(weeks_in_a_row: int, repeat_weeks: int) -> bool:
    """A cause that lasts weeks in a row is said at its first week and again every
    ``repeat_weeks`` weeks of the run, not every week (RULES.md: saying things once)."""
    return (weeks_in_a_row - 1) % repeat_weeks == 0


def _change(value: float, base: float) -> float:
    """Relative change over ``base`` whatever its size (0 on a zero base): what a rise is
    compared with, where ``_rise``'s floors only decide whether it is said."""
    return (value - base) / base if base > 0 else 0.0


def progression(facts: HistoryFacts, monday: date, th: RuleThresholds) -> Progression | None:
    """The week's rises on the usual level, or None when there is nothing to compare with."""
    view = week_view(facts, monday, th)
    if view.level is None:
        return None
    step = _rise(view.km, view.level.km, th.volume_min_base_km, th.volume_min_increase_km)
    ramp_km = view.ramp_level.km if view.ramp_level is not None else None
    ramp = _rise(view.km, ramp_km, th.volume_min_base_km, th.volume_min_increase_km)
    load_step = _rise(view.load_bw, view.level.load_bw, th.tendon_load_min_base_bw, th.tendon_load_min_increase_bw)
    severity = _band(step or 0.0, th.ladder("volume_increase"))
    if ramp is not None and ramp > th.volume_increase_warning:
        severity = Severity.WARNING
    if severity is not None and view.race is not None:
        severity = Severity.INFO  # the race week: a planned effort
    return Progression(view, step or 0.0, ramp, load_step, severity)


def _level_evidence(found: Progression, load_method: str) -> dict[str, EvidenceValue]:
    """The week against the usual level, as the progression rules' evidence shows it."""
    view, level = found.view, found.view.level
    assert level is not None
    return {"week_km": _r(view.km), "usual_km": _r(level.km), "week_load_bw": round(view.load_bw),
            "usual_load_bw": None if level.load_bw is None else round(level.load_bw), "load_method": load_method}


def _acwr_at(facts: HistoryFacts, monday: date, th: RuleThresholds) -> float | None:
    sunday = monday + timedelta(days=6)
    acute_start = sunday - timedelta(days=th.acute_days - 1)
    if facts.first_run is None or (acute_start - facts.first_run).days < th.acwr_min_chronic_days:
        return None
    row = facts.acwr_rows([sunday], th)[sunday]
    return _r(nan_to_none(row[f"acwr_{th.acwr_method}"]), 2)


@rule(
    "weekly_volume_increase",
    family="load",
    source=(
        "Nielsen et al., JOSPT 2014 (>30 % over a two-week period, HR 1.59, CI 0.96-2.66); "
        "Buist et al., AJSM 2008 (10 % rule: a conservative guide, no effect in a trial); "
        "Frandsen et al., BJSM 2025 (compare with the runner's own recent level)"
    ),
)
def weekly_volume_increase(facts: HistoryFacts, thresholds: RuleThresholds) -> list[Alert]:
    """One alert per week whose running distance rose on the runner's usual level (the larger
    of last week and the mean of earlier weeks with running; see ``baseline``): > 10 % caution
    (a conservative guide), > 30 % warning, also > 30 % over two weeks (Nielsen 2014). Its
    evidence carries the tendon load and the ACWR of the same week: one cause, one alert.

    Silent on a usual level under ``volume_min_base_km`` or a rise under ``volume_min_increase_km``,
    before there is a baseline (provisional, nothing declared), and during a return from a break
    below the pre-break level. A week with a declared race is info: a planned effort.
    """
    history = facts.history
    th = thresholds

    def check(monday: date) -> Alert | None:
        found = progression(facts, monday, th)
        if found is None or found.severity is None or found.view.level is None:
            return None
        view, level = found.view, found.view.level
        week = iso_week_label(monday)
        ramp_text = f", {_pct(found.ramp):.0f} % over two weeks" if found.ramp is not None else ""
        race_text = f" Race week ({view.race.distance_km:g} km, {view.race.priority})." if view.race else ""
        message = (
            f"Week {week}: {view.km:.1f} km, {_pct(found.step):.0f} % above your usual "
            f"{level.km:.1f} km{ramp_text}. Over 30 % carried more injuries (Nielsen); 10 % is a "
            f"conservative guide.{race_text}"
        )
        runs = facts.runs_in_week(monday)
        evidence: dict[str, EvidenceValue] = {
            **_level_evidence(found, load_method_text(runs)),
            "usual_basis": level.basis,
            "previous_week_km": _r(facts.week_km(monday - WEEK)),
            "increase_pct": _pct(found.step),
            "two_week_ramp_pct": None if found.ramp is None else _pct(found.ramp),
            "load_increase_pct": None if found.load_step is None else _pct(found.load_step),
            "acwr": _acwr_at(facts, monday, th),
            "acwr_method": th.acwr_method,
            "race_km": view.race.distance_km if view.race else None,
            **_ladder_evidence(th, "volume_increase"),
        }
        assert found.severity is not None
        return _week_alert(history, WEEKLY_VOLUME_INCREASE, found.severity, monday, message, evidence)

    return _weekly(facts, check)


def _race_on(facts: HistoryFacts, run: RunSummary) -> RaceEntry | None:
    races = [r for r in facts.history.races if r.local_date == run.local_date]
    return min(races, key=lambda r: abs(r.distance_km - run.distance_km)) if races else None


@rule(
    "session_spike",
    family="load",
    source=(
        "Frandsen et al., Br J Sports Med 2025 (5,205 runners: run distance vs longest run of the "
        "previous 30 days; 10-30 % HR 1.64, 30-100 % HR 1.52, >100 % HR 2.28)"
    ),
)
def session_spike(facts: HistoryFacts, thresholds: RuleThresholds) -> list[Alert]:
    """A run longer than the longest run of the previous 30 days (Frandsen et al. 2025):
    > 10 % caution (one band to 100 %: the hazard ratios of 10-30 % and 30-100 % do not rise),
    > 100 % high. A declared race on that day is info: a planned effort.

    "Previous 30 days" = running activities that started before this one with a local date no
    more than 30 days earlier. No prior run in the window -> no reference -> no alert; nor while
    the athlete's running history is shorter than ``spike_min_history_days``. Rises under
    ``spike_min_increase_km`` (1 km) are ignored.
    """
    history = facts.history
    th = thresholds
    runs = facts.running
    bands = th.ladder("spike")
    alerts = []
    for index, run in enumerate(runs):
        if (run.local_date - runs[0].local_date).days < th.spike_min_history_days:
            continue
        window_start = run.local_date - timedelta(days=th.spike_window_days)
        earlier = facts.earlier_runs_from(index, window_start)
        prior = [r for r in earlier if r.local_date >= window_start and r.distance_m > 0]
        if not prior:
            continue
        if run.distance_m - max(r.distance_m for r in prior) < th.spike_min_increase_km * 1000.0:
            continue  # the rise below: decided by the longest distance alone
        longest = max(prior, key=lambda r: (r.distance_m, r.activity_id))
        increase = (run.distance_m - longest.distance_m) / longest.distance_m
        severity = _band(increase, bands)
        if severity is None:
            continue
        race = _race_on(facts, run)
        if race is not None:
            severity = Severity.INFO
        message = (
            f"{_day_name(run.local_date)}'s run ({run.distance_km:.1f} km) was "
            f"{_pct(increase):.0f} % longer than your longest in the previous "
            f"{th.spike_window_days} days ({longest.distance_km:.1f} km)."
            + (f" A planned race ({race.priority})." if race is not None else "")
        )
        evidence: dict[str, EvidenceValue] = {
            "run_km": _r(run.distance_km),
            "longest_previous_km": _r(longest.distance_km),
            "longest_previous_activity_id": longest.activity_id,
            "increase_pct": _pct(increase),
            "window_days": th.spike_window_days,
            "race_priority": race.priority if race is not None else None,
        }
        alerts.append(
            _alert(history, SESSION_SPIKE, severity, run.local_date, run.activity_id, message, evidence)
        )
    return alerts


# --------------------------------------------------------------------------- tendon load


@rule(
    "tendon_load_increase",
    family="load",
    source=(
        "Reiter et al., MSSE 2024 (per-step Achilles load, modelled); Nielsen et al., JOSPT 2014 "
        "(progression lines); speaks only where the load diverges from distance"
    ),
)
def tendon_load_increase(facts: HistoryFacts, thresholds: RuleThresholds) -> list[Alert]:
    """Weekly Achilles load (sum of per-step multiples, BW units; an estimate) on the usual
    level, only where it diverges from distance: its rise is over the caution line and exceeds
    the distance's change on the same level by more than ``tendon_load_divergence``, and the
    distance itself did not raise ``weekly_volume_increase`` (that alert carries the load as
    evidence). The distance's change is the real one even when it is under
    ``volume_min_increase_km``: that floor silences the volume alert, it does not make the rise 0.

    What can diverge: more steps per km (shorter steps, slower running, walking breaks) or a
    change of how steps were obtained. The model's load per km falls slightly with speed
    (fewer, harder steps), so faster running at the same distance does not raise it.
    """
    history = facts.history
    th = thresholds

    def check(monday: date) -> Alert | None:
        found = progression(facts, monday, th)
        if found is None or found.load_step is None or found.view.level is None:
            return None
        if found.severity is not None and found.severity != "info":
            return None  # one cause, one alert: the distance progression carries the load
        distance_change = _change(found.view.km, found.view.level.km)
        divergence = found.load_step - distance_change
        severity = _band(found.load_step, th.ladder("tendon_load_increase"))
        if severity is None or divergence <= th.tendon_load_divergence or found.view.race is not None:
            return None
        method = load_method_text(facts.runs_in_week(monday))
        week = iso_week_label(monday)
        message = (
            f"Week {week}: your estimated Achilles load rose {_pct(found.load_step):.0f} % on your "
            f"usual level while distance {'fell' if distance_change < 0 else 'rose'} "
            f"{abs(_pct(distance_change)):.0f} %: more load per km (more steps per km or slower "
            f"running). Load from {method}."
        )
        evidence: dict[str, EvidenceValue] = {
            **_level_evidence(found, method),
            "load_increase_pct": _pct(found.load_step),
            "distance_increase_pct": _pct(distance_change),
            "divergence_pct_points": _pct(divergence),
            **_ladder_evidence(th, "tendon_load_increase"),
        }
        return _week_alert(history, TENDON_LOAD_INCREASE, severity, monday, message, evidence)

    return _weekly(facts, check)


def _monotony_below(loads: list[float], line: float) -> bool:
    """True when the monotony of these non-negative loads cannot exceed ``line``: with k of n
    days loaded, mean / SD <= sqrt(k / (n - k)) (Cauchy-Schwarz), equal when all k are equal.
    A margin far above rounding keeps borderline weeks for the exact computation."""
    loaded = sum(1 for load in loads if load > 0)
    rest = len(loads) - loaded
    return rest > 0 and math.sqrt(loaded / rest) < line * (1.0 - 1e-9)


@rule(
    "monotony",
    family="load",
    source=(
        "Foster, Med Sci Sports Exerc 1998 (monotony = mean/SD of the whole day's training load "
        "over a week; >2.0); here training minutes of all sessions (no RPE recorded)"
    ),
)
def monotony_rule(facts: HistoryFacts, thresholds: RuleThresholds) -> list[Alert]:
    """Weekly monotony of the whole day's training load (Foster 1998): minutes of every
    activity (running, cross-training, strength sessions on the watch) plus time under tension
    of strength sets logged by hand (a watch session's sets are in its minutes already), per day,
    rest days 0; mean / population SD over the 7 days above 2.0: caution. Seven days without
    any variation (SD 0) are as monotonous as it gets and fire too. Weeks in a row are said
    once, and again only after ``monotony_repeat_weeks`` more (a treadmill block is one
    message, not eight). It is a context signal for the plan: it never holds the plan by itself.
    """
    history = facts.history
    th = thresholds
    streak: list[date] = []

    def check(monday: date) -> Alert | None:
        minutes = facts.week_daily_minutes(monday)
        if _monotony_below(minutes, th.monotony_warning) or not any(minutes):
            return None
        value = monotony(minutes)
        days = pd.Series(minutes, index=pd.date_range(monday, periods=7, freq="D"), dtype=float)
        if value is not None and value <= th.monotony_warning:
            return None
        if not streak or streak[-1] != monday - WEEK:
            streak.clear()
        streak.append(monday)
        if not _said_this_week(len(streak), th.monotony_repeat_weeks):
            return None  # said at the start of this run of monotonous weeks
        week = iso_week_label(monday)
        shown = "no variation at all" if value is None else f"monotony {value:.1f}"
        in_a_row = f", {len(streak)} weeks in a row" if len(streak) > 1 else ""
        message = (
            f"Week {week} was monotonous: your daily training time barely varied ({shown}, line "
            f"{th.monotony_warning:.1f}{in_a_row}). Mix easy, hard and rest days."
        )
        evidence: dict[str, EvidenceValue] = {
            "monotony": _r(value),
            "strain_min": None if value is None else _r(strain(days), 0),
            "week_minutes": _r(float(days.sum()), 0),
            "mean_daily_minutes": _r(float(days.mean()), 1),
            "sd_daily_minutes": _r(float(days.std(ddof=0)), 1),
            "training_days": int((days > 0).sum()),
            "load": "training minutes, all sessions (no RPE recorded)",
            "weeks_in_a_row": len(streak),
            "line": th.monotony_warning,
        }
        return _week_alert(history, MONOTONY, Severity.CAUTION, monday, message, evidence)

    return _weekly(facts, check)


@rule(
    "acwr",
    family="context",
    context=True,
    source=(
        "Gabbett, BJSM 2016; Hulin et al. 2014; Williams et al., BJSM 2017 (EWMA); Lolli et al. "
        "2019 (uncoupled); Impellizzeri et al. 2020-2021 and Frandsen et al. 2025 (weak or no "
        "dose-response: context only)"
    ),
)
def acwr(facts: HistoryFacts, thresholds: RuleThresholds, others: Sequence[Alert]) -> list[Alert]:
    """Acute:chronic ratio of daily tendon load at each completed week's end above 1.3. It is
    context: with ``acwr_context_only`` it is info, keeping its band (> 1.3 caution, > 1.5
    warning) only when a pain rule fired the same week; the distance and load it is made of
    never count as corroboration. A week with a progression alert carries the ratio in that
    alert instead; weeks before a baseline, during a return from a break below the pre-break
    level, and race weeks are left alone. Needs data starting at least 21 days before the
    acute window. Drives on the uncoupled ratio by default; all three are in the evidence.
    """
    history = facts.history
    th = thresholds
    first_run = facts.first_run
    if first_run is None:
        return []

    def eligible(monday: date) -> bool:
        acute_start = monday + timedelta(days=6) - timedelta(days=th.acute_days - 1)
        return (acute_start - first_run).days >= th.acwr_min_chronic_days

    rows = facts.acwr_rows([m + timedelta(days=6) for m in facts.weeks if eligible(m)], th)
    incident_weeks = {a.date for a in others if a.rule in (WEEKLY_VOLUME_INCREASE, TENDON_LOAD_INCREASE)}

    def check(monday: date) -> Alert | None:
        sunday = monday + timedelta(days=6)
        if not eligible(monday) or monday in incident_weeks:
            return None
        row = rows[sunday]
        ratios = {
            "coupled": nan_to_none(row["acwr_coupled"]),
            "uncoupled": nan_to_none(row["acwr_uncoupled"]),
            "ewma": nan_to_none(row["acwr_ewma"]),
        }
        ratio = ratios[th.acwr_method]
        if ratio is None:
            return None
        band = _band(ratio, th.ladder("acwr"))
        if band is None:
            return None
        view = week_view(facts, monday, th)
        if view.level is None or view.race is not None or view.level.kind == "pre_break":
            return None
        pain = sorted({a.rule for a in others if a.rule in PAIN_RULES and a.rank >= SEVERITY_RANK["caution"]
                       and monday <= a.date <= sunday})
        severity: Severity = band if (pain or not th.acwr_context_only) else Severity.INFO
        week = iso_week_label(monday)
        message = (
            f"Week {week}: your estimated Achilles load over the last {th.acute_days} days was "
            f"{ratio:.2f} x {th.chronic_window()} (line {th.acwr_caution:.1f}). "
            + (f"Context, with pain reported ({', '.join(pain)})." if pain
               else "A context signal only: weak on its own.")
        )
        chronic_key = "chronic_uncoupled" if th.acwr_method == "uncoupled" else "chronic_coupled"
        evidence: dict[str, EvidenceValue] = {
            "acwr": _r(ratio, 3),
            "method": th.acwr_method,
            "acwr_coupled": _r(ratios["coupled"], 3),
            "acwr_uncoupled": _r(ratios["uncoupled"], 3),
            "acwr_ewma": _r(ratios["ewma"], 3),
            "acute_daily_load_bw": _r(nan_to_none(row["acute"]), 0),
            "chronic_daily_load_bw": _r(nan_to_none(row[chronic_key]), 0),
            "week_km": _r(view.km),
            "load_method": load_method_text(facts.runs_in_week(monday)),
            "corroborated_by": ",".join(pain) or None,
        }
        return _week_alert(history, ACWR, severity, monday, message, evidence)

    return _weekly(facts, check)


# --------------------------------------------------------------------------- tendon program


def _program_weeks(facts: HistoryFacts, start: date | None) -> list[date]:
    """Completed weeks in the data range on or after the program's first week."""
    if start is None:
        return []
    return [m for m in facts.weeks if m >= week_monday(start)]


@rule(
    "tendon_loading_frequency",
    family="program",
    source="Bohm, Mersmann & Arampatzis, Sports Med Open 2015 (load the tendon 2-3 x a week, "
        ">= 12 weeks)",
)
def tendon_loading_frequency(facts: HistoryFacts, thresholds: RuleThresholds) -> list[Alert]:
    """Fewer than 2 tendon-loading sessions in a completed program week: caution.

    A session is a day with a strength or isometric entry of a calf exercise
    (``tendon_loading_exercises``); plyometrics alone do not count (Kubo et al. 2017). The
    program starts at ``program_start`` or, without one, at the first tendon-loading entry.
    Program weeks in a row below the minimum are one run: said at its first week and again
    only every ``tendon_frequency_repeat_weeks`` (4) weeks of the run, with how many weeks in a
    row (the plan says it every week); a week meeting the minimum ends the run. A week with no
    recorded activity at all (no run, no strength work: a break, or the watch not synced) is
    missing data, not evidence: it neither counts nor ends the run (see ``low_tendon_weeks``).
    A runner with neither a start nor tendon work who has run ``never_started_weeks`` (4) weeks
    is told once, and again only after as many more weeks (not weekly).
    """
    th = thresholds
    start = program_start_of(facts.history, th)
    if start is None:
        return _never_started(facts, th)
    return [
        _frequency_alert(facts.history, start, low, th)
        for low in low_tendon_weeks(facts, th)
        if _said_this_week(low.weeks_in_a_row, th.tendon_frequency_repeat_weeks)
    ]


class LowTendonWeek(NamedTuple):
    """A completed program week below ``tendon_sessions_min_per_week``."""

    monday: date
    sessions: int
    weeks_in_a_row: int  # this one included; weeks without any recorded activity skipped


def low_tendon_weeks(facts: HistoryFacts, th: RuleThresholds) -> list[LowTendonWeek]:
    """The program's completed weeks below the minimum, each with the length of its run so far.
    A week meeting the minimum ends a run; a week without any recorded activity (missing data)
    neither counts nor ends it."""
    low: list[LowTendonWeek] = []
    in_a_row = 0
    for monday in _program_weeks(facts, program_start_of(facts.history, th)):
        if not facts.runs_in_week(monday) and not facts.strength_in_week(monday):
            continue
        sessions = len(facts.tendon_session_dates(monday, th))
        if sessions >= th.tendon_sessions_min_per_week:
            in_a_row = 0
            continue
        in_a_row += 1
        low.append(LowTendonWeek(monday, sessions, in_a_row))
    return low


def low_tendon_week_message(low: LowTendonWeek, th: RuleThresholds) -> str:
    """What ``tendon_loading_frequency`` says about the week (and the plan, every week)."""
    sessions = low.sessions
    in_a_row = (
        f", {low.weeks_in_a_row} weeks in a row below {th.tendon_sessions_min_per_week}"
        if low.weeks_in_a_row > 1 else ""
    )
    return (
        f"Week {iso_week_label(low.monday)}: {sessions} tendon-loading session{'s' if sessions != 1 else ''} "
        f"(calf holds, raises or heel drops){in_a_row}. Aim for {th.tendon_sessions_min_per_week}-"
        f"{th.tendon_sessions_target_per_week} a week."
    )


def _frequency_alert(history: AthleteHistory, start: date, low: LowTendonWeek, th: RuleThresholds) -> Alert:
    evidence: dict[str, EvidenceValue] = {
        "sessions": low.sessions,
        "minimum": th.tendon_sessions_min_per_week,
        "target": th.tendon_sessions_target_per_week,
        "program_week": program_week(start, low.monday),
        "weeks_in_a_row": low.weeks_in_a_row,
    }
    message = low_tendon_week_message(low, th)
    return _week_alert(history, TENDON_LOADING_FREQUENCY, Severity.CAUTION, low.monday, message, evidence)


def _never_started(facts: HistoryFacts, th: RuleThresholds) -> list[Alert]:
    """Every ``never_started_weeks``-th completed week with running, when no tendon work was
    ever recorded."""
    running_weeks = [m for m in facts.weeks if facts.runs_in_week(m)]
    alerts = []
    for count, monday in enumerate(running_weeks, start=1):
        if count % th.never_started_weeks:
            continue
        message = (
            f"{count} weeks of running and no tendon work recorded. Load the Achilles 2-3 times a "
            f"week: calf holds, raises or heel drops (see the plan)."
        )
        evidence: dict[str, EvidenceValue] = {
            "running_weeks": count,
            "tendon_sessions": 0,
            "since": running_weeks[0].isoformat(),
            "minimum": th.tendon_sessions_min_per_week,
            "target": th.tendon_sessions_target_per_week,
        }
        alerts.append(
            _week_alert(facts.history, TENDON_LOADING_FREQUENCY, Severity.CAUTION, monday, message, evidence)
        )
    return alerts


@rule(
    "tendon_loading_intensity",
    family="program",
    source="Bohm, Mersmann & Arampatzis, Sports Med Open 2015; Radovanovic et al., Sports Med Open "
        "2022 (70-90 % of maximum); max from a tested max, else Epley 1RM = w (1 + reps/30) over earlier "
        "sets (reps + reps in reserve), never the judged week",
)
def tendon_loading_intensity(facts: HistoryFacts, thresholds: RuleThresholds) -> list[Alert]:
    """After program week 4, calf work that is too light: caution.

    * Still bodyweight (no added load on any calf set of the week): said directly; needs no
      estimate and no body mass.
    * Else the week's heaviest set per leg below 70 % of the per-leg maximum, where the maximum
      never comes from the judged week's sets: a tested max, else Epley over earlier sets with
      reps in reserve, else over the heaviest earlier sets (a lower bound, said so); see
      ``calf.calf_max``. Seated and standing work are judged against their own position.

    Weeks without calf work are left to ``tendon_loading_frequency``; weeks with pain above the
    line (above 5/10, Silbernagel 2007) in them or in the ``calf_intensity_quiet_after_flare_days``
    (28) before their Sunday are skipped: lighter work is then what the plan prescribes.
    """
    history = facts.history
    th = thresholds
    start = program_start_of(history, th)
    alerts = []
    for monday in _program_weeks(facts, start):
        week_number = program_week(start, monday)
        if week_number is None or week_number <= th.calf_intensity_after_weeks:
            continue
        calf = [s for s in facts.strength_in_week(monday) if is_tendon_loading(s, th)]
        if not calf or _flare_near(facts, monday, th):
            continue
        alert = _still_bodyweight(history, calf, monday, week_number, th) or _below_max(
            history, calf, monday, week_number, th
        )
        if alert is not None:
            alerts.append(alert)
    return alerts


def _flare_near(facts: HistoryFacts, monday: date, th: RuleThresholds) -> bool:
    sunday = monday + timedelta(days=6)
    start = sunday - timedelta(days=th.calf_intensity_quiet_after_flare_days - 1)
    return any(start <= day <= sunday and zone(p.level, th) == "too_much" for day, p in facts.daily_pain.items())


def _still_bodyweight(
    history: AthleteHistory, calf: list[StrengthEntry], monday: date, week_number: int, th: RuleThresholds
) -> Alert | None:
    if any(s.load_kg for s in calf):
        return None
    week = iso_week_label(monday)
    message = (
        f"Week {week} (program week {week_number}): your calf work is still bodyweight only "
        f"({sum(s.sets for s in calf)} sets, no added load). After week "
        f"{th.calf_intensity_after_weeks} bodyweight is not enough for the tendon to adapt: add "
        f"weight (a backpack or dumbbell), aiming for {_pct(th.calf_intensity_min):.0f} % of your max."
    )
    evidence: dict[str, EvidenceValue] = {
        "program_week": week_number,
        "calf_sets": sum(s.sets for s in calf),
        "added_load_kg": 0.0,
        "estimate": "none needed: no added load",
        "line_pct": _pct(th.calf_intensity_min),
    }
    return _week_alert(history, TENDON_LOADING_INTENSITY, Severity.CAUTION, monday, message, evidence)


def _below_max(
    history: AthleteHistory, calf: list[StrengthEntry], monday: date, week_number: int, th: RuleThresholds
) -> Alert | None:
    judged = []  # (intensity, entry, per-leg kg, max) per position
    for position in ("standing", "seated"):
        here = [s for s in calf if position_of(s.exercise, s.variant) == position]
        per_leg = [(s, entry_per_leg_kg(s, history.body_mass_kg)) for s in here]
        sets = [(s, kg) for s, kg in per_leg if kg is not None and kg > 0]
        maximum = calf_max(history, monday, position, th) if sets else None
        if maximum is None:
            continue
        entry, kg = max(sets, key=lambda item: (item[1], item[0].exercise))
        judged.append((percent_1rm(kg, maximum.per_leg_kg), entry, kg, maximum))
    if not judged:
        return None
    intensity, entry, kg, maximum = max(judged, key=lambda item: item[0])
    if intensity >= th.calf_intensity_min:
        return None
    week = iso_week_label(monday)
    message = (
        f"Week {week} (program week {week_number}): your heaviest calf set was {kg:.0f} kg per leg "
        f"({entry.exercise}, {describe(variant_of(entry.exercise, entry.variant))}), "
        f"{_pct(intensity):.0f} % of {maximum.per_leg_kg:.0f} kg per leg from "
        f"{METHOD_TEXT[maximum.method]} ({maximum.day.isoformat()}). From week "
        f"{th.calf_intensity_after_weeks + 1} aim for {_pct(th.calf_intensity_min):.0f} % or more: add weight."
    )
    evidence: dict[str, EvidenceValue] = {
        "program_week": week_number,
        "heaviest_set_exercise": entry.exercise,
        "heaviest_set_variant": variant_of(entry.exercise, entry.variant),
        "heaviest_set_kg_per_leg": _r(kg, 1),
        "max_kg_per_leg": _r(maximum.per_leg_kg, 1),
        "max_method": maximum.method,
        "max_date": maximum.day.isoformat(),
        "intensity_pct": _pct(intensity),
        "line_pct": _pct(th.calf_intensity_min),
        "body_mass_kg": history.body_mass_kg,
    }
    return _week_alert(history, TENDON_LOADING_INTENSITY, Severity.CAUTION, monday, message, evidence)


@rule(
    "plyometric_balance",
    family="program",
    source="Kubo et al., Physiol Rep 2017 (isometric training stiffens the tendon, plyometric "
        "training the muscle)",
)
def plyometric_balance(facts: HistoryFacts, thresholds: RuleThresholds) -> list[Alert]:
    """Plyometric sets in a completed week exceeding strength + isometric sets (x 1.0), which
    includes plyometrics with no strength work at all: caution (Kubo et al. 2017)."""
    history = facts.history
    th = thresholds

    def check(monday: date) -> Alert | None:
        counts = facts.sets_by_kind(monday)
        if counts.plyometric == 0 or counts.plyometric <= th.plyo_to_strength_max_ratio * counts.strength:
            return None
        week = iso_week_label(monday)
        if counts.strength == 0:
            detail = f"{counts.plyometric} plyometric sets and no strength work"
        else:
            detail = f"{counts.plyometric} plyometric sets vs {counts.strength} strength sets"
        message = (
            f"Week {week}: {detail}. Hops stiffen the muscle, not the tendon: keep heavy calf "
            f"work first."
        )
        evidence: dict[str, EvidenceValue] = {
            "plyometric_sets": counts.plyometric,
            "strength_sets": counts.strength,
            "ratio": _r(counts.plyometric / counts.strength) if counts.strength else None,
            "max_ratio": th.plyo_to_strength_max_ratio,
        }
        return _week_alert(history, PLYOMETRIC_BALANCE, Severity.CAUTION, monday, message, evidence)

    return _weekly(facts, check)


# --------------------------------------------------------------------------- pain monitoring


@rule(
    "pain_monitoring.during",
    family="pain",
    source="Silbernagel et al., Am J Sports Med 2007 (pain-monitoring model: <= 5/10 during activity)",
)
def pain_during(facts: HistoryFacts, thresholds: RuleThresholds) -> list[Alert]:
    """Pain during activity above 5/10 (Silbernagel et al. 2007): warning, per reported day.
    It carries the day's next-morning pain: the report is one alert (``pain_next_morning``
    adds no 'not settled' caution to it)."""
    history = facts.history
    th = thresholds
    alerts = []
    for day, pain in facts.daily_pain.items():
        if pain.during <= th.pain_during_max:
            continue
        morning = "" if pain.next_morning is None else f", next morning {pain.next_morning}/10"
        message = (
            f"Pain during activity on {_short_date(day)} was {pain.during}/10 (line "
            f"{th.pain_during_max}/10){morning}. Swap runs for cycling, swimming or deep-water running "
            f"until it settles."
        )
        evidence: dict[str, EvidenceValue] = {"pain_during": pain.during, "pain_next_morning": pain.next_morning,
                                              "line": th.pain_during_max}
        alerts.append(_day_alert(history, PAIN_DURING, Severity.WARNING, day, message, evidence))
    return alerts


@rule(
    "pain_monitoring.next_morning",
    family="pain",
    source="Silbernagel et al., Am J Sports Med 2007 (0-2 safe, 3-5 acceptable when not worse than the "
        "usual morning level, > 5 too much)",
)
def pain_next_morning(facts: HistoryFacts, thresholds: RuleThresholds) -> list[Alert]:
    """Next-morning pain per Silbernagel et al. 2007: 0-2 safe; 3-5 acceptable when not worse
    than the usual morning level (median of the previous 28 days' reports; with none, not
    known to be worse); above the usual level by >= 1 point: not settled, caution (the plan
    holds), except after a day whose pain during activity was above the line (that day's
    ``pain_during`` warning carries the morning and asks for more than a hold); above 5/10: too
    much, warning (the plan cuts running and regresses tendon work)."""
    history = facts.history
    th = thresholds
    alerts = []
    for day, pain in facts.daily_pain.items():
        morning = pain.next_morning
        if morning is None or zone(morning, th) == "safe":
            continue
        usual = usual_morning_level(facts.daily_pain, day, th)
        evidence: dict[str, EvidenceValue] = {
            "pain_next_morning": morning,
            "pain_during": pain.during,
            "usual_morning": _r(usual[0], 1) if usual else None,
            "usual_morning_reports": usual[1] if usual else 0,
            "settled_max": th.pain_settled_max,
            "too_much_above": th.pain_during_max,
        }
        if zone(morning, th) == "too_much":
            message = (
                f"Pain the morning after {_short_date(day)} was {morning}/10 (during: "
                f"{pain.during}/10): too much (above {th.pain_during_max}/10). Swap runs for "
                f"cycling, swimming or deep-water running and ease the tendon work until it settles."
            )
            alerts.append(_day_alert(history, PAIN_NEXT_MORNING, Severity.WARNING, day, message, evidence))
            continue
        if usual is None or morning < usual[0] + th.pain_morning_worse_points:
            continue  # 3-5 and not worse than usual: acceptable, carry on
        if pain.during > th.pain_during_max:
            continue  # said by that day's pain_during warning, with this morning in it
        message = (
            f"Pain the morning after {_short_date(day)} was {morning}/10, worse than your usual "
            f"morning level ({usual[0]:g}/10 over {usual[1]} report{'s' if usual[1] != 1 else ''}): "
            f"not settled. Hold running and tendon loads where they are until mornings are back "
            f"to your usual level."
        )
        alerts.append(_day_alert(history, PAIN_NEXT_MORNING, Severity.CAUTION, day, message, evidence))
    return alerts


@rule(
    "pain_monitoring.rising",
    family="pain",
    source="Silbernagel et al., Am J Sports Med 2007 (pain must not rise week to week)",
)
def pain_rising(facts: HistoryFacts, thresholds: RuleThresholds) -> list[Alert]:
    """Weekly mean pain (each day's worse of during / next morning) up by >= 1 point on the
    previous week and above the 0-2 safe zone: caution (Silbernagel 2007)."""
    history = facts.history
    th = thresholds

    def check(monday: date) -> Alert | None:
        now, before = facts.weekly_pain_level(monday), facts.weekly_pain_level(monday - WEEK)
        if now is None or before is None:
            return None
        rise = now[0] - before[0]
        if rise < th.pain_rise_min_points or now[0] <= th.pain_settled_max:
            return None
        week = iso_week_label(monday)
        message = (
            f"Your pain rose from {before[0]:.1f} to {now[0]:.1f}/10 on average in week {week}. "
            f"Pain should not climb week to week: hold your running."
        )
        evidence: dict[str, EvidenceValue] = {
            "week_mean_pain": _r(now[0]),
            "previous_week_mean_pain": _r(before[0]),
            "rise_points": _r(rise),
            "days_reported": now[1],
            "min_rise_points": th.pain_rise_min_points,
        }
        return _week_alert(history, PAIN_RISING, Severity.CAUTION, monday, message, evidence)

    return _weekly(facts, check)


@rule(
    "pain_monitoring.visa_a",
    family="pain",
    source="Robinson et al., BJSM 2001 (VISA-A 0-100; healthy > 96, ~90 recovered)",
)
def visa_a_drop(facts: HistoryFacts, thresholds: RuleThresholds) -> list[Alert]:
    """A VISA-A score >= 10 points below the best score of the previous 56 days: caution;
    >= 20 points: warning (Robinson et al. 2001). Comparing with the recent best, not just the
    last score, also catches a slow slide (85, 80, 74)."""
    history = facts.history
    th = thresholds
    scores = facts.daily_visa_a
    alerts = []
    for day, score in scores.items():
        window_start = day - timedelta(days=th.visa_a_lookback_days)
        earlier = [(s, d) for d, s in scores.items() if window_start <= d < day]
        if not earlier:
            continue
        best, best_day = max(earlier, key=lambda item: (item[0], item[1]))
        drop = best - score
        if drop < th.visa_a_drop_caution:
            continue
        severity: Severity = Severity.WARNING if drop >= th.visa_a_drop_warning else Severity.CAUTION
        message = (
            f"Your VISA-A score fell {drop} points ({best} on {_short_date(best_day)} to {score}). "
            f"Healthy tendons score above 96: ease off and keep the calf holds."
        )
        evidence: dict[str, EvidenceValue] = {
            "score": score,
            "previous_best_score": best,
            "previous_best_date": best_day.isoformat(),
            "drop_points": drop,
            "caution_drop_points": th.visa_a_drop_caution,
            "warning_drop_points": th.visa_a_drop_warning,
        }
        alerts.append(_day_alert(history, VISA_A_DROP, severity, day, message, evidence))
    return alerts


def pain_monitoring(history: AthleteHistory, thresholds: RuleThresholds, as_of: date) -> list[Alert]:
    """The pain-monitoring family (Silbernagel 2007, Robinson 2001): during, next morning,
    rising week to week, falling VISA-A. Each keeps its own rule id."""
    facts = HistoryFacts(history, as_of)
    return sort_alerts(a for spec in all_rules() if spec.family == "pain" for a in spec.check(facts, thresholds))


# --------------------------------------------------------------------------- all rules

# --------------------------------------------------------------------------- the tables, derived

RULES: dict[str, RegisteredRule] = {spec.id: spec for spec in all_rules()}
# Ids other modules name, read from the declarations (the rule bodies use them at call time).
WEEKLY_VOLUME_INCREASE = weekly_volume_increase.id
SESSION_SPIKE = session_spike.id
TENDON_LOAD_INCREASE = tendon_load_increase.id
MONOTONY = monotony_rule.id
ACWR = acwr.id
TENDON_LOADING_FREQUENCY = tendon_loading_frequency.id
TENDON_LOADING_INTENSITY = tendon_loading_intensity.id
PLYOMETRIC_BALANCE = plyometric_balance.id
PAIN_DURING = pain_during.id
PAIN_NEXT_MORNING = pain_next_morning.id
PAIN_RISING = pain_rising.id
VISA_A_DROP = visa_a_drop.id
PAIN_RULES = rule_ids("pain")
LOAD_RULES = rule_ids("load")
PROGRAM_RULES = rule_ids("program")
# A high ACWR becomes a warning only when one of these fired (caution or worse) that week.
ACWR_CORROBORATING_RULES = LOAD_RULES | PAIN_RULES


def sort_alerts(alerts: Iterable[Alert]) -> list[Alert]:
    return sorted(alerts, key=lambda a: (a.date, a.athlete_id, a.rule, a.period))


def evaluate(history: AthleteHistory, thresholds: RuleThresholds, as_of: date) -> list[Alert]:
    """All rules, sorted by (date, athlete, rule, period): the same data gives the same list,
    and each athlete/rule/period appears once."""
    facts = HistoryFacts(history, as_of)
    alerts = [alert for spec in non_context_rules() for alert in spec.check(facts, thresholds)]
    alerts += [alert for spec in context_rules() for alert in spec.check(facts, thresholds, alerts)]
    keys = [a.key for a in alerts]
    if len(keys) != len(set(keys)):
        raise AssertionError("rules produced duplicate alert keys")
    return sort_alerts(alerts)


def program_adherence(
    history: AthleteHistory, as_of: date, thresholds: RuleThresholds | None = None
) -> ProgramAdherence:
    """Program progress to show the runner (never alarmed): completed weeks since the start,
    tendon-loading sessions in each, and how many weeks met the minimum."""
    th = thresholds or RuleThresholds()
    history = up_to(history, as_of)
    start = program_start_of(history, th)
    per_week: dict[str, int] = {}
    if start is not None:
        monday = week_monday(start)
        while monday + timedelta(days=6) <= as_of:
            per_week[iso_week_label(monday)] = len(tendon_session_dates(history, monday, th))
            monday += WEEK
    completed = len(per_week)
    return ProgramAdherence(
        athlete_id=history.athlete_id,
        program_start=start,
        program_week=program_week(start, as_of),
        program_weeks=th.program_weeks,
        weeks_completed=completed,
        sessions_per_week=per_week,
        weeks_on_target=sum(1 for n in per_week.values() if n >= th.tendon_sessions_min_per_week),
        complete=completed >= th.program_weeks,
    )


__all__ = [
    "RULES",
    "LowTendonWeek",
    "evaluate",
    "low_tendon_week_message",
    "low_tendon_weeks",
    "pain_monitoring",
    "program_adherence",
    "sort_alerts",
    *sorted(spec.name for spec in all_rules()),
]
