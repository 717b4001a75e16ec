"""Per-run load computed in DuckDB, checked against hand calculations and the pure domain."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from tendon_pipeline.domain.load import spring_mass
from tendon_pipeline.domain.thresholds import AchillesCalibration, RuleThresholds
from tendon_pipeline.warehouse.loads import compute_run_loads, local_date

T0 = datetime(2026, 4, 6, 6, 0, 0)
TH = RuleThresholds()


def _activity(wh, activity_id="a1", sport="running", offset=7200, records=(), distance=1000.0, duration=600.0):
    wh.con.execute("INSERT INTO activities (activity_id, activity_key, athlete_id, file_hash, start_utc,"
                   " local_offset_s) VALUES (?, ?, 'ana', 'h', ?, ?)", [activity_id, activity_id, T0, offset])
    wh.con.execute("INSERT INTO sessions (activity_id, session_index, sport, start_utc, timer_s, distance_m,"
                   " avg_speed_mps) VALUES (?, 0, ?, ?, ?, ?, ?)",
                   [activity_id, sport, T0, duration, distance, distance / duration])
    for seconds, speed, spm, step_length, stance in records:
        wh.con.execute("INSERT INTO records (activity_id, session_index, ts_utc, speed_mps, steps_per_min,"
                       " step_length_mm, stance_time_ms) VALUES (?, 0, ?, ?, ?, ?, ?)",
                       [activity_id, T0 + timedelta(seconds=seconds), speed, spm, step_length, stance])


def _loads(wh, th=TH, mass=70.0, height=1.80):
    return compute_run_loads(wh, "ana", th, body_mass_kg=mass, height_m=height, tz_name=None).set_index("activity_id")


def test_cadence_steps_and_load_by_hand(warehouse):
    # 3 records 1 s apart at 2.68 m/s and 180 steps/min: 3 steps/s x 3 s = 9 steps (the first
    # record counts 1 s); each step loads the tendon with 8.2 x BW -> 73.8 BW; 70 kg -> x 686.7 N
    _activity(warehouse, records=[(0, 2.68, 180, None, None), (1, 2.68, 180, None, None), (2, 2.68, 180, None, None)])
    run = _loads(warehouse).loc["a1"]
    assert run.steps == pytest.approx(9.0)
    assert run.tendon_load_bw == pytest.approx(73.8)
    assert run.tendon_load_n == pytest.approx(73.8 * 70 * 9.81)
    assert (run.steps_method, run.load_method) == ("cadence", "cadence_only")


def test_step_length_and_estimated_step_rates_by_hand(warehouse):
    # step length: 3.0 m/s over 1.0 m steps = 3 steps/s; multiple 8.2 + 1.06 x 0.32 = 8.5392
    _activity(warehouse, "len", records=[(0, 3.0, None, 1000.0, None), (1, 3.0, None, 1000.0, None)])
    # estimated: 4.47 m/s -> 126.8 + 11.6 x 4.47 = 178.652 steps/min; multiple 10.0974
    _activity(warehouse, "est", records=[(0, 4.47, None, None, None), (1, 4.47, None, None, None)])
    loads = _loads(warehouse)
    assert loads.loc["len"].steps == pytest.approx(6.0)
    assert loads.loc["len"].tendon_load_bw == pytest.approx(6.0 * 8.5392)
    assert loads.loc["len"].steps_method == "step_length"
    assert loads.loc["est"].steps == pytest.approx(2 * 178.652 / 60)
    assert loads.loc["est"].tendon_load_bw == pytest.approx(2 * 178.652 / 60 * 10.0974)
    assert (loads.loc["est"].steps_method, loads.loc["est"].load_method) == ("estimated", "estimated")


def test_a_pause_counts_at_most_ten_seconds_and_standing_still_no_steps(warehouse):
    # 0 s, then 300 s later (a 5-minute pause: counts 10 s), then standing (0 m/s, no cadence)
    _activity(warehouse, records=[(0, 2.68, 180, None, None), (300, 2.68, 180, None, None),
                                  (301, 0.0, None, None, None)])
    assert _loads(warehouse).loc["a1"].steps == pytest.approx(3.0 * (1 + 10))


def test_calibration_scales_the_curve(warehouse):
    _activity(warehouse, records=[(0, 2.68, 180, None, None)])
    calibrated = RuleThresholds(athlete_calibration={"ana": AchillesCalibration(intercept_bw=6.0, scale=1.1)})
    assert _loads(warehouse, calibrated).loc["a1"].tendon_load_bw == pytest.approx(3 * 6.0 * 1.1)


def test_measured_dynamics_give_the_spring_mass_figures(warehouse):
    _activity(warehouse, records=[(s, 3.0, 176, None, 240.0) for s in range(5)])
    run = _loads(warehouse).loc["a1"]
    expected = spring_mass(70.0, 0.240, 176, 1.80, 3.0, TH)
    assert run.load_method == "measured_dynamics"
    assert run.peak_vgrf_bw == pytest.approx(expected.fmax_bw)
    assert run.k_vert_kn_per_m == pytest.approx(expected.k_vert_kn_per_m)
    assert run.k_leg_kn_per_m == pytest.approx(expected.k_leg_kn_per_m)


def test_a_leg_without_records_is_estimated_from_its_summary(warehouse):
    _activity(warehouse, distance=6000.0, duration=1800.0)  # 3.33 m/s, no records
    run = _loads(warehouse).loc["a1"]
    speed = 6000 / 1800
    steps = (126.8 + 11.6 * speed) * 30  # 30 minutes
    assert run.steps == pytest.approx(steps)
    assert run.tendon_load_bw == pytest.approx(steps * (8.2 + 1.06 * (speed - 2.68)))


def test_cross_training_carries_no_tendon_load(warehouse):
    _activity(warehouse, sport="cycling", records=[(0, 8.0, None, None, None), (1, 8.0, None, None, None)])
    run = _loads(warehouse).loc["a1"]
    assert run.tendon_load_bw == 0 and not run.is_running and run.steps is None


def test_local_date_prefers_the_files_offset_then_the_zone_then_utc():
    late = datetime(2026, 4, 6, 23, 30)
    assert local_date(late, 3600, None) == date(2026, 4, 7)
    assert local_date(late, None, "Europe/Oslo") == date(2026, 4, 7)
    assert local_date(late, None, "America/New_York") == date(2026, 4, 6)
    assert local_date(late, None, None) == date(2026, 4, 6)


def test_recomputing_replaces_rows(warehouse):
    _activity(warehouse, records=[(0, 2.68, 180, None, None)])
    _loads(warehouse)
    _loads(warehouse)
    assert warehouse.query("SELECT count(*) AS n FROM run_loads").iloc[0].n == 1


def test_each_leg_of_a_multisport_file_is_summed_on_its_own(warehouse):
    # a1 leg 0: 3 records 1 s apart at 180 steps/min = 9 steps; leg 1 starts 5 s after leg 0's last record:
    # its first record counts 1 s (a new leg), not the 5 s since the other leg's record, so 2 x 150/60 = 5
    # steps. a2 has a leg 1 too, one record: 1 s at 150 steps/min (its own leg, not a1's leg 1).
    _activity(warehouse, records=[(0, 2.68, 180, None, None), (1, 2.68, 180, None, None), (2, 2.68, 180, None, None)])
    _activity(warehouse, "a2", records=[(100, 2.68, 180, None, None)])
    for activity_id, starts in (("a1", (7, 8)), ("a2", (50,))):
        warehouse.con.execute("INSERT INTO sessions (activity_id, session_index, sport, start_utc, timer_s,"
                              " distance_m, avg_speed_mps) VALUES (?, 1, 'running', ?, 2, 6, 3)",
                              [activity_id, T0 + timedelta(seconds=starts[0])])
        for seconds in starts:
            warehouse.con.execute("INSERT INTO records (activity_id, session_index, ts_utc, speed_mps,"
                                  " steps_per_min) VALUES (?, 1, ?, 2.68, 150)",
                                  [activity_id, T0 + timedelta(seconds=seconds)])
    loads = _loads(warehouse).set_index("session_index", append=True)
    assert loads.steps.to_dict() == pytest.approx({("a1", 0): 9.0, ("a1", 1): 5.0, ("a2", 0): 3.0, ("a2", 1): 2.5})
    assert sorted(loads.index) == [("a1", 0), ("a1", 1), ("a2", 0), ("a2", 1)]
