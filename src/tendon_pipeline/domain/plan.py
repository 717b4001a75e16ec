"""Next week's plan: running range, long-run cap, cross-training and tendon sessions.

The plan covers the ISO week starting on the first Monday after ``as_of``. It builds on the
last completed week (the week ending on or before ``as_of``) and on the alerts raised from
that week's Monday (or the last 7 days, whichever starts earlier) up to ``as_of``:

* pain above the line (a ``pain_monitoring.during`` / ``.next_morning`` alert, or any pain
  alert at warning or worse): running capped at 50 %, half the runs swapped for
  cross-training, tendon work regressed (both-leg holds, no hops);
* warning/high from a load rule: running cut 20-30 %, long run at most 80 % of the 30-day
  longest;
* caution from a load rule, or pain rising / VISA-A falling: hold (90-100 %);
* otherwise: progress (100-110 %), long run up to 110 % of the 30-day longest.

Progress builds on last week's distance; hold, cut and pain on last week capped at the 4-week
average + 10 %, and the long-run cap ignores runs flagged as spikes (warning or worse), so a
week or run that overshot is never the base for the next.

An ACWR alert at caution alone is context and does not change the plan. Every decision
adds a plain-language reason.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Literal, NamedTuple

from .aggregate import (
    WEEK,
    estimated_calf_1rm,
    in_week,
    program_start_of,
    program_week,
    running_runs,
    up_to,
)
from .load import week_monday
from .models import SEVERITY_RANK, Alert, AthleteHistory, TendonSession, WeekPlan
from .rules import (
    ACWR,
    LOAD_RULES,
    PAIN_DURING,
    PAIN_NEXT_MORNING,
    PAIN_RULES,
    PROGRAM_RULES,
    SESSION_SPIKE,
)
from .thresholds import RuleThresholds

Status = Literal["progress", "hold", "cut", "pain", "restart"]
Stage = Literal["pain", "early", "loaded", "advanced"]
CROSS_TRAINING = "cycling, swimming, deep-water running or rowing"


class Situation(NamedTuple):
    """What the plan reacts to."""

    status: Status
    trigger: Alert | None  # the alert behind a hold/cut/pain decision
    recent_pain: Alert | None  # pain alert in the last 14 days (for restarting hops small)
    context_acwr: Alert | None  # ACWR at caution that changed nothing
    also: tuple[str, ...] = ()  # other rules (caution or worse) behind the decision
    program: tuple[Alert, ...] = ()  # tendon-program alerts to echo in the reasons


def next_monday(as_of: date) -> date:
    """First Monday strictly after ``as_of``."""
    return as_of + timedelta(days=7 - as_of.weekday())


def last_completed_monday(as_of: date) -> date:
    """Monday of the last week whose Sunday is on or before ``as_of``."""
    return week_monday(as_of) if as_of.weekday() == 6 else week_monday(as_of) - WEEK


def _worst(alerts: Sequence[Alert]) -> Alert | None:
    """The most severe alert; at equal severity a direct rule before the ACWR context."""
    ranked = sorted(alerts, key=lambda a: (-a.rank, a.rule == ACWR, a.date, a.rule, a.period))
    return ranked[0] if ranked else None


def _is_acwr_warning(alert: Alert) -> bool:
    return alert.rule == ACWR and alert.rank >= SEVERITY_RANK["warning"]


def _is_pain_above_line(alert: Alert) -> bool:
    return alert.rule in (PAIN_DURING, PAIN_NEXT_MORNING) or (
        alert.rule in PAIN_RULES and alert.rank >= SEVERITY_RANK["warning"]
    )


def assess(
    history: AthleteHistory,
    alerts: Sequence[Alert],
    thresholds: RuleThresholds,
    as_of: date,
    recent_km: float,
) -> Situation:
    """Classify the coming week: pain, cut, hold, progress or restart."""
    th = thresholds
    mine = [a for a in alerts if a.athlete_id == history.athlete_id and a.date <= as_of]
    window_start = min(
        last_completed_monday(as_of), as_of - timedelta(days=th.plan_pain_lookback_days - 1)
    )
    recent = [a for a in mine if a.date >= window_start and a.rank >= SEVERITY_RANK["caution"]]
    pogo_start = as_of - timedelta(days=th.plan_pogo_return_days - 1)
    recent_pain = _worst([a for a in mine if a.date >= pogo_start and _is_pain_above_line(a)])
    pain_now = _worst([a for a in recent if _is_pain_above_line(a)])
    load = [a for a in recent if a.rule in LOAD_RULES | PAIN_RULES or _is_acwr_warning(a)]
    worst = _worst(load)
    acwr_only = _worst([a for a in recent if a.rule == ACWR and a.rank < SEVERITY_RANK["warning"]])
    if pain_now is not None:
        status, trigger = "pain", pain_now
    elif recent_km <= 0:
        status, trigger = "restart", None
    elif worst is not None:
        status = "cut" if worst.rank >= SEVERITY_RANK["warning"] else "hold"
        trigger = worst
    else:
        status, trigger = "progress", None
    also = tuple(sorted({a.rule for a in load if trigger and a.rule != trigger.rule}))
    program = tuple(a for a in recent if a.rule in PROGRAM_RULES)
    return Situation(status, trigger, recent_pain, acwr_only, also, program)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- running


def reference_week(history: AthleteHistory, as_of: date) -> tuple[float, float, int]:
    """Last completed week's distance, the 4-week average distance, and the typical number
    of runs a week (last week's, or the 4-week average when last week had none)."""
    base = last_completed_monday(as_of)
    mondays = [base - WEEK * i for i in range(4)]
    running = running_runs(history)  # sorted once; each week keeps that order (as runs_in_week)
    weeks = {m: [r for r in running if in_week(r.local_date, m)] for m in mondays}

    def week_km(monday: date) -> float:  # = weekly_running_km(history, monday)
        return sum(r.distance_m for r in weeks[monday]) / 1000.0

    last_km = week_km(base)
    average_km = sum(week_km(m) for m in mondays) / 4.0
    runs = len(weeks[base])
    if runs == 0:
        runs = math.ceil(sum(len(weeks[m]) for m in mondays) / 4.0)
    return last_km, average_km, runs


def reference_km(
    status: Status, last_km: float, average_km: float, th: RuleThresholds
) -> tuple[float, str]:
    """What the targets are a share of. Progress builds on last week; hold, cut and pain on
    last week capped at the 4-week average + one progression step, so a week that overshot
    is not rewarded. With no running last week, the 4-week average."""
    if last_km <= 0:
        return average_km, f"your 4-week average ({average_km:.1f} km; no running last week)"
    ceiling = average_km * (1 + th.plan_progression)
    if status == "progress" or last_km <= ceiling:
        return last_km, f"last week ({last_km:.1f} km)"
    return ceiling, (
        f"your 4-week average + {th.plan_progression * 100:.0f} % ({ceiling:.1f} km; last week "
        f"{last_km:.1f} km overshot)"
    )


def _trigger_text(alert: Alert | None, full: bool = True) -> str:
    if alert is None:
        return ""
    short = f"{alert.severity} from {alert.rule} ({alert.period})"
    return f"{short}: {alert.message}" if full else short


def running_targets(
    status: Status, base_km: float, thresholds: RuleThresholds
) -> tuple[float, float]:
    th = thresholds
    low, high = {
        "progress": (base_km, base_km * (1 + th.plan_progression)),
        "hold": (base_km * th.plan_hold_low, base_km),
        "cut": (base_km * th.plan_cut_low, base_km * th.plan_cut_high),
        "pain": (0.0, base_km * th.plan_pain_run_factor),
        "restart": (0.0, th.plan_restart_week_km),
    }[status]
    return round(low, 1), round(high, 1)


def running_reason(
    situation: Situation, low: float, high: float, reference_text: str, th: RuleThresholds
) -> str:
    status, trigger = situation.status, _trigger_text(situation.trigger)
    if situation.also:
        trigger += f" Also: {', '.join(situation.also)}."
    if status == "progress":
        return (
            f"No caution-or-worse load or pain alerts: progress up to "
            f"{th.plan_progression * 100:.0f} % on {reference_text}: {low:.1f}-{high:.1f} km."
        )
    if status == "hold":
        return (
            f"Hold at {low:.1f}-{high:.1f} km ({th.plan_hold_low * 100:.0f}-100 % of "
            f"{reference_text}) after {trigger}"
        )
    if status == "cut":
        return (
            f"Cut to {low:.1f}-{high:.1f} km ({th.plan_cut_low * 100:.0f}-"
            f"{th.plan_cut_high * 100:.0f} % of {reference_text}) after {trigger}"
        )
    if status == "pain":
        return (
            f"Pain above the line: running at most {high:.1f} km "
            f"({th.plan_pain_run_factor * 100:.0f} % of {reference_text}) after {trigger}"
        )
    return f"No running in the last 4 weeks: restart easy, at most {high:.1f} km this week."


def flagged_spikes(alerts: Sequence[Alert]) -> set[str]:
    """Activity ids of runs flagged by session_spike at warning or worse."""
    return {
        a.period for a in alerts if a.rule == SESSION_SPIKE and a.rank >= SEVERITY_RANK["warning"]
    }


def long_run_cap(
    history: AthleteHistory,
    alerts: Sequence[Alert],
    status: Status,
    target_high: float,
    th: RuleThresholds,
    as_of: date,
) -> tuple[float, str]:
    """A share of the longest run of the last 30 days (a flagged spike does not count), never
    more than the week's upper target."""
    start = as_of - timedelta(days=th.spike_window_days)
    spikes = flagged_spikes(alerts)
    distances = [
        r.distance_km
        for r in running_runs(history)
        if start <= r.local_date <= as_of and r.activity_id not in spikes
    ]
    if not distances or status == "restart":
        cap = round(min(th.plan_restart_long_run_km, target_high), 1)
        return cap, f"No usable run in the last {th.spike_window_days} days: long run at most {cap:.1f} km."
    longest = max(distances)
    factor = {
        "progress": th.long_run_cap_factor,
        "hold": th.long_run_cap_factor_hold,
        "cut": th.long_run_cap_factor_cut,
        "pain": th.long_run_cap_factor_cut,
    }[status]
    cap = round(min(longest * factor, target_high), 1)
    ignored = f" (flagged spike{'s' if len(spikes) > 1 else ''} left out)" if spikes else ""
    return cap, (
        f"Long run at most {cap:.1f} km: {factor * 100:.0f} % of your longest in the last "
        f"{th.spike_window_days} days ({longest:.1f} km){ignored}, within the week's range."
    )


def cross_training(status: Status, runs: int, th: RuleThresholds) -> tuple[int, str | None]:
    if status != "pain":
        return 0, None
    swapped = max(1, math.ceil(runs * th.plan_pain_swap_fraction))
    return swapped, (
        f"Swap {swapped} of your ~{runs} weekly runs for cross-training ({CROSS_TRAINING}) at "
        f"similar frequency and effort until pain stays at {th.pain_during_max}/10 or below and "
        f"settles by morning."
    )


# --------------------------------------------------------------------------- tendon sessions


def tendon_stage(week: int | None, pain: bool, th: RuleThresholds) -> Stage:
    if pain:
        return "pain"
    week = week or 1
    if week <= th.calf_intensity_after_weeks:
        return "early"
    return "advanced" if week >= th.plan_single_leg_hops_from_week else "loaded"


def _round_up(value: float, step: float) -> float:
    return max(step, math.ceil(value / step - 1e-9) * step)


def suggested_load_kg(
    history: AthleteHistory, exercise: str, status: Status, th: RuleThresholds, as_of: date
) -> float:
    """Last fortnight's heaviest external load on the exercise, one step up when all is well;
    at least one step (bodyweight alone is not enough after the first weeks) and, for holds,
    at least ``plan_calf_target_intensity`` x estimated 1RM."""
    recent = [
        s.load_kg or 0.0
        for s in history.strength
        if s.exercise == exercise and as_of - timedelta(days=13) <= s.local_date <= as_of
    ]
    load = max(recent, default=0.0) + (th.plan_load_step_kg if status == "progress" else 0.0)
    if exercise == "isometric_calf_raise_hold" and history.body_mass_kg is not None:
        one_rm = estimated_calf_1rm(history, as_of, th)
        if one_rm is not None:
            load = max(load, th.plan_calf_target_intensity * one_rm.one_rm_kg - history.body_mass_kg)
    return _round_up(load, th.plan_load_step_kg)


def calf_hold(stage: Stage, load_kg: float | None) -> TendonSession:
    if stage == "pain":
        return TendonSession(
            exercise="isometric_calf_raise_hold", sets=4, hold_s=45, load_kg=None,
            note="Both legs, bodyweight; eases pain. Keep pain at 5/10 or below.",
        )
    if stage == "early":
        return TendonSession(
            exercise="isometric_calf_raise_hold", sets=3, hold_s=45, load_kg=None,
            note="Single leg, 3 sets a leg, 30-60 s; bodyweight while you learn it.",
        )
    return TendonSession(
        exercise="isometric_calf_raise_hold", sets=4, hold_s=45, load_kg=load_kg,
        note="Single leg, 4 sets a leg, with added weight: hard, about 70-90 % effort.",
    )


def heel_drops(stage: Stage, load_kg: float | None) -> TendonSession:
    if stage == "pain":
        return TendonSession(
            exercise="eccentric_heel_drop", sets=3, reps=10, load_kg=None,
            note="Lower on both feet over 3-5 s from a step; stop if pain passes 5/10.",
        )
    if stage == "early":
        return TendonSession(
            exercise="eccentric_heel_drop", sets=3, reps=12, load_kg=None,
            note="Up on two feet, lower on one over 3-5 s; 3 x 12 a leg.",
        )
    return TendonSession(
        exercise="eccentric_heel_drop", sets=3, reps=12, load_kg=load_kg,
        note="Up on two, lower on one over 3-5 s with a backpack or dumbbell; 3 x 12 a leg.",
    )


def pogo_hops(stage: Stage, after_pain: bool) -> TendonSession | None:
    if stage == "pain":
        return None
    if after_pain or stage == "early":
        return TendonSession(
            exercise="pogo_hops", sets=3, hold_s=20,
            note="Two legs, small quiet quick contacts, 3 x 20 s.",
        )
    if stage == "loaded":
        return TendonSession(
            exercise="pogo_hops", sets=3, hold_s=30, note="Two legs, quick quiet contacts, 3 x 30 s."
        )
    return TendonSession(
        exercise="pogo_hops", sets=3, hold_s=20, note="One leg, quick quiet contacts, 3 x 20 s a leg."
    )


def _stage_reason(
    stage: Stage,
    week: int | None,
    situation: Situation,
    hold_load: float | None,
    heel_load: float | None,
    th: RuleThresholds,
    after_pain: bool = False,
) -> str:
    week_text = f"program week {week}" if week is not None else "the start of the program"
    if stage == "pain":
        return (
            f"Tendon work regressed for pain ({_trigger_text(situation.trigger, full=False)}): "
            f"calf holds on both legs (first choice when painful), heel drops on both feet, "
            f"no pogo hops."
        )
    if stage == "early":
        return f"Tendon work at {week_text}: bodyweight holds and heel drops to learn the moves."
    hops = "pogo hops progress to one leg" if stage == "advanced" else "pogo hops 3 x 30 s"
    if after_pain:
        hops = "pogo hops held back (below)"
    return (
        f"Tendon work at {week_text}: past week {th.calf_intensity_after_weeks} bodyweight is not "
        f"enough: holds with {hold_load:g} kg, heel drops with {heel_load:g} kg added (aim for "
        f"{th.calf_intensity_min * 100:.0f} % of max or more); {hops}."
    )


def tendon_plan(
    history: AthleteHistory, situation: Situation, week: int | None, th: RuleThresholds, as_of: date
) -> tuple[list[TendonSession], int, list[str]]:
    """The tendon exercises for the week, sessions per week, and the reasons."""
    stage = tendon_stage(week, situation.status == "pain", th)
    after_pain = situation.recent_pain is not None and stage != "pain"
    hold_load = heel_load = None
    if stage in ("loaded", "advanced"):
        hold_load = suggested_load_kg(history, "isometric_calf_raise_hold", situation.status, th, as_of)
        heel_load = suggested_load_kg(history, "eccentric_heel_drop", situation.status, th, as_of)
    sessions = [calf_hold(stage, hold_load), heel_drops(stage, heel_load)]
    hops = pogo_hops(stage, after_pain)
    if hops is not None:
        sessions.append(hops)
    reasons = [_stage_reason(stage, week, situation, hold_load, heel_load, th, after_pain)]
    if after_pain and situation.recent_pain is not None:
        reasons.append(
            f"Pogo hops restart small on two legs after pain on "
            f"{situation.recent_pain.date.isoformat()} ({situation.recent_pain.rule})."
        )
    if week is None:
        reasons.append(
            f"Starting the {th.program_weeks}-week tendon program: {th.tendon_sessions_target_per_week} "
            f"sessions a week."
        )
    per_week = th.tendon_sessions_target_per_week
    if week is not None and week > th.program_weeks:
        per_week = th.tendon_sessions_min_per_week
        reasons.append(
            f"Program's {th.program_weeks} weeks done: keep {per_week} tendon sessions a week."
        )
    return sessions, per_week, [r for r in reasons if r]


# --------------------------------------------------------------------------- the plan


def plan_next_week(
    history: AthleteHistory, alerts: Sequence[Alert], thresholds: RuleThresholds, as_of: date
) -> WeekPlan:
    """The plan for the ISO week starting on the first Monday after ``as_of``."""
    th = thresholds
    history = up_to(history, as_of)
    week_start = next_monday(as_of)
    last_km, average_km, runs = reference_week(history, as_of)
    situation = assess(history, alerts, th, as_of, max(last_km, average_km))
    base_km, base_text = reference_km(situation.status, last_km, average_km, th)
    low, high = running_targets(situation.status, base_km, th)
    reasons = [running_reason(situation, low, high, base_text, th)]
    cap, cap_reason = long_run_cap(history, alerts, situation.status, high, th, as_of)
    reasons.append(cap_reason)
    swapped, swap_reason = cross_training(situation.status, runs, th)
    if swap_reason:
        reasons.append(swap_reason)
    if situation.context_acwr is not None and situation.status == "progress":
        ratio = situation.context_acwr.evidence.get("acwr")
        reasons.append(f"ACWR {ratio} ({situation.context_acwr.period}) is context only: no change.")
    start = program_start_of(history, th)
    week = program_week(start, week_start)
    sessions, per_week, tendon_reasons = tendon_plan(history, situation, week, th, as_of)
    reasons += tendon_reasons
    reasons += [f"Last week's tendon work ({a.rule}): {a.message}" for a in situation.program]
    return WeekPlan(
        athlete_id=history.athlete_id,
        week_start=week_start,
        status=situation.status,
        target_km_low=low,
        target_km_high=high,
        long_run_cap_km=cap,
        cross_training_sessions=swapped,
        tendon_sessions_per_week=per_week,
        tendon_sessions=sessions,
        program_week=week,
        reasons=reasons,
    )


__all__ = ["assess", "plan_next_week"]
