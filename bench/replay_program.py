"""Replay a year of weekly plans, Sunday by Sunday, for two realistic runners (issue 16).

Each Sunday the library evaluates the history so far (``domain.rules.evaluate``) and plans the
next week (``domain.plan.plan_next_week``); the simulated runner then does that week: runs the
middle of the planned range (up to their goal volume), does the tendon sessions as prescribed *as far as their calves
allow* (a hold at most 90 % of their true single-leg max, heel drops only with 12 reps
possible), records what was done, and reports pain. The table shows the doses week by week.

    .venv/bin/python bench/replay_program.py            # both runners, 52 weeks
    .venv/bin/python bench/replay_program.py --weeks 30 --runner flare

Runners (both 12-week program from week 1, then maintenance):
* ``steady`` (Ana, 70 kg): 4 runs a week building to 55 km, logs reps in reserve, tests her single-leg max in
  weeks 4, 16, 28 and 40, a marathon at the end of week 30 (the week after is a race recovery
  week: ``race_recovery_week=True``).
* ``flare`` (Ben, 62 kg): builds to 45 km a week; also does two-leg standing calf raises the watch records (FIT
  category_subtype 19), never logs reps in reserve or a max; a 6/10 pain flare in week 18,
  then stable 3/10 next-morning pain (Silbernagel's acceptable zone) in weeks 20-30.

Nothing here is measured on people: the runners' capacities are assumptions of the replay.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from tendon_pipeline.domain.exercises import legs, per_leg_kg
from tendon_pipeline.domain.load import achilles_multiple, estimate_steps
from tendon_pipeline.domain.models import (
    AthleteHistory,
    MaxTest,
    PainEntry,
    RunSummary,
    StrengthEntry,
    TendonSession,
    WeekPlan,
)
from tendon_pipeline.domain.plan import plan_next_week
from tendon_pipeline.domain.rules import evaluate
from tendon_pipeline.domain.thresholds import RuleThresholds

START = date(2025, 1, 6)  # a Monday
STEP = 2.5
RUN_DAYS = ((1, 0.22, 3.1), (3, 0.25, 3.0), (5, 0.18, 2.9), (6, 0.35, 2.8))  # (weekday, share, m/s)
TENDON_DAYS = (0, 2, 4)


@dataclass
class Runner:
    athlete_id: str
    body_mass_kg: float
    true_max_per_leg: float  # single-leg standing 1RM per leg, kg (body mass included)
    start_km: float
    goal_km: float  # the weekly volume the runner builds to and then keeps
    logs_rir: bool
    tested_weeks: frozenset[int] = frozenset()
    races: dict[int, float] = field(default_factory=dict)  # program week -> race km on its Sunday
    pain: dict[int, tuple[int, int]] = field(default_factory=dict)  # program week -> (during, morning)
    fit_two_leg_raises: bool = False


RUNNERS = {
    "steady": Runner("ana", 70.0, 150.0, 25.0, 55.0, logs_rir=True, tested_weeks=frozenset({4, 16, 28, 40}),
                     races={30: 42.2}),
    "flare": Runner("ben", 62.0, 120.0, 30.0, 45.0, logs_rir=False, fit_two_leg_raises=True,
                    pain={18: (6, 5), 19: (4, 4), **{w: (3, 3) for w in range(20, 31)}}),
}


def _run(runner: Runner, day: date, km: float, speed: float) -> RunSummary:
    distance = km * 1000.0
    steps = estimate_steps(distance, distance / speed)
    return RunSummary(
        athlete_id=runner.athlete_id, activity_id=f"{runner.athlete_id}-{day.isoformat()}", local_date=day,
        start_utc=datetime.combine(day, time(7), tzinfo=UTC), sport="running", distance_m=distance,
        duration_s=distance / speed, avg_speed_mps=speed, steps=steps, tendon_load_bw=steps * achilles_multiple(speed),
        is_running=True,
    )


def week_runs(runner: Runner, plan: WeekPlan, week: int, monday: date) -> list[RunSummary]:
    km = runner.start_km if plan.status == "restart" and week == 1 else (plan.target_km_low + plan.target_km_high) / 2
    km = min(km, runner.goal_km) if plan.status == "progress" else km
    days = RUN_DAYS[1:3] if plan.status == "pain" else RUN_DAYS
    total = sum(share for _, share, _ in days)
    runs = []
    for weekday, share, speed in days:
        distance = min(km * share / total, plan.long_run_cap_km) if weekday == 6 else km * share / total
        if weekday == 6 and week in runner.races:
            distance, speed = runner.races[week], 3.2
        if distance > 0.5:
            runs.append(_run(runner, monday + timedelta(days=weekday), distance, speed))
    return runs


def _floor(value: float) -> float:
    return max(0.0, math.floor(value / STEP + 1e-9) * STEP)


def done_set(runner: Runner, session: TendonSession, day: date, capacity: float) -> StrengthEntry:
    """What the runner manages of a prescribed exercise (capacity: true single-leg max per leg)."""
    variant = session.variant or "single_leg"
    load = session.load_kg or 0.0
    rir = None
    if session.exercise == "isometric_calf_raise_hold":
        limit = 0.9 * capacity
        while load > 0 and (per_leg_kg(variant, load, runner.body_mass_kg) or 0) > limit:
            load -= STEP
    elif session.exercise == "eccentric_heel_drop":
        eccentric_max = 1.2 * capacity  # eccentric strength exceeds concentric

        def possible(kg: float) -> float:
            return 30.0 * (eccentric_max / (per_leg_kg(variant, kg, runner.body_mass_kg) or 1.0) - 1.0)

        while load > 0 and possible(load) < (session.reps or 12):
            load -= STEP
        rir = max(0, min(8, int(possible(load)) - (session.reps or 12))) if runner.logs_rir else None
    kind = {"pogo_hops": "plyometric", "isometric_calf_raise_hold": "isometric"}.get(session.exercise, "strength")
    return StrengthEntry(
        athlete_id=runner.athlete_id, local_date=day, exercise=session.exercise, kind=kind, sets=session.sets,
        reps=session.reps, seconds=session.hold_s, load_kg=max(load, 0.0) or None, variant=variant,
        reps_in_reserve=rir,
    )


def week_strength(runner: Runner, plan: WeekPlan, week: int, monday: date, capacity: float) -> list[StrengthEntry]:
    days = TENDON_DAYS[: plan.tendon_sessions_per_week]
    if week % 7 == 0:
        days = days[:-1]  # a missed session now and then
    out = [done_set(runner, s, monday + timedelta(days=d), capacity) for d in days for s in plan.tendon_sessions]
    if runner.fit_two_leg_raises and plan.status != "pain":
        load = _floor(0.35 * runner.body_mass_kg + week * 0.5)
        out.append(StrengthEntry(athlete_id=runner.athlete_id, local_date=monday + timedelta(days=2),
                                 exercise="calf_raise", kind="strength", sets=3, reps=10, load_kg=load,
                                 source="fit", variant="two_leg"))
    return out


def week_pain(runner: Runner, week: int, monday: date) -> list[PainEntry]:
    during, morning = runner.pain.get(week, (1, 1))
    return [PainEntry(athlete_id=runner.athlete_id, local_date=monday + timedelta(days=d), during=during,
                      next_morning=morning) for d in (2, 5)]


def grow(capacity: float, plan: WeekPlan, runner: Runner) -> float:
    """The runner's true max: +0.8 % a week of loaded calf work, -1 % in a painful week."""
    if plan.status == "pain":
        return capacity * 0.99
    loaded = any((s.load_per_leg_kg or 0) >= 0.6 * capacity for s in plan.tendon_sessions)
    return capacity * (1.008 if loaded else 1.0)


