"""Next week's plan: running range, long-run cap, cross-training and tendon sessions.

The plan covers the ISO week starting on the first Monday after ``as_of``. It builds on the
last completed week (the week ending on or before ``as_of``) and on the alerts raised from
that week's Monday (or the last 7 days, whichever starts earlier) up to ``as_of``:

* pain above the line (a pain alert at warning or worse: above 5/10 during or the next
  morning, Silbernagel 2007): running capped at 50 %, half the runs swapped for
  cross-training, tendon work regressed (both-leg holds, no hops); a pain caution (3-5/10
  not settled, rising week to week) holds like any caution, and pain in the acceptable zone
  changes nothing;
* no running in the last weeks: restart gently;
* a long race (``race_long_km``) in the 7 days before: recovery week, 30-60 %, tendon doses
  and hops held (not progressed);
* an A/B race in the plan week (or a long A race the week after): taper around it;
* warning/high from a load rule: running cut 20-30 %, long run at most 80 % of the 30-day
  longest;
* feeling unwell (a check-in in the last ``plan_unwell_lookback_days``): no progression, running
  from 0 (rest until well) up to ``plan_unwell_run_factor`` of the usual level (RULES.md: after
  illness, restart below the previous level), long run capped as after a warning; no alert;
* caution from a load rule, or pain rising / VISA-A falling: hold (90-100 %);
* back from a break and still below the pre-break level: build back toward it, never below
  what the runner just ran;
* otherwise: progress (100-110 %), long run up to 110 % of the 30-day longest.

Targets are shares of the runner's usual level (``baseline``): the larger of last week and the
mean of earlier weeks with running, so a down week is not the base of the next. Hold, cut and
pain cap it at the level last week was judged on + 10 %, and the long-run cap ignores runs
flagged as spikes and races, so a week or run that overshot is never the base for the
next. Targets and caps are rounded down: following the plan never trips the rule it rests on.

Monotony and the ACWR are context: alone they never change the plan. Every decision
adds a plain-language reason. The tendon session's doses progress from what was recorded
(``progression``); any status but ``progress`` holds them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Literal, NamedTuple

from .aggregate import (
    WEEK,
    HistoryFacts,
    program_start_of,
    program_week,
    running_runs,
    up_to,
)
from .baseline import race_in_week, reference, usual_level
from .exercises import CALF_HOLD, HEEL_DROP, POGO_HOPS, legs
from .load import week_monday
from .models import SEVERITY_RANK, Alert, AthleteHistory, PlanStatus, RaceEntry, TendonSession, WeekPlan
from .progression import Dose, Gate, prescribe_hops, prescribe_load
from .rules import (
    ACWR,
    LOAD_RULES,
    MONOTONY,
    PAIN_RULES,
    PROGRAM_RULES,
    SESSION_SPIKE,
    TENDON_LOADING_FREQUENCY,
    low_tendon_week_message,
    low_tendon_weeks,
)
from .thresholds import RuleThresholds

Status = PlanStatus
Stage = Literal["pain", "early", "loaded", "advanced"]
CROSS_TRAINING = "cycling, swimming, deep-water running or rowing"
# Rules that can hold or cut the plan; monotony and the ACWR are context.
HOLDING_RULES = (LOAD_RULES - {MONOTONY}) | PAIN_RULES


class Situation(NamedTuple):
    """What the plan reacts to."""

    status: Status
    trigger: Alert | None  # the alert behind a hold/cut/pain decision
    recent_pain: Alert | None  # pain alert in the last 14 days (for restarting hops small)
    context_acwr: Alert | None  # ACWR at caution that changed nothing
    also: tuple[str, ...] = ()  # other rules (caution or worse) behind the decision
    program: tuple[Alert, ...] = ()  # tendon-program alerts to echo in the reasons
    unwell: tuple[date, ...] = ()  # 'feeling unwell' check-ins in the last plan_unwell_lookback_days
    context_monotony: Alert | None = None  # monotony at caution: context, never holds the plan


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
    """Pain above the line is a pain alert at warning or worse (Silbernagel: above 5/10). A
    caution (not settled, rising, VISA-A slipping) holds the plan instead: severity and the
    plan's response agree."""
    return alert.rule in PAIN_RULES and alert.rank >= SEVERITY_RANK["warning"]


