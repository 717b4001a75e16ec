"""The load model as plain functions: Achilles multiple, steps, spring-mass, 1RM,
acute:chronic ratios, monotony and strain, and ISO-week helpers.

Everything here is pure and unit-tested against hand calculations (tests/domain/test_load.py).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import NamedTuple, TypeAlias

import numpy as np
import pandas as pd

from .thresholds import AchillesCalibration, RuleThresholds

_DEFAULTS = RuleThresholds()

# --------------------------------------------------------------------------- ISO weeks


def week_monday(day: date) -> date:
    """Monday of the ISO week containing ``day``."""
    return day - timedelta(days=day.weekday())


def week_sunday(day: date) -> date:
    """Sunday of the ISO week containing ``day``."""
    return week_monday(day) + timedelta(days=6)


def iso_week_label(day: date) -> str:
    """ISO week as ``YYYY-Www`` (ISO year, so 2021-01-03 is ``2020-W53``)."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def is_week_complete(monday: date, as_of: date) -> bool:
    """A week is complete once ``as_of`` (the last day with complete data) reaches its Sunday."""
    return monday + timedelta(days=6) <= as_of


# --------------------------------------------------------------------------- per-step load


def achilles_multiple(
    speed_mps: float,
    thresholds: RuleThresholds | None = None,
    calibration: AchillesCalibration | None = None,
) -> float:
    """Peak Achilles-tendon force per step, in multiples of body weight.

    Running (speed >= ``achilles_running_min_speed_mps``): ``a + b (v - 2.68)`` with a = 8.2,
    b = 1.06 (Reiter et al. 2024). At or below walking speed (1.34 m/s) the walking value 4.5
    is a floor; in between the two are joined linearly so the curve has no jump. A calibration
    replaces a/b and scales the whole curve.
    """
    th = thresholds or _DEFAULTS
    if speed_mps is None or math.isnan(speed_mps) or speed_mps < 0:
        raise ValueError(f"speed must be a non-negative number, got {speed_mps!r}")
    cal = calibration or AchillesCalibration()
    intercept = cal.intercept_bw if cal.intercept_bw is not None else th.achilles_intercept_bw
    slope = cal.slope_bw_per_mps if cal.slope_bw_per_mps is not None else th.achilles_slope_bw_per_mps

    def running_fit(v: float) -> float:
        return intercept + slope * (v - th.achilles_reference_speed_mps)

    run_min, walk_v, walk_bw = (
        th.achilles_running_min_speed_mps,
        th.achilles_walking_speed_mps,
        th.achilles_walking_bw,
    )
    if speed_mps >= run_min:
        multiple = running_fit(speed_mps)
    elif speed_mps <= walk_v:
        multiple = walk_bw
    else:
        share = (speed_mps - walk_v) / (run_min - walk_v)
        multiple = walk_bw + share * (running_fit(run_min) - walk_bw)
    return multiple * cal.scale


def steps_from_cadence(stride_cadence: float, fractional: float = 0.0) -> float:
    """Steps per minute from a FIT running cadence (strides/min of one foot).

    steps/min = 2 x (cadence + fractional_cadence).
    """
    return 2.0 * (stride_cadence + (fractional or 0.0))


def estimated_step_rate_spm(speed_mps: float, thresholds: RuleThresholds | None = None) -> float:
    """Step rate from running speed when the watch recorded no cadence.

    Linear least-squares fit through the self-selected stride frequencies reported by
    van Oeveren et al., PLoS One 2017 (77, 79, 80 strides/min = 154, 158, 160 steps/min at
    2.4, 2.6, 2.9 m/s): steps/min = 126.8 + 11.6 x v, clamped to [140, 200]. Those were
    inexperienced runners; experienced runners step faster, so prefer measured cadence.
    """
    th = thresholds or _DEFAULTS
    spm = th.step_rate_intercept_spm + th.step_rate_slope_spm_per_mps * speed_mps
    return min(max(spm, th.step_rate_min_spm), th.step_rate_max_spm)


def estimate_steps(
    distance_m: float, duration_s: float, thresholds: RuleThresholds | None = None
) -> float:
    """Steps in a run from distance and moving time (speed -> step rate -> steps)."""
    if duration_s <= 0 or distance_m <= 0:
        return 0.0
    speed = distance_m / duration_s
    return estimated_step_rate_spm(speed, thresholds) * duration_s / 60.0


class SpringMass(NamedTuple):
    fmax_n: float
    fmax_bw: float
    flight_time_s: float
    delta_y_m: float
    k_vert_kn_per_m: float
    k_leg_kn_per_m: float | None


