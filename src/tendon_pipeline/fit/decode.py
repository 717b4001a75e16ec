"""FIT bytes -> a ``DecodedActivity`` (plain columns), with a clear outcome for bad files.

This module only decodes: no database, no athlete resolution. Well-formed files go
through the columnar NumPy decoder in ``fast.py``; anything it does not cover (damaged,
truncated or unusual files, listed in its docstring) goes through fitparse, the
reference decoder, which it matches column for column. Outcomes:

* a complete activity -> ``DecodedActivity`` (``salvaged=False``)
* an activity cut short (the watch died, the transfer stopped) -> ``DecodedActivity``
  with the data up to the break, ``salvaged=True`` and a reason
* a valid FIT file of another type -> ``NotAnActivity``
* anything else -> ``FitFileRejected`` with a stable reason code
"""

from __future__ import annotations

import hashlib
import io
import warnings
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import fitparse
import numpy as np
from fitparse.utils import FitCRCError, FitEOFError, FitHeaderError, FitParseError

from tendon_pipeline.errors import FitFileRejected, NotAnActivity
from tendon_pipeline.fit import columns as C
from tendon_pipeline.fit.fast import read_fast

if TYPE_CHECKING:  # the frames are built on first read: decoding itself needs no pandas (decode workers)
    import pandas as pd

FIT_SIGNATURE = b".FIT"
_WANTED = frozenset(
    {"file_id", "activity", "session", "lap", "record", "set", "user_profile", "sport", "device_info"}
)


class _FrameOf:
    """A :class:`DecodedActivity` table as a pandas frame: built from its columns on first read
    (``RowTable.frame``, ``RecordColumns.frame``); setting a frame replaces the table."""

    def __init__(self, table: str, kind: type[C.RowTable] | type[C.RecordColumns]) -> None:
        self.table, self.kind = table, kind

    def __get__(self, activity: DecodedActivity | None, owner: type | None = None) -> pd.DataFrame:
        if activity is None:
            return self  # the descriptor itself, read from the class
        return getattr(activity, self.table).frame()

    def __set__(self, activity: DecodedActivity, frame: pd.DataFrame) -> None:
        setattr(activity, self.table, self.kind.from_frame(frame))


