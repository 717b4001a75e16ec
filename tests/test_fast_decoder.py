"""The columnar fast FIT path gives exactly what the fitparse reference path gives.

Every corpus file (one test per file, so xdist spreads them), generated activities of
several kinds, and hand-built FIT files that exercise what real files rarely do
(compressed timestamp headers, big-endian definitions, chained files, invalid values,
truncation, corruption). ``decode_bytes(data, fast=False)`` is the reference.
"""

from __future__ import annotations

import json
import logging
import struct
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fitparse.records import Crc

from tendon_pipeline.errors import FitFileRejected, NotAnActivity
from tendon_pipeline.fit import fast
from tendon_pipeline.fit.decode import _WANTED, decode_bytes
from tendon_pipeline.examples.generate import ActivitySpec, StrengthSet, fit_bytes

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "fit-corpus"
MANIFEST = json.loads((CORPUS / "MANIFEST.json").read_text()) if (CORPUS / "MANIFEST.json").exists() else []
MANIFEST.sort(key=lambda e: -e["bytes"])  # the slow reference decodes start first under xdist
SCALARS = ["content_hash", "size_bytes", "activity_key", "manufacturer", "product", "serial_number",
           "time_created_utc", "local_offset_s", "body_mass_kg", "height_m", "salvaged", "salvage_reason",
           "warnings"]
FRAMES = ["sessions", "laps", "records", "sets"]
# Corpus files the fast path leaves to fitparse, and why (everything else must be fast,
# truncated files included: their salvage is read the fast way too).
FALLS_BACK = {
    "activity-activity-filecrc.fit": "CRC mismatch",
    "activity-filecrc.fit": "CRC mismatch",
    "activity-settings-corruptheader.fit": "unusual FIT header",
    "strava-android-app-201.10-b1218918.fit": "has no definition",
}


def _outcome(data: bytes, use_fast: bool):
    try:
        return decode_bytes(data, fast=use_fast)
    except (FitFileRejected, NotAnActivity) as exc:
        return exc


def assert_same_outcome(data: bytes) -> None:
    quick, reference = _outcome(data, True), _outcome(data, False)
    assert type(quick) is type(reference), (quick, reference)
    if isinstance(reference, Exception):
        assert str(quick) == str(reference)
        assert getattr(quick, "reason_code", None) == getattr(reference, "reason_code", None)
        assert getattr(quick, "file_type", None) == getattr(reference, "file_type", None)
        return
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(quick, name), getattr(reference, name), check_exact=True, obj=name)
    for name in SCALARS:
        assert getattr(quick, name) == getattr(reference, name), name


# --------------------------------------------------------------------------- the corpus


@pytest.mark.corpus
@pytest.mark.parametrize("entry", MANIFEST, ids=[e["file"] for e in MANIFEST])
def test_corpus_file_decodes_the_same_on_both_paths(corpus_dir, entry):
    assert_same_outcome((corpus_dir / entry["file"]).read_bytes())


@pytest.mark.corpus
@pytest.mark.parametrize("entry", MANIFEST, ids=[e["file"] for e in MANIFEST])
def test_corpus_file_takes_the_fast_path_unless_listed(corpus_dir, entry, caplog):
    data = (corpus_dir / entry["file"]).read_bytes()
    with caplog.at_level(logging.DEBUG, logger=fast.__name__):
        result = fast.read_fast(data, _WANTED)
    expected = FALLS_BACK.get(entry["file"])
    if expected is None:
        assert result is not None, caplog.text
        assert result.record_count == entry.get("records", result.record_count)
    else:
        assert result is None
        assert expected in caplog.text


# --------------------------------------------------------------------------- generated activities