def spring_mass(
    mass_kg: float,
    stance_time_s: float,
    steps_per_min: float,
    height_m: float | None = None,
    speed_mps: float | None = None,
    thresholds: RuleThresholds | None = None,
) -> SpringMass:
    """Spring-mass model of running (Morin et al., J Appl Biomech 2005).

    tf = 60 / steps_per_min - tc;  Fmax = m g (pi/2) (tf/tc + 1);
    dy = Fmax tc^2 / (m pi^2) - g tc^2 / 8;  k_vert = Fmax / dy;
    k_leg = Fmax / dL with L = 0.53 x height and dL = L - sqrt(L^2 - (v tc / 2)^2) + dy
    (needs height and speed, else None). Invalid on steep slopes.
    """
    th = thresholds or _DEFAULTS
    g = th.gravity_mps2
    if mass_kg <= 0 or stance_time_s <= 0 or steps_per_min <= 0:
        raise ValueError("mass, stance time and step rate must be positive")
    flight = 60.0 / steps_per_min - stance_time_s
    if flight < 0:
        raise ValueError(
            f"stance time {stance_time_s:.3f} s is longer than the step period "
            f"{60.0 / steps_per_min:.3f} s: not running"
        )
    fmax = mass_kg * g * (math.pi / 2.0) * (flight / stance_time_s + 1.0)
    delta_y = fmax * stance_time_s**2 / (mass_kg * math.pi**2) - g * stance_time_s**2 / 8.0
    k_vert = fmax / delta_y
    k_leg = None
    if height_m is not None and speed_mps is not None:
        leg = th.leg_length_factor * height_m
        half_sweep = speed_mps * stance_time_s / 2.0
        if half_sweep < leg:
            delta_l = leg - math.sqrt(leg**2 - half_sweep**2) + delta_y
            k_leg = fmax / delta_l / 1000.0
    return SpringMass(
        fmax_n=fmax,
        fmax_bw=fmax / (mass_kg * g),
        flight_time_s=flight,
        delta_y_m=delta_y,
        k_vert_kn_per_m=k_vert / 1000.0,
        k_leg_kn_per_m=k_leg,
    )


# --------------------------------------------------------------------------- strength


def epley_1rm(weight_kg: float, reps: int) -> float:
    """Estimated one-repetition maximum (Epley): w (1 + reps/30); one rep is the 1RM itself."""
    if reps <= 0:
        raise ValueError("reps must be at least 1")
    if weight_kg < 0:
        raise ValueError("weight must be non-negative")
    return weight_kg if reps == 1 else weight_kg * (1.0 + reps / 30.0)


def percent_1rm(weight_kg: float, one_rm_kg: float) -> float:
    """Intensity as a fraction of 1RM (0.70 means 70 %)."""
    if one_rm_kg <= 0:
        raise ValueError("1RM must be positive")
    return weight_kg / one_rm_kg


# --------------------------------------------------------------------------- daily series

DailyLoads: TypeAlias = pd.Series | Sequence[float] | Mapping[date, float]


def as_daily_series(
    loads: DailyLoads, start: date | None = None, end: date | None = None
) -> pd.Series:
    """One value per calendar day, missing days = 0.

    A plain sequence is taken as consecutive days (RangeIndex). A Series or mapping keyed by
    date is summed per day and re-indexed over [start, end] (defaults: its own range).
    """
    if isinstance(loads, Mapping):
        loads = pd.Series(dict(loads), dtype=float)
    if not isinstance(loads, pd.Series):
        return pd.Series(np.asarray(loads, dtype=float))
    if len(loads) == 0 and (start is None or end is None):
        return pd.Series(dtype=float)
    index = pd.DatetimeIndex(pd.to_datetime(loads.index)).normalize()
    series = pd.Series(loads.to_numpy(dtype=float), index=index).groupby(level=0).sum()
    first = pd.Timestamp(start) if start is not None else series.index.min()
    last = pd.Timestamp(end) if end is not None else series.index.max()
    return series.reindex(pd.date_range(first, last, freq="D"), fill_value=0.0)


def _safe_ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    return (numerator / denominator.where(denominator > 0)).astype(float)


