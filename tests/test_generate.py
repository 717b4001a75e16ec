"""Tests for the FIT example-data generator: real files, decoded with python-fitparse."""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from statistics import mean, pstdev

import fitparse
import pytest
from garmin_fit_sdk import Decoder, Stream
from pydantic import ValidationError

from tendon_pipeline.examples.generate import (
    ActivitySpec,
    AthleteProfile,
    StrengthSet,
    calf_raise_session,
    example_athletes,
    example_histories,
    fit_bytes,
    generate_example_inbox,
    long_run_spike,
    monotonous_block,
    no_strength,
    progressive_weekly_km,
    steady_block,
    volume_spike,
    weekly_plan_history,
    write_activity,
    write_settings_file,
    write_workout_file,
)

START = datetime(2025, 3, 2, 6, 45, tzinfo=timezone.utc)
MONDAY = date(2025, 1, 6)
DYNAMICS = ("stance_time", "vertical_oscillation", "step_length", "vertical_ratio", "stance_time_balance")


def decode(path_or_bytes: Path | bytes) -> dict[str, list[dict]]:
    """All messages by name, each as {field: value}, CRC checked."""
    out: dict[str, list[dict]] = defaultdict(list)
    for message in fitparse.FitFile(path_or_bytes, check_crc=True).get_messages():
        out[message.name].append(message.get_values())
    return out


def run_spec(**changes) -> ActivitySpec:
    base = dict(
        start_utc=START, utc_offset_s=-5 * 3600, distance_m=2750.4, duration_s=900, cadence_spm=171.4,
        running_dynamics=True, stance_time_ms=242, heart_rate=152, with_power=True,
        serial_number=3_912_345_678, product=3113, body_mass_kg=61.5, height_m=1.72, seed=7,
    )
    base.update(changes)
    return ActivitySpec(**base)


@pytest.fixture(scope="module")
def run_file(tmp_path_factory) -> tuple[ActivitySpec, dict[str, list[dict]]]:
    spec = run_spec()
    path = write_activity(tmp_path_factory.mktemp("run") / "run.fit", spec)
    return spec, decode(path)


# --------------------------------------------------------------------------- one activity


def test_file_id_and_device(run_file):
    spec, msgs = run_file
    (file_id,) = msgs["file_id"]
    assert file_id["type"] == "activity"
    assert file_id["serial_number"] == spec.serial_number
    assert file_id["manufacturer"] == "garmin"
    assert file_id["garmin_product"] == "fr945"
    assert file_id["time_created"] == START.replace(tzinfo=None)
    assert msgs["device_info"][0]["serial_number"] == spec.serial_number


def test_session_totals(run_file):
    spec, msgs = run_file
    (session,) = msgs["session"]
    assert (session["sport"], session["sub_sport"]) == ("running", "generic")
    assert abs(session["total_distance"] - spec.distance_m) <= 1.0
    assert session["total_timer_time"] == spec.duration_s == session["total_elapsed_time"]
    assert session["start_time"] == START.replace(tzinfo=None)
    assert session["avg_running_cadence"] * 2 + session["avg_fractional_cadence"] * 2 == pytest.approx(171.4, abs=0.5)
    assert session["total_strides"] == pytest.approx(171.4 / 2 * spec.duration_s / 60, abs=1)
    assert session["avg_stance_time"] == pytest.approx(242, abs=3)
    assert 150 <= session["avg_power"] <= 250


def test_records_once_a_second_with_monotonic_distance(run_file):
    spec, msgs = run_file
    records = msgs["record"]
    assert abs(len(records) - spec.duration_s) <= 1
    stamps = [r["timestamp"] for r in records]
    assert all((b - a).total_seconds() == 1 for a, b in zip(stamps, stamps[1:]))
    distances = [r["distance"] for r in records]
    assert all(b > a for a, b in zip(distances, distances[1:]))
    assert abs(distances[-1] - spec.distance_m) <= 1.0
    speeds = [r["enhanced_speed"] for r in records]
    assert mean(speeds) == pytest.approx(spec.distance_m / spec.duration_s, rel=0.01)
    assert min(speeds) > 0.85 * mean(speeds) and max(speeds) < 1.15 * mean(speeds)


def test_record_cadence_is_strides(run_file):
    _, msgs = run_file
    for record in msgs["record"]:
        assert record["cadence"] * 2 + record["fractional_cadence"] * 2 == pytest.approx(171.4, abs=0.5)


