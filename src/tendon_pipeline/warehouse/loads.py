"""Per-run load, computed in DuckDB over the per-second records.

For every record of an on-foot leg: the time it covers (dt, capped at
``MAX_GAP_S`` so a paused watch does not count its pause), the step rate (measured
cadence, else speed over step length, else estimated from speed), the steps in dt,
and the Achilles force per step as a multiple of body weight at that speed (the
default curve from RULES.md, per-athlete calibration allowed). Sums per leg give
steps and cumulative tendon load. Python then adds the spring-mass figures from the
per-leg averages and the athlete's local date.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from tendon_pipeline.domain.load import achilles_multiple, estimate_steps, spring_mass
from tendon_pipeline.domain.thresholds import AchillesCalibration, RuleThresholds
from tendon_pipeline.fit.columns import STRIDE_SPORTS
from tendon_pipeline.warehouse.store import Warehouse

MAX_GAP_S = 10.0  # a longer gap between records is a pause: count at most this much of it
MOVING_MPS = 0.5  # slower than this without a cadence is standing, not stepping
NOMINAL_MASS_KG = 70.0  # only for figures in body-weight units, which do not depend on it
G = 9.81

# Each leg gets a small integer key (``leg``, one per (activity_id, session_index)): the window sorts and
# the per-leg grouping hash on it instead of the 64-character activity id, about 30% less time over a
# year of records (the same rows, to the float rounding that parallel sums already vary by).
_PER_LEG_SQL = """
WITH legs AS (
    SELECT s.activity_id, s.session_index, a.athlete_id, s.sport, s.start_utc,
           a.local_offset_s,
           coalesce(s.distance_m, 0) AS distance_m,
           coalesce(s.timer_s, s.elapsed_s, 0) AS duration_s,
           s.avg_speed_mps, s.total_steps,
           dense_rank() OVER (ORDER BY s.activity_id, s.session_index) AS leg
    FROM sessions s JOIN activities a USING (activity_id)
    WHERE a.athlete_id = $athlete AND s.start_utc IS NOT NULL
),
rec AS (
    SELECT l.leg, r.steps_per_min, r.step_length_mm, r.stance_time_ms,
           least(greatest(coalesce(epoch(r.ts_utc) - epoch(lag(r.ts_utc) OVER w), 1.0), 0.0), $max_gap) AS dt,
           coalesce(r.speed_mps,
                    (r.distance_m - lag(r.distance_m) OVER w)
                    / nullif(epoch(r.ts_utc) - epoch(lag(r.ts_utc) OVER w), 0)) AS v
    FROM records r JOIN legs l USING (activity_id, session_index)
    WHERE list_contains($stride_sports, l.sport) AND r.ts_utc IS NOT NULL
    WINDOW w AS (PARTITION BY l.leg ORDER BY r.ts_utc)
),
stepped AS (
    SELECT *,
        CASE WHEN steps_per_min > 0 THEN 'cadence'
             WHEN step_length_mm > 0 AND v > 0 THEN 'step_length'
             ELSE 'estimated' END AS method,
        CASE WHEN steps_per_min > 0 THEN steps_per_min
             WHEN step_length_mm > 0 AND v > 0 THEN v / (step_length_mm / 1000.0) * 60.0
             WHEN v >= $moving THEN least(greatest($spm_a + $spm_b * v, $spm_min), $spm_max)
             ELSE 0 END AS spm,
        CASE WHEN v IS NULL OR v < 0 THEN $walk_bw
             WHEN v >= $run_min THEN $intercept + $slope * (v - $ref)
             WHEN v <= $walk_v THEN $walk_bw
             ELSE $walk_bw + (v - $walk_v) / ($run_min - $walk_v)
                  * ($intercept + $slope * ($run_min - $ref) - $walk_bw) END * $scale AS multiple
    FROM rec
),
per_leg AS (
    SELECT leg,
        sum(spm / 60.0 * dt) AS steps,
        sum(spm / 60.0 * dt * multiple) AS load_bw,
        count(*) FILTER (WHERE spm > 0) AS moving,
        count(*) FILTER (WHERE spm > 0 AND method = 'cadence') AS by_cadence,
        count(*) FILTER (WHERE spm > 0 AND method = 'step_length') AS by_step_length,
        count(*) FILTER (WHERE spm > 0 AND stance_time_ms > 0) AS with_stance,
        avg(stance_time_ms) FILTER (WHERE spm > 0 AND stance_time_ms > 0) AS mean_stance_ms,
        avg(spm) FILTER (WHERE spm > 0 AND stance_time_ms > 0) AS mean_spm_with_stance,
        avg(v) FILTER (WHERE spm > 0 AND stance_time_ms > 0) AS mean_v_with_stance
    FROM stepped GROUP BY 1
)
SELECT l.* EXCLUDE (leg), p.steps, p.load_bw, p.moving, p.by_cadence, p.by_step_length, p.with_stance,
       p.mean_stance_ms, p.mean_spm_with_stance, p.mean_v_with_stance