START = datetime(2025, 5, 4, 6, 30, tzinfo=timezone.utc)
SPECS = {
    "easy_run": dict(distance_m=5000.0, duration_s=1650),
    "dynamics_and_power": dict(distance_m=8000.0, duration_s=2500, running_dynamics=True, with_power=True,
                               body_mass_kg=64.0, height_m=1.71, utc_offset_s=7200),
    "ride_without_cadence": dict(sport="cycling", sub_sport="road", distance_m=30000.0, duration_s=3600,
                                 cadence_spm=None, heart_rate=None),
    "strength_sets": dict(sport="training", sub_sport="strength_training", distance_m=0.0, duration_s=900,
                          cadence_spm=None, strength_sets=[
                              StrengthSet(category="calf_raise", subtype=0, repetitions=12, weight_kg=20.0,
                                          duration_s=45.0),
                              StrengthSet(category="calf_raise", repetitions=None, duration_s=60.0, active=False),
                              StrengthSet(category="squat", subtype=3, repetitions=8, weight_kg=40.5, duration_s=50.0),
                          ]),
    "walk_west_of_utc": dict(sport="walking", distance_m=3000.0, duration_s=2400, cadence_spm=110.0,
                             utc_offset_s=-5 * 3600, seed=7),
}


@pytest.mark.parametrize("variant", sorted(SPECS))
def test_generated_activity_decodes_the_same_on_both_paths(variant):
    data = fit_bytes(ActivitySpec(start_utc=START, **SPECS[variant]))
    assert fast.read_fast(data, _WANTED) is not None
    assert_same_outcome(data)


def test_chained_files_decode_the_same():
    first = fit_bytes(ActivitySpec(start_utc=START, distance_m=3000.0, duration_s=1000))
    second = fit_bytes(ActivitySpec(start_utc=START + timedelta(hours=2), distance_m=2000.0, duration_s=700))
    assert fast.read_fast(first + second, _WANTED) is not None
    assert_same_outcome(first + second)


@pytest.mark.parametrize("cut", [0.999, 0.75, 0.5, 0.1])
def test_truncated_generated_file_has_the_same_outcome(cut):
    data = fit_bytes(ActivitySpec(start_utc=START, distance_m=4000.0, duration_s=1300, running_dynamics=True))
    assert_same_outcome(data[: int(len(data) * cut)])


@pytest.mark.parametrize("where", [20, 2000, -100, -1])
def test_corrupted_byte_has_the_same_outcome(where):
    data = bytearray(fit_bytes(ActivitySpec(start_utc=START, distance_m=4000.0, duration_s=1300)))
    data[where] ^= 0x5A
    assert_same_outcome(bytes(data))


# --------------------------------------------------------------------------- hand-built FIT files

FIT_EPOCH = 631065600
T0 = int(datetime(2025, 5, 4, 6, 30, tzinfo=timezone.utc).timestamp()) - FIT_EPOCH
UINT8, SINT8, UINT16, SINT16, UINT32, SINT32, BYTE, UINT32Z, FLOAT32, STRING, ENUM = (
    0x02, 0x01, 0x84, 0x83, 0x86, 0x85, 0x0D, 0x8C, 0x88, 0x07, 0x00)
FORMATS = {UINT8: "B", SINT8: "b", UINT16: "H", SINT16: "h", UINT32: "I", SINT32: "i", UINT32Z: "I",
           FLOAT32: "f", ENUM: "B"}


class Fit:
    """A tiny FIT writer for cases the generator never writes."""

    def __init__(self, big_endian: bool = False) -> None:
        self.body = bytearray()
        self.endian = ">" if big_endian else "<"
        self.defs: dict[int, list[tuple[int, int, int]]] = {}

    def define(self, local: int, global_num: int, fields: list[tuple[int, int, int]]) -> Fit:
        self.defs[local] = fields
        arch = 1 if self.endian == ">" else 0
        self.body += bytes([0x40 | local, 0, arch]) + struct.pack(self.endian + "HB", global_num, len(fields))
        for num, size, base in fields:
            self.body += bytes([num, size, base])
        return self

    def data(self, local: int, *values, compressed_offset: int | None = None) -> Fit:
        header = 0x80 | (local << 5) | compressed_offset if compressed_offset is not None else local
        self.body.append(header)
        for (num, size, base), value in zip(self.defs[local], values):
            if isinstance(value, bytes):
                self.body += value.ljust(size, b"\0")[:size]
            else:
                self.body += struct.pack(self.endian + FORMATS[base], value)
        return self

    def activity_messages(self) -> Fit:
        self.define(0, 0, [(0, 1, ENUM), (1, 2, UINT16), (3, 4, UINT32Z), (4, 4, UINT32)])
        return self.data(0, 4, 1, 12345, T0)  # file_id: activity, garmin

    def close(self) -> bytes:
        header = struct.pack("<BBHI4s", 12, 0x20, 2132, len(self.body), b".FIT")
        data = header + bytes(self.body)
        return data + struct.pack("<H", Crc.calculate(data))