def test_running_dynamics_present_when_asked(run_file, tmp_path):
    _, msgs = run_file
    assert all(all(r.get(f) is not None for f in DYNAMICS) for r in msgs["record"])
    step = mean(r["step_length"] for r in msgs["record"])  # mm
    assert step == pytest.approx(2750.4 / 900 / (171.4 / 60) * 1000, rel=0.02)

    plain = decode(write_activity(tmp_path / "plain.fit", run_spec(running_dynamics=False, with_power=False)))
    assert not any(r.get(f) is not None for r in plain["record"] for f in DYNAMICS + ("power",))
    assert plain["session"][0].get("avg_stance_time") is None


def test_no_cadence_and_no_body_data(tmp_path):
    spec = run_spec(cadence_spm=None, running_dynamics=False, body_mass_kg=None, height_m=None, duration_s=300)
    msgs = decode(write_activity(tmp_path / "c.fit", spec))
    assert all(r.get("cadence") is None for r in msgs["record"])
    assert msgs["session"][0].get("avg_running_cadence") is None
    assert msgs["session"][0].get("total_strides") is None
    assert "user_profile" not in msgs


def test_user_profile_and_local_time(run_file):
    spec, msgs = run_file
    (profile,) = msgs["user_profile"]
    assert profile["weight"] == pytest.approx(61.5)
    assert profile["height"] == pytest.approx(1.72)
    (activity,) = msgs["activity"]
    assert (activity["local_timestamp"] - activity["timestamp"]).total_seconds() == spec.utc_offset_s
    assert activity["timestamp"] == (spec.start_utc + timedelta(seconds=spec.duration_s)).replace(tzinfo=None)
    assert activity["num_sessions"] == 1


def test_laps_every_kilometre(run_file):
    spec, msgs = run_file
    laps = msgs["lap"]
    assert len(laps) == math.ceil(spec.distance_m / 1000)
    assert sum(lap["total_distance"] for lap in laps) == pytest.approx(spec.distance_m, abs=0.05)
    assert sum(lap["total_timer_time"] for lap in laps) == spec.duration_s
    assert all(abs(lap["total_distance"] - 1000) < 5 for lap in laps[:-1])
    for a, b in zip(laps, laps[1:]):
        assert b["start_time"] == a["timestamp"]


def test_timer_events(run_file):
    spec, msgs = run_file
    events = [(e["event"], e["event_type"]) for e in msgs["event"]]
    assert events == [("timer", "start"), ("timer", "stop_all")]


def test_strength_sets_round_trip(tmp_path):
    sets = [
        StrengthSet(category="calf_raise", subtype=18, repetitions=12, weight_kg=22.5, duration_s=40.5),
        StrengthSet(category="unknown", duration_s=90, active=False),
        StrengthSet(category="plyo", repetitions=30, duration_s=25),
        StrengthSet(category="squat", subtype=3, repetitions=8, weight_kg=61.25, duration_s=30),
    ]
    spec = ActivitySpec(start_utc=START, sport="training", sub_sport="strength_training", distance_m=0,
                        duration_s=200, cadence_spm=None, heart_rate=105, strength_sets=sets)
    msgs = decode(write_activity(tmp_path / "s.fit", spec))
    session = msgs["session"][0]
    assert (session["sport"], session["sub_sport"]) == ("training", "strength_training")
    got = msgs["set"]
    assert [s["category"] for s in got] == ["calf_raise", "unknown", "plyo", "squat"]
    assert [s.get("category_subtype") for s in got] == [18, None, None, 3]
    assert [s.get("repetitions") for s in got] == [12, None, 30, 8]
    assert [s.get("weight") for s in got] == [22.5, None, None, 61.25]
    assert [s["set_type"] for s in got] == ["active", "rest", "active", "active"]
    assert [s["duration"] for s in got] == [40.5, 90, 25, 30]
    assert got[1]["start_time"] == (START + timedelta(seconds=40)).replace(tzinfo=None)
    assert len(msgs["record"]) == 200 and all(r.get("distance") is None for r in msgs["record"])


def test_fast_path_is_byte_identical_to_stock_encoder():
    for spec in (run_spec(duration_s=1500, distance_m=4321.0),
                 run_spec(duration_s=600, distance_m=1800.0, cadence_spm=None, running_dynamics=False,
                          heart_rate=None, with_power=False, seed=3),
                 ActivitySpec(start_utc=START, sport="training", sub_sport="strength_training", distance_m=0,
                              duration_s=700, cadence_spm=None, strength_sets=calf_raise_session(20))):
        data = fit_bytes(spec)
        assert data == fit_bytes(spec, reference=True)
        decoder = Decoder(Stream.from_byte_array(bytearray(data)))
        assert decoder.is_fit() and decoder.check_integrity()