FROM legs l LEFT JOIN per_leg p USING (leg)
ORDER BY l.start_utc, l.activity_id, l.session_index
"""

RUN_LOAD_COLUMNS = [
    "run_id", "activity_id", "session_index", "athlete_id", "local_date", "start_utc", "sport",
    "is_running", "distance_m", "duration_s", "avg_speed_mps", "steps", "steps_method",
    "tendon_load_bw", "tendon_load_n", "load_method", "peak_vgrf_bw", "k_vert_kn_per_m", "k_leg_kn_per_m",
]
RUNNING_SPORTS = ("running", "trail_running", "treadmill")


def curve_parameters(th: RuleThresholds, calibration: AchillesCalibration | None) -> dict[str, float]:
    """SQL parameters of the Achilles curve and step-rate estimate (same as domain.load)."""
    cal = calibration or AchillesCalibration()
    return {
        "intercept": cal.intercept_bw if cal.intercept_bw is not None else th.achilles_intercept_bw,
        "slope": cal.slope_bw_per_mps if cal.slope_bw_per_mps is not None else th.achilles_slope_bw_per_mps,
        "scale": cal.scale, "ref": th.achilles_reference_speed_mps, "walk_bw": th.achilles_walking_bw,
        "walk_v": th.achilles_walking_speed_mps, "run_min": th.achilles_running_min_speed_mps,
        "spm_a": th.step_rate_intercept_spm, "spm_b": th.step_rate_slope_spm_per_mps,
        "spm_min": th.step_rate_min_spm, "spm_max": th.step_rate_max_spm,
    }


def stored_run_dates(warehouse: Warehouse, athlete_id: str) -> dict[str, date]:
    """run_id -> local_date of the athlete's run loads as last computed."""
    rows = warehouse.con.execute("SELECT run_id, local_date FROM run_loads WHERE athlete_id = ?",
                                 [athlete_id]).fetchall()
    return {run_id: day for run_id, day in rows}


def compute_run_loads(
    warehouse: Warehouse, athlete_id: str, th: RuleThresholds, *,
    body_mass_kg: float | None, height_m: float | None, tz_name: str | None,
) -> pd.DataFrame:
    """Recompute and store ``run_loads`` for one athlete; returns the rows."""
    calibration = th.athlete_calibration.get(athlete_id)
    params = {"athlete": athlete_id, "max_gap": MAX_GAP_S, "moving": MOVING_MPS,
              "stride_sports": list(STRIDE_SPORTS), **curve_parameters(th, calibration)}
    legs = warehouse.con.execute(_PER_LEG_SQL, params).df()
    rows = [_run_row(leg, th, calibration, body_mass_kg, height_m, tz_name) for leg in legs.itertuples(index=False)]
    frame = pd.DataFrame(rows, columns=RUN_LOAD_COLUMNS)
    with warehouse.transaction():
        warehouse.con.execute("DELETE FROM run_loads WHERE athlete_id = ?", [athlete_id])
        if not frame.empty:
            warehouse.con.register("_run_loads", frame)
            try:
                warehouse.con.execute("INSERT INTO run_loads BY NAME SELECT * FROM _run_loads")
            finally:
                warehouse.con.unregister("_run_loads")
    return frame