def assess(
    history: AthleteHistory,
    alerts: Sequence[Alert],
    thresholds: RuleThresholds,
    as_of: date,
    recent_km: float,
    calendar: RaceCalendar | None = None,
) -> Situation:
    """Classify the coming week: pain, restart, recovery (after a long race), unwell (a recent
    'feeling unwell' check-in), taper (before a race), cut, hold, return (after a break) or
    progress. Monotony and the ACWR are context: alone they never hold the plan; race-day and
    race-week alerts are info and change nothing."""
    th = thresholds
    calendar = calendar or RaceCalendar()
    mine = [a for a in alerts if a.athlete_id == history.athlete_id and a.date <= as_of]
    window_start = min(
        last_completed_monday(as_of), as_of - timedelta(days=th.plan_pain_lookback_days - 1)
    )
    recent = [a for a in mine if a.date >= window_start and a.rank >= SEVERITY_RANK["caution"]]
    pogo_start = as_of - timedelta(days=th.plan_pogo_return_days - 1)
    recent_pain = _worst([a for a in mine if a.date >= pogo_start and _is_pain_above_line(a)])
    pain_now = _worst([a for a in recent if _is_pain_above_line(a)])
    load = [a for a in recent if a.rule in HOLDING_RULES or _is_acwr_warning(a)]
    worst = _worst(load)
    acwr_only = _worst([a for a in mine if a.date >= window_start and a.rule == ACWR
                        and a.rank < SEVERITY_RANK["warning"]])
    unwell_since = as_of - timedelta(days=th.plan_unwell_lookback_days - 1)
    unwell = tuple(sorted(d for d in history.unwell_days if unwell_since <= d <= as_of))
    status: Status
    trigger: Alert | None = None
    if pain_now is not None:
        status, trigger = "pain", pain_now
    elif recent_km <= 0:
        status = "restart"
    elif calendar.recovering_from is not None:
        status = "recovery"
    elif unwell:
        status = "unwell"
    elif calendar.race_in_plan_week is not None or calendar.race_next_week is not None:
        status = "taper"
    elif worst is not None:
        status = "cut" if worst.rank >= SEVERITY_RANK["warning"] else "hold"
        trigger = worst
    elif calendar.returning:
        status = "return"
    else:
        status = "progress"
    also = tuple(sorted({a.rule for a in load if trigger and a.rule != trigger.rule}))
    program = tuple(a for a in recent if a.rule in PROGRAM_RULES)
    monotony = _worst([a for a in recent if a.rule == MONOTONY])
    return Situation(status, trigger, recent_pain, acwr_only, also, program, unwell, monotony)


# --------------------------------------------------------------------------- running


class RaceCalendar(NamedTuple):
    """Races around the plan week."""

    race_in_plan_week: RaceEntry | None = None  # A/B race in the plan week
    race_next_week: RaceEntry | None = None  # A race of race_long_km or more the week after
    recovering_from: RaceEntry | None = None  # a long race in the 7 days before the plan week
    returning: bool = False  # back from a break, still below the pre-break level


def race_calendar(history: AthleteHistory, week_start: date, last_km: float, pre_break_km: float | None,
                  th: RuleThresholds) -> RaceCalendar:
    races = history.races
    this_week = race_in_week([r for r in races if r.priority in ("A", "B")], week_start)
    following = race_in_week(
        [r for r in races if r.priority == "A" and r.distance_km >= th.race_long_km], week_start + WEEK
    )
    recent = [r for r in races if week_start - WEEK <= r.local_date < week_start and r.distance_km >= th.race_long_km]
    recovering = max(recent, key=lambda r: (r.local_date, r.distance_km)) if recent else None
    returning = pre_break_km is not None and last_km < pre_break_km
    return RaceCalendar(this_week, following, recovering, returning)


class Reference(NamedTuple):
    """What the plan's targets are a share of."""

    km: float  # the usual level: max(last week, mean of earlier weeks with running), ...
    text: str
    last_km: float
    ceiling_km: float | None  # the level last week was judged on, + one progression step
    pre_break_km: float | None
    runs: int  # typical runs a week