RECORD_FIELDS = [(253, 4, UINT32), (0, 4, SINT32), (1, 4, SINT32), (2, 2, UINT16), (3, 1, UINT8),
                 (4, 1, UINT8), (5, 4, UINT32), (6, 2, UINT16), (7, 2, UINT16), (53, 1, UINT8),
                 (39, 2, UINT16), (41, 2, UINT16), (83, 2, UINT16), (84, 2, UINT16), (85, 2, UINT16)]


def _record_values(i: int) -> tuple:
    invalid = i % 7 == 3
    return (T0 + i, 600_000_000 + 1000 * i, -1_000_000 * i, 0xFFFF if invalid else 2600 + i, 140 + i % 20,
            0xFF if invalid else 85, 100 * i, 3100 + i, 250, 64, 0xFFFF if invalid else 80, 2400 + i, 750,
            5010, 1200)


@pytest.mark.parametrize("big_endian", [False, True])
def test_hand_built_records_with_invalid_values(big_endian):
    fit = Fit(big_endian).activity_messages().define(1, 20, RECORD_FIELDS)
    for i in range(40):
        fit.data(1, *_record_values(i))
    data = fit.close()
    assert fast.read_fast(data, _WANTED) is not None
    assert_same_outcome(data)
    records = decode_bytes(data).records
    assert records["altitude_m"].isna().sum() == 6
    assert records["speed_mps"].iloc[1] == pytest.approx(3.101)


def test_compressed_timestamp_headers_accumulate_like_fitparse():
    fit = Fit().activity_messages()
    fit.define(1, 20, [(253, 4, UINT32), (3, 1, UINT8)]).define(2, 20, [(3, 1, UINT8), (5, 4, UINT32)])
    fit.define(3, 21, [(0, 1, ENUM), (1, 1, ENUM)])  # event, no timestamp field
    fit.data(1, T0, 120)
    base = T0
    for i in range(1, 80):  # offsets wrap every 32 s; an event with a compressed header in between
        offset = (base + 3 * i) & 0x1F
        fit.data(2, 120 + i % 30, 250 * i, compressed_offset=offset)
        if i % 10 == 0:
            fit.data(3, 0, 0, compressed_offset=offset)
        if i == 50:
            fit.data(1, base + 3 * i + 1, 121)
            base += 1
    data = fit.close()
    assert fast.read_fast(data, _WANTED) is not None
    assert_same_outcome(data)
    ts = decode_bytes(data).records["ts_utc"]
    assert ts.is_monotonic_increasing and ts.notna().all()


def test_compressed_speed_distance_accumulates_like_fitparse():
    fit = Fit().activity_messages().define(1, 20, [(253, 4, UINT32), (8, 3, BYTE), (3, 1, UINT8)])
    distance = 0
    for i in range(300):
        distance += 37 + i % 11  # 1/16 m, wraps the 12-bit field many times
        speed = 350 + i % 50
        packed = (speed & 0xFFF) | ((distance & 0xFFF) << 12)
        raw = b"\xff\xff\xff" if i % 45 == 44 else packed.to_bytes(3, "little")
        fit.data(1, T0 + i, raw, 150)
        if i == 150:  # a redefinition resets fitparse's accumulator
            fit.define(1, 20, [(253, 4, UINT32), (8, 3, BYTE), (3, 1, UINT8)])
    data = fit.close()
    assert fast.read_fast(data, _WANTED) is not None
    assert_same_outcome(data)


