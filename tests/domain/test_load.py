"""The load model against hand calculations."""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import pytest
from domain_builders import W47, W47_SUNDAY, daily_runs, history
from pydantic import ValidationError

from tendon_pipeline.domain.aggregate import load_metrics
from tendon_pipeline.domain.load import (
    achilles_multiple,
    as_daily_series,
    epley_1rm,
    estimate_steps,
    estimated_step_rate_spm,
    ewma,
    ewma_acwr,
    is_week_complete,
    iso_week_label,
    monotony,
    percent_1rm,
    rolling_acwr,
    spring_mass,
    steps_from_cadence,
    strain,
    week_monday,
    week_sunday,
)
from tendon_pipeline.domain.thresholds import AchillesCalibration, RuleThresholds

TH = RuleThresholds()


# --------------------------------------------------------------------------- Achilles multiple


@pytest.mark.parametrize(
    ("speed", "expected"),
    [
        (2.68, 8.2),  # the intercept itself
        (4.47, 10.0974),  # 8.2 + 1.06 x (4.47 - 2.68) = 8.2 + 1.8974
        (3.00, 8.5392),  # 8.2 + 1.06 x 0.32 = 8.2 + 0.3392
        (2.00, 7.4792),  # run-min speed: 8.2 - 1.06 x 0.68 = 8.2 - 0.7208
        (1.67, 5.9896),  # halfway 1.34 -> 2.0: (4.5 + 7.4792) / 2
        (1.34, 4.5),  # walking (Reiter 2024)
        (0.50, 4.5),  # floor below walking speed
        (0.0, 4.5),
    ],
)
def test_achilles_multiple_matches_hand_calculation(speed, expected):
    assert achilles_multiple(speed, TH) == pytest.approx(expected, abs=1e-9)


def test_achilles_multiple_is_continuous_and_rising():
    speeds = [i / 100 for i in range(0, 700)]
    values = [achilles_multiple(v) for v in speeds]
    assert all(b >= a - 1e-12 for a, b in zip(values, values[1:]))
    assert max(abs(b - a) for a, b in zip(values, values[1:])) < 0.05  # no jump


def test_achilles_multiple_calibration_scale_and_fit():
    # Seed text's 6 x BW at 2.68 m/s: scale = 6 / 8.2 -> 6.0 at 2.68 m/s; walking 4.5 x 6/8.2.
    seed = AchillesCalibration(scale=6 / 8.2)
    assert achilles_multiple(2.68, TH, seed) == pytest.approx(6.0)
    assert achilles_multiple(1.0, TH, seed) == pytest.approx(4.5 * 6 / 8.2)
    # Own fit: 7.0 + 0.5 x (3.68 - 2.68) = 7.5
    own = AchillesCalibration(intercept_bw=7.0, slope_bw_per_mps=0.5)
    assert achilles_multiple(3.68, TH, own) == pytest.approx(7.5)


def test_per_athlete_calibration_lives_in_thresholds():
    th = RuleThresholds(athlete_calibration={"a1": {"scale": 0.5}})
    assert th.calibration_for("a1").scale == 0.5
    assert th.calibration_for("other") is None
    assert achilles_multiple(4.47, th, th.calibration_for("a1")) == pytest.approx(10.0974 / 2)


def test_achilles_multiple_rejects_bad_speed():
    with pytest.raises(ValueError):
        achilles_multiple(-1.0)
    with pytest.raises(ValueError):
        achilles_multiple(float("nan"))


def test_thresholds_forbid_unknown_fields():
    with pytest.raises(ValidationError):
        RuleThresholds(no_such_threshold=1)


# --------------------------------------------------------------------------- steps


def test_steps_from_cadence_doubles_strides():
    assert steps_from_cadence(85, 0.5) == 171.0  # 2 x (85 + 0.5)
    assert steps_from_cadence(90) == 180.0


def test_estimated_step_rate_line_and_clamps():
    # 126.8 + 11.6 v: 2.4 -> 154.64, 2.9 -> 160.44 (van Oeveren 2017: 154 and 160)
    assert estimated_step_rate_spm(2.4) == pytest.approx(154.64)
    assert estimated_step_rate_spm(2.9) == pytest.approx(160.44)
    assert estimated_step_rate_spm(0.5) == 140.0  # 132.6 clamped up
    assert estimated_step_rate_spm(10.0) == 200.0  # 242.8 clamped down