def reference_week(history: AthleteHistory, as_of: date, th: RuleThresholds | None = None) -> Reference:
    """The runner's usual level for the coming week (``baseline``): the larger of last week and
    the mean of earlier weeks with running, the pre-break level after a break, or the declared
    baseline while there is too little history; the plan never builds on weeks before the
    first run as if they were zero."""
    th = th or RuleThresholds()
    facts = HistoryFacts(history, as_of)
    last = last_completed_monday(as_of)
    level, pause = reference(facts, last + WEEK, th)
    last_km = facts.week_km(last)
    if level is None:
        km = last_km
        text = f"last week ({last_km:.1f} km; baseline provisional: too little history)"
    else:
        km, text = level.km, level.basis
    before = usual_level(facts, last, th)
    ceiling = before.km * (1 + th.plan_progression) if before is not None and before.km > 0 else None
    runs = len(facts.runs_in_week(last))
    if runs == 0:
        counts = [len(facts.runs_in_week(last - WEEK * i)) for i in range(1, th.baseline_weeks + 1)]
        runs = math.ceil(sum(counts) / max(1, sum(1 for c in counts if c))) if any(counts) else 0
    pre = pause.level.km if pause is not None and level is not None and level.kind == "pre_break" else None
    if pre is None and last_km <= 0 < km:
        pre = km  # a break under way: build back toward the level before it
    return Reference(km, text, last_km, ceiling, pre, runs)


def base_km(status: Status, ref: Reference, th: RuleThresholds) -> tuple[float, str]:
    """Progress, return and taper build on the usual level; hold, cut and pain on it capped at
    the level last week was judged on + one progression step, so a week that overshot is not
    the base for the next."""
    if status in ("hold", "cut", "pain", "unwell") and ref.ceiling_km is not None and ref.km > ref.ceiling_km:
        return ref.ceiling_km, (
            f"your usual level + {th.plan_progression * 100:.0f} % ({ref.ceiling_km:.1f} km; last week "
            f"{ref.last_km:.1f} km overshot)"
        )
    return ref.km, f"your usual level: {ref.text}"


def _floor1(value: float) -> float:
    """Rounded down to 0.1 km, so following the plan never crosses the line it was built on."""
    return math.floor(value * 10.0 + 1e-6) / 10.0


def running_targets(
    status: Status, base: float, thresholds: RuleThresholds, ref: Reference | None = None,
    calendar: RaceCalendar | None = None,
) -> tuple[float, float]:
    th = thresholds
    race = calendar.race_in_plan_week if calendar is not None else None
    race_km = race.distance_km if race is not None else 0.0
    taper = th.plan_taper_race_week if race is not None else th.plan_taper_week_before
    last = ref.last_km if ref is not None else base
    pre = ref.pre_break_km if ref is not None and ref.pre_break_km is not None else base
    back = min(pre, max(last * (1 + th.plan_progression), last + (pre - last) * th.plan_return_step))
    low, high = {
        "progress": (base, base * (1 + th.plan_progression)),
        "hold": (base * th.plan_hold_low, base),
        "cut": (base * th.plan_cut_low, base * th.plan_cut_high),
        "pain": (0.0, base * th.plan_pain_run_factor),
        "unwell": (0.0, base * th.plan_unwell_run_factor),
        "restart": (0.0, th.plan_restart_week_km),
        "return": (min(last, back), back),
        "taper": (race_km + base * taper[0], race_km + base * taper[1]),
        "recovery": (base * th.plan_recovery_week[0], base * th.plan_recovery_week[1]),
    }[status]
    return _floor1(low), _floor1(high)


