"""Small builders for domain tests (pure data; imported by the test modules next to it)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from tendon_pipeline.domain.load import achilles_multiple, estimate_steps
from tendon_pipeline.domain.models import (
    AthleteHistory,
    PainEntry,
    RunSummary,
    StrengthEntry,
    VisaAEntry,
)

ATHLETE = "a1"
# ISO week 2026-W47 runs Monday 16 Nov to Sunday 22 Nov 2026.
W46 = date(2026, 11, 9)
W47 = date(2026, 11, 16)
W47_SUNDAY = date(2026, 11, 22)



def run(
    day: date,
    km: float,
    speed: float = 2.9,
    load_bw: float | None = None,
    sport: str = "running",
    hour: int = 7,
    activity_id: str | None = None,
) -> RunSummary:
    """A run; tendon load from the estimated steps x Achilles multiple unless given."""
    distance = km * 1000.0
    duration = distance / speed if speed > 0 else 0.0
    steps = estimate_steps(distance, duration)
    if load_bw is None:
        load_bw = steps * achilles_multiple(speed)
    return RunSummary(
        athlete_id=ATHLETE,
        activity_id=activity_id or f"{day.isoformat()}-{hour:02d}-{km:g}",
        local_date=day,
        start_utc=datetime.combine(day, time(hour), tzinfo=UTC),
        sport=sport,
        distance_m=distance,
        duration_s=duration,
        avg_speed_mps=speed,
        steps=steps,
        steps_method="estimated",
        tendon_load_bw=load_bw,
        tendon_load_n=None,
        load_method="estimated",
    )


def strength(
    day: date,
    exercise: str,
    kind: str = "strength",
    sets: int = 3,
    reps: int | None = 12,
    seconds: float | None = None,
    load_kg: float | None = None,
) -> StrengthEntry:
    return StrengthEntry(
        athlete_id=ATHLETE,
        local_date=day,
        exercise=exercise,
        kind=kind,  # type: ignore[arg-type]
        sets=sets,
        reps=reps,
        seconds=seconds,
        load_kg=load_kg,
        source="manual",
    )


def hold(day: date, load_kg: float | None = None, sets: int = 3) -> StrengthEntry:
    return strength(day, "isometric_calf_raise_hold", "isometric", sets, None, 45, load_kg)


def hops(day: date, sets: int = 3) -> StrengthEntry:
    return strength(day, "pogo_hops", "plyometric", sets, None, 20)


def pain(day: date, during: int, next_morning: int | None = None) -> PainEntry:
    return PainEntry(athlete_id=ATHLETE, local_date=day, during=during, next_morning=next_morning)


def visa(day: date, score: int) -> VisaAEntry:
    return VisaAEntry(athlete_id=ATHLETE, local_date=day, score=score)


def history(
    runs=(), strength_entries=(), pain_entries=(), visa_entries=(), body_mass_kg=70.0, program_start=None
) -> AthleteHistory:
    return AthleteHistory(
        athlete_id=ATHLETE,
        body_mass_kg=body_mass_kg,
        program_start=program_start,
        runs=list(runs),
        strength=list(strength_entries),
        pain=list(pain_entries),
        visa_a=list(visa_entries),
    )


def daily_runs(start: date, loads: list[float], km: float = 3.0) -> list[RunSummary]:
    """One run a day from ``start`` with the given tendon loads (same distance each day)."""
    return [run(start + timedelta(days=i), km, load_bw=load) for i, load in enumerate(loads)]


# --------------------------------------------------------------------------- steady block

BLOCK_START = date(2026, 8, 31)  # Monday; 12 weeks end on Sunday 22 Nov 2026 (W47)
BLOCK_WEEKS = 12
BLOCK_END = BLOCK_START + timedelta(weeks=BLOCK_WEEKS) - timedelta(days=1)
# Share of the week's distance and pace for each running day (Mon long, Wed, Fri tempo, Sat).
BLOCK_DAYS = ((0, 0.35, 2.8), (2, 0.25, 2.9), (4, 0.22, 3.3), (5, 0.18, 2.9))


def block_week_km(week: int) -> float:
    """Weekly distance: 20 km growing 6 % a week (under the 10 % line)."""
    return 20.0 * 1.06**week


def steady_block(weeks: int = BLOCK_WEEKS, body_mass_kg: float = 70.0) -> AthleteHistory:
    """A well-progressed block: four runs a week, long run first, +6 % a week; three tendon
    sessions a week (bodyweight holds and heel drops for four weeks, then loaded calf raises
    rising 2.5 kg a week); one short set of hops a week; low pain; VISA-A improving."""
    runs, work, pains, scores = [], [], [], []
    for week in range(weeks):
        monday = BLOCK_START + timedelta(weeks=week)
        for offset, share, speed in BLOCK_DAYS:
            runs.append(run(monday + timedelta(days=offset), block_week_km(week) * share, speed))
        for offset in (1, 3, 6):  # Tue, Thu, Sun tendon sessions
            day = monday + timedelta(days=offset)
            if week < 4:
                work += [hold(day), strength(day, "eccentric_heel_drop", reps=12)]
            else:
                load = 30.0 + 2.5 * (week - 4)
                work += [
                    hold(day, load_kg=load),
                    strength(day, "calf_raise", reps=8, load_kg=load),
                    strength(day, "eccentric_heel_drop", reps=12, load_kg=10.0),
                ]
        work.append(hops(monday + timedelta(days=3)))
        pains.append(pain(monday + timedelta(days=2), during=1, next_morning=1))
        if week in (0, 5, 11):
            scores.append(visa(monday + timedelta(days=6), 84 + week))
    return history(runs, work, pains, scores, body_mass_kg=body_mass_kg, program_start=BLOCK_START)