def test_estimate_steps_from_distance_and_time():
    # 10 km in 1 h: v = 2.7778 m/s, 126.8 + 11.6 x 2.7778 = 159.022 spm x 60 min = 9541.3 steps
    assert estimate_steps(10_000, 3_600) == pytest.approx(9541.333, abs=1e-3)
    assert estimate_steps(0, 3_600) == 0.0
    assert estimate_steps(1_000, 0) == 0.0


# --------------------------------------------------------------------------- spring-mass


def test_spring_mass_hand_calculation():
    # m = 70 kg, tc = 0.25 s, 180 steps/min, height 1.80 m, v = 3.333 m/s, g = 9.81
    # step period = 60/180 = 0.33333 s -> tf = 0.08333 s
    # Fmax = 70 x 9.81 x (pi/2) x (0.08333/0.25 + 1) = 686.7 x 1.5708 x 1.33333 = 1438.22 N
    #      = 2.0944 x BW (pi/2 x 4/3)
    # dy = 1438.22 x 0.0625 / (70 x 9.8696) - 9.81 x 0.0625 / 8 = 0.130109 - 0.076641 = 0.053469 m
    # k_vert = 1438.22 / 0.053469 = 26898 N/m = 26.90 kN/m
    # L = 0.53 x 1.80 = 0.954 m; v tc / 2 = 0.416667 m
    # dL = 0.954 - sqrt(0.954^2 - 0.416667^2) + 0.053469 = 0.954 - 0.858199 + 0.053469 = 0.149270 m
    # k_leg = 1438.22 / 0.149270 = 9635 N/m = 9.635 kN/m
    result = spring_mass(70, 0.25, 180, height_m=1.80, speed_mps=10 / 3)
    assert result.flight_time_s == pytest.approx(0.083333, abs=1e-6)
    assert result.fmax_n == pytest.approx(1438.22, abs=0.01)
    assert result.fmax_bw == pytest.approx(2.0944, abs=1e-4)
    assert result.delta_y_m == pytest.approx(0.053469, abs=1e-6)
    assert result.k_vert_kn_per_m == pytest.approx(26.898, abs=0.005)
    assert result.k_leg_kn_per_m == pytest.approx(9.635, abs=0.005)


def test_spring_mass_without_height_has_no_leg_stiffness():
    assert spring_mass(70, 0.25, 180).k_leg_kn_per_m is None
    assert spring_mass(70, 0.25, 180, height_m=1.8).k_leg_kn_per_m is None  # needs speed


def test_spring_mass_rejects_contact_longer_than_step():
    with pytest.raises(ValueError):
        spring_mass(70, 0.40, 180)  # step period 0.333 s


# --------------------------------------------------------------------------- 1RM


def test_epley_and_percent():
    assert epley_1rm(100, 10) == pytest.approx(133.333, abs=1e-3)  # 100 x (1 + 10/30)
    assert epley_1rm(70, 12) == pytest.approx(98.0)  # 70 x 1.4
    assert epley_1rm(100, 1) == 100.0
    assert percent_1rm(70, 98) == pytest.approx(0.714286, abs=1e-6)
    with pytest.raises(ValueError):
        epley_1rm(100, 0)
    with pytest.raises(ValueError):
        percent_1rm(50, 0)


# --------------------------------------------------------------------------- acute:chronic


def test_daily_series_fills_missing_days_with_zero():
    loads = pd.Series({date(2026, 11, 16): 5.0, date(2026, 11, 18): 2.0})
    series = as_daily_series(loads, date(2026, 11, 15), date(2026, 11, 19))
    assert series.tolist() == [0.0, 5.0, 0.0, 2.0, 0.0]
    doubled = as_daily_series({date(2026, 11, 16): 1.0})
    assert doubled.tolist() == [1.0]


def test_rolling_acwr_coupled_and_uncoupled():
    # 21 days at 10 then 7 days at 20.
    # acute = 20; chronic coupled = (21 x 10 + 7 x 20) / 28 = 12.5 -> 1.6;
    # chronic uncoupled = mean of the 21 days before the acute week = 10 -> 2.0
    frame = rolling_acwr([10.0] * 21 + [20.0] * 7)
    last = frame.iloc[-1]
    assert last["acute"] == pytest.approx(20.0)
    assert last["chronic_coupled"] == pytest.approx(12.5)
    assert last["chronic_uncoupled"] == pytest.approx(10.0)
    assert last["acwr_coupled"] == pytest.approx(1.6)
    assert last["acwr_uncoupled"] == pytest.approx(2.0)
    assert math.isnan(frame.iloc[26]["acwr_coupled"])  # window not full yet


