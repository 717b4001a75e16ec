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

import pandas as pd

from .aggregate import (
    WEEK,
    HistoryFacts,
    program_start_of,
    program_week,
    tendon_session_dates,
    up_to,
)
from .load import iso_week_label, monotony, nan_to_none, percent_1rm, strain, week_monday
from .models import SEVERITY_RANK, Alert, AthleteHistory, EvidenceValue, ProgramAdherence, Severity
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


def _band(increase: float, bands: Iterable[tuple[float, Severity]]) -> Severity | None:
    """The highest severity whose line the increase is strictly above."""
    for line, severity in sorted(bands, reverse=True):
        if increase > line:
            return severity
    return None


def _pct(fraction: float) -> float:
    return round(fraction * 100.0, 1)


def _r(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def _day_name(day: date) -> str:
    return day.strftime("%A")


def _short_date(day: date) -> str:
    return f"{day.strftime('%a')} {day.day} {day.strftime('%b')}"


def _weekly(facts: HistoryFacts, check: Callable[[date], Alert | None]) -> list[Alert]:
    alerts = [check(monday) for monday in facts.weeks]
    return [a for a in alerts if a is not None]


# --------------------------------------------------------------------------- running volume


def _week_over_week(value: float, previous: float, min_base: float, min_rise: float,
                    caution: float, warning: float) -> tuple[float, Severity] | None:
    """The weekly progression decision shared by distance and tendon load: silent on a small
    base or a small rise, else (relative increase, severity) when a line is crossed."""
    rise = value - previous
    if previous < min_base or rise < min_rise:
        return None
    increase = rise / previous
    severity = _band(increase, [(caution, "caution"), (warning, "warning")])
    return None if severity is None else (increase, severity)


@rule(
    "weekly_volume_increase",
    family="load",
    source="Nielsen et al., JOSPT 2014 (>30 % weekly increase, HR 1.59); Buist et al., Am J Sports "
        "Med 2008 (10 % rule as a conservative guide); Damsted et al., JOSPT 2019",
)
def weekly_volume_increase(facts: HistoryFacts, thresholds: RuleThresholds) -> list[Alert]:
    """Running distance week over week: > 10 % caution, > 30 % warning.

    Small-base floor: silent when the previous week was under ``volume_min_base_km`` (10 km) or
    the rise is under ``volume_min_increase_km`` (5 km). A return from a break (previous week
    near 0) is therefore left to ``session_spike`` and ``acwr``.
    """
    history = facts.history
    th = thresholds

    def check(monday: date) -> Alert | None:
        week_km = facts.week_km(monday)
        previous_km = facts.week_km(monday - WEEK)
        rise_km = week_km - previous_km
        found = _week_over_week(week_km, previous_km, th.volume_min_base_km, th.volume_min_increase_km,
                                th.volume_increase_caution, th.volume_increase_warning)
        if found is None:
            return None
        increase, severity = found
        week = iso_week_label(monday)
        message = (
            f"You ran {week_km:.1f} km in week {week}, {_pct(increase):.0f} % more than the "
            f"{previous_km:.1f} km the week before (guide: at most "
            f"{_pct(th.volume_increase_caution):.0f} %)."
        )
        evidence: dict[str, EvidenceValue] = {
            "week_km": _r(week_km),
            "previous_week_km": _r(previous_km),
            "increase_km": _r(rise_km),
            "increase_pct": _pct(increase),
            "caution_above_pct": _pct(th.volume_increase_caution),
            "warning_above_pct": _pct(th.volume_increase_warning),
        }
        return _alert(history, WEEKLY_VOLUME_INCREASE, severity, monday, week, message, evidence)

    return _weekly(facts, check)


@rule(
    "session_spike",
    family="load",
    source="Frandsen et al., Br J Sports Med 2025 (run distance vs longest run of the previous "
        "30 days: >10 % HR 1.64, >30 % HR 1.52, >100 % HR 2.28)",
)
def session_spike(facts: HistoryFacts, thresholds: RuleThresholds) -> list[Alert]:
    """A run longer than the longest run of the previous 30 days (Frandsen et al. 2025):
    > 10 % caution, > 30 % warning, > 100 % high.

    "Previous 30 days" = running activities that started before this one with a local date no
    more than 30 days earlier. No prior run in the window -> no reference -> no alert (a return
    from a long break shows up in ``acwr`` instead); nor while the athlete's running history is
    shorter than ``spike_min_history_days``. Rises under ``spike_min_increase_km``
    (1 km) are ignored.
    """
    history = facts.history
    th = thresholds
    runs = facts.running
    bands: list[tuple[float, Severity]] = [
        (th.spike_caution, "caution"),
        (th.spike_warning, "warning"),
        (th.spike_high, "high"),
    ]
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
        rise_m = run.distance_m - longest.distance_m
        increase = rise_m / longest.distance_m
        severity = _band(increase, bands)
        if severity is None:
            continue
        message = (
            f"{_day_name(run.local_date)}'s run ({run.distance_km:.1f} km) was "
            f"{_pct(increase):.0f} % longer than your longest in the previous "
            f"{th.spike_window_days} days ({longest.distance_km:.1f} km)."
        )
        evidence: dict[str, EvidenceValue] = {
            "run_km": _r(run.distance_km),
            "longest_previous_km": _r(longest.distance_km),
            "longest_previous_activity_id": longest.activity_id,
            "increase_pct": _pct(increase),
            "window_days": th.spike_window_days,
        }
        alerts.append(
            _alert(history, SESSION_SPIKE, severity, run.local_date, run.activity_id, message, evidence)
        )
    return alerts


# --------------------------------------------------------------------------- tendon load


@rule(
    "tendon_load_increase",
    family="load",
    source="Reiter et al., MSSE 2024 (per-step Achilles load); Nielsen et al., JOSPT 2014 and Buist "
        "et al., AJSM 2008 (progression thresholds)",
)
def tendon_load_increase(facts: HistoryFacts, thresholds: RuleThresholds) -> list[Alert]:
    """Weekly Achilles load (sum of per-step multiples, BW units) week over week, with the
    volume lines by default (> 10 % caution, > 30 % warning). It catches faster running at the
    same distance. Small-base floor in BW units (defaults ~10 km base, ~5 km rise)."""
    history = facts.history
    th = thresholds

    def check(monday: date) -> Alert | None:
        load = facts.week_load(monday)
        previous = facts.week_load(monday - WEEK)
        found = _week_over_week(load, previous, th.tendon_load_min_base_bw, th.tendon_load_min_increase_bw,
                                th.tendon_load_increase_caution, th.tendon_load_increase_warning)
        if found is None:
            return None
        increase, severity = found
        week = iso_week_label(monday)
        message = (
            f"Your Achilles load rose {_pct(increase):.0f} % in week {week} "
            f"({load / 1000:.0f}k vs {previous / 1000:.0f}k body-weight units), more than the "
            f"{_pct(th.tendon_load_increase_caution):.0f} % guide."
        )
        evidence: dict[str, EvidenceValue] = {
            "week_load_bw": round(load),
            "previous_week_load_bw": round(previous),
            "increase_pct": _pct(increase),
            "week_km": _r(facts.week_km(monday)),
            "previous_week_km": _r(facts.week_km(monday - WEEK)),
            "caution_above_pct": _pct(th.tendon_load_increase_caution),
            "warning_above_pct": _pct(th.tendon_load_increase_warning),
        }
        return _alert(history, TENDON_LOAD_INCREASE, severity, monday, week, message, evidence)

    return _weekly(facts, check)


def _monotony_below(loads: list[float], line: float) -> bool:
    """True when the monotony of these non-negative loads cannot exceed ``line``: with k of n
    days loaded, mean / SD <= sqrt(k / (n - k)) (Cauchy-Schwarz), equal when all k are equal.
    A margin far above rounding keeps borderline weeks for the exact computation."""
    loaded = sum(1 for load in loads if load > 0)
    rest = len(loads) - loaded
    return rest > 0 and math.sqrt(loaded / rest) < line * (1.0 - 1e-9)


@rule("monotony", family="load", source="Foster, Med Sci Sports Exerc 1998 (monotony = mean/SD of daily load; >2.0)")
def monotony_rule(facts: HistoryFacts, thresholds: RuleThresholds) -> list[Alert]:
    """Weekly monotony of daily tendon load (mean / population SD over the 7 days, rest days
    = 0) above 2.0: caution (Foster 1998). Undefined monotony (SD 0) never fires."""
    history = facts.history
    th = thresholds

    def check(monday: date) -> Alert | None:
        loads = facts.week_daily_loads(monday)
        if _monotony_below(loads, th.monotony_warning):
            return None
        value = monotony(loads)
        if value is None or value <= th.monotony_warning:
            return None
        days = pd.Series(loads, index=pd.date_range(monday, periods=7, freq="D"), dtype=float)
        week = iso_week_label(monday)
        message = (
            f"Week {week} was monotonous: your daily load barely varied (monotony {value:.1f}, "
            f"line {th.monotony_warning:.1f}). Mix easy, hard and rest days."
        )
        evidence: dict[str, EvidenceValue] = {
            "monotony": _r(value),
            "strain": _r(strain(days), 0),
            "week_load_bw": round(float(days.sum())),
            "mean_daily_load_bw": _r(float(days.mean()), 0),
            "sd_daily_load_bw": _r(float(days.std(ddof=0)), 0),
            "running_days": int((days > 0).sum()),
            "line": th.monotony_warning,
        }
        return _alert(history, MONOTONY, "caution", monday, week, message, evidence)

    return _weekly(facts, check)


@rule(
    "acwr",
    family="context", context=True,
    source="Gabbett, BJSM 2016; Hulin et al. 2014; Williams et al., BJSM 2017 (EWMA); Lolli et al. "
        "2019 (uncoupled); Impellizzeri et al. 2021 (weak prediction: context only)",
)
def acwr(facts: HistoryFacts, thresholds: RuleThresholds, others: Sequence[Alert]) -> list[Alert]:
    """Acute:chronic ratio of daily tendon load at each completed week's end: > 1.3 caution,
    > 1.5 warning. It is context, never the only signal: with ``acwr_context_only`` a ratio
    above 1.5 is a warning only when another load or pain rule fired (caution or worse) in the
    same ISO week; otherwise it stays at caution. Needs data starting at least 21 days before
    the acute window. Drives on the uncoupled ratio by default; all three are in the evidence.
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

    def check(monday: date) -> Alert | None:
        sunday = monday + timedelta(days=6)
        if not eligible(monday):
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
        severity = _band(ratio, [(th.acwr_caution, "caution"), (th.acwr_warning, "warning")])
        if severity is None:
            return None
        corroborating = sorted(
            {
                a.rule
                for a in others
                if a.rule in ACWR_CORROBORATING_RULES
                and a.rank >= SEVERITY_RANK["caution"]
                and monday <= a.date <= sunday
            }
        )
        if severity == "warning" and th.acwr_context_only and not corroborating:
            severity = "caution"
        week = iso_week_label(monday)
        message = (
            f"Week {week}: your Achilles load in the last {th.acute_days} days was "
            f"{ratio:.2f} x your usual (line {th.acwr_caution:.1f}). A context signal"
            + (
                f", with {len(corroborating)} other alert{'s' if len(corroborating) > 1 else ''} "
                f"this week."
                if corroborating
                else " only."
            )
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
            "corroborated_by": ",".join(corroborating) or None,
        }
        return _alert(history, ACWR, severity, monday, week, message, evidence)

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
    program starts at ``program_start`` or, without one, at the first tendon-loading entry;
    athletes with neither are not nagged. A week with no recorded activity at all (no run,
    no strength work: a break, or the watch not synced) is missing data, not evidence.
    """
    history = facts.history
    th = thresholds
    start = program_start_of(history, th)
    alerts = []
    for monday in _program_weeks(facts, start):
        if not facts.runs_in_week(monday) and not facts.strength_in_week(monday):
            continue
        sessions = len(facts.tendon_session_dates(monday, th))
        if sessions >= th.tendon_sessions_min_per_week:
            continue
        week = iso_week_label(monday)
        message = (
            f"Week {week}: {sessions} tendon-loading session{'s' if sessions != 1 else ''} "
            f"(calf holds, raises or heel drops). Aim for {th.tendon_sessions_min_per_week}-"
            f"{th.tendon_sessions_target_per_week} a week."
        )
        evidence: dict[str, EvidenceValue] = {
            "sessions": sessions,
            "minimum": th.tendon_sessions_min_per_week,
            "target": th.tendon_sessions_target_per_week,
            "program_week": program_week(start, monday),
        }
        alerts.append(_alert(history, TENDON_LOADING_FREQUENCY, "caution", monday, week, message, evidence))
    return alerts


@rule(
    "tendon_loading_intensity",
    family="program",
    source="Bohm, Mersmann & Arampatzis, Sports Med Open 2015; Radovanovic et al., Sports Med Open "
        "2022 (70-90 % of maximum); Epley 1RM = w (1 + reps/30)",
)
def tendon_loading_intensity(facts: HistoryFacts, thresholds: RuleThresholds) -> list[Alert]:
    """After program week 4: the week's heaviest calf set below 70 % of estimated 1RM: caution.

    1RM = best Epley estimate over dynamic calf sets (kind strength, with reps) in the 6 weeks
    ending that Sunday; set weight = body mass + external load, so bodyweight work counts.
    Needs body mass; weeks without calf work are left to ``tendon_loading_frequency``.
    """
    history = facts.history
    th = thresholds
    if history.body_mass_kg is None:
        return []
    start = program_start_of(history, th)
    alerts = []
    for monday in _program_weeks(facts, start):
        week_number = program_week(start, monday)
        if week_number is None or week_number <= th.calf_intensity_after_weeks:
            continue
        heaviest = facts.heaviest_calf_set(monday, th)
        one_rm = facts.estimated_calf_1rm(monday + timedelta(days=6), th)
        if heaviest is None or one_rm is None:
            continue
        entry, weight = heaviest
        intensity = percent_1rm(weight, one_rm.one_rm_kg)
        if intensity >= th.calf_intensity_min:
            continue
        week = iso_week_label(monday)
        message = (
            f"Week {week} (program week {week_number}): your heaviest calf set was "
            f"{_pct(intensity):.0f} % of your estimated max ({one_rm.one_rm_kg:.0f} kg). "
            f"From week {th.calf_intensity_after_weeks + 1} aim for "
            f"{_pct(th.calf_intensity_min):.0f} % or more: add weight."
        )
        evidence: dict[str, EvidenceValue] = {
            "program_week": week_number,
            "heaviest_set_exercise": entry.exercise,
            "heaviest_set_kg": _r(weight, 1),
            "estimated_1rm_kg": _r(one_rm.one_rm_kg, 1),
            "intensity_pct": _pct(intensity),
            "line_pct": _pct(th.calf_intensity_min),
            "body_mass_kg": history.body_mass_kg,
        }
        alerts.append(_alert(history, TENDON_LOADING_INTENSITY, "caution", monday, week, message, evidence))
    return alerts


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
        return _alert(history, PLYOMETRIC_BALANCE, "caution", monday, week, message, evidence)

    return _weekly(facts, check)


# --------------------------------------------------------------------------- pain monitoring


@rule("pain_monitoring.during", family="pain", source="Silbernagel et al., Am J Sports Med 2007 (pain-monitoring model: <= 5/10 during activity)")
def pain_during(facts: HistoryFacts, thresholds: RuleThresholds) -> list[Alert]:
    """Pain during activity above 5/10 (Silbernagel et al. 2007): warning, per reported day."""
    history = facts.history
    th = thresholds
    alerts = []
    for day, pain in facts.daily_pain.items():
        if pain.during <= th.pain_during_max:
            continue
        message = (
            f"Pain during activity on {_short_date(day)} was {pain.during}/10 (line "
            f"{th.pain_during_max}/10). Swap runs for cycling, swimming or deep-water running "
            f"until it settles."
        )
        evidence: dict[str, EvidenceValue] = {"pain_during": pain.during, "line": th.pain_during_max}
        alerts.append(_alert(history, PAIN_DURING, "warning", day, day.isoformat(), message, evidence))
    return alerts


@rule("pain_monitoring.next_morning", family="pain", source="Silbernagel et al., Am J Sports Med 2007 (pain must settle by the next morning)")
def pain_next_morning(facts: HistoryFacts, thresholds: RuleThresholds) -> list[Alert]:
    """Next-morning pain not settled: above 2/10 (the 0-2 'safe' zone) is caution; a warning
    when it is above 5/10 or worse than the pain during the activity (Silbernagel 2007)."""
    history = facts.history
    th = thresholds
    alerts = []
    for day, pain in facts.daily_pain.items():
        morning = pain.next_morning
        if morning is None or morning <= th.pain_settled_max:
            continue
        worse = morning > th.pain_during_max or morning > pain.during
        message = (
            f"Pain the morning after {_short_date(day)} was {morning}/10 (during: "
            f"{pain.during}/10): not settled (line {th.pain_settled_max}/10). Go easier until "
            f"mornings are back to 0-{th.pain_settled_max}."
        )
        evidence: dict[str, EvidenceValue] = {
            "pain_next_morning": morning,
            "pain_during": pain.during,
            "settled_max": th.pain_settled_max,
        }
        severity: Severity = "warning" if worse else "caution"
        alerts.append(_alert(history, PAIN_NEXT_MORNING, severity, day, day.isoformat(), message, evidence))
    return alerts


@rule("pain_monitoring.rising", family="pain", source="Silbernagel et al., Am J Sports Med 2007 (pain must not rise week to week)")
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
        return _alert(history, PAIN_RISING, "caution", monday, week, message, evidence)

    return _weekly(facts, check)


@rule("pain_monitoring.visa_a", family="pain", source="Robinson et al., BJSM 2001 (VISA-A 0-100; healthy > 96, ~90 recovered)")
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
        severity: Severity = "warning" if drop >= th.visa_a_drop_warning else "caution"
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
        alerts.append(_alert(history, VISA_A_DROP, severity, day, day.isoformat(), message, evidence))
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


__all__ = [  # noqa: PLE0604 - the rules' public names come from their declarations
    "RULES",
    "evaluate",
    "pain_monitoring",
    "program_adherence",
    "sort_alerts",
    *sorted(spec.name for spec in all_rules()),
]
