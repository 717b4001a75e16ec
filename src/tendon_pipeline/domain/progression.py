"""Tendon-session doses that progress from what the runner recorded.

The progression followed (see docs/tendon-program.md and ``SOURCES['tendon_progression']``):

* Load is raised week by week as in heavy slow resistance (Beyer et al. 2015), by at most
  ``tendon_load_progression_max`` (10 %) of the load one tendon carried in the heaviest set of
  the last ``tendon_recorded_lookback_days`` (per exercise, per leg: body mass share + added
  load, no body mass when seated). Loads are rounded *down* to ``plan_load_step_kg``.
* A two-leg load does not transfer to one leg: a runner on two legs progresses on two legs
  until single-leg bodyweight is within the 10 % step, then moves to one leg at bodyweight.
* Only when all is well (plan status ``progress``): a hold, cut or restart week, or a race
  recovery week, keeps the recorded dose.
* Pain above the line (Silbernagel et al. 2007): holds and heel drops on both legs at
  bodyweight, no hops. After a flare (pain alert at warning in the last
  ``plan_pogo_return_days``) the per-leg load is at most ``tendon_flare_step_back`` of the
  pre-flare peak, and climbs again by the weekly step from what is then recorded.
* Eccentric heel drops gain load the same way once bodyweight is painless (Alfredson et al.
  1998: load added in a backpack).
* Pogo hops climb one rung a week (two legs 20 s, two legs 30 s, one leg 20 s, one leg 30 s;
  one leg from ``plan_single_leg_hops_from_week``), never while running is cut or held, pain is
  above the line, a flare is recent (restart at the bottom) or in a race recovery week.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import NamedTuple

from .exercises import (
    POGO_HOPS,
    Variant,
    carries_body_mass,
    describe,
    external_for_per_leg,
    legs,
    per_leg_kg,
    variant_of,
)
from .models import AthleteHistory, StrengthEntry
from .thresholds import RuleThresholds


class Dose(NamedTuple):
    variant: Variant
    load_kg: float  # added load
    per_leg_kg: float | None  # None without body mass


class Recorded(NamedTuple):
    entry: StrengthEntry
    dose: Dose


class Gate(NamedTuple):
    """What the week allows: load progression, and the flare behind a step back."""

    progress: bool
    why_not: str  # why there is no progression ("" when there is)
    flare: date | None  # a recent flare (pain at warning)
    flare_rule: str = ""


HOP_RUNGS: tuple[tuple[int, int], ...] = ((2, 20), (2, 30), (1, 20), (1, 30))  # (legs, seconds)


def floor_step(value: float, step: float) -> float:
    return math.floor(value / step + 1e-9) * step


def dose_of(entry: StrengthEntry, body_mass_kg: float | None) -> Dose:
    variant = variant_of(entry.exercise, entry.variant) or "single_leg"
    return Dose(variant, entry.load_kg or 0.0, per_leg_kg(variant, entry.load_kg, body_mass_kg))


def recorded_dose(
    history: AthleteHistory, exercise: str, start: date, end: date
) -> Recorded | None:
    """The heaviest recorded set of ``exercise`` in [start, end] (per leg when body mass is
    known, else by added load); the most recent wins a tie."""
    found = [
        Recorded(s, dose_of(s, history.body_mass_kg))
        for s in history.strength
        if s.exercise == exercise and start <= s.local_date <= end and s.sets > 0
    ]
    if not found:
        return None
    return max(found, key=lambda r: (r.dose.per_leg_kg or 0.0, r.dose.load_kg, r.entry.local_date))


def choose_dose(base: Dose, target_per_leg: float, body_mass_kg: float, step: float) -> Dose:
    """The dose with the most per-leg load not above ``target_per_leg``, rounded down to
    ``step``: on one leg when that reaches the target without dropping below the base; else
    on two legs when the runner is on two legs; else one leg without added load (the lightest
    single-leg dose, after a step back)."""
    seated = not carries_body_mass(base.variant)
    single: Variant = "seated_single_leg" if seated else "single_leg"
    double: Variant = "seated" if seated else "two_leg"
    base_per_leg = base.per_leg_kg or 0.0
    single_load = floor_step(external_for_per_leg(single, target_per_leg, body_mass_kg), step)
    if single_load >= 0:
        one_leg = Dose(single, single_load, per_leg_kg(single, single_load, body_mass_kg))
        if legs(base.variant) == 1 or (one_leg.per_leg_kg or 0.0) >= base_per_leg:
            return one_leg
    if legs(base.variant) == 2:
        double_load = max(0.0, floor_step(external_for_per_leg(double, target_per_leg, body_mass_kg), step))
        return Dose(double, double_load, per_leg_kg(double, double_load, body_mass_kg))
    return Dose(single, 0.0, per_leg_kg(single, 0.0, body_mass_kg))


class Prescription(NamedTuple):
    dose: Dose
    reason: str


def _kg(value: float | None) -> str:
    return "?" if value is None else f"{value:.1f}".rstrip("0").rstrip(".")


def _dose_text(dose: Dose) -> str:
    added = f"+{_kg(dose.load_kg)} kg" if dose.load_kg else "bodyweight"
    per_leg = f", {_kg(dose.per_leg_kg)} kg per leg" if dose.per_leg_kg is not None else ""
    return f"{describe(dose.variant)}, {added}{per_leg}"


def prescribe_load(
    history: AthleteHistory,
    exercise: str,
    label: str,
    gate: Gate,
    loaded_stage: bool,
    th: RuleThresholds,
    as_of: date,
) -> Prescription:
    """Next week's dose of a calf hold or heel drop, from what was recorded."""
    start = as_of - timedelta(days=th.tendon_recorded_lookback_days - 1)
    recorded = recorded_dose(history, exercise, start, as_of)
    if recorded is None:
        dose = Dose("single_leg", 0.0, per_leg_kg("single_leg", 0.0, history.body_mass_kg))
        return Prescription(dose, (
            f"{label}: nothing recorded in the last {th.tendon_recorded_lookback_days} days, so "
            f"start at {_dose_text(dose)}."
        ))
    base = recorded.dose
    seen = f"recorded {_dose_text(base)} on {recorded.entry.local_date.isoformat()}"
    grow, why = _growth(recorded.entry, gate, loaded_stage, th)
    if history.body_mass_kg is None or base.per_leg_kg is None:
        dose = Dose(base.variant, base.load_kg + (th.plan_load_step_kg if grow else 0.0), None)
        return Prescription(dose, (
            f"{label}: {seen}; body mass unknown, so at most one {th.plan_load_step_kg:g} kg step: "
            f"{_dose_text(dose)}."
        ))
    target = base.per_leg_kg * (1 + th.tendon_load_progression_max) if grow else base.per_leg_kg
    target, ceiling_text = _max_ceiling(history, recorded.entry, base, target, th, as_of)
    target, flare_text = _flare_cap(history, exercise, gate, target, th)
    dose = choose_dose(base, target, history.body_mass_kg, th.plan_load_step_kg)
    return Prescription(dose, f"{label}: {seen}; {why}{ceiling_text}{flare_text}: {_dose_text(dose)}.")