def _dose(session: TendonSession | None) -> str:
    if session is None:
        return "-"
    where = "1L" if legs(session.variant) == 1 else "2L"
    if session.exercise == "pogo_hops":
        return f"{where} 3x{session.hold_s:g}s"
    added = f"+{session.load_kg:g}" if session.load_kg else "BW"
    per_leg = f"({session.load_per_leg_kg:.0f}/leg)" if session.load_per_leg_kg else ""
    return f"{where} {added}{per_leg}"


def replay(runner: Runner, weeks: int, th: RuleThresholds) -> list[str]:
    history = AthleteHistory(athlete_id=runner.athlete_id, body_mass_kg=runner.body_mass_kg, program_start=START)
    capacity = runner.true_max_per_leg
    plan = plan_next_week(history, [], th, START - timedelta(days=1))
    seen: set[str] = set()
    plans: list[WeekPlan] = []
    fired: list[str] = []
    lines = [f"runner {runner.athlete_id} ({runner.body_mass_kg:g} kg; "
             f"true single-leg max {capacity:.0f} kg per leg at start)",
             f"{'wk':>3} {'plan for':10} {'status':8} {'km':>11} {'holds':>16} {'heel drops':>16} {'hops':>10}"
             f" {'true max':>8}  alerts of the week"]
    for week in range(1, weeks + 1):
        monday = START + timedelta(weeks=week - 1)
        sunday = monday + timedelta(days=6)
        sessions = {s.exercise: s for s in plan.tendon_sessions}
        plans.append(plan)
        lines.append(
            f"{week:>3} {plan.week_start.isoformat():10} {plan.status:8}"
            f" {plan.target_km_low:5.1f}-{plan.target_km_high:5.1f}"
            f" {_dose(sessions.get('isometric_calf_raise_hold')):>16} {_dose(sessions.get('eccentric_heel_drop')):>16}"
            f" {_dose(sessions.get('pogo_hops')):>10} {capacity:8.0f}"
        )
        tests = []
        if week in runner.tested_weeks:
            tests = [MaxTest(athlete_id=runner.athlete_id, local_date=sunday, exercise="calf_raise",
                             variant="single_leg", load_kg=_floor(capacity - runner.body_mass_kg))]
        history = history.model_copy(update={
            "runs": [*history.runs, *week_runs(runner, plan, week, monday)],
            "strength": [*history.strength, *week_strength(runner, plan, week, monday, capacity)],
            "pain": [*history.pain, *week_pain(runner, week, monday)],
            "max_tests": [*history.max_tests, *tests],
        })
        capacity = grow(capacity, plan, runner)
        alerts = evaluate(history, th, sunday)
        new = [a for a in alerts if a.key not in seen]
        seen |= {a.key for a in alerts}
        fired += [f"{a.rule}:{a.severity}" for a in new]
        lines[-1] += "  " + ", ".join(sorted({f"{a.rule}:{a.severity}" for a in new}))
        plan = plan_next_week(history, alerts, th, sunday, race_recovery_week=week in runner.races)
    return lines + summary(plans, fired)


