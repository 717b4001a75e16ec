"""Calf maximum and per-leg loads, judged honestly.

A week's calf work is compared with a maximum that does not come from that week's sets
(otherwise any set of 12 reps or fewer scores at least 1 / (1 + 12/30) = 71 % of its own Epley
estimate). In order of preference:

1. ``tested``: the newest tested max (``tendon log max``) of the last
   ``one_rm_tested_lookback_weeks`` up to the judged week's Sunday;
2. ``reps_in_reserve``: Epley over sets before the judged week that carry reps in reserve,
   reps to failure = reps + RIR (the best estimate over ``one_rm_lookback_weeks``);
3. ``heaviest_recent_sets``: Epley over the heaviest sets before the judged week. Sets are rarely
   taken to failure, so this is a lower bound of the max and the intensity it gives an upper
   bound; the evidence says so.

All loads are per leg (``exercises.per_leg_kg``): a two-leg raise's load is halved, a seated
raise carries no body mass. Seated and standing work are compared with maxima of their own
position.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Literal, NamedTuple

from .exercises import CALF_EXERCISES, carries_body_mass, per_leg_kg, variant_of
from .load import epley_1rm
from .models import AthleteHistory, StrengthEntry
from .thresholds import RuleThresholds

Method = Literal["tested", "reps_in_reserve", "heaviest_recent_sets"]
Position = Literal["standing", "seated"]

METHOD_TEXT: dict[str, str] = {
    "tested": "your tested max",
    "reps_in_reserve": "an Epley estimate from earlier sets with reps in reserve",
    "heaviest_recent_sets": (
        "an Epley estimate from your heaviest earlier sets (a lower bound: sets are rarely taken "
        "to failure, so the real intensity is likely lower)"
    ),
}


class CalfMax(NamedTuple):
    per_leg_kg: float
    method: Method
    day: date
    exercise: str
    variant: str | None


def position_of(exercise: str, variant: str | None) -> Position:
    return "standing" if carries_body_mass(variant_of(exercise, variant)) else "seated"


def entry_per_leg_kg(entry: StrengthEntry, body_mass_kg: float | None) -> float | None:
    """Weight one tendon moved in this entry's sets (None without body mass when it counts)."""
    return per_leg_kg(variant_of(entry.exercise, entry.variant), entry.load_kg, body_mass_kg)


def _tested(history: AthleteHistory, position: Position, end: date, th: RuleThresholds) -> CalfMax | None:
    start = end - timedelta(weeks=th.one_rm_tested_lookback_weeks) + timedelta(days=1)
    tests = [
        t for t in history.max_tests
        if start <= t.local_date <= end and t.exercise in CALF_EXERCISES
        and position_of(t.exercise, t.variant) == position
    ]
    for test in sorted(tests, key=lambda t: t.local_date, reverse=True):
        weight = per_leg_kg(test.variant, test.load_kg, history.body_mass_kg)
        if weight is not None and weight > 0:
            return CalfMax(epley_1rm(weight, test.reps), "tested", test.local_date, test.exercise, test.variant)
    return None


def _from_sets(
    entries: Iterable[StrengthEntry], body_mass_kg: float | None, with_rir: bool
) -> CalfMax | None:
    best: CalfMax | None = None
    for entry in entries:
        if with_rir and entry.reps_in_reserve is None:
            continue
        weight = entry_per_leg_kg(entry, body_mass_kg)
        if weight is None or weight <= 0 or not entry.reps:
            continue
        reps = entry.reps + ((entry.reps_in_reserve or 0) if with_rir else 0)
        estimate = epley_1rm(weight, reps)
        if best is None or estimate > best.per_leg_kg:
            method: Method = "reps_in_reserve" if with_rir else "heaviest_recent_sets"
            best = CalfMax(estimate, method, entry.local_date, entry.exercise, entry.variant)
    return best


def calf_max(
    history: AthleteHistory, monday: date, position: Position, th: RuleThresholds
) -> CalfMax | None:
    """The per-leg maximum the week starting ``monday`` is judged against (see module doc)."""
    sunday = monday + timedelta(days=6)
    tested = _tested(history, position, sunday, th)
    if tested is not None:
        return tested
    start = monday - timedelta(weeks=th.one_rm_lookback_weeks)
    earlier = [
        s for s in history.strength
        if start <= s.local_date < monday and s.kind == "strength" and s.exercise in CALF_EXERCISES
        and position_of(s.exercise, s.variant) == position
    ]
    earlier.sort(key=lambda s: (s.local_date, s.exercise))
    return _from_sets(earlier, history.body_mass_kg, with_rir=True) or _from_sets(
        earlier, history.body_mass_kg, with_rir=False
    )


__all__ = ["METHOD_TEXT", "CalfMax", "calf_max", "entry_per_leg_kg", "position_of"]