def _growth(entry: StrengthEntry, gate: Gate, loaded_stage: bool, th: RuleThresholds) -> tuple[bool, str]:
    """Whether the load may rise this week, and the words for it."""
    if not gate.progress:
        return False, f"held ({gate.why_not})"
    if not loaded_stage:
        return False, "held (bodyweight weeks: learn the moves)"
    if entry.reps_in_reserve is not None and entry.reps_in_reserve < th.tendon_progress_min_rir:
        return False, f"held (last sets with {entry.reps_in_reserve} reps in reserve)"
    return True, f"at most +{th.tendon_load_progression_max * 100:.0f} % per leg"


def _max_ceiling(
    history: AthleteHistory, entry: StrengthEntry, base: Dose, target: float, th: RuleThresholds, as_of: date
) -> tuple[float, str]:
    """No climb past ``plan_calf_target_intensity`` of a known max: tested, or estimated from
    sets with reps in reserve (``calf.calf_max``). An Epley estimate from sets without reps in
    reserve is only a lower bound of the max, so it caps nothing. A load already above the
    ceiling is held, not cut."""
    from .calf import METHOD_TEXT, calf_max, position_of  # calf imports nothing from here

    monday = as_of + timedelta(days=7 - as_of.weekday())
    maximum = calf_max(history, monday, position_of(entry.exercise, entry.variant), th)
    if maximum is None or maximum.method == "heaviest_recent_sets":
        return target, ""
    ceiling = max(maximum.per_leg_kg * th.plan_calf_target_intensity, base.per_leg_kg or 0.0)
    if ceiling >= target:
        return target, ""
    return ceiling, (
        f"; capped at {th.plan_calf_target_intensity * 100:.0f} % of {_kg(maximum.per_leg_kg)} kg per leg "
        f"({METHOD_TEXT[maximum.method]})"
    )