def running_reason(
    situation: Situation, low: float, high: float, reference_text: str, th: RuleThresholds,
    calendar: RaceCalendar | None = None,
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
    if status == "unwell":
        days = ", ".join(d.isoformat() for d in situation.unwell)
        return (
            f"You checked in as feeling unwell ({days}): no progression. Rest until you are well, then restart "
            f"below your previous level: at most {high:.1f} km ({th.plan_unwell_run_factor * 100:.0f} % of "
            f"{reference_text}). After illness, clinical guidance restarts below the previous level and builds "
            f"back over some weeks (RULES.md; no trial-grade threshold)."
        )
    if status == "return":
        return (
            f"Back from a break: build back toward {reference_text}: {low:.1f}-{high:.1f} km, "
            f"never below what you just ran; a return below that level is not an overload."
        )
    if status == "taper" and calendar is not None:
        race = calendar.race_in_plan_week or calendar.race_next_week
        assert race is not None
        when = "this week" if calendar.race_in_plan_week else "next week"
        return (
            f"Taper for your {race.priority} race ({race.distance_km:g} km on {race.local_date.isoformat()}, "
            f"{when}): {low:.1f}-{high:.1f} km{' including the race' if calendar.race_in_plan_week else ''}, "
            f"on {reference_text}."
        )
    if status == "recovery" and calendar is not None and calendar.recovering_from is not None:
        race = calendar.recovering_from
        return (
            f"Recovery week after your {race.distance_km:g} km race on {race.local_date.isoformat()}: "
            f"easy running only, {low:.1f}-{high:.1f} km ({th.plan_recovery_week[0] * 100:.0f}-"
            f"{th.plan_recovery_week[1] * 100:.0f} % of {reference_text}); tendon doses and hops held."
        )
    return f"No running in the last 4 weeks: restart easy, at most {high:.1f} km this week."


def _trigger_text(alert: Alert | None, full: bool = True) -> str:
    if alert is None:
        return ""
    short = f"{alert.severity} from {alert.rule} ({alert.period})"
    return f"{short}: {alert.message}" if full else short


def flagged_spikes(alerts: Sequence[Alert]) -> set[str]:
    """Activity ids of runs flagged by session_spike (caution or worse; a race is info)."""
    return {
        a.period for a in alerts if a.rule == SESSION_SPIKE and a.rank >= SEVERITY_RANK["caution"]
    }


def long_run_cap(
    history: AthleteHistory,
    alerts: Sequence[Alert],
    status: Status,
    target_high: float,
    th: RuleThresholds,
    as_of: date,
    calendar: RaceCalendar | None = None,
) -> tuple[float, str]:
    """A share of the longest run of the last 30 days (a flagged spike or a race does not
    count), never more than the week's upper target, rounded down: running the cap never
    trips session_spike. In a race week the race is the long run."""
    if calendar is not None and calendar.race_in_plan_week is not None and status == "taper":
        race = calendar.race_in_plan_week
        return race.distance_km, f"Long run: the race ({race.distance_km:g} km); keep the other runs short and easy."
    start = as_of - timedelta(days=th.spike_window_days)
    spikes = flagged_spikes(alerts)
    race_days = {r.local_date for r in history.races}
    distances = [
        r.distance_km
        for r in running_runs(history)
        if start <= r.local_date <= as_of and r.activity_id not in spikes and r.local_date not in race_days
    ]
    if not distances or status == "restart":
        cap = _floor1(min(th.plan_restart_long_run_km, target_high))
        return cap, f"No usable run in the last {th.spike_window_days} days: long run at most {cap:.1f} km."
    longest = max(distances)
    factor = {
        "progress": th.long_run_cap_factor,
        "return": th.long_run_cap_factor,
        "taper": th.long_run_cap_factor_hold,
        "hold": th.long_run_cap_factor_hold,
        "cut": th.long_run_cap_factor_cut,
        "pain": th.long_run_cap_factor_cut,
        "recovery": th.long_run_cap_factor_cut,
        "unwell": th.long_run_cap_factor_cut,
    }[status]
    cap = _floor1(min(longest * factor, target_high))
    left_out = [w for w, flag in (("flagged spikes", spikes), ("races", race_days)) if flag]
    ignored = f" ({' and '.join(left_out)} left out)" if left_out else ""
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


def tendon_gate(situation: Situation, race_recovery_week: bool) -> Gate:
    """Whether doses may progress this week, and the flare behind a step back. Only a
    ``progress`` week progresses; any other status (including ones added later) holds."""
    flare = situation.recent_pain if situation.status != "pain" else None
    why_not = {
        "hold": f"running held after {_trigger_text(situation.trigger, full=False)}",
        "cut": f"running cut after {_trigger_text(situation.trigger, full=False)}",
        "pain": "pain above the line",
        "restart": "restarting after weeks without running",
        "return": "building back after a break",
        "taper": "tapering for a race",
        "unwell": "feeling unwell recently",
        "progress": "",
    }.get(situation.status, f"plan status {situation.status}")
    if race_recovery_week:
        why_not = "race recovery week" + (f"; {why_not}" if why_not and situation.status != "recovery" else "")
    return Gate(
        progress=situation.status == "progress" and not race_recovery_week,
        why_not=why_not,
        flare=flare.date if flare is not None else None,
        flare_rule=flare.rule if flare is not None else "",
    )


def calf_hold(stage: Stage, dose: Dose | None) -> TendonSession:
    if stage == "pain" or dose is None:
        return TendonSession(
            exercise=CALF_HOLD, sets=4, hold_s=45, load_kg=None, variant="two_leg",
            note="Both legs, bodyweight; eases pain. Keep pain at 5/10 or below.",
        )
    sets = 3 if stage == "early" else 4
    return TendonSession(
        exercise=CALF_HOLD, sets=sets, hold_s=45, load_kg=dose.load_kg or None, variant=dose.variant,
        load_per_leg_kg=_r1(dose.per_leg_kg),
        note=f"{_dose_note(dose)}; {sets} sets{' a leg' if legs(dose.variant) == 1 else ''}, 30-60 s: hard, "
        f"about 70-90 % effort.",
    )


def heel_drops(stage: Stage, dose: Dose | None) -> TendonSession:
    if stage == "pain" or dose is None:
        return TendonSession(
            exercise=HEEL_DROP, sets=3, reps=10, load_kg=None, variant="two_leg",
            note="Lower on both feet over 3-5 s from a step; stop if pain passes 5/10.",
        )
    how = ("Up on two feet, lower on one over 3-5 s; 3 x 12 a leg" if legs(dose.variant) == 1
           else "Lower on both feet over 3-5 s; 3 x 12")
    return TendonSession(
        exercise=HEEL_DROP, sets=3, reps=12, load_kg=dose.load_kg or None, variant=dose.variant,
        load_per_leg_kg=_r1(dose.per_leg_kg), note=f"{how}; {_dose_note(dose).lower()}.",
    )


def pogo_hops(rung: tuple[int, int] | None) -> TendonSession | None:
    if rung is None:
        return None
    hop_legs, seconds = rung
    where = "One leg" if hop_legs == 1 else "Two legs"
    return TendonSession(
        exercise=POGO_HOPS, sets=3, hold_s=seconds, variant="single_leg" if hop_legs == 1 else "two_leg",
        note=f"{where}, small quiet quick contacts, 3 x {seconds} s{' a leg' if hop_legs == 1 else ''}.",
    )


def _r1(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _dose_note(dose: Dose) -> str:
    where = "Single leg" if legs(dose.variant) == 1 else "Both legs"
    if dose.variant in ("seated", "seated_single_leg"):
        where = f"Seated, {where.lower()}"
    added = f"+{dose.load_kg:g} kg" if dose.load_kg else "bodyweight"
    per_leg = f" ({dose.per_leg_kg:.1f} kg per leg)" if dose.per_leg_kg is not None else ""
    return f"{where}, {added}{per_leg}"


def _stage_reason(stage: Stage, week: int | None, situation: Situation, th: RuleThresholds) -> str:
    week_text = f"program week {week}" if week is not None else "the start of the program"
    if stage == "pain":
        return (
            f"Tendon work regressed for pain ({_trigger_text(situation.trigger, full=False)}): "
            f"calf holds on both legs (first choice when painful), heel drops on both feet, "
            f"no pogo hops."
        )
    if stage == "early":
        return (
            f"Tendon work at {week_text}: learn the moves; added load waits until week "
            f"{th.calf_intensity_after_weeks + 1}."
        )
    return (
        f"Tendon work at {week_text}: doses progress from what you recorded, at most "
        f"{th.tendon_load_progression_max * 100:.0f} % a week per exercise and leg, towards "
        f"{th.plan_calf_target_intensity * 100:.0f} % of your max (Beyer 2015; Alfredson 1998)."
    )


def tendon_plan(
    history: AthleteHistory,
    situation: Situation,
    week: int | None,
    th: RuleThresholds,
    as_of: date,
    race_recovery_week: bool = False,
) -> tuple[list[TendonSession], int, list[str]]:
    """The tendon exercises for the week, sessions per week, and the reasons."""
    stage = tendon_stage(week, situation.status == "pain", th)
    reasons = [_stage_reason(stage, week, situation, th)]
    if stage == "pain":
        sessions = [calf_hold(stage, None), heel_drops(stage, None)]
    else:
        gate = tendon_gate(situation, race_recovery_week)
        loaded = stage in ("loaded", "advanced")
        hold = prescribe_load(history, CALF_HOLD, "Calf holds", gate, loaded, th, as_of)
        drop = prescribe_load(history, HEEL_DROP, "Heel drops", gate, loaded, th, as_of)
        rung, hop_reason = prescribe_hops(history, gate, week, th, as_of)
        sessions = [calf_hold(stage, hold.dose), heel_drops(stage, drop.dose)]
        hops = pogo_hops(rung)
        if hops is not None:
            sessions.append(hops)
        reasons += [hold.reason, drop.reason, hop_reason]
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


def context_reasons(situation: Situation) -> list[str]:
    """The context alerts (ACWR, monotony: they never hold the plan) a progressing plan goes past,
    said, so the alert and the plan do not seem to disagree."""
    if situation.status != "progress":
        return []
    reasons = []
    if situation.context_acwr is not None:
        ratio = situation.context_acwr.evidence.get("acwr")
        reasons.append(f"ACWR {ratio} ({situation.context_acwr.period}) is context only: no change.")
    if situation.context_monotony is not None:
        value = situation.context_monotony.evidence.get("monotony")
        shown = "no variation at all" if value is None else f"monotony {value}"
        reasons.append(f"Training was monotonous ({shown}, {situation.context_monotony.period}): that does not "
                       "hold the plan, but vary the days: easy, hard and rest.")
    return reasons


def program_reasons(history: AthleteHistory, situation: Situation, th: RuleThresholds, as_of: date) -> list[str]:
    """Last week's tendon work, said to the runner every week: too few sessions from the week
    itself (``tendon_loading_frequency`` tells the coach about a run of such weeks only at its
    start and every ``tendon_frequency_repeat_weeks``), the other program alerts echoed; by rule,
    as the alerts are sorted."""
    last = last_completed_monday(as_of)
    low = next((w for w in low_tendon_weeks(HistoryFacts(history, as_of), th) if w.monday == last), None)
    said = [(a.rule, a.message) for a in situation.program
            if low is None or (a.rule, a.date) != (TENDON_LOADING_FREQUENCY, last)]
    if low is not None:
        said.append((TENDON_LOADING_FREQUENCY, low_tendon_week_message(low, th)))
    return [f"Last week's tendon work ({rule}): {message}" for rule, message in sorted(said)]


# --------------------------------------------------------------------------- the plan


def plan_next_week(
    history: AthleteHistory,
    alerts: Sequence[Alert],
    thresholds: RuleThresholds,
    as_of: date,
    race_recovery_week: bool = False,
) -> WeekPlan:
    """The plan for the ISO week starting on the first Monday after ``as_of``.

    The race calendar comes from ``history.races`` (logged with ``tendon log race`` or set in
    ``[[athletes]] races``; ``app.evaluate`` loads both): in the recovery week after a long race
    tendon doses and hops hold instead of progressing. ``race_recovery_week=True`` forces that
    for a history without race entries (e.g. a scripted replay)."""
    th = thresholds
    history = up_to(history, as_of)
    week_start = next_monday(as_of)
    ref = reference_week(history, as_of, th)
    calendar = race_calendar(history, week_start, ref.last_km, ref.pre_break_km, th)
    situation = assess(history, alerts, th, as_of, ref.km, calendar)
    base, base_text = base_km(situation.status, ref, th)
    low, high = running_targets(situation.status, base, th, ref, calendar)
    reasons = [running_reason(situation, low, high, base_text, th, calendar)]
    cap, cap_reason = long_run_cap(history, alerts, situation.status, high, th, as_of, calendar)
    reasons.append(cap_reason)
    swapped, swap_reason = cross_training(situation.status, ref.runs, th)
    if swap_reason:
        reasons.append(swap_reason)
    reasons += context_reasons(situation)
    start = program_start_of(history, th)
    week = program_week(start, week_start)
    recovering = race_recovery_week or calendar.recovering_from is not None
    sessions, per_week, tendon_reasons = tendon_plan(history, situation, week, th, as_of, recovering)
    reasons += tendon_reasons
    reasons += program_reasons(history, situation, th, as_of)
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
