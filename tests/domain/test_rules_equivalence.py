"""Frozen results of ``evaluate`` and ``plan_next_week`` on varied year-long histories.

The expectations in ``rules_equivalence_expected.json`` were computed with the original
(per-week recomputing) implementation before the issue 6 speed-up; any optimisation of the
rules must give exactly the same alerts and plans. Regenerate ONLY for an intended change
of behaviour:

    .venv/bin/python tests/domain/test_rules_equivalence.py --write
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from domain_builders import steady_block  # noqa: E402

from tendon_pipeline.domain.load import achilles_multiple, estimate_steps  # noqa: E402
from tendon_pipeline.domain.models import (  # noqa: E402
    AthleteHistory,
    PainEntry,
    RunSummary,
    StrengthEntry,
    VisaAEntry,
)
from tendon_pipeline.domain.plan import plan_next_week  # noqa: E402
from tendon_pipeline.domain.rules import evaluate  # noqa: E402
from tendon_pipeline.domain.thresholds import RuleThresholds  # noqa: E402

EXPECTED = Path(__file__).resolve().parent / "rules_equivalence_expected.json"
START = date(2025, 1, 6)  # Monday
YEAR_END = START + timedelta(weeks=52, days=-1)  # Sunday
EXERCISES = (
    ("calf_raise", "strength"),
    ("isometric_calf_raise_hold", "isometric"),
    ("eccentric_heel_drop", "strength"),
    ("pogo_hops", "plyometric"),
    ("squat", "strength"),
    ("box_jumps", "plyometric"),
)
THRESHOLDS = {
    "default": RuleThresholds(),
    "ewma_no_context": RuleThresholds(acwr_method="ewma", acwr_context_only=False),
    "coupled_strict": RuleThresholds(
        acwr_method="coupled", acwr_caution=1.1, monotony_warning=1.5, volume_increase_caution=0.05
    ),
    "long_chronic": RuleThresholds(chronic_days=42, acute_days=5, acwr_caution=1.2),
}


# --------------------------------------------------------------------------- random histories


def _run(athlete: str, i: int, day: date, km: float, speed: float, hour: int, tz_h: int, sport: str) -> RunSummary:
    distance = km * 1000.0
    duration = distance / speed
    steps = estimate_steps(distance, duration)
    local = datetime.combine(day, time(hour))
    return RunSummary(
        athlete_id=athlete, activity_id=f"{athlete}-r{i:04d}", local_date=day,
        start_utc=(local - timedelta(hours=tz_h)).replace(tzinfo=timezone.utc), sport=sport,
        distance_m=distance, duration_s=duration, avg_speed_mps=speed, steps=steps,
        tendon_load_bw=steps * achilles_multiple(speed),
    )


def random_history(seed: int, weeks: int = 52) -> AthleteHistory:
    """A year of runs (spikes, breaks, doubles, cross-training, time zones), strength work,
    pain reports and VISA-A scores, from a seeded generator."""
    rng = random.Random(seed)
    athlete = f"r{seed}"
    runs, work, pains, scores = [], [], [], []
    base_km = rng.uniform(15, 60)
    break_week = rng.randrange(10, 40) if seed % 3 == 0 else -1
    visa_score = rng.randint(60, 95)
    for week in range(weeks):
        monday = START + timedelta(weeks=week)
        factor = rng.choice((0.6, 0.9, 1.0, 1.0, 1.05, 1.1, 1.3, 1.6))
        if break_week <= week < break_week + 3:
            factor = 0.0
        days = sorted(rng.sample(range(7), rng.randint(2, 6)))
        for d in days if factor else ():
            day = monday + timedelta(days=d)
            km = max(0.5, base_km * factor / len(days) * rng.uniform(0.4, 2.2))
            tz_h = rng.choice((0, 0, 1, -5, 9, 13, -11))
            sport = rng.choice(("running",) * 8 + ("trail_running", "cycling"))
            runs.append(_run(athlete, len(runs), day, km, rng.uniform(2.0, 4.6), rng.randint(5, 21), tz_h, sport))
            if rng.random() < 0.1:  # a double
                runs.append(_run(athlete, len(runs), day, rng.uniform(2, 8), 2.8, 19, tz_h, "running"))
        for _ in range(rng.randint(0, 5)):
            exercise, kind = rng.choice(EXERCISES)
            work.append(StrengthEntry(
                athlete_id=athlete, local_date=monday + timedelta(days=rng.randrange(7)), exercise=exercise,
                kind=kind, sets=rng.randint(0, 5), reps=rng.choice((None, 1, 6, 8, 12, 15)),
                seconds=rng.choice((None, 20.0, 45.0)), load_kg=rng.choice((None, 0.0, 10.0, 25.0, 42.5)),
                source=rng.choice(("fit", "manual")),
            ))
        for _ in range(rng.randint(0, 3)):
            pains.append(PainEntry(
                athlete_id=athlete, local_date=monday + timedelta(days=rng.randrange(7)),
                during=min(10, max(0, int(rng.gauss(2 + week % 7 * 0.4, 2)))),
                next_morning=rng.choice((None, rng.randint(0, 8))),
            ))
        if rng.random() < 0.35:
            visa_score = min(100, max(0, visa_score + rng.randint(-18, 12)))
            scores.append(VisaAEntry(athlete_id=athlete, local_date=monday + timedelta(days=rng.randrange(7)),
                                     score=visa_score))
    return AthleteHistory(
        athlete_id=athlete, body_mass_kg=None if seed % 4 == 1 else rng.uniform(50, 95),
        program_start=START + timedelta(days=rng.randrange(60)) if seed % 2 else None,
        runs=runs, strength=work, pain=pains, visa_a=scores,
    )


def generated_history(index: int, weeks: int = 52) -> AthleteHistory:
    """An athlete as bench/run_bench.py generates them (all five scenarios by index)."""
    from tendon_pipeline.examples import generate as g

    profile = g.AthleteProfile(
        athlete_id=f"a{index:04d}", body_mass_kg=55.0 + index % 35, cadence_spm=160.0 + index % 25,
        easy_pace_s_per_km=300.0 + (index * 7) % 90, serial_number=3_900_000_000 + index,
    )
    base = 20.0 + (index * 13) % 40
    scenario = {1: g.volume_spike, 2: g.long_run_spike, 3: g.no_strength}.get(index % 5)
    if scenario is not None:
        specs = scenario(profile, START, weeks, base_km=base, seed=index)
    else:
        specs = g.weekly_plan_history(profile, g.progressive_weekly_km(weeks, base_km=base), START, seed=index)
    athlete = profile.athlete_id
    runs, work, pains = [], [], []
    for i, spec in enumerate(specs):
        day = spec.local_start.date()
        if spec.strength_sets:
            for s in spec.strength_sets:
                work.append(StrengthEntry(
                    athlete_id=athlete, local_date=day, exercise=s.category or "other",
                    kind="isometric" if (s.repetitions or 0) <= 1 else "strength", sets=1,
                    reps=s.repetitions, seconds=s.duration_s, load_kg=s.weight_kg, source="fit"))
            continue
        runs.append(g.expected_run_summary(athlete, f"{athlete}-{i}", spec))
        if i % 9 == 0:
            pains.append(PainEntry(athlete_id=athlete, local_date=day, during=i % 4, next_morning=i % 3))
    return AthleteHistory(athlete_id=athlete, body_mass_kg=profile.body_mass_kg, runs=runs,
                          strength=work, pain=pains)


def cases() -> list[tuple[str, AthleteHistory, str, date]]:
    """(name, history, thresholds name, as_of)."""
    out: list[tuple[str, AthleteHistory, str, date]] = []
    histories = [(f"random{s}", random_history(s)) for s in range(8)]
    histories += [(f"generated{i}", generated_history(i)) for i in range(5)]
    histories.append(("steady_block", steady_block()))
    as_ofs = (YEAR_END, YEAR_END - timedelta(days=3), date(2025, 6, 18), START - timedelta(days=1))
    for name, h in histories:
        for as_of in as_ofs:
            out.append((name, h, "default", as_of))
        for th_name in THRESHOLDS:
            if th_name != "default" and name in ("random0", "random1", "random3", "generated1", "generated2"):
                out.append((name, h, th_name, YEAR_END))
    return out


def _key(name: str, th_name: str, as_of: date) -> str:
    return f"{name}|{th_name}|{as_of.isoformat()}"


def results(h: AthleteHistory, th_name: str, as_of: date) -> dict[str, Any]:
    """Alert keys and severities in order, a digest of the full alerts (message and evidence
    included: kept small in the fixture), and the whole plan."""
    th = THRESHOLDS[th_name]
    alerts = evaluate(h, th, as_of)
    plan = plan_next_week(h, alerts, th, as_of)
    dumped = [a.model_dump(mode="json") for a in alerts]
    canonical = json.dumps(dumped, sort_keys=True, separators=(",", ":"))
    return {
        "alerts": [f"{a.date.isoformat()} {a.key} {a.severity}" for a in alerts],
        "alerts_sha256": hashlib.sha256(canonical.encode()).hexdigest(),
        "plan": plan.model_dump(mode="json"),
    }


def compute_all() -> dict[str, Any]:
    return {_key(name, th_name, as_of): results(h, th_name, as_of) for name, h, th_name, as_of in cases()}


# --------------------------------------------------------------------------- tests

_CASES = cases()


@pytest.fixture(scope="module")
def expected() -> dict[str, Any]:
    return json.loads(EXPECTED.read_text())


def test_fixture_covers_every_case_and_many_rules(expected):
    assert set(expected) == {_key(n, t, a) for n, _, t, a in _CASES}
    fired = {a.split(" ")[1].split(":")[1] for r in expected.values() for a in r["alerts"]}
    assert len(fired) >= 10, fired
    assert {r["plan"]["status"] for r in expected.values()} >= {"progress", "hold", "cut", "pain", "restart"}


@pytest.mark.parametrize(("name", "h", "th_name", "as_of"), _CASES, ids=[_key(n, t, a) for n, _, t, a in _CASES])
def test_same_alerts_and_plan_as_frozen(expected, name, h, th_name, as_of):
    got = results(h, th_name, as_of)
    want = expected[_key(name, th_name, as_of)]
    assert got["alerts"] == want["alerts"]
    assert got["alerts_sha256"] == want["alerts_sha256"], "same alerts, different messages or evidence"
    assert got["plan"] == want["plan"]


if __name__ == "__main__":
    if "--write" not in sys.argv:
        sys.exit("usage: test_rules_equivalence.py --write  (regenerates the frozen expectations)")
    EXPECTED.write_text(json.dumps(compute_all(), indent=0, sort_keys=True) + "\n")
    print(f"wrote {EXPECTED}")