def summary(plans: list[WeekPlan], alerts: list[str]) -> list[str]:
    """Largest week-on-week per-leg rise of each prescription, plans by status, alert counts."""
    out = []
    for exercise in ("isometric_calf_raise_hold", "eccentric_heel_drop"):
        loads = [next((s.load_per_leg_kg for s in p.tendon_sessions if s.exercise == exercise), None) for p in plans]
        steps = [b / a - 1 for a, b in zip(loads, loads[1:]) if a and b]
        out.append(f"{exercise}: per-leg load {min(x for x in loads if x):.0f}-{max(x for x in loads if x):.0f} kg,"
                   f" largest weekly rise {100 * max(steps, default=0.0):.1f} %")
    statuses: dict[str, int] = {}
    for p in plans:
        statuses[p.status] = statuses.get(p.status, 0) + 1
    counts: dict[str, int] = {}
    for key in alerts:
        counts[key] = counts.get(key, 0) + 1
    tendon = {k: v for k, v in sorted(counts.items()) if k.startswith(("tendon_loading", "pain", "plyometric"))}
    return out + [f"plans by status: {statuses}", f"tendon and pain alerts over the year: {tendon}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--runner", choices=[*RUNNERS, "all"], default="all")
    args = parser.parse_args()
    th = RuleThresholds()
    for name, runner in RUNNERS.items():
        if args.runner in (name, "all"):
            print("\n".join(replay(runner, args.weeks, th)))
            print()


if __name__ == "__main__":
    main()
