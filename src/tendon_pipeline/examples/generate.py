"""Example-data generator: real FIT files written with Garmin's FIT SDK encoder.

Two users: the demo job (example data from the repository alone) and tests that need
multi-week athlete histories as real FIT files to make overuse rules fire.

* :func:`write_activity` / :func:`fit_bytes` turn one :class:`ActivitySpec` into a FIT
  activity file: file_id, file_creator, device_info, user_profile, timer events,
  1 Hz records, a lap every 1000 m, strength ``set`` messages, session and activity.
* :func:`weekly_plan_history` and the scenario builders (:func:`steady_block`,
  :func:`volume_spike`, :func:`long_run_spike`, :func:`no_strength`,
  :func:`monotonous_block`) turn an :class:`AthleteProfile` into dated ActivitySpecs.
* :func:`generate_example_inbox` writes three example athletes' histories to disk.

Speed: the stock ``Encoder.write_mesg`` costs about 100 us per record and the SDK's
file CRC is a per-byte Python loop.  Record runs are therefore written by
``_FastEncoder``, a subclass that lets the SDK write the message definition and the
first record, then packs the remaining records of a lap with numpy, mirroring the
SDK's value transform (``round((value + offset) * scale)``), and computes the file CRC
with a 256-entry table.  ``fit_bytes(spec, reference=True)`` writes every message
through the stock encoder; the tests check both paths give identical bytes.

Everything is deterministic: no wall clock and no global random state is read.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
from garmin_fit_sdk import Encoder, Profile
from garmin_fit_sdk import fit as _FIT
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tendon_pipeline.fileio import write_atomic

if TYPE_CHECKING:
    from tendon_pipeline.domain.models import RunSummary

__all__ = [
    "MESG_NUM",
    "StrengthSet",
    "ActivitySpec",
    "AthleteProfile",
    "fit_bytes",
    "write_activity",
    "write_settings_file",
    "write_workout_file",
    "calf_raise_session",
    "progressive_weekly_km",
    "weekly_plan_history",
    "steady_block",
    "volume_spike",
    "long_run_spike",
    "no_strength",
    "monotonous_block",
    "example_athletes",
    "example_histories",
    "generate_example_inbox",
]

MESG_NUM: dict[str, int] = {k.lower(): v for k, v in Profile["mesg_num"].items()}
"""FIT global message numbers by lower-case name, e.g. ``MESG_NUM["set"] == 225``."""

_FIT_EPOCH_S = 631065600  # 1989-12-31T00:00:00Z in Unix seconds
_STRIDE_SPORTS = frozenset({"running", "walking", "hiking"})  # FIT cadence = strides/min
_DEFAULT_MASS_KG = 70.0
_SOFTWARE_VERSION = 20.8
_FIXED_CREATED = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)


# --------------------------------------------------------------------------- profile helpers


@cache
def _type_values(type_name: str) -> frozenset[str]:
    """Names of one FIT profile type, e.g. ``_type_values("sport")``."""
    return frozenset(Profile["types"][type_name].values())


@cache
def _field_names(mesg_num: int) -> frozenset[str]:
    """Field names the encoder accepts for a message (sub-field names are NOT accepted)."""
    return frozenset(f["name"] for f in Profile["messages"][mesg_num]["fields"].values())


def _mesg(name: str, **fields: Any) -> dict[str, Any]:
    """Build an encoder message dict; drops None values, rejects unknown field names.

    The SDK encoder silently skips names it does not know (e.g. the sub-field
    ``total_strides``), so a typo would lose data without an error.
    """
    num = MESG_NUM[name]
    unknown = set(fields) - _field_names(num)
    if unknown:
        raise ValueError(f"{name}: unknown FIT field(s) {sorted(unknown)}")
    return {"mesg_num": num, **{k: v for k, v in fields.items() if v is not None}}


def _fit_ts(moment: datetime) -> int:
    """Seconds since the FIT epoch for a tz-aware datetime."""
    return int(moment.timestamp()) - _FIT_EPOCH_S


def _check_name(value: str, type_name: str) -> str:
    if value not in _type_values(type_name):
        raise ValueError(f"{value!r} is not a FIT {type_name} name")
    return value


# --------------------------------------------------------------------------- models


class StrengthSet(BaseModel):
    """One strength set as stored in a FIT ``set`` message (message 225)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    category: str = Field(description="FIT exercise_category name, e.g. 'calf_raise'")
    subtype: int | None = Field(None, ge=0, le=65533, description="<category>_exercise_name value")
    repetitions: int | None = Field(None, ge=0, le=65533)
    weight_kg: float | None = Field(None, ge=0, le=4000)
    duration_s: float = Field(gt=0, le=86_400)
    active: bool = True

    @field_validator("category")
    @classmethod
    def _known_category(cls, value: str) -> str:
        return _check_name(value, "exercise_category")