def _flare_cap(
    history: AthleteHistory, exercise: str, gate: Gate, target: float, th: RuleThresholds
) -> tuple[float, str]:
    """After a recent flare, at most ``tendon_flare_step_back`` of the pre-flare peak."""
    if gate.flare is None:
        return target, ""
    peak = recorded_dose(history, exercise, gate.flare - timedelta(days=th.tendon_flare_reference_days),
                         gate.flare - timedelta(days=1))
    if peak is None or peak.dose.per_leg_kg is None:
        return target, ""
    cap = peak.dose.per_leg_kg * th.tendon_flare_step_back
    if cap >= target:
        return target, ""
    return cap, (
        f"; stepped back to {th.tendon_flare_step_back * 100:.0f} % of the pre-flare "
        f"{_kg(peak.dose.per_leg_kg)} kg per leg after pain on {gate.flare.isoformat()}"
    )


def hop_rung(entry: StrengthEntry) -> int:
    hop_legs = legs(entry.variant or "two_leg")
    seconds = entry.seconds or 0.0
    fitting = [i for i, (n, s) in enumerate(HOP_RUNGS) if n >= hop_legs and s <= max(seconds, HOP_RUNGS[0][1])]
    return max(fitting) if fitting else 0


def prescribe_hops(
    history: AthleteHistory, gate: Gate, program_week: int | None, th: RuleThresholds, as_of: date
) -> tuple[tuple[int, int], str]:
    """(legs, seconds) for 3 sets of pogo hops, and why."""
    start = as_of - timedelta(days=th.tendon_recorded_lookback_days - 1)
    hops = [s for s in history.strength if s.exercise == POGO_HOPS and start <= s.local_date <= as_of]
    current = max((hop_rung(s) for s in hops), default=0)
    seen = (f"recorded {HOP_RUNGS[current][1]} s on {'one leg' if HOP_RUNGS[current][0] == 1 else 'two legs'}"
            if hops else "none recorded lately")
    if gate.flare is not None:
        return HOP_RUNGS[0], (
            f"Pogo hops restart small on two legs after pain on {gate.flare.isoformat()} "
            f"({gate.flare_rule}): {seen}."
        )
    if not hops:
        return HOP_RUNGS[0], (
            f"Pogo hops: none recorded in the last {th.tendon_recorded_lookback_days} days, so start "
            f"on two legs, {HOP_RUNGS[0][1]} s."
        )
    single_from = th.plan_single_leg_hops_from_week
    top = len(HOP_RUNGS) - 1 if (program_week or 1) >= single_from else 1
    if not gate.progress or (program_week or 1) <= th.calf_intensity_after_weeks:
        why = gate.why_not or f"program week {program_week or 1}: learn them on two legs first"
        rung = min(current, top) if gate.progress else current
        return HOP_RUNGS[rung], f"Pogo hops not progressed ({why}): {seen}."
    rung = min(current + 1, top)
    held = "" if rung > current else (
        f"; one leg from program week {single_from}" if top == 1 else "; top of the ladder")
    return HOP_RUNGS[rung], f"Pogo hops one rung up at most: {seen}{held}."


__all__ = [
    "HOP_RUNGS",
    "Dose",
    "Gate",
    "Prescription",
    "choose_dose",
    "prescribe_hops",
    "prescribe_load",
    "recorded_dose",
]
