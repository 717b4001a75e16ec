"""FIT message dicts (as fitparse gives them) -> the warehouse's columns.

One place maps FIT fields to column names and units, so the fitparse path and
any faster decoder produce the same tables. Values arrive already scaled to the
FIT profile's units (m, m/s, ms, mm, kg); times are naive UTC.

A decoded activity keeps its tables as plain columns: :class:`RowTable` (sessions, laps,
sets: a few rows, one Python list per column) and :class:`RecordColumns` (the per-second
records, one NumPy array per column). They pickle cheaply (decode workers send them back)
and the bulk writer concatenates a batch's columns once; the pandas frames that callers
read (``DecodedActivity.sessions`` ...) are built from them on first use, the same frames
as built directly from the messages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # imported where a frame is built: decoding needs no pandas (decode workers)
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


def frame_of(values: dict[str, list[Any]], columns: list[str]) -> pd.DataFrame:
    """Column by column (much cheaper than pandas' row-of-dicts path for these small frames);
    the dict is built in ``columns`` order, so no reindexing (which costs more than the data)."""
    import pandas as pd

    data: dict[str, Any] = {}
    for col in columns:
        column = values[col]
        is_time = col.endswith("_utc") or col.endswith("_local")
        series = pd.Series(column, dtype=object if is_time else _inferred(column))
        data[col] = pd.to_datetime(series) if is_time else series
    return pd.DataFrame(data, copy=False)


def _columns_of(rows: list[dict[str, Any]], columns: list[str]) -> dict[str, list[Any]]:
    return {col: [row[col] for row in rows] for col in columns}


class RowTable:
    """A table of a few rows (sessions, laps, sets) as one Python list per column, in ``columns``
    order: the values as the message dicts give them (the frame's dtypes come from :func:`frame_of`)."""

    __slots__ = ("columns", "values", "_frame")

    def __init__(self, columns: list[str], values: dict[str, list[Any]]) -> None:
        self.columns, self.values = columns, values
        self._frame: pd.DataFrame | None = None

    @classmethod
    def from_rows(cls, rows: list[dict[str, Any]], columns: list[str]) -> RowTable:
        return cls(columns, _columns_of(rows, columns))

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> RowTable:
        """A frame a caller set (its columns and values, missing ones as None); the frame itself is kept."""
        columns = [str(col) for col in frame.columns]
        table = cls(columns, {col: frame[col].astype(object).where(frame[col].notna(), None).tolist()
                              for col in columns})
        table._frame = frame
        return table

    def __len__(self) -> int:
        return len(self.values[self.columns[0]]) if self.columns else 0

    def __getstate__(self) -> tuple:
        return self.columns, self.values  # the frame is rebuilt where it is needed

    def __setstate__(self, state: tuple) -> None:
        self.columns, self.values = state
        self._frame = None

    def frame(self) -> pd.DataFrame:
        if self._frame is None:
            self._frame = frame_of(self.values, self.columns)
        return self._frame

    def plain_times(self, column: str) -> bool:
        """Are the column's values all datetimes or None (no device-relative integers, no Timestamps)?"""
        return all(v is None or (type(v) is datetime and v.tzinfo is None) for v in self.values[column])


def concat_columns(tables: list[RowTable]) -> dict[str, list[Any]] | None:
    """Several activities' tables as ONE set of column lists, in ``columns`` order, or None when a
    time column holds something other than datetimes and None (then :func:`concat_frame`, which
    converts as pandas does)."""
    columns = tables[0].columns
    if any(table.columns != columns for table in tables):
        return None
    times = [col for col in columns if col.endswith("_utc") or col.endswith("_local")]
    if not all(table.plain_times(col) for table in tables for col in times):
        return None
    values: dict[str, list[Any]] = {col: [] for col in columns}
    for table in tables:
        for col in columns:
            values[col].extend(table.values[col])
    return values


def concat_frame(tables: list[RowTable]) -> pd.DataFrame:
    """Several activities' tables as ONE frame (the values of each, one after the other; None in a
    column one of them does not have)."""
    columns = list(dict.fromkeys(col for table in tables for col in table.columns))
    values: dict[str, list[Any]] = {col: [] for col in columns}
    for table in tables:
        for col in columns:
            values[col].extend(table.values.get(col) or [None] * len(table))
    return frame_of(values, columns)


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


def sessions_table(messages: list[dict[str, Any]], local_offset_s: int | None) -> RowTable:
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
    return RowTable.from_rows(rows, SESSION_COLUMNS)


def _total_steps(sport: str, m: dict[str, Any]) -> float | None:
    strides = _num(_first(m, "total_strides", "total_cycles"))
    return 2.0 * strides if strides is not None and sport in STRIDE_SPORTS else None


def session_from_records(records: RecordColumns, sport: str | None, local_offset_s: int | None) -> RowTable:
    """A session rebuilt from the records of a file cut short before its session message."""
    import pandas as pd

    frame = records.to_frame()  # a rare file: pandas' own min, max and means
    start, end = frame["ts_utc"].min(), frame["ts_utc"].max()
    elapsed = (end - start).total_seconds()
    row = {
        "session_index": 0, "sport": sport or "generic", "sub_sport": None,
        "start_utc": start,
        "start_local": start + pd.Timedelta(seconds=local_offset_s) if local_offset_s is not None else None,
        "elapsed_s": elapsed, "timer_s": elapsed,
        "distance_m": _num(frame["distance_m"].max()),
        "ascent_m": None,
        "avg_speed_mps": _num(frame["speed_mps"].mean()),
        "avg_heart_rate": _num(frame["heart_rate"].mean()),
        "avg_steps_per_min": None, "total_steps": None,
        "avg_stance_time_ms": _num(frame["stance_time_ms"].mean()),
        "synthesized": True,
    }
    return RowTable.from_rows([row], SESSION_COLUMNS)


def laps_table(messages: list[dict[str, Any]]) -> RowTable:
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
    return RowTable.from_rows(rows, LAP_COLUMNS)


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


def record_columns(messages: Iterable[dict[str, Any]]) -> RecordColumns:
    """Per-second records, in file order. A record without a timestamp is kept (ts NULL)."""
    import pandas as pd

    columns: dict[str, list[Any]] = {name: [] for name in _RECORD_FIELDS}
    for m in messages:
        for name, get in _RECORD_FIELDS.items():
            columns[name].append(get(m))
    # pandas' conversion: a timestamp fitparse left as an integer (device-relative time) is microseconds
    ts = pd.Series(columns.pop("ts_utc"), dtype="datetime64[us]").to_numpy(dtype="datetime64[us]")
    return RecordColumns(ts, {name: np.array(values, dtype=np.float64) for name, values in columns.items()})


class RecordColumns:
    """The per-second records as one NumPy array per column (what the frame ``records`` holds).

    ``ts_utc`` datetime64[us] (NaT: none); ``session_index`` int32 with ``session_missing`` (True:
    NULL; None: none missing), all NULL until :func:`assign_sessions` places the records; every
    other column float64 (NaN: none). The arrays are owned (never copied when the frame is built).
    """

    __slots__ = ("ts_utc", "session_index", "session_missing", "values", "_frame")

    def __init__(self, ts_utc: np.ndarray, values: dict[str, np.ndarray], session_index: np.ndarray | None = None,
                 session_missing: np.ndarray | None = None) -> None:
        n = len(ts_utc)
        self.ts_utc = ts_utc.astype("datetime64[us]", copy=False)
        self.values = {name: values[name].astype(np.float64, copy=False) if name in values else np.full(n, np.nan)
                       for name in RECORD_VALUE_COLUMNS}
        if session_index is None:
            session_index, session_missing = np.zeros(n, dtype=np.int32), np.ones(n, dtype=bool)
        self.session_index, self.session_missing = session_index, session_missing
        self._frame: pd.DataFrame | None = None

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> RecordColumns:
        """A records frame a caller set (privacy applied, a test); the frame itself is kept as is."""
        import pandas as pd

        index = frame["session_index"]
        if isinstance(index.dtype, pd.api.extensions.ExtensionDtype):
            missing = index.isna().to_numpy()
            session_index = index.to_numpy(dtype=np.int32, na_value=0)
        else:
            missing, session_index = None, index.to_numpy(dtype=np.int32)
        table = cls(frame["ts_utc"].to_numpy(dtype="datetime64[us]"),
                    {name: frame[name].to_numpy(dtype=np.float64) for name in RECORD_VALUE_COLUMNS},
                    session_index, missing)
        table._frame = frame
        return table

    def __len__(self) -> int:
        return len(self.ts_utc)

    def __getstate__(self) -> tuple:
        return self.ts_utc, self.session_index, self.session_missing, self.values

    def __setstate__(self, state: tuple) -> None:
        self.ts_utc, self.session_index, self.session_missing, self.values = state
        self._frame = None

    def frame(self) -> pd.DataFrame:
        if self._frame is None:
            self._frame = self.to_frame()
        return self._frame

    def to_frame(self) -> pd.DataFrame:
        """A new frame over these arrays (no copies)."""
        import pandas as pd

        index: Any = self.session_index
        if self.session_missing is not None:
            index = pd.arrays.IntegerArray(self.session_index, self.session_missing)
        columns = {"ts_utc": self.ts_utc, "session_index": index, **self.values}
        return pd.DataFrame({name: columns[name] for name in RECORD_COLUMNS}, copy=False)

    def concat(self, other: RecordColumns) -> RecordColumns:
        """These records, then other's (both not yet placed in sessions)."""
        return RecordColumns(np.concatenate([self.ts_utc, other.ts_utc]),
                             {name: np.concatenate([v, other.values[name]]) for name, v in self.values.items()})


RECORD_VALUE_COLUMNS = [name for name in RECORD_COLUMNS if name not in ("ts_utc", "session_index")]


def concat_records(tables: list[RecordColumns]) -> dict[str, Any]:
    """Several activities' records as ONE set of columns: NaN / NaT where a value is missing, and
    ``session_index`` as a pyarrow array (NULL where missing), as their frames would give Arrow."""
    import pyarrow as pa

    missing = [t.session_missing if t.session_missing is not None else np.zeros(len(t), dtype=bool) for t in tables]
    index = pa.array(np.concatenate([t.session_index for t in tables]), type=pa.int32(),
                     mask=np.concatenate(missing) if any(t.session_missing is not None for t in tables) else None)
    columns: dict[str, Any] = {"ts_utc": np.concatenate([t.ts_utc for t in tables]), "session_index": index}
    columns.update({name: np.concatenate([t.values[name] for t in tables]) for name in RECORD_VALUE_COLUMNS})
    return columns


def assign_sessions(records: RecordColumns, sessions: RowTable) -> RecordColumns:
    """Place each record in the session it falls in; convert stride cadence to steps.

    Updates the decoder's own fresh ``records`` in place (no copy of the large arrays) and
    returns them.
    """
    if not len(records) or not len(sessions):
        return records
    starts = _session_starts(sessions)
    ts = _filled(records.ts_utc)
    index = np.clip(np.searchsorted(starts, ts, side="right") - 1, 0, len(starts) - 1)
    records.session_index = np.asarray(sessions.values["session_index"])[index].astype("int32")
    records.session_missing = None
    is_stride = np.array([sport in STRIDE_SPORTS for sport in sessions.values["sport"]], dtype=bool)[index]
    cadence = records.values["cadence"]
    fractional = np.nan_to_num(records.values["fractional_cadence"], nan=0.0)
    records.values["steps_per_min"] = np.where(is_stride, 2.0 * (cadence + fractional), np.nan)
    records._frame = None
    return records


def _session_starts(sessions: RowTable) -> np.ndarray:
    """The sessions' start_utc as the frame holds it, as datetime64[us]."""
    if sessions.plain_times("start_utc"):
        return np.array(sessions.values["start_utc"], dtype="datetime64[us]")
    return sessions.frame()["start_utc"].to_numpy(dtype="datetime64[us]")


def _filled(ts: np.ndarray) -> np.ndarray:
    """pandas' ``ffill().bfill()``: each NaT takes the last timestamp before it, else the first after."""
    valid = ~np.isnat(ts)
    if valid.all() or not valid.any():
        return ts
    at = np.where(valid, np.arange(len(ts)), 0)
    np.maximum.accumulate(at, out=at)
    filled = ts[at]
    filled[: int(np.argmax(valid))] = ts[int(np.argmax(valid))]
    return filled


def sets_table(messages: list[dict[str, Any]]) -> RowTable:
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
    return RowTable.from_rows(rows, SET_COLUMNS)


def _subtype(value: Any) -> int | None:
    if isinstance(value, (tuple, list)):
        value = next((v for v in value if v is not None), None)
    return value if isinstance(value, int) else None