class ActivitySpec(BaseModel):
    """Everything needed to write one FIT activity file (one session)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start_utc: datetime
    utc_offset_s: int = Field(0, ge=-14 * 3600, le=14 * 3600)
    local_time: bool = Field(True, description="write the activity's local_timestamp (some apps do not:"
                                               " the athlete's configured time zone then dates the run)")
    sport: str = "running"
    sub_sport: str = "generic"
    distance_m: float = Field(ge=0)
    duration_s: int = Field(gt=0, le=86_400)
    cadence_spm: float | None = Field(170.0, gt=0, lt=500, description="steps (not strides) per minute")
    running_dynamics: bool = False
    stance_time_ms: float = Field(250.0, gt=100, lt=500)
    heart_rate: int | None = Field(150, ge=30, le=240)
    with_power: bool = False
    serial_number: int = Field(3_900_000_001, gt=0, lt=2**32 - 1)
    manufacturer: str = "garmin"
    product: int = Field(3113, ge=0, lt=65535, description="garmin_product id, 3113 = fr945")
    body_mass_kg: float | None = Field(None, gt=0, le=6000)
    height_m: float | None = Field(None, gt=0, le=2.54)
    strength_sets: list[StrengthSet] = Field(default_factory=list)
    seed: int = Field(0, ge=0, description="seeds the small speed/HR/altitude variation")
    smart_recording: bool = Field(False, description="write a record every 1-5 s (mean 3 s) like a watch's"
                                                     " smart recording, instead of every second")

    @field_validator("start_utc")
    @classmethod
    def _aware_whole_seconds(cls, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("start_utc must be timezone-aware")
        value = value.astimezone(UTC).replace(microsecond=0)
        if _fit_ts(value) < 0x10000000:
            raise ValueError("start_utc must be after 1998 (FIT absolute time)")
        return value

    @field_validator("sport")
    @classmethod
    def _known_sport(cls, value: str) -> str:
        return _check_name(value, "sport")

    @field_validator("sub_sport")
    @classmethod
    def _known_sub_sport(cls, value: str) -> str:
        return _check_name(value, "sub_sport")

    @field_validator("manufacturer")
    @classmethod
    def _known_manufacturer(cls, value: str) -> str:
        return _check_name(value, "manufacturer")

    @model_validator(mode="after")
    def _consistent(self) -> ActivitySpec:
        if self.running_dynamics and self.cadence_spm is None:
            raise ValueError("running_dynamics needs cadence_spm (step length comes from it)")
        if self.running_dynamics and self.distance_m <= 0:
            raise ValueError("running_dynamics needs a distance")
        if self.distance_m / self.duration_s > 15:
            raise ValueError("average speed above 15 m/s: distance/duration mixed up?")
        if sum(s.duration_s for s in self.strength_sets) > self.duration_s + 1:
            raise ValueError("strength sets last longer than the activity")
        return self

    @property
    def end_utc(self) -> datetime:
        """End of the activity (start + duration)."""
        return self.start_utc + timedelta(seconds=self.duration_s)

    @property
    def local_start(self) -> datetime:
        """Start in the athlete's local wall-clock time (naive)."""
        return (self.start_utc + timedelta(seconds=self.utc_offset_s)).replace(tzinfo=None)