def _run_row(leg, th: RuleThresholds, calibration, mass: float | None, height: float | None,
             tz_name: str | None) -> dict:
    on_foot = leg.sport in STRIDE_SPORTS
    duration = float(leg.duration_s or 0.0)
    distance = float(leg.distance_m or 0.0)
    speed = _clean(leg.avg_speed_mps) or (distance / duration if duration > 0 else 0.0)
    steps, load_bw = _clean(leg.steps), _clean(leg.load_bw)
    moving = int(_clean(leg.moving) or 0)
    steps_method, load_method = _methods(leg, moving)
    if on_foot and moving == 0:  # no usable records: estimate the leg from its summary
        steps = _clean(leg.total_steps) or estimate_steps(distance, duration, th)
        load_bw = steps * achilles_multiple(speed, th, calibration)
        steps_method = "cadence" if _clean(leg.total_steps) else "estimated"
        load_method = "cadence_only" if steps_method == "cadence" else "estimated"
    if not on_foot:
        steps, load_bw, steps_method, load_method = None, 0.0, "estimated", "estimated"
    row = {
        "run_id": f"{leg.activity_id}:{leg.session_index}", "activity_id": leg.activity_id,
        "session_index": int(leg.session_index), "athlete_id": leg.athlete_id,
        "local_date": local_date(leg.start_utc, _clean(leg.local_offset_s), tz_name),
        "start_utc": leg.start_utc, "sport": leg.sport, "is_running": leg.sport in RUNNING_SPORTS,
        "distance_m": distance, "duration_s": duration, "avg_speed_mps": speed,
        "steps": steps, "steps_method": steps_method, "tendon_load_bw": load_bw or 0.0,
        "tendon_load_n": (load_bw or 0.0) * mass * G if mass else None, "load_method": load_method,
    }
    row.update(_spring_mass_figures(leg, th, mass, height))
    return row


def _methods(leg, moving: int) -> tuple[str, str]:
    if moving == 0:
        return "estimated", "estimated"
    by_cadence = int(leg.by_cadence or 0)
    by_length = int(leg.by_step_length or 0)
    steps_method = ("cadence" if by_cadence * 2 >= moving
                    else "step_length" if (by_cadence + by_length) * 2 >= moving else "estimated")
    if int(leg.with_stance or 0) * 2 >= moving:
        return steps_method, "measured_dynamics"
    return steps_method, "cadence_only" if steps_method != "estimated" else "estimated"


def _spring_mass_figures(leg, th: RuleThresholds, mass: float | None, height: float | None) -> dict:
    empty = {"peak_vgrf_bw": None, "k_vert_kn_per_m": None, "k_leg_kn_per_m": None}
    stance, spm = _clean(leg.mean_stance_ms), _clean(leg.mean_spm_with_stance)
    if not stance or not spm or int(leg.with_stance or 0) == 0:
        return empty
    try:
        sm = spring_mass(mass or NOMINAL_MASS_KG, stance / 1000.0, spm, height,
                         _clean(leg.mean_v_with_stance), th)
    except ValueError:  # stance longer than the step: walking, not a spring-mass gait
        return empty
    return {"peak_vgrf_bw": sm.fmax_bw,
            "k_vert_kn_per_m": sm.k_vert_kn_per_m if mass else None,
            "k_leg_kn_per_m": sm.k_leg_kn_per_m if mass else None}


def local_date(start_utc, offset_s: float | None, tz_name: str | None):
    """The athlete's calendar date: the file's own offset, else the configured zone, else UTC."""
    start = pd.Timestamp(start_utc).to_pydatetime()
    if offset_s is not None:
        return (start + timedelta(seconds=offset_s)).date()
    if tz_name:
        try:
            return start.replace(tzinfo=UTC).astimezone(ZoneInfo(tz_name)).date()
        except ZoneInfoNotFoundError:
            pass  # validated in settings; an unknown zone falls back to UTC
    return start.date()


def _clean(value):
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        return value
    return float(value) if not isinstance(value, datetime) else value