@dataclass
class DecodedActivity:
    """Everything the warehouse stores about one activity file, as plain columns.

    The tables are kept as columns (``session_table``, ``lap_table``, ``record_table``,
    ``set_table``: cheap to pickle back from a decode worker and to concatenate per batch);
    ``sessions``, ``laps``, ``records`` and ``sets`` are the same tables as pandas frames,
    built on first use. Setting one of those replaces its table.
    """

    content_hash: str
    size_bytes: int
    activity_key: str
    manufacturer: str | None
    product: str | None
    serial_number: int | None
    time_created_utc: datetime | None
    local_offset_s: int | None
    session_table: C.RowTable
    lap_table: C.RowTable
    record_table: C.RecordColumns
    set_table: C.RowTable
    body_mass_kg: float | None = None
    height_m: float | None = None
    salvaged: bool = False
    salvage_reason: str | None = None
    warnings: list[str] = field(default_factory=list)

    sessions = _FrameOf("session_table", C.RowTable)
    laps = _FrameOf("lap_table", C.RowTable)
    records = _FrameOf("record_table", C.RecordColumns)
    sets = _FrameOf("set_table", C.RowTable)

    @property
    def start_utc(self) -> datetime | None:
        sessions, records = self.session_table, self.record_table
        if len(sessions):
            starts = [v for v in sessions.values["start_utc"] if v is not None]
            if starts and sessions.plain_times("start_utc"):
                return min(starts)
            return self.sessions["start_utc"].min().to_pydatetime(warn=False)
        if len(records):
            ts = records.ts_utc[~np.isnat(records.ts_utc)]
            if len(ts):
                return ts.min().item()
            return self.records["ts_utc"].min().to_pydatetime(warn=False)
        return self.time_created_utc

    @property
    def has_running_dynamics(self) -> bool:
        return bool(len(self.record_table) and (~np.isnan(self.record_table.values["stance_time_ms"])).any())


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def decode_path(path: Path | str) -> DecodedActivity:
    """Read and decode one file. Raises ``FitFileRejected`` / ``NotAnActivity``."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FitFileRejected(
            "unreadable", f"cannot read {path}: {exc.strerror or exc}",
            hint="check the file exists and this user may read it",
        ) from exc
    return decode_bytes(data)


def decode_bytes(data: bytes, *, fast: bool = True) -> DecodedActivity:
    """Decode FIT bytes into an activity, or raise with the reason it cannot be one.

    This is the trust boundary for untrusted bytes: any failure inside the
    decoder becomes a ``FitFileRejected`` with a reason, never a crash.
    ``fast=False`` forces the fitparse reference path (tests, benchmarks).
    """
    _check_envelope(data)
    try:
        return _decode_checked(data, fast)
    except (FitFileRejected, NotAnActivity):
        raise
    except Exception as exc:
        raise FitFileRejected("corrupt", f"undecodable FIT data: {type(exc).__name__}: {exc}") from exc


def _decode_checked(data: bytes, fast: bool = True) -> DecodedActivity:
    decoded = read_fast(data, _WANTED) if fast else None
    if decoded is not None:
        messages, break_reason, records = decoded.messages, decoded.break_reason, decoded.records
    else:
        messages, break_reason = _read_messages(data)
        records = None
    file_types = [m.get("type") for m in messages["file_id"]]
    if "activity" not in file_types:
        if break_reason:
            raise FitFileRejected("truncated", f"file ends before any activity data ({break_reason})")
        raise NotAnActivity(str(file_types[0]) if file_types else "unknown (no file_id message)")
    if records is None:
        records = C.record_columns(messages["record"])
    return _build_activity(data, messages, break_reason, records)


def _check_envelope(data: bytes) -> None:
    if not data:
        raise FitFileRejected("empty", "the file is empty (0 bytes)", hint="re-sync it from the watch")
    if len(data) < 12 or data[8:12] != FIT_SIGNATURE:
        raise FitFileRejected(
            "not_fit", "not a FIT file (no '.FIT' signature in the header)",
            hint="only .fit activity files from a watch or app can be ingested",
        )
    if data[0] not in (12, 14):
        raise FitFileRejected("bad_header", f"bad FIT header: header size {data[0]} (expected 12 or 14)")


def _read_messages(data: bytes) -> tuple[dict[str, list[dict[str, Any]]], str | None]:
    """All wanted messages in file order; a break reason if the file ends early.

    Chained FIT files are read through. Corruption other than an early end
    (CRC mismatch, bad header, undefined message) rejects the whole file, so no
    half-trusted data is stored.
    """
    messages: dict[str, list[dict[str, Any]]] = defaultdict(list)
    fit = fitparse.FitFile(io.BytesIO(data), check_crc=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            for message in fit.get_messages():
                if message.name in _WANTED:
                    messages[message.name].append(message.get_values())
        except FitEOFError as exc:
            return messages, f"file ends unexpectedly: {exc}"
        except FitCRCError as exc:
            raise FitFileRejected(
                "crc_mismatch", f"CRC mismatch: the file is corrupted ({exc})",
                hint="re-sync or re-export the file from the watch",
            ) from exc
        except FitHeaderError as exc:
            raise FitFileRejected("bad_header", f"bad FIT header: {exc}") from exc
        except FitParseError as exc:
            code = "undefined_message" if "local message type" in str(exc) else "corrupt"
            raise FitFileRejected(code, f"corrupt FIT data: {exc}") from exc
    return messages, None


def _build_activity(
    data: bytes, messages: dict[str, list[dict[str, Any]]], break_reason: str | None, records: C.RecordColumns
) -> DecodedActivity:
    file_id = next(m for m in messages["file_id"] if m.get("type") == "activity")
    offset = _local_offset(messages["activity"])
    sessions = C.sessions_table(messages["session"], offset)
    if not len(sessions) and break_reason and len(records):
        sessions = C.session_from_records(records, _sport_of(messages), offset)
    records = C.assign_sessions(records, sessions)
    if break_reason and not len(records) and not len(sessions):
        raise FitFileRejected("truncated", f"file ends before any activity data ({break_reason})")
    profile = messages["user_profile"][0] if messages["user_profile"] else {}
    decoded = DecodedActivity(
        content_hash=content_hash(data),
        size_bytes=len(data),
        activity_key="",
        manufacturer=_text(file_id.get("manufacturer")),
        product=_text(file_id.get("garmin_product") or file_id.get("product")),
        serial_number=_int(file_id.get("serial_number")),
        time_created_utc=_utc(file_id.get("time_created")),
        local_offset_s=offset,
        session_table=sessions,
        lap_table=C.laps_table(messages["lap"]),
        record_table=records,
        set_table=C.sets_table(messages["set"]),
        body_mass_kg=_positive(profile.get("weight")),
        height_m=_positive(profile.get("height")),
        salvaged=break_reason is not None,
        salvage_reason=_salvage_text(break_reason, records) if break_reason else None,
    )
    decoded.activity_key = _activity_key(decoded)
    return decoded


def _salvage_text(break_reason: str, records: C.RecordColumns) -> str:
    return f"{break_reason}; kept the {len(records)} records before the break"


def _activity_key(d: DecodedActivity) -> str:
    """Identity of the activity itself, so the same run under another file name is stored once.

    FIT's own identity is file_id (manufacturer, product, serial, time_created); the
    start time stands in when time_created is missing, the bytes when both are.
    """
    when = d.time_created_utc or d.start_utc
    parts = [d.manufacturer, d.product, d.serial_number, when]
    if when is None:
        parts.append(d.content_hash)
    return hashlib.sha1("|".join(str(p) for p in parts).encode()).hexdigest()[:20]


def _local_offset(activity_messages: list[dict[str, Any]]) -> int | None:
    for m in activity_messages:
        ts, local = m.get("timestamp"), m.get("local_timestamp")
        if isinstance(ts, datetime) and isinstance(local, datetime):
            offset = round((local - ts).total_seconds() / 900) * 900  # quarter hours
            if abs(offset) <= 14 * 3600:
                return int(offset)
    return None


def _sport_of(messages: dict[str, list[dict[str, Any]]]) -> str | None:
    for m in messages["sport"]:
        if m.get("sport"):
            return _text(m["sport"])
    return None


def _utc(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None) if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)
    return None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _positive(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and value > 0 else None