class AthleteProfile(BaseModel):
    """A simulated athlete: device, body and running habits used by the history builders."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    athlete_id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    body_mass_kg: float | None = Field(None, gt=0, le=300)
    height_m: float | None = Field(None, gt=0, le=2.54)
    utc_offset_s: int = Field(0, ge=-14 * 3600, le=14 * 3600)
    serial_number: int = Field(3_900_000_001, gt=0, lt=2**32 - 1)
    product: int = 3113
    easy_pace_s_per_km: float = Field(330.0, gt=120, lt=1200)
    cadence_spm: float | None = Field(170.0, gt=0, lt=500)
    running_dynamics: bool = False
    stance_time_ms: float = Field(250.0, gt=100, lt=500)
    easy_heart_rate: int | None = Field(148, ge=30, le=240)
    with_power: bool = False
    smart_recording: bool = False

    @model_validator(mode="after")
    def _dynamics_need_cadence(self) -> AthleteProfile:
        if self.running_dynamics and self.cadence_spm is None:
            raise ValueError("running_dynamics needs cadence_spm")
        return self


# --------------------------------------------------------------------------- time series


def _stride_rate(spec: ActivitySpec) -> float:
    """Value of the FIT cadence field: strides/min for foot sports, else the rate as given."""
    assert spec.cadence_spm is not None
    return spec.cadence_spm / 2 if spec.sport in _STRIDE_SPORTS else spec.cadence_spm


def _speed_profile(spec: ActivitySpec, t: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
    """Per-second speed (m/s): average pace with a few % of smooth wobble, summing to distance."""
    phase = rng.uniform(0, 2 * math.pi)
    wobble = 0.03 * np.sin(2 * math.pi * t / 420 + phase) + 0.012 * np.sin(2 * math.pi * t / 97 + 2 * phase)
    noise = np.clip(rng.normal(0.0, 0.01, t.size), -0.03, 0.03)
    rel = 1.0 + wobble + noise
    return rel * (spec.distance_m / rel.sum())


def _distance(speed: np.ndarray, total_m: float) -> np.ndarray:
    """Cumulative distance rounded to the FIT resolution (cm), ending exactly at total_m."""
    dist = np.round(np.cumsum(speed) * 100) / 100
    dist[-1] = round(total_m * 100) / 100
    return np.maximum.accumulate(dist)


def _altitude(t: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
    """Gently rolling altitude (m) at the FIT resolution of 0.2 m."""
    phase = rng.uniform(0, 2 * math.pi)
    alt = 100 + 6 * np.sin(2 * math.pi * t / 900 + phase) + 1.5 * np.sin(2 * math.pi * t / 173 + 2 * phase)
    return np.round(alt * 5) / 5


def _heart_rate(spec: ActivitySpec, t: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
    """Integer bpm around spec.heart_rate with a slow upward drift."""
    assert spec.heart_rate is not None
    drift = 6 * (t / t.size - 0.5)
    noise = np.clip(rng.normal(0.0, 1.5, t.size), -4, 4)
    return np.clip(np.round(spec.heart_rate + drift + noise), 35, 235).astype(np.int64)


def _cadence_columns(spec: ActivitySpec, n: int) -> dict[str, np.ndarray]:
    """Constant cadence split into the integer and fractional FIT fields."""
    rate = _stride_rate(spec)
    whole = math.floor(rate)
    return {
        "cadence": np.full(n, whole, dtype=np.int64),
        "fractional_cadence": np.full(n, rate - whole),
    }


def _dynamics_columns(spec: ActivitySpec, speed: np.ndarray, rng: np.random.RandomState) -> dict[str, np.ndarray]:
    """Running dynamics per record, consistent with speed and cadence."""
    assert spec.cadence_spm is not None
    n = speed.size
    rel = speed / speed.mean()
    stance = spec.stance_time_ms * (1 - 0.6 * (rel - 1)) + np.clip(rng.normal(0, 2.0, n), -6, 6)
    step_mm = speed / (spec.cadence_spm / 60) * 1000
    vert_osc = 82 + 40 * (rel - 1) + np.clip(rng.normal(0, 1.5, n), -4, 4)
    balance = 50.4 + 0.5 * np.sin(np.arange(n) / 60) + np.clip(rng.normal(0, 0.3, n), -1, 1)
    return {
        "stance_time": stance,
        "stance_time_percent": stance / (120_000 / spec.cadence_spm) * 100,
        "vertical_oscillation": vert_osc,
        "step_length": step_mm,
        "vertical_ratio": vert_osc / step_mm * 100,
        "stance_time_balance": balance,
    }


def _record_columns(spec: ActivitySpec) -> dict[str, np.ndarray]:
    """All 1 Hz record fields, in physical units, keyed by FIT field name (write order)."""
    n = spec.duration_s
    rng = np.random.RandomState(spec.seed % 2**32)
    t = np.arange(1, n + 1, dtype=np.float64)
    cols: dict[str, np.ndarray] = {"timestamp": _fit_ts(spec.start_utc) + np.arange(1, n + 1, dtype=np.int64)}
    speed = None
    if spec.distance_m > 0:
        speed = _speed_profile(spec, t, rng)
        cols["distance"] = _distance(speed, spec.distance_m)
        cols["speed"] = speed
        cols["altitude"] = _altitude(t, rng)
    if spec.heart_rate is not None:
        cols["heart_rate"] = _heart_rate(spec, t, rng)
    if spec.cadence_spm is not None:
        cols.update(_cadence_columns(spec, n))
    if spec.running_dynamics and speed is not None:
        cols.update(_dynamics_columns(spec, speed, rng))
    if spec.with_power and speed is not None:
        mass = spec.body_mass_kg or _DEFAULT_MASS_KG
        cols["power"] = np.round(1.04 * mass * speed + rng.normal(0, 4, n)).astype(np.int64)
    return cols


# --------------------------------------------------------------------------- summaries


class _Span(NamedTuple):
    """A lap as a half-open interval of seconds since start: records lo+1 .. hi."""

    lo: int
    hi: int


def _lap_spans(spec: ActivitySpec, cols: dict[str, np.ndarray]) -> list[_Span]:
    """Split the activity at every full kilometre (one lap when there is no distance)."""
    if "distance" not in cols:
        return [_Span(0, spec.duration_s)]
    dist = cols["distance"]
    marks = np.arange(1000.0, spec.distance_m, 1000.0)
    ends = [int(i) + 1 for i in np.searchsorted(dist, marks, side="left")]
    bounds = sorted({0, *[e for e in ends if 0 < e < spec.duration_s], spec.duration_s})
    return [_Span(a, b) for a, b in zip(bounds, bounds[1:])]


def _distance_summary(cols: dict[str, np.ndarray], span: _Span) -> dict[str, Any]:
    lo, hi = span
    dist = cols["distance"]
    covered = float(dist[hi - 1] - (dist[lo - 1] if lo else 0.0))
    steps = np.diff(cols["altitude"][max(lo - 1, 0) : hi])
    return {
        "total_distance": covered,
        "avg_speed": covered / (hi - lo),
        "max_speed": float(cols["speed"][lo:hi].max()),
        "total_ascent": int(round(float(steps[steps > 0].sum()))),
        "total_descent": int(round(float(-steps[steps < 0].sum()))),
    }


def _cadence_summary(spec: ActivitySpec, span: _Span) -> dict[str, Any]:
    rate = _stride_rate(spec)
    cycles = math.floor(rate * span.hi / 60) - math.floor(rate * span.lo / 60)
    return {
        "avg_cadence": math.floor(rate),
        "avg_fractional_cadence": rate - math.floor(rate),
        "max_cadence": math.floor(rate),
        "total_cycles": cycles,
    }


_AVERAGED = {
    "stance_time": "avg_stance_time",
    "stance_time_percent": "avg_stance_time_percent",
    "vertical_oscillation": "avg_vertical_oscillation",
    "step_length": "avg_step_length",
    "vertical_ratio": "avg_vertical_ratio",
    "stance_time_balance": "avg_stance_time_balance",
}


def _summary(spec: ActivitySpec, cols: dict[str, np.ndarray], span: _Span) -> dict[str, Any]:
    """Lap/session fields shared by both messages for the records inside span."""
    lo, hi = span
    out: dict[str, Any] = {"total_elapsed_time": hi - lo, "total_timer_time": hi - lo, "total_distance": 0.0}
    if "distance" in cols:
        out.update(_distance_summary(cols, span))
    if "heart_rate" in cols:
        out["avg_heart_rate"] = int(round(float(cols["heart_rate"][lo:hi].mean())))
        out["max_heart_rate"] = int(cols["heart_rate"][lo:hi].max())
    if "cadence" in cols:
        out.update(_cadence_summary(spec, span))
    for column, field in _AVERAGED.items():
        if column in cols:
            out[field] = float(cols[column][lo:hi].mean())
    if "power" in cols:
        out["avg_power"] = int(round(float(cols["power"][lo:hi].mean())))
        out["max_power"] = int(cols["power"][lo:hi].max())
    out["total_calories"] = _calories(spec, out["total_distance"], hi - lo)
    return out


def _calories(spec: ActivitySpec, distance_m: float, seconds: int) -> int:
    """Rough energy: 1 kcal per kg per km when moving, 5 kcal/min for strength work."""
    if distance_m > 0:
        return int(round((spec.body_mass_kg or _DEFAULT_MASS_KG) * distance_m / 1000))
    return int(round(5 * seconds / 60))


# --------------------------------------------------------------------------- messages


def _header_mesgs(spec: ActivitySpec, ts0: int) -> list[dict[str, Any]]:
    """file_id, file_creator, device_info, user_profile and the timer-start event."""
    device = {"manufacturer": spec.manufacturer, "product": spec.product, "serial_number": spec.serial_number}
    mesgs = [
        _mesg("file_id", type="activity", time_created=ts0, **device),
        _mesg("file_creator", software_version=int(_SOFTWARE_VERSION * 100)),
        _mesg("device_info", timestamp=ts0, device_index=0, software_version=_SOFTWARE_VERSION,
              source_type="local", **device),
    ]
    if spec.body_mass_kg is not None or spec.height_m is not None:
        mesgs.append(_mesg("user_profile", weight=spec.body_mass_kg, height=spec.height_m))
    mesgs.append(_mesg("event", timestamp=ts0, event="timer", event_type="start", event_group=0))
    return mesgs


def _lap_mesg(spec: ActivitySpec, cols: dict[str, np.ndarray], index: int, span: _Span, last: bool) -> dict[str, Any]:
    ts0 = _fit_ts(spec.start_utc)
    return _mesg(
        "lap", message_index=index, timestamp=ts0 + span.hi, start_time=ts0 + span.lo,
        event="lap", event_type="stop", lap_trigger="session_end" if last else "distance",
        sport=spec.sport, sub_sport=spec.sub_sport, **_summary(spec, cols, span),
    )


def _session_mesg(spec: ActivitySpec, cols: dict[str, np.ndarray], num_laps: int) -> dict[str, Any]:
    ts0 = _fit_ts(spec.start_utc)
    return _mesg(
        "session", message_index=0, timestamp=ts0 + spec.duration_s, start_time=ts0,
        event="session", event_type="stop", trigger="activity_end",
        sport=spec.sport, sub_sport=spec.sub_sport, first_lap_index=0, num_laps=num_laps,
        **_summary(spec, cols, _Span(0, spec.duration_s)),
    )


def _activity_mesg(spec: ActivitySpec) -> dict[str, Any]:
    end = _fit_ts(spec.start_utc) + spec.duration_s
    return _mesg(
        "activity", timestamp=end, total_timer_time=spec.duration_s, num_sessions=1, type="manual",
        event="activity", event_type="stop", local_timestamp=end + spec.utc_offset_s if spec.local_time else None,
    )


def _set_mesgs(spec: ActivitySpec) -> list[dict[str, Any]]:
    """One ``set`` message per StrengthSet, back to back from the activity start."""
    mesgs, offset = [], 0.0
    ts0 = _fit_ts(spec.start_utc)
    for index, item in enumerate(spec.strength_sets):
        start = ts0 + int(offset)
        offset += item.duration_s
        mesgs.append(_mesg(
            "set", message_index=index, timestamp=ts0 + int(offset), start_time=start,
            duration=item.duration_s, repetitions=item.repetitions, weight=item.weight_kg,
            set_type="active" if item.active else "rest", category=[item.category],
            category_subtype=None if item.subtype is None else [item.subtype],
        ))
    return mesgs


# --------------------------------------------------------------------------- encoding


def _crc16(data: bytes) -> int:
    """FIT file CRC (CRC-16/ARC), byte-table form of the SDK's nibble-table loop."""
    crc, table = 0, _CRC_TABLE
    for byte in data:
        crc = (crc >> 8) ^ table[(crc ^ byte) & 0xFF]
    return crc