def test_rolling_acwr_zero_chronic_is_undefined():
    frame = rolling_acwr([0.0] * 28)
    assert math.isnan(frame.iloc[-1]["acwr_coupled"])
    assert math.isnan(frame.iloc[-1]["acwr_uncoupled"])


def test_ewma_hand_calculation():
    # l7 = 2/8 = 0.25: E0 = 25, E1 = 0.75 x 25 = 18.75, E2 = 25 + 0.75 x 18.75 = 39.0625
    assert ewma([100, 0, 100], 7).tolist() == pytest.approx([25.0, 18.75, 39.0625])
    # l28 = 2/29: E0 = 6.89655, E1 = 6.42093, E2 = 6.89655 + (27/29) x 6.42093 = 12.87466
    assert ewma([100, 0, 100], 28).tolist() == pytest.approx([6.89655, 6.42093, 12.87466], abs=1e-5)
    last = ewma_acwr([100, 0, 100]).iloc[-1]
    assert last["acwr_ewma"] == pytest.approx(39.0625 / 12.87466, abs=1e-4)  # 3.0341


# --------------------------------------------------------------------------- monotony, strain


def test_monotony_population_sd_hand_calculation():
    # mean = 70/7 = 10; squared deviations 0+100+400+100+100+100+0 = 800
    # population SD = sqrt(800/7) = 10.6904 -> monotony 0.93541 (sample SD would give 0.86603)
    week = [10, 20, 30, 0, 0, 0, 10]
    assert monotony(week) == pytest.approx(0.935414, abs=1e-6)
    assert strain(week) == pytest.approx(70 * 0.935414, abs=1e-4)  # 65.479


def test_monotony_undefined_when_no_variation():
    assert monotony([5.0] * 7) is None  # SD 0 -> None, not inf
    assert monotony([0.0] * 7) is None
    assert strain([5.0] * 7) is None
    assert monotony([1.0]) is None
    # identical days whose sums differ by rounding only: no variation, not a monotony of 10^11
    assert monotony([41.3] * 6 + [41.3 + 1e-9]) is None
    assert monotony([41.3] * 6 + [41.4]) == pytest.approx(41.3143 / 0.0350, rel=1e-3)


# --------------------------------------------------------------------------- ISO weeks


def test_iso_week_helpers():
    wednesday = date(2026, 11, 18)
    assert week_monday(wednesday) == date(2026, 11, 16)
    assert week_sunday(wednesday) == date(2026, 11, 22)
    assert iso_week_label(wednesday) == "2026-W47"
    assert iso_week_label(date(2021, 1, 3)) == "2020-W53"  # ISO year, not calendar year
    assert iso_week_label(date(2026, 1, 5)) == "2026-W02"
    assert is_week_complete(date(2026, 11, 16), date(2026, 11, 22))
    assert not is_week_complete(date(2026, 11, 16), date(2026, 11, 21))


# --------------------------------------------------------------------------- LoadMetrics


def test_load_metrics_per_week_and_day():
    # 21 days at 10,000 BW then W47 at 16,000 a day, 3 km a day (as in the ACWR rule test).
    h = history(daily_runs(date(2026, 10, 26), [10_000.0] * 21 + [16_000.0] * 7))
    (week,) = load_metrics(h, TH, W47, W47_SUNDAY, "week")
    assert week.period == "2026-W47" and (week.start, week.end) == (W47, W47_SUNDAY)
    assert week.distance_km == pytest.approx(21.0) and week.running_sessions == 7
    assert week.tendon_load_bw == pytest.approx(112_000.0)
    assert week.acwr_uncoupled == pytest.approx(1.6)
    assert week.acwr_coupled == pytest.approx(16 / 11.5)  # 1.3913
    assert week.monotony is None and week.strain is None  # equal days: SD 0
    days = load_metrics(h, TH, W47, W47_SUNDAY, "day")
    assert [d.period for d in days][:2] == ["2026-11-16", "2026-11-17"] and len(days) == 7
    assert days[0].tendon_load_bw == pytest.approx(16_000.0) and days[0].monotony is None
