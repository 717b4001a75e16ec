"""FIT message dicts (as fitparse gives them) -> the warehouse's columns.

One place maps FIT fields to column names and units, so the fitparse path and
any faster decoder produce the same frames. Values arrive already scaled to the
FIT profile's units (m, m/s, ms, mm, kg); times are naive UTC.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd

SEMICIRCLE_TO_DEG = 180.0 / 2**31
STRIDE_SPORTS = frozenset({"running", "walking", "hiking", "trail_running", "mountaineering"})

SESSION_COLUMNS = [
    "session_index", "sport", "sub_sport", "start_utc", "start_local", "elapsed_s", "timer_s",
    "distance_m", "ascent_m", "avg_speed_mps", "avg_heart_rate", "avg_steps_per_min",
    "total_steps", "avg_stance_time_ms", "synthesized",
]
LAP_COLUMNS = [
    "lap_index", "start_utc", "elapsed_s", "timer_s", "distance_m", "avg_speed_mps",
    "avg_heart_rate", "sport",
]
RECORD_COLUMNS = [
    "ts_utc", "session_index", "distance_m", "speed_mps", "heart_rate", "cadence",
    "fractional_cadence", "steps_per_min", "stance_time_ms", "vertical_oscillation_mm",
    "step_length_mm", "vertical_ratio", "stance_time_balance", "altitude_m", "power_w",
    "lat_deg", "lon_deg",
]
SET_COLUMNS = [
    "set_index", "start_utc", "category", "category_subtype", "repetitions", "weight_kg",
    "duration_s", "set_type",
]


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if value != value or value in (float("inf"), float("-inf")):  # NaN / inf
        return None
    return float(value)


def _first(m: dict[str, Any], *names: str) -> Any:
    for name in names:
        value = m.get(name)
        if value is not None:
            return value
    return None


def _text(value: Any) -> str | None:
    if isinstance(value, (tuple, list)):
        value = next((v for v in value if v is not None), None)
    return None if value is None else str(value)


def _frame(rows: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    """Column by column (much cheaper than pandas' row-of-dicts path for these small frames);
    the dict is built in ``columns`` order, so no reindexing (which costs more than the data)."""
    data: dict[str, Any] = {}
    for col in columns:
        values = [row[col] for row in rows]
        is_time = col.endswith("_utc") or col.endswith("_local")
        series = pd.Series(values, dtype=object if is_time else _inferred(values))
        data[col] = pd.to_datetime(series) if is_time else series
    return pd.DataFrame(data, copy=False)


def _inferred(values: list[Any]) -> Any:
    """The dtype pandas gives a row-built column: float64 for numbers with gaps, else its own."""
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, float) for v in present) and len(present) < len(values):
        return "float64"
    return None


def _steps_per_min(sport: str | None, cadence: Any, fractional: Any) -> float | None:
    c = _num(cadence)
    if c is None or sport not in STRIDE_SPORTS:
        return None
    return 2.0 * (c + (_num(fractional) or 0.0))


def _start_or_timestamp(message: dict[str, Any]) -> Any:
    return message.get("start_time") or message.get("timestamp")


def sessions_frame(messages: list[dict[str, Any]], local_offset_s: int | None) -> pd.DataFrame:
    rows = []
    for i, m in enumerate(sorted(messages, key=_start_or_timestamp)):
        start = m.get("start_time") or m.get("timestamp")
        sport = _text(m.get("sport")) or "generic"
        rows.append({
            "session_index": i,
            "sport": sport,
            "sub_sport": _text(m.get("sub_sport")),
            "start_utc": start,
            "start_local": start + timedelta(seconds=local_offset_s) if start and local_offset_s is not None else None,
            "elapsed_s": _num(m.get("total_elapsed_time")),
            "timer_s": _num(m.get("total_timer_time")),
            "distance_m": _num(m.get("total_distance")),
            "ascent_m": _num(m.get("total_ascent")),
            "avg_speed_mps": _num(_first(m, "enhanced_avg_speed", "avg_speed")),
            "avg_heart_rate": _num(m.get("avg_heart_rate")),
            "avg_steps_per_min": _steps_per_min(
                sport, _first(m, "avg_running_cadence", "avg_cadence"), m.get("avg_fractional_cadence")
            ),
            "total_steps": _total_steps(sport, m),
            "avg_stance_time_ms": _num(m.get("avg_stance_time")),
            "synthesized": False,
        })
    return _frame(rows, SESSION_COLUMNS)


def _total_steps(sport: str, m: dict[str, Any]) -> float | None:
    strides = _num(_first(m, "total_strides", "total_cycles"))
    return 2.0 * strides if strides is not None and sport in STRIDE_SPORTS else None


def session_from_records(records: pd.DataFrame, sport: str | None, local_offset_s: int | None) -> pd.DataFrame:
    """A session rebuilt from the records of a file cut short before its session message."""
    start, end = records["ts_utc"].min(), records["ts_utc"].max()
    elapsed = (end - start).total_seconds()
    row = {
        "session_index": 0, "sport": sport or "generic", "sub_sport": None,
        "start_utc": start,
        "start_local": start + pd.Timedelta(seconds=local_offset_s) if local_offset_s is not None else None,
        "elapsed_s": elapsed, "timer_s": elapsed,
        "distance_m": _num(records["distance_m"].max()),
        "ascent_m": None,
        "avg_speed_mps": _num(records["speed_mps"].mean()),
        "avg_heart_rate": _num(records["heart_rate"].mean()),
        "avg_steps_per_min": None, "total_steps": None,
        "avg_stance_time_ms": _num(records["stance_time_ms"].mean()),
        "synthesized": True,
    }
    return _frame([row], SESSION_COLUMNS)


def laps_frame(messages: list[dict[str, Any]]) -> pd.DataFrame:
    rows = [
        {
            "lap_index": i,
            "start_utc": m.get("start_time") or m.get("timestamp"),
            "elapsed_s": _num(m.get("total_elapsed_time")),
            "timer_s": _num(m.get("total_timer_time")),
            "distance_m": _num(m.get("total_distance")),
            "avg_speed_mps": _num(_first(m, "enhanced_avg_speed", "avg_speed")),
            "avg_heart_rate": _num(m.get("avg_heart_rate")),
            "sport": _text(m.get("sport")),
        }
        for i, m in enumerate(messages)
    ]
    return _frame(rows, LAP_COLUMNS)


# record column -> the FIT record fields it is read from, first one that is not None wins
RECORD_SOURCES: dict[str, tuple[str, ...]] = {
    "distance_m": ("distance",),
    "speed_mps": ("enhanced_speed", "speed"),
    "heart_rate": ("heart_rate",),
    "cadence": ("cadence",),
    "fractional_cadence": ("fractional_cadence",),
    "stance_time_ms": ("stance_time",),
    "vertical_oscillation_mm": ("vertical_oscillation",),
    "step_length_mm": ("step_length",),
    "vertical_ratio": ("vertical_ratio",),
    "stance_time_balance": ("stance_time_balance",),
    "altitude_m": ("enhanced_altitude", "altitude"),
    "power_w": ("power",),
    "lat_deg": ("position_lat",),
    "lon_deg": ("position_long",),
}
SEMICIRCLE_COLUMNS = frozenset({"lat_deg", "lon_deg"})


def _record_getter(column: str, names: tuple[str, ...]) -> Callable[[dict[str, Any]], Any]:
    if column in SEMICIRCLE_COLUMNS:
        return lambda m: _semicircles(_first(m, *names))
    return lambda m: _num(_first(m, *names))


_RECORD_FIELDS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "ts_utc": lambda m: m.get("timestamp"),
    **{column: _record_getter(column, names) for column, names in RECORD_SOURCES.items()},
}


def _semicircles(value: Any) -> float | None:
    v = _num(value)
    return None if v is None else v * SEMICIRCLE_TO_DEG


def records_frame(messages: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """Per-second records, in file order. A record without a timestamp is kept (ts NULL)."""
    columns: dict[str, list[Any]] = {name: [] for name in _RECORD_FIELDS}
    for m in messages:
        for name, get in _RECORD_FIELDS.items():
            columns[name].append(get(m))
    return _records_frame({name: pd.Series(values, dtype=_dtype(name)) for name, values in columns.items()})


def records_frame_from_arrays(ts_utc: np.ndarray, values: dict[str, np.ndarray]) -> pd.DataFrame:
    """The same frame as ``records_frame`` from columns already decoded (NaN / NaT for None).

    Takes ownership of the arrays (no copies): ts_utc as datetime64[us], values float64.
    """
    n = len(ts_utc)
    columns: dict[str, Any] = {
        "ts_utc": ts_utc.astype(_dtype("ts_utc"), copy=False),
        "session_index": pd.arrays.IntegerArray(np.zeros(n, dtype=np.int32), np.ones(n, dtype=bool)),
        "steps_per_min": np.full(n, np.nan),
    }
    columns.update({name: values[name].astype(np.float64, copy=False) for name in RECORD_SOURCES})
    return pd.DataFrame({name: columns[name] for name in RECORD_COLUMNS}, copy=False)


def _records_frame(series: dict[str, pd.Series]) -> pd.DataFrame:
    frame = pd.DataFrame(series)
    frame["session_index"] = pd.Series([pd.NA] * len(frame), dtype="Int32")
    frame["steps_per_min"] = np.nan
    return frame[RECORD_COLUMNS]


def _dtype(name: str) -> str:
    return "datetime64[us]" if name == "ts_utc" else "float64"


def assign_sessions(records: pd.DataFrame, sessions: pd.DataFrame) -> pd.DataFrame:
    """Place each record in the session it falls in; convert stride cadence to steps.

    Updates the decoder's own fresh ``records`` frame in place (no copy of a large frame)
    and returns it.
    """
    if records.empty or sessions.empty:
        return records
    starts = sessions["start_utc"].to_numpy(dtype="datetime64[us]")
    ts = records["ts_utc"].ffill().bfill().to_numpy(dtype="datetime64[us]")
    index = np.clip(np.searchsorted(starts, ts, side="right") - 1, 0, len(starts) - 1)
    records["session_index"] = sessions["session_index"].to_numpy()[index].astype("int32")
    is_stride = sessions["sport"].isin(STRIDE_SPORTS).to_numpy()[index]
    cadence = records["cadence"].to_numpy(dtype="float64")
    fractional = np.nan_to_num(records["fractional_cadence"].to_numpy(dtype="float64"), nan=0.0)
    records["steps_per_min"] = np.where(is_stride, 2.0 * (cadence + fractional), np.nan)
    return records


def sets_frame(messages: list[dict[str, Any]]) -> pd.DataFrame:
    rows = [
        {
            "set_index": i,
            "start_utc": m.get("start_time") or m.get("timestamp"),
            "category": _text(m.get("category")),
            "category_subtype": _subtype(m.get("category_subtype")),
            "repetitions": _num(m.get("repetitions")),
            "weight_kg": _num(m.get("weight")),
            "duration_s": _num(m.get("duration")),
            "set_type": _text(m.get("set_type")),
        }
        for i, m in enumerate(messages)
    ]
    return _frame(rows, SET_COLUMNS)


def _subtype(value: Any) -> int | None:
    if isinstance(value, (tuple, list)):
        value = next((v for v in value if v is not None), None)
    return value if isinstance(value, int) else None