def _crc_table() -> list[int]:
    table = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC_TABLE = _crc_table()
_NUMERIC_TYPES = frozenset(_FIT.NUMERIC_FIELD_TYPES)


def _raw_column(values: np.ndarray, field: dict[str, Any]) -> np.ndarray:
    """Physical values -> stored integers/floats exactly as Encoder._transform_value does."""
    base = _FIT.BASE_TYPE_DEFINITIONS[field["base_type"]]
    scaled = field["type"] in _NUMERIC_TYPES and (field["scale"] != 1 or field["offset"] != 0)
    if base["type_code"] in ("f", "d"):
        return (values + field["offset"]) * field["scale"] if scaled else values.astype(np.float64)
    if scaled:
        raw = np.round((values.astype(np.float64) + field["offset"]) * field["scale"])
    else:
        raw = np.trunc(values) if values.dtype.kind == "f" else values
    raw = raw.astype(np.int64)
    bits = 8 * base["size"]
    low, high = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if base["signed"] else (0, (1 << bits) - 1)
    if raw.size and (raw.min() < low or raw.max() > high):
        raise ValueError(f"{field['name']}: values outside the FIT {base['type_code']} range")
    return raw


def _row_dtype(definition: Any) -> np.dtype:
    fields = [("_header", "u1")]
    for fd in definition.field_definitions:
        code = _FIT.BASE_TYPE_DEFINITIONS[fd["base_type"]]["type_code"]
        if code == "s":
            raise ValueError("string fields cannot be written column-wise")
        fields.append((fd["name"], "<" + code))
    return np.dtype(fields)


def _row(mesg_num: int, cols: dict[str, np.ndarray], i: int) -> dict[str, Any]:
    return {"mesg_num": mesg_num, **{name: col[i].item() for name, col in cols.items()}}


class _FastEncoder(Encoder):
    """Garmin's Encoder with a columnar fast path for runs of identical records.

    Uses SDK internals (_create_mesg_definition, _find_local_mesg_definition,
    _output_stream, _write_file_crc); tests compare its bytes with the stock encoder's.
    """

    def write_rows(self, mesg_num: int, cols: dict[str, np.ndarray], lo: int, hi: int) -> None:
        """Write rows lo..hi-1; the SDK writes the definition and first row, numpy the rest."""
        if hi <= lo:
            return
        first = _row(mesg_num, cols, lo)
        self.write_mesg(first)
        if hi - lo == 1:
            return
        definition = self._find_local_mesg_definition(self._create_mesg_definition(mesg_num, first))
        if definition is None:  # cannot happen with < 16 definitions per file
            raise RuntimeError("record definition not active after writing the first row")
        rows = np.empty(hi - lo - 1, dtype=_row_dtype(definition))
        rows["_header"] = definition.local_mesg_num
        for fd in definition.field_definitions:
            rows[fd["name"]] = _raw_column(cols[fd["name"]][lo + 1 : hi], fd)
        self._output_stream.set_bytes(rows.tobytes(), self._output_stream.length)

    def _write_file_crc(self) -> None:
        self._output_stream.write_uint16(_crc16(self._output_stream.data))


def _smart_recording_rows(spec: ActivitySpec) -> np.ndarray:
    """Indices of the 1 Hz rows a smart-recording watch keeps: gaps of 1-5 s, first and last kept."""
    rng = np.random.RandomState((spec.seed + 1) % 2**32)
    gaps = rng.randint(1, 6, size=spec.duration_s + 1)
    kept = np.cumsum(np.concatenate(([0], gaps)))
    kept = kept[kept < spec.duration_s - 1]
    return np.append(kept, spec.duration_s - 1)


def _write_rows(encoder: Encoder, cols: dict[str, np.ndarray], span: _Span, reference: bool,
                kept: np.ndarray | None = None) -> None:
    """Write the records of one lap (only the ``kept`` rows when given), through the fast path
    unless reference is asked."""
    if len(cols) < 2:  # timestamps only: nothing was measured
        return
    if kept is not None:
        rows = kept[(kept >= span.lo) & (kept < span.hi)]
        cols, span = {name: col[rows] for name, col in cols.items()}, _Span(0, len(rows))
    if reference or not isinstance(encoder, _FastEncoder):
        for i in range(span.lo, span.hi):
            encoder.write_mesg(_row(MESG_NUM["record"], cols, i))
    else:
        encoder.write_rows(MESG_NUM["record"], cols, span.lo, span.hi)