def test_later_field_of_the_same_name_wins_like_fitparse():
    # enhanced_speed before speed: speed's component overwrites it; altitude after enhanced_altitude
    fields = [(253, 4, UINT32), (73, 4, UINT32), (6, 2, UINT16), (78, 4, UINT32), (2, 2, UINT16),
              (3, 2, UINT16), (4, 1, STRING), (7, 4, UINT8), (53, 1, BYTE)]
    fit = Fit().activity_messages().define(1, 20, fields)
    for i in range(20):
        fit.data(1, T0 + i, 4000 + i, 0xFFFF if i % 3 == 0 else 3000 + i, 2600, 0xFFFF if i % 4 == 0 else 2700,
                 0xFFFF if i % 5 == 0 else 130 + i, b"\0" if i % 2 else b"x", bytes([1, 2, 3, 4]),
                 b"\xff" if i % 2 else b"\x10")
    data = fit.close()
    assert fast.read_fast(data, _WANTED) is not None
    assert_same_outcome(data)


def test_record_without_timestamp_and_unknown_messages():
    fit = Fit().activity_messages()
    fit.define(1, 20, [(3, 1, UINT8), (7, 2, UINT16)]).define(2, 0xFF00, [(0, 4, UINT32), (253, 4, UINT32)])
    for i in range(10):
        fit.data(1, 100 + i, 200 + i).data(2, i, T0 + i)
    data = fit.close()
    assert fast.read_fast(data, _WANTED) is not None
    assert_same_outcome(data)


@pytest.mark.parametrize("case", ["undefined_local", "zero_size_field", "float_timestamp"])
def test_unusual_files_fall_back_with_the_same_outcome(case, caplog):
    fit = Fit().activity_messages()
    if case == "undefined_local":
        fit.body += bytes([5, 1, 2, 3])
    elif case == "zero_size_field":
        fit.define(1, 20, [(253, 4, UINT32), (3, 0, UINT8)]).data(1, T0)
    else:
        fit.define(1, 20, [(253, 4, FLOAT32)]).data(1, float(T0))
    data = fit.close()
    with caplog.at_level(logging.DEBUG, logger=fast.__name__):
        assert fast.read_fast(data, _WANTED) is None
    assert "falling back to fitparse" in caplog.text
    assert_same_outcome(data)


def test_crc16_matches_fitparse():
    rng = np.random.default_rng(1)
    for n in (0, 1, 63, 64, 65, 1000, 4097, 65536 + 3):
        data = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        assert fast.crc16(data) == Crc.calculate(data)


# --------------------------------------------------------------------------- what the fast path skips