def _safe_ratio_values(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """``_safe_ratio`` on arrays: NaN where the denominator is not positive."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return numerator / np.where(denominator > 0, denominator, np.nan)


def _rolling_mean(values: np.ndarray, days: int) -> np.ndarray:
    return pd.Series(values).rolling(days, min_periods=days).mean().to_numpy()


def rolling_acwr_values(values: np.ndarray, acute_days: int = 7, chronic_days: int = 28) -> dict[str, np.ndarray]:
    """``rolling_acwr`` columns over consecutive daily loads (a float array)."""
    acute = _rolling_mean(values, acute_days)
    chronic = _rolling_mean(values, chronic_days)
    preceding = chronic_days - acute_days
    uncoupled = pd.Series(_rolling_mean(values, preceding)).shift(acute_days).to_numpy()
    return {
        "acute": acute,
        "chronic_coupled": chronic,
        "chronic_uncoupled": uncoupled,
        "acwr_coupled": _safe_ratio_values(acute, chronic),
        "acwr_uncoupled": _safe_ratio_values(acute, uncoupled),
    }


def ewma_values(values: np.ndarray, n_days: int) -> np.ndarray:
    """``ewma`` over consecutive daily loads (a float array)."""
    lam = 2.0 / (n_days + 1.0)
    out = np.empty(len(values))
    previous = 0.0
    for i, value in enumerate(values.tolist()):
        previous = lam * value + (1.0 - lam) * previous
        out[i] = previous
    return out


def ewma_acwr_values(values: np.ndarray, acute_days: int = 7, chronic_days: int = 28) -> dict[str, np.ndarray]:
    """``ewma_acwr`` columns over consecutive daily loads (a float array)."""
    acute = ewma_values(values, acute_days)
    chronic = ewma_values(values, chronic_days)
    return {"ewma_acute": acute, "ewma_chronic": chronic, "acwr_ewma": _safe_ratio_values(acute, chronic)}


def rolling_acwr(daily: DailyLoads, acute_days: int = 7, chronic_days: int = 28) -> pd.DataFrame:
    """Rolling acute:chronic workload ratio, coupled and uncoupled.

    acute = mean daily load of the last ``acute_days`` days (Hulin 2014);
    chronic_coupled = mean of the last ``chronic_days`` days (acute days included);
    chronic_uncoupled = mean of the ``chronic_days - acute_days`` days before the acute window
    (Lolli 2019). Values are NaN until the window is full or when chronic is 0.
    """
    s = as_daily_series(daily)
    acute = s.rolling(acute_days, min_periods=acute_days).mean()
    chronic = s.rolling(chronic_days, min_periods=chronic_days).mean()
    preceding = chronic_days - acute_days
    uncoupled = s.rolling(preceding, min_periods=preceding).mean().shift(acute_days)
    return pd.DataFrame(
        {
            "acute": acute,
            "chronic_coupled": chronic,
            "chronic_uncoupled": uncoupled,
            "acwr_coupled": _safe_ratio(acute, chronic),
            "acwr_uncoupled": _safe_ratio(acute, uncoupled),
        }
    )


def ewma(daily: DailyLoads, n_days: int) -> pd.Series:
    """Exponentially weighted moving average (Williams et al. 2017).

    E_t = l x load_t + (1 - l) x E_{t-1}, l = 2 / (N + 1), starting from E_{-1} = 0 (days
    before the series count as rest, consistent with missing days = 0).
    """
    s = as_daily_series(daily)
    return pd.Series(ewma_values(s.to_numpy(dtype=float), n_days), index=s.index)


def ewma_acwr(daily: DailyLoads, acute_days: int = 7, chronic_days: int = 28) -> pd.DataFrame:
    """EWMA acute and chronic loads and their ratio (NaN when chronic is 0)."""
    acute = ewma(daily, acute_days)
    chronic = ewma(daily, chronic_days)
    return pd.DataFrame(
        {"ewma_acute": acute, "ewma_chronic": chronic, "acwr_ewma": _safe_ratio(acute, chronic)}
    )


def monotony(daily_loads: Sequence[float] | pd.Series) -> float | None:
    """Training monotony (Foster 1998): mean daily load / SD of daily load.

    Uses the population SD (ddof = 0): the 7 days are the whole week, not a sample of it.
    Undefined (None) when there are fewer than 2 days or the SD is 0 (e.g. all rest days), 0
    meaning within rounding of the mean: identical days summed in another order must not read as
    a monotony of 10^11.
    """
    values = np.asarray(daily_loads, dtype=float)
    if values.size < 2:
        return None
    sd = float(values.std(ddof=0))
    mean = float(values.mean())
    if sd <= 1e-12 or sd <= 1e-9 * abs(mean):
        return None
    return mean / sd


def strain(daily_loads: Sequence[float] | pd.Series) -> float | None:
    """Training strain (Foster 1998): weekly load x monotony (None when monotony is)."""
    mono = monotony(daily_loads)
    if mono is None:
        return None
    return float(np.asarray(daily_loads, dtype=float).sum()) * mono


def nan_to_none(value: float) -> float | None:
    """Float, or None for NaN/inf (for models and evidence)."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def to_date(value: date | datetime | pd.Timestamp) -> date:
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, datetime):
        return value.date()
    return value