def fit_bytes(spec: ActivitySpec, *, reference: bool = False) -> bytes:
    """Encode one activity and return the FIT file bytes.

    reference=True writes every message through the stock ``Encoder.write_mesg`` (about
    10x slower); it exists to check the fast path byte for byte.
    """
    encoder = Encoder() if reference else _FastEncoder()
    cols = _record_columns(spec)
    spans = _lap_spans(spec, cols)
    ts0 = _fit_ts(spec.start_utc)
    kept = _smart_recording_rows(spec) if spec.smart_recording else None
    for mesg in _header_mesgs(spec, ts0):
        encoder.write_mesg(mesg)
    for index, span in enumerate(spans):
        _write_rows(encoder, cols, span, reference, kept)
        if index < len(spans) - 1:
            encoder.write_mesg(_lap_mesg(spec, cols, index, span, last=False))
    for mesg in _set_mesgs(spec):
        encoder.write_mesg(mesg)
    encoder.write_mesg(_mesg("event", timestamp=ts0 + spec.duration_s, event="timer",
                             event_type="stop_all", event_group=0))
    encoder.write_mesg(_lap_mesg(spec, cols, len(spans) - 1, spans[-1], last=True))
    encoder.write_mesg(_session_mesg(spec, cols, len(spans)))
    encoder.write_mesg(_activity_mesg(spec))
    return encoder.close()


def write_activity(path: Path, spec: ActivitySpec) -> Path:
    """Write spec as a FIT activity file at path (atomically) and return the path."""
    return write_atomic(Path(path), fit_bytes(spec))


def write_settings_file(path: Path, *, serial_number: int = 3_900_000_001, product: int = 3113) -> Path:
    """Write a tiny non-activity FIT file (file_id type ``settings``) and return its path."""
    encoder = Encoder()
    encoder.write_mesg(_mesg("file_id", type="settings", manufacturer="garmin", product=product,
                             serial_number=serial_number, time_created=_fit_ts(_FIXED_CREATED)))
    encoder.write_mesg(_mesg("user_profile", gender="female", weight=60.0, height=1.70, age=35))
    encoder.write_mesg(_mesg("device_settings", active_time_zone=0, utc_offset=0, time_zone_offset=1.0))
    return write_atomic(Path(path), encoder.close())


def write_workout_file(path: Path, *, serial_number: int = 3_900_000_001, product: int = 3113) -> Path:
    """Write a tiny non-activity FIT file (file_id type ``workout``: one 5 km step)."""
    encoder = Encoder()
    encoder.write_mesg(_mesg("file_id", type="workout", manufacturer="garmin", product=product,
                             serial_number=serial_number, time_created=_fit_ts(_FIXED_CREATED)))
    encoder.write_mesg(_mesg("workout", sport="running", sub_sport="generic", num_valid_steps=1,
                             wkt_name="Easy 5k"))
    # duration_value is raw: the encoder does not apply sub-field scales (duration_distance: cm)
    encoder.write_mesg(_mesg("workout_step", message_index=0, wkt_step_name="Run", duration_type="distance",
                             duration_value=500_000, target_type="open", intensity="active"))
    return write_atomic(Path(path), encoder.close())


# --------------------------------------------------------------------------- history building

_RUN_DAYS: dict[int, tuple[int, ...]] = {  # weekday numbers, Monday = 0; long run on Sunday
    1: (6,), 2: (2, 6), 3: (1, 3, 6), 4: (0, 2, 4, 6), 5: (0, 1, 3, 4, 6),
    6: (0, 1, 2, 4, 5, 6), 7: (0, 1, 2, 3, 4, 5, 6),
}
_STRENGTH_DAYS: dict[int, tuple[int, ...]] = {
    0: (), 1: (3,), 2: (1, 3), 3: (1, 3, 5), 4: (0, 1, 3, 5),
    5: (0, 1, 2, 3, 5), 6: (0, 1, 2, 3, 4, 5), 7: (0, 1, 2, 3, 4, 5, 6),
}


class _Planned(NamedTuple):
    """One planned session; day counts from the history's first Monday."""

    day: int
    kind: str  # "run" or "strength"
    km: float = 0.0
    pace_s_per_km: float = 0.0
    heart_rate: int | None = None
    load_kg: float = 0.0


def _round_half(value: float) -> float:
    """Round to 0.5 kg (exact in the set.weight scale of 1/16 kg)."""
    return round(value * 2) / 2


def _rest(seconds: float) -> StrengthSet:
    return StrengthSet(category="unknown", duration_s=seconds, active=False)


def calf_raise_session(load_kg: float, *, sets: int = 3, reps: int = 12, hold_s: float = 45.0) -> list[StrengthSet]:
    """The seed programme's tendon session, as FIT sets.

    ``sets`` x ``reps`` weighted standing calf raises (calf_raise / 19) at load_kg with
    90 s rests, then ``sets`` single-leg isometric holds (calf_raise / 15, one rep each)
    of hold_s at half the load with 60 s rests.  Rest sets carry category 'unknown'.
    """
    raises = StrengthSet(category="calf_raise", subtype=19, repetitions=reps,
                         weight_kg=_round_half(load_kg), duration_s=3.0 * reps)
    hold = StrengthSet(category="calf_raise", subtype=15, repetitions=1,
                       weight_kg=_round_half(load_kg / 2), duration_s=hold_s)
    out: list[StrengthSet] = []
    for _ in range(sets):
        out += [raises, _rest(90.0)]
    for i in range(sets):
        out += [hold] if i == sets - 1 else [hold, _rest(60.0)]
    return out


def _calf_load_kg(profile: AthleteProfile, week: int, progression: float) -> float:
    """Calf-raise load: 30 % of body mass (70 kg if unknown), rising by progression per week."""
    return _round_half(0.3 * (profile.body_mass_kg or _DEFAULT_MASS_KG) * (1 + progression) ** week)