def test_write_activity_is_atomic_and_deterministic(tmp_path):
    spec = run_spec(duration_s=120, distance_m=400)
    path = write_activity(tmp_path / "deep" / "a.fit", spec)
    first = path.read_bytes()
    write_activity(path, spec)
    assert path.read_bytes() == first
    assert [p.name for p in path.parent.iterdir()] == ["a.fit"]
    assert fit_bytes(run_spec(duration_s=120, distance_m=400, seed=8)) != first


@pytest.mark.parametrize("writer, kind", [(write_settings_file, "settings"), (write_workout_file, "workout")])
def test_non_activity_files(tmp_path, writer, kind):
    msgs = decode(writer(tmp_path / f"{kind}.fit"))
    assert msgs["file_id"][0]["type"] == kind
    assert "session" not in msgs and "record" not in msgs


def test_spec_validation():
    with pytest.raises(ValidationError):
        run_spec(start_utc=datetime(2025, 3, 2, 7))  # naive
    with pytest.raises(ValidationError):
        run_spec(cadence_spm=None)  # dynamics need cadence
    with pytest.raises(ValidationError):
        run_spec(sport="runing")
    with pytest.raises(ValidationError):
        StrengthSet(category="calf_raises", duration_s=30)
    with pytest.raises(ValidationError):
        run_spec(distance_m=90_000, duration_s=600)


# --------------------------------------------------------------------------- histories


def runs(specs):
    return [s for s in specs if s.sport == "running"]