class _ReadLog(dict):
    """A message dict that notes which fields are read from it."""

    read: dict[str, set[str]] = {}

    def __init__(self, name: str, values: dict) -> None:
        super().__init__(values)
        self.name = name

    def _note(self, key):
        _ReadLog.read.setdefault(self.name, set()).add(key)

    def get(self, key, default=None):
        self._note(key)
        return super().get(key, default)

    def __getitem__(self, key):
        self._note(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        self._note(key)
        return super().__contains__(key)


class _MessagesLog(defaultdict):
    asked: set[str] = set()

    def __getitem__(self, key):
        _MessagesLog.asked.add(key)
        return super().__getitem__(key)


@pytest.mark.corpus
def test_decode_reads_only_the_fields_the_fast_path_decodes(corpus_dir, monkeypatch):
    """FIELDS_READ must list every field decode.py / columns.py read (others are skipped)."""
    _ReadLog.read, _MessagesLog.asked = {}, set()
    monkeypatch.setattr(fast, "_message_values", _ReadLog)
    monkeypatch.setattr(fast, "defaultdict", _MessagesLog)
    files = [p.read_bytes() for p in sorted(corpus_dir.glob("*.fit"))]
    files += [fit_bytes(ActivitySpec(start_utc=START, **SPECS[name])) for name in ("strength_sets", "dynamics_and_power")]
    for data in files:
        _outcome(data, True)
    assert {"file_id", "session", "lap", "set", "activity"} <= _MessagesLog.asked
    for name in _MessagesLog.asked:
        assert fast.FIELDS_READ.get(name, True), f"decode reads {name} messages, which the fast path skips"
    for name, fields in _ReadLog.read.items():
        assert fields <= fast.FIELDS_READ.get(name, fields), f"{name}: add {fields - fast.FIELDS_READ[name]}"


# --------------------------------------------------------------------------- damaged variants


def _compressed_timestamp_file() -> bytes:
    fit = Fit().activity_messages().define(1, 20, [(253, 4, UINT32), (3, 1, UINT8), (5, 4, UINT32)])
    fit.define(2, 20, [(3, 1, UINT8), (8, 3, BYTE)])
    fit.data(1, T0, 120, 0)
    for i in range(1, 60):
        fit.data(2, 120 + i % 30, ((i * 40) << 12 | 300).to_bytes(3, "little"), compressed_offset=(T0 + i) & 0x1F)
    return fit.close()


def _with_fixed_crc(data: bytearray, fix_size: bool) -> bytes:
    """Recompute the header's data size and the CRCs, so the fast path reads the damage."""
    header_size = data[0]
    if fix_size:
        data[4:8] = (len(data) - header_size - 2).to_bytes(4, "little")
    if header_size == 14:
        data[12:14] = Crc.calculate(bytes(data[:12])).to_bytes(2, "little")
    end = header_size + int.from_bytes(data[4:8], "little")
    if end + 2 <= len(data):
        data[end:end + 2] = Crc.calculate(bytes(data[:end])).to_bytes(2, "little")
    return bytes(data)


def _mutate(data: bytes, rng: np.random.Generator) -> bytes:
    data = bytearray(data)
    kind = rng.integers(4)
    at = int(rng.integers(data[0], len(data)))
    if kind == 0:
        data[at] = int(rng.integers(256))
    elif kind == 1:
        data = data[:at]
    elif kind == 2:
        data[at:at] = rng.integers(0, 256, int(rng.integers(1, 6)), dtype=np.uint8).tobytes()
    else:
        del data[at:at + int(rng.integers(1, 9))]
    return _with_fixed_crc(data, fix_size=bool(rng.integers(2))) if rng.random() < 0.8 else bytes(data)


@pytest.mark.parametrize("seed", range(6))
def test_damaged_files_with_valid_crc_have_the_same_outcome(seed):
    """Byte flips, cuts, insertions, deletions, mostly with a recomputed CRC so the fast path walks them."""
    rng = np.random.default_rng(seed)
    bases = [_compressed_timestamp_file(),
             fit_bytes(ActivitySpec(start_utc=START, distance_m=300.0, duration_s=100, running_dynamics=True,
                                    with_power=True, strength_sets=SPECS["strength_sets"]["strength_sets"][:1]))]
    for _ in range(25):
        assert_same_outcome(_mutate(bases[int(rng.integers(len(bases)))], rng))


# --------------------------------------------------------------------------- the small-message decoder


def _messages_of(data: bytes):
    """(reader, walk) of a file the fast path reads, for checking message by message."""
    reader = fast._FastReader(data, _WANTED)
    reader._read_files()
    return reader, fast._Walk(reader)


@pytest.mark.corpus
@pytest.mark.parametrize("entry", [e for e in MANIFEST if e["file"] not in FALLS_BACK], ids=lambda e: e["file"])
def test_message_decoder_gives_fitparse_values(corpus_dir, entry):
    """Every kind of message (but records), the first 40 of each definition: same dict as fitparse."""
    reader, walk = _messages_of((corpus_dir / entry["file"]).read_bytes())
    seen: dict[int, int] = {}
    for i, layout_id in enumerate(walk.layout_ids.tolist()):
        layout = reader.layouts[layout_id]
        if layout.kind == fast._RECORD or layout.problem or seen.setdefault(layout_id, 0) >= 40:
            continue
        seen[layout_id] += 1
        try:
            decoder = fast._MessageDecoder(layout.dm)
        except fast.Unsupported:
            continue  # accumulating components (hr): never a wanted message
        pos, ts = int(walk.offsets[i]), int(walk.ts_before[i])
        expected = reader._parse_data(pos, layout.dm, ts).get_values()
        assert decoder.values(reader.data, pos, int(walk.headers[i]), ts) == expected, (layout.name, pos)