def _hr(profile: AthleteProfile, delta: int) -> int | None:
    return None if profile.easy_heart_rate is None else profile.easy_heart_rate + delta


def _split_week(profile: AthleteProfile, week: int, km: float, runs: int, share: float,
                rng: random.Random) -> list[_Planned]:
    """Runs of one week: long run (share of km) on Sunday, the rest split with +-20 % variety."""
    days = _RUN_DAYS[runs]
    if km <= 0:
        return []
    if runs == 1:
        return [_Planned(7 * week + 6, "run", km, profile.easy_pace_s_per_km + 15, _hr(profile, 5))]
    weights = [rng.uniform(0.8, 1.2) for _ in days[:-1]]
    rest_km = km * (1 - share)
    plans = [
        _Planned(7 * week + day, "run", rest_km * w / sum(weights),
                 profile.easy_pace_s_per_km + (-20 if i == 0 else rng.uniform(-8, 8)),
                 _hr(profile, 10 if i == 0 else 0))
        for i, (day, w) in enumerate(zip(days[:-1], weights))
    ]
    plans.append(_Planned(7 * week + 6, "run", km * share, profile.easy_pace_s_per_km + 15, _hr(profile, 5)))
    return plans


def _strength_week(profile: AthleteProfile, week: int, count: int, progression: float) -> list[_Planned]:
    if not 0 <= count <= 7:
        raise ValueError("strength sessions per week must be 0..7")
    load = _calf_load_kg(profile, week, progression)
    return [_Planned(7 * week + day, "strength", load_kg=load, heart_rate=_hr(profile, -40))
            for day in _STRENGTH_DAYS[count]]


def _run_spec(profile: AthleteProfile, start: datetime, plan: _Planned, seed: int) -> ActivitySpec:
    return ActivitySpec(
        start_utc=start, utc_offset_s=profile.utc_offset_s, distance_m=round(plan.km * 1000),
        duration_s=max(1, round(plan.km * plan.pace_s_per_km)), cadence_spm=profile.cadence_spm,
        running_dynamics=profile.running_dynamics, stance_time_ms=profile.stance_time_ms,
        heart_rate=plan.heart_rate, with_power=profile.with_power, serial_number=profile.serial_number,
        product=profile.product, body_mass_kg=profile.body_mass_kg, height_m=profile.height_m, seed=seed,
        smart_recording=profile.smart_recording,
    )


def _strength_spec(profile: AthleteProfile, start: datetime, plan: _Planned, seed: int) -> ActivitySpec:
    sets = calf_raise_session(plan.load_kg)
    return ActivitySpec(
        start_utc=start, utc_offset_s=profile.utc_offset_s, sport="training", sub_sport="strength_training",
        distance_m=0, duration_s=math.ceil(sum(s.duration_s for s in sets)), cadence_spm=None,
        heart_rate=plan.heart_rate, serial_number=profile.serial_number, product=profile.product,
        body_mass_kg=profile.body_mass_kg, height_m=profile.height_m, strength_sets=sets, seed=seed,
        smart_recording=profile.smart_recording,
    )