def weekly_km(specs, start: date) -> dict[int, float]:
    out: dict[int, float] = defaultdict(float)
    for spec in runs(specs):
        out[(spec.local_start.date() - start).days // 7] += spec.distance_m / 1000
    return dict(out)


def strength_per_week(specs, start: date, weeks: int) -> list[int]:
    count = Counter((s.local_start.date() - start).days // 7 for s in specs if s.sport == "training")
    return [count[w] for w in range(weeks)]


def longest_ratios(specs, start: date, from_day: int = 7) -> list[float]:
    """Each run's distance over the longest run of the 30 days before it."""
    ratios = []
    for run in runs(specs):
        prior = [p.distance_m for p in runs(specs)
                 if run.start_utc - timedelta(days=30) <= p.start_utc < run.start_utc]
        if prior and (run.local_start.date() - start).days >= from_day:
            ratios.append(run.distance_m / max(prior))
    return ratios


def monotony(specs, start: date, week: int) -> float:
    days = [0.0] * 7
    for spec in runs(specs):
        offset = (spec.local_start.date() - start).days
        if offset // 7 == week:
            days[offset % 7] += spec.distance_m / 1000
    return mean(days) / pstdev(days) if pstdev(days) else math.inf


PROFILE = AthleteProfile(athlete_id="t", body_mass_kg=64, height_m=1.74, utc_offset_s=7200,
                         easy_pace_s_per_km=330, cadence_spm=172, running_dynamics=True)


def test_weekly_plan_history_matches_requested_km():
    plan = [20.0, 34.5, 0.0, 41.0, 12.0]
    specs = weekly_plan_history(PROFILE, plan, MONDAY, runs_per_week=4, strength_per_week=2, seed=4)
    got = weekly_km(specs, MONDAY)
    for week, km in enumerate(plan):
        assert got.get(week, 0.0) == pytest.approx(km, rel=0.01)
    assert {s.local_start.weekday() for s in runs(specs)} == {0, 2, 4, 6}
    for week in (0, 1, 3, 4):
        week_runs = [s for s in runs(specs) if (s.local_start.date() - MONDAY).days // 7 == week]
        longest = max(week_runs, key=lambda s: s.distance_m)
        assert longest.local_start.weekday() == 6
        assert longest.distance_m == pytest.approx(0.35 * plan[week] * 1000, abs=1)
    assert strength_per_week(specs, MONDAY, 5) == [2] * 5
    assert {s.local_start.weekday() for s in specs if s.sport == "training"} == {1, 3}
    assert all(s.utc_offset_s == 7200 and s.running_dynamics for s in runs(specs))
    assert all(s.strength_sets and s.sub_sport == "strength_training" for s in specs if s.sport == "training")


def test_weekly_plan_history_is_deterministic_per_seed():
    plan = [30.0, 33.0]
    assert weekly_plan_history(PROFILE, plan, MONDAY, seed=1) == weekly_plan_history(PROFILE, plan, MONDAY, seed=1)
    assert weekly_plan_history(PROFILE, plan, MONDAY, seed=1) != weekly_plan_history(PROFILE, plan, MONDAY, seed=2)
    with pytest.raises(ValueError):
        weekly_plan_history(PROFILE, plan, MONDAY + timedelta(days=1))


def test_steady_block_invariants():
    weeks = 12
    specs = steady_block(PROFILE, MONDAY, weeks=weeks, seed=5)
    km = weekly_km(specs, MONDAY)
    assert sorted(km) == list(range(weeks))
    increases = [km[w] / km[w - 1] - 1 for w in range(1, weeks)]
    assert max(increases) <= 0.08
    assert [w for w in range(1, weeks) if km[w] < km[w - 1]] == [3, 7, 11]  # down week every 4th
    assert max(longest_ratios(specs, MONDAY)) <= 1.10
    counts = strength_per_week(specs, MONDAY, weeks)
    assert set(counts) <= {2, 3} and sum(counts) >= 2.5 * weeks - 1
    loads = [max(x.weight_kg or 0 for x in s.strength_sets) for s in specs if s.sport == "training"]
    assert loads == sorted(loads) and loads[-1] > loads[0]
    assert max(monotony(specs, MONDAY, w) for w in range(weeks)) < 1.5


def test_volume_spike():
    specs = volume_spike(PROFILE, MONDAY, weeks=8, seed=2)
    km = weekly_km(specs, MONDAY)
    assert km[7] / km[6] >= 1.4
    assert max(km[w] / km[w - 1] for w in range(1, 7)) <= 1.08
    assert max(longest_ratios(specs, MONDAY)) <= 1.10  # only the volume rules fire


def test_long_run_spike():
    specs = long_run_spike(PROFILE, MONDAY, weeks=8, seed=2)
    ratios = longest_ratios(specs, MONDAY)
    assert ratios[-1] > 2.0 and max(ratios[:-1]) <= 1.10
    assert runs(specs)[-1].local_start.date() == MONDAY + timedelta(days=7 * 7 + 6)
    km = weekly_km(specs, MONDAY)
    assert km[7] <= 1.10 * km[6]  # the week's volume does not spike


def test_no_strength_and_monotonous_block():
    specs = no_strength(PROFILE, MONDAY, weeks=6, seed=1)
    assert max(strength_per_week(specs, MONDAY, 6)) <= 1
    assert max(longest_ratios(specs, MONDAY)) <= 1.10
    mono = monotonous_block(PROFILE, MONDAY, weeks=3, daily_km=7.0)
    assert all(monotony(mono, MONDAY, w) > 2.0 for w in range(3))
    assert len(runs(mono)) == 21


def test_progressive_weekly_km():
    km = progressive_weekly_km(9, 40.0)
    assert km[0] == 40.0 and km[3] < km[2] and km[7] < km[6]
    assert max(b / a for a, b in zip(km, km[1:])) == pytest.approx(1.07)


# --------------------------------------------------------------------------- example inbox

END = date(2025, 11, 26)  # a Wednesday: histories end on Sunday 2025-11-23


def test_example_histories_patterns():
    histories = example_histories(weeks=10, end=END, seed=0)
    start = date(2025, 9, 15)
    for specs in histories.values():
        local_days = [s.local_start.date() for s in specs]
        assert min(local_days) >= start and max(local_days) == date(2025, 11, 23)
    ana, ben, cleo = histories["ana"], histories["ben"], histories["cleo"]
    assert all(s.running_dynamics and s.body_mass_kg for s in runs(ana))
    assert max(longest_ratios(ana, start)) <= 1.10
    assert all(s.cadence_spm and not s.running_dynamics for s in runs(ben))
    assert max(longest_ratios(ben, start)) > 2.0
    km = weekly_km(ben, start)
    assert km[9] / km[8] >= 1.4
    assert all(s.cadence_spm is None for s in runs(cleo))
    assert max(strength_per_week(cleo, start, 10)) <= 1


def test_generate_example_inbox(tmp_path):
    first = generate_example_inbox(tmp_path / "a", weeks=4, end=END, seed=3)
    second = generate_example_inbox(tmp_path / "b", weeks=4, end=END, seed=3)
    assert {p.parent.name for p in first} == {"ana", "ben", "cleo"}
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d-(running|training)-\d\.fit", p.name) for p in first)
    assert [p.relative_to(tmp_path / "a") for p in first] == [p.relative_to(tmp_path / "b") for p in second]
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(first, second))
    assert len(first) == sum(len(v) for v in example_histories(4, END, 3).values())

    cleo_run = min((p for p in first if p.parent.name == "cleo" and "running" in p.name),
                   key=lambda p: p.stat().st_size)
    msgs = decode(cleo_run)
    assert msgs["file_id"][0]["serial_number"] == example_athletes()["cleo"].serial_number
    assert all(r.get("cadence") is None for r in msgs["record"])
    day = date.fromisoformat(cleo_run.name[:10])
    local = msgs["activity"][0]["local_timestamp"] - timedelta(seconds=msgs["session"][0]["total_elapsed_time"])
    assert local.date() == day  # file names use the athlete's local date