def _to_specs(profile: AthleteProfile, start_monday: date, plans: Iterable[_Planned], seed: int) -> list[ActivitySpec]:
    """Dated ActivitySpecs: runs start 06:30-08:00 local, strength 18:00-19:00 local."""
    rng = random.Random(seed * 7919 + 17)
    specs = []
    for plan in sorted(plans, key=lambda p: (p.day, p.kind)):
        minute = (6 * 60 + 30 + rng.randrange(90)) if plan.kind == "run" else (18 * 60 + rng.randrange(60))
        local = datetime.combine(start_monday + timedelta(days=plan.day), time(minute // 60, minute % 60))
        start = (local - timedelta(seconds=profile.utc_offset_s)).replace(tzinfo=UTC)
        build = _run_spec if plan.kind == "run" else _strength_spec
        specs.append(build(profile, start, plan, rng.getrandbits(31)))
    return sorted(specs, key=lambda s: s.start_utc)


def _check_monday(start_monday: date) -> None:
    if start_monday.weekday() != 0:
        raise ValueError(f"start_monday {start_monday} is not a Monday")


def _per_week(value: int | Sequence[int], weeks: int) -> list[int]:
    counts = [value] * weeks if isinstance(value, int) else list(value)
    if len(counts) != weeks:
        raise ValueError("strength_per_week needs one entry per week")
    return counts


def _plan_weeks(profile: AthleteProfile, weekly_km: Sequence[float], runs_per_week: int, long_run_share: float,
                strength: Sequence[int], progression: float, rng: random.Random, first_week: int = 0) -> list[_Planned]:
    if runs_per_week not in _RUN_DAYS:
        raise ValueError("runs_per_week must be 1..7")
    if not 0 < long_run_share < 1:
        raise ValueError("long_run_share must be between 0 and 1")
    plans: list[_Planned] = []
    for i, (km, count) in enumerate(zip(weekly_km, strength)):
        week = first_week + i
        plans += _split_week(profile, week, km, runs_per_week, long_run_share, rng)
        plans += _strength_week(profile, week, count, progression)
    return plans


def weekly_plan_history(
    profile: AthleteProfile,
    weekly_km: list[float],
    start_monday: date,
    runs_per_week: int = 4,
    long_run_share: float = 0.35,
    strength_per_week: int | Sequence[int] = 2,
    seed: int = 0,
    *,
    strength_progression: float = 0.0,
) -> list[ActivitySpec]:
    """Turn weekly distances into dated runs and strength sessions (deterministic per seed).

    Week i starts on start_monday + 7 i days.  Runs fall on fixed weekdays (4 runs: Mon,
    Wed, Fri and the long run, long_run_share of the week, on Sunday); the other runs
    share the rest with +-20 % variety, the Monday run a bit faster.  Strength sessions
    (:func:`calf_raise_session` at 30 % of body mass, rising by strength_progression per
    week) fall on fixed days (2: Tue + Thu, 3: Tue + Thu + Sat).  strength_per_week is
    one count or one count per week.  A week of 0 km has no runs.
    """
    _check_monday(start_monday)
    rng = random.Random(seed)
    strength = _per_week(strength_per_week, len(weekly_km))
    plans = _plan_weeks(profile, weekly_km, runs_per_week, long_run_share, strength, strength_progression, rng)
    return _to_specs(profile, start_monday, plans, seed)


def progressive_weekly_km(weeks: int, base_km: float = 30.0, growth: float = 0.07,
                          down_every: int = 4, down_factor: float = 0.88) -> list[float]:
    """Weekly distances rising by growth per week with every down_every-th week a down week.

    Each week is the previous one times (1 + growth), or times down_factor in a down
    week, so no week rises more than growth over the week before.
    """
    km = [float(base_km)]
    for week in range(1, weeks):
        factor = down_factor if down_every and (week + 1) % down_every == 0 else 1 + growth
        km.append(km[-1] * factor)
    return km[:weeks]


def _longest_before(plans: Sequence[_Planned], day: int, window: int = 30) -> float:
    """Longest run in the window days before day (0 when there is none)."""
    return max((p.km for p in plans if p.kind == "run" and day - window <= p.day < day), default=0.0)


def _week_km(plans: Sequence[_Planned], week: int) -> float:
    return sum(p.km for p in plans if p.kind == "run" and p.day // 7 == week)


def _volume_spike_week(profile: AthleteProfile, plans: Sequence[_Planned], week: int, spike: float,
                       runs: int, rng: random.Random) -> list[_Planned]:
    """Week km = (1 + spike) x previous week over runs + 2 runs; long run capped at 1.05 x 30-day longest."""
    total = (1 + spike) * _week_km(plans, week - 1)
    sunday = 7 * week + 6
    longest = _longest_before(plans, sunday)
    long_km = min(0.35 * total, 1.05 * longest) if longest else 0.35 * total
    days = _RUN_DAYS[min(runs + 2, 7)][:-1]
    out = [_Planned(7 * week + d, "run", (total - long_km) / len(days),
                    profile.easy_pace_s_per_km + rng.uniform(-8, 8), _hr(profile, 0)) for d in days]
    out.append(_Planned(sunday, "run", long_km, profile.easy_pace_s_per_km + 15, _hr(profile, 5)))
    return out


def _long_run_spike_week(profile: AthleteProfile, plans: Sequence[_Planned], week: int, factor: float,
                         rng: random.Random) -> list[_Planned]:
    """Sunday run = factor x 30-day longest; three short runs keep the week near the previous one."""
    sunday = 7 * week + 6
    long_km = factor * _longest_before(plans, sunday)
    previous = _week_km(plans, week - 1)
    others = max(previous - long_km, 0.2 * previous) / 3
    out = [_Planned(7 * week + d, "run", others * rng.uniform(0.95, 1.05),
                    profile.easy_pace_s_per_km + 10, _hr(profile, -3)) for d in (0, 2, 4)]
    out.append(_Planned(sunday, "run", long_km, profile.easy_pace_s_per_km + 25, _hr(profile, 8)))
    return out


def _steady_plans(profile: AthleteProfile, weeks: int, base_km: float, strength: Sequence[int],
                  progression: float, rng: random.Random) -> list[_Planned]:
    return _plan_weeks(profile, progressive_weekly_km(weeks, base_km), 4, 0.35, strength, progression, rng)


def steady_block(profile: AthleteProfile, start_monday: date, weeks: int = 12, *,
                 base_km: float = 30.0, seed: int = 0) -> list[ActivitySpec]:
    """A well-progressed block: nothing should fire.

    Weekly km rise 7 % a week (<= 8 %) from base_km with a down week (x 0.88) every 4th
    week; 4 runs a week with the long run (35 %) on Sunday, so from the second week on no
    run is more than 10 % over the longest run of the previous 30 days; 2 and 3 strength
    sessions in alternate weeks with the calf-raise load rising 3 % a week; 3 rest days a
    week keep weekly monotony (mean / SD of daily km) near 1, far under 2.0.
    """
    _check_monday(start_monday)
    rng = random.Random(seed)
    strength = [2 if w % 2 == 0 else 3 for w in range(weeks)]
    return _to_specs(profile, start_monday, _steady_plans(profile, weeks, base_km, strength, 0.03, rng), seed)


def volume_spike(profile: AthleteProfile, start_monday: date, weeks: int = 8, *,
                 base_km: float = 30.0, spike: float = 0.5, seed: int = 0) -> list[ActivitySpec]:
    """Steady weeks, then the final week's km jump by spike (default +50 %, >= +40 %).

    The spike week spreads the extra km over six runs and keeps its Sunday long run
    within 5 % of the 30-day longest, so only the weekly-volume rules (week-over-week
    increase, acute:chronic ratio) fire, not the single-run rule.
    """
    _check_monday(start_monday)
    if weeks < 2:
        raise ValueError("volume_spike needs at least 2 weeks")
    rng = random.Random(seed)
    plans = _steady_plans(profile, weeks - 1, base_km, [2] * (weeks - 1), 0.03, rng)
    plans += _volume_spike_week(profile, plans, weeks - 1, spike, 4, rng)
    plans += _strength_week(profile, weeks - 1, 2, 0.03)
    return _to_specs(profile, start_monday, plans, seed)


def long_run_spike(profile: AthleteProfile, start_monday: date, weeks: int = 8, *,
                   base_km: float = 30.0, factor: float = 2.2, seed: int = 0) -> list[ActivitySpec]:
    """Steady weeks, then on the final Sunday one run of factor (2.2) x the 30-day longest.

    That is the 'over 100 %' band of Frandsen 2025 (hazard ratio 2.28).  The other runs
    of that week are short so the week's km stay at the previous week's level: only the
    single-run rule fires.
    """
    _check_monday(start_monday)
    if weeks < 2:
        raise ValueError("long_run_spike needs at least 2 weeks")
    rng = random.Random(seed)
    plans = _steady_plans(profile, weeks - 1, base_km, [2] * (weeks - 1), 0.03, rng)
    plans += _long_run_spike_week(profile, plans, weeks - 1, factor, rng)
    plans += _strength_week(profile, weeks - 1, 2, 0.03)
    return _to_specs(profile, start_monday, plans, seed)


def no_strength(profile: AthleteProfile, start_monday: date, weeks: int = 8, *,
                base_km: float = 30.0, seed: int = 0) -> list[ActivitySpec]:
    """Running as in :func:`steady_block` but strength crowded out: 0 and 1 sessions in turn.

    Below the 2-3 tendon-loading sessions a week the evidence asks for, so only the
    strength-frequency rule fires.
    """
    _check_monday(start_monday)
    rng = random.Random(seed)
    strength = [w % 2 for w in range(weeks)]
    return _to_specs(profile, start_monday, _steady_plans(profile, weeks, base_km, strength, 0.0, rng), seed)


def monotonous_block(profile: AthleteProfile, start_monday: date, weeks: int = 4, *,
                     daily_km: float = 6.0, seed: int = 0) -> list[ActivitySpec]:
    """The same easy run every day (+-2 % distance, same pace), 2 strength sessions a week.

    Daily km barely vary, so weekly monotony (mean / SD of daily km, Foster 1998) is far
    above the 2.0 line while weekly volume and the longest run stay flat.
    """
    _check_monday(start_monday)
    rng = random.Random(seed)
    plans: list[_Planned] = []
    for week in range(weeks):
        plans += [_Planned(7 * week + d, "run", daily_km * rng.uniform(0.98, 1.02),
                           profile.easy_pace_s_per_km + rng.uniform(-2, 2), _hr(profile, 0)) for d in range(7)]
        plans += _strength_week(profile, week, 2, 0.03)
    return _to_specs(profile, start_monday, plans, seed)


def _spikes_at_end(profile: AthleteProfile, start_monday: date, weeks: int, base_km: float,
                   seed: int) -> list[ActivitySpec]:
    """Steady weeks, a long-run spike in the second-to-last week, a volume spike in the last."""
    if weeks < 3:
        raise ValueError("needs at least 3 weeks")
    rng = random.Random(seed)
    plans = _steady_plans(profile, weeks - 2, base_km, [2] * (weeks - 2), 0.03, rng)
    plans += _long_run_spike_week(profile, plans, weeks - 2, 2.2, rng)
    plans += _strength_week(profile, weeks - 2, 2, 0.03)
    plans += _volume_spike_week(profile, plans, weeks - 1, 0.5, 4, rng)
    plans += _strength_week(profile, weeks - 1, 2, 0.03)
    return _to_specs(profile, start_monday, plans, seed)


# --------------------------------------------------------------------------- example inbox


def example_athletes() -> dict[str, AthleteProfile]:
    """The three example athletes of the demo inbox."""
    return {
        "ana": AthleteProfile(athlete_id="ana", body_mass_kg=58.0, height_m=1.68, utc_offset_s=3600,
                              serial_number=3_900_000_101, product=3113, easy_pace_s_per_km=320,
                              cadence_spm=176, running_dynamics=True, stance_time_ms=238, with_power=True),
        "ben": AthleteProfile(athlete_id="ben", body_mass_kg=82.0, utc_offset_s=-5 * 3600,
                              serial_number=3_900_000_202, product=3589, easy_pace_s_per_km=345,
                              cadence_spm=164),
        "cleo": AthleteProfile(athlete_id="cleo", utc_offset_s=10 * 3600, serial_number=3_900_000_303,
                               product=2431, easy_pace_s_per_km=365, cadence_spm=None, easy_heart_rate=152),
    }


def _history_start(weeks: int, end: date | None) -> date:
    """Monday `weeks` weeks before the Monday of end's week (so histories stop before it)."""
    end = end or date.today()
    return end - timedelta(days=end.weekday()) - timedelta(weeks=weeks)


def example_histories(weeks: int = 10, end: date | None = None, seed: int = 0) -> dict[str, list[ActivitySpec]]:
    """ActivitySpecs of the example athletes, ending in the week before end (default today).

    ana: :func:`steady_block` with running dynamics and body mass (nothing should fire);
    ben: steady, then a long-run spike (2.2 x) and a +50 % volume week in the last two
    weeks, cadence only; cleo: :func:`no_strength` with no cadence at all.
    """
    if weeks < 3:
        raise ValueError("the example inbox needs at least 3 weeks")
    start = _history_start(weeks, end)
    people = example_athletes()
    return {
        "ana": steady_block(people["ana"], start, weeks, base_km=32.0, seed=seed),
        "ben": _spikes_at_end(people["ben"], start, weeks, 28.0, seed + 1),
        "cleo": no_strength(people["cleo"], start, weeks, base_km=24.0, seed=seed + 2),
    }


def _file_names(specs: Sequence[ActivitySpec]) -> list[str]:
    """<local date>-<sport>-<n>.fit, n counting from 1 per local date and sport."""
    seen: Counter[tuple[date, str]] = Counter()
    names = []
    for spec in specs:
        key = (spec.local_start.date(), spec.sport)
        seen[key] += 1
        names.append(f"{key[0].isoformat()}-{spec.sport}-{seen[key]}.fit")
    return names


def generate_example_inbox(root: Path, weeks: int = 10, end: date | None = None, seed: int = 0) -> list[Path]:
    """Write root/<athlete_id>/<YYYY-MM-DD>-<sport>-<n>.fit for ana, ben and cleo.

    Deterministic for (weeks, end, seed); existing files of the same names are replaced
    atomically, other files are left alone.  Returns the written paths, sorted.
    """
    paths = []
    for athlete_id, specs in example_histories(weeks, end, seed).items():
        folder = Path(root) / athlete_id
        for name, spec in zip(_file_names(specs), specs):
            paths.append(write_activity(folder / name, spec))
    return sorted(paths)


def expected_run_summary(athlete_id: str, activity_id: str, spec: ActivitySpec) -> RunSummary:
    """The run summary the warehouse derives from ``spec`` when cadence is recorded, without
    writing or decoding the file (for rule benchmarks and tests over many histories)."""
    from tendon_pipeline.domain.load import achilles_multiple
    from tendon_pipeline.domain.models import RunSummary

    speed = spec.distance_m / spec.duration_s
    steps = (spec.cadence_spm or 0.0) * spec.duration_s / 60.0
    return RunSummary(
        athlete_id=athlete_id, activity_id=activity_id, local_date=spec.local_start.date(),
        start_utc=spec.start_utc, sport=spec.sport, distance_m=spec.distance_m, duration_s=spec.duration_s,
        avg_speed_mps=speed, steps=steps, steps_method="cadence", tendon_load_bw=steps * achilles_multiple(speed),
        load_method="cadence_only")
