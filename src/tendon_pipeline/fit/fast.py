"""Columnar FIT decoding with NumPy: the fast path behind ``decode_bytes``.

fitparse (the reference) builds Python objects for every field of every message, about
4,000 messages/s. Per-second ``record`` messages are fixed-size rows once their
definition is known, so this module

1. checks each (chained) file's header and CRC with FIT's table-driven CRC-16 run as a
   NumPy tree reduction (no per-byte Python loop);
2. walks all messages once to find their boundaries: one Python step per message, and
   runs of the same message type (record after record) are found with one NumPy
   comparison; definition messages are built as fitparse builds them (its profile,
   ``fitparse.profile.MESSAGE_TYPES``, and record classes) and shared between files;
3. pulls the stored record columns out of the raw bytes per definition with NumPy, using
   the profile's field numbers, base types, scales, offsets, components and fitparse's
   invalid sentinels, and replays fitparse's rules: the last field of a name wins,
   components (``speed`` -> ``enhanced_speed``, ``altitude`` -> ``enhanced_altitude``,
   ``compressed_speed_distance`` -> ``speed`` + accumulated ``distance``), compressed
   timestamp headers accumulated against the last full timestamp, timestamps before
   1998 left as integers;
4. decodes the few other messages decode.py reads (file_id, session, lap, set, activity,
   user_profile, sport) with a port of fitparse's per-message steps limited to the
   fields read (``FIELDS_READ``); developer data ids and field descriptions go through
   fitparse itself;
5. a file cut short (watch died, missing CRC) is read the same way up to the break; the
   cut message and the early-end reason come from fitparse, reading only the tail.

The result is the same ``records`` frame and message dicts as the fitparse path
(``tests/test_fast_decoder.py`` checks field for field on every corpus file, on generated
and hand-built files, and on damaged variants).

Falls back (``read_fast`` returns None and logs why at DEBUG) for anything it does not
cover; the fitparse path then decides the outcome and produces the reference errors:

* a header that is not 12/14 bytes with the '.FIT' signature, a non-zero header CRC
  that does not match, a file CRC mismatch, stray bytes after the last CRC that are
  not another FIT file (fewer than 14 bytes or no signature);
* a data message whose local type has no definition; a definition or developer data
  message fitparse rejects (unknown developer data index, odd-sized unknown field);
* fields whose decoding in fitparse could raise or turn odd: zero-size fields,
  developer fields whose size is not a multiple of their type, that use field number
  253 or whose name or units are not text, a timestamp (253) field that is not a
  plain integer or appears twice, date/time-typed or component fields stored as
  floats, strings or arrays;
* in record messages: a developer field named like a stored record field, a stored
  record field that is a 64-bit integer, a component over anything but an integer or
  bytes, a compressed-timestamp message whose definition also has a timestamp field;
* an error of fitparse's own code where the fast path uses it (tail of a cut file).
"""

from __future__ import annotations

import io
import logging
import struct
import warnings
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import repeat
from typing import Any

import fitparse
import numpy as np
from fitparse.base import FitFileDecoder
from fitparse.processors import UTC_REFERENCE, FitFileDataProcessor
from fitparse.profile import FIELD_TYPE_TIMESTAMP, MESSAGE_TYPES
from fitparse.records import (
    BASE_TYPE_BYTE,
    BASE_TYPES,
    Crc,
    DefinitionMessage,
    DevFieldDefinition,
    FieldDefinition,
    MessageHeader,
)
from fitparse.utils import FitEOFError, FitParseError, scrub_method_name

from tendon_pipeline.fit import columns as C

log = logging.getLogger(__name__)

TIMESTAMP_NUM = FIELD_TYPE_TIMESTAMP.def_num  # 253 in every message
RECORD_NUM = 20
FIRST_ABSOLUTE_TS = 0x10000000  # fitparse turns smaller date_time values into plain ints
DEV_REGISTRY = frozenset({"developer_data_id", "field_description"})
# fitparse's default processor rewrites these types' values (datetime, time of day)
PROCESSOR_TYPES = frozenset(
    name[len("process_type_"):] for name in dir(FitFileDataProcessor)
    if name.startswith("process_type_")
) - {"bool"}
# FIT field names each stored record column is read from (fitparse's names)
RECORD_FIELD_NAMES = frozenset(n for names in C.RECORD_SOURCES.values() for n in names) | {"timestamp"}
# The fields decode.py and columns.py read from the other messages. Only these are
# decoded (the rest of each message is skipped as padding); a message with none is
# not decoded at all; one not listed is decoded in full. tests/test_fast_decoder.py
# checks that nothing else is read.
FIELDS_READ: dict[str, frozenset[str]] = {
    "file_id": frozenset({"type", "manufacturer", "garmin_product", "product", "serial_number", "time_created"}),
    "activity": frozenset({"timestamp", "local_timestamp"}),
    "session": frozenset({
        "start_time", "timestamp", "sport", "sub_sport", "total_elapsed_time", "total_timer_time",
        "total_distance", "total_ascent", "enhanced_avg_speed", "avg_speed", "avg_heart_rate",
        "avg_running_cadence", "avg_cadence", "avg_fractional_cadence", "total_strides", "total_cycles",
        "avg_stance_time",
    }),
    "lap": frozenset({
        "start_time", "timestamp", "total_elapsed_time", "total_timer_time", "total_distance",
        "enhanced_avg_speed", "avg_speed", "avg_heart_rate", "sport",
    }),
    "set": frozenset({"start_time", "timestamp", "category", "category_subtype", "repetitions", "weight",
                      "duration", "set_type"}),
    "user_profile": frozenset({"weight", "height"}),
    "sport": frozenset({"sport"}),
    "device_info": frozenset(),
}
PADDING_NUM = 255  # field number of the byte padding standing in for unread fields

_SKIP, _RECORD, _WANTED, _DEV = range(4)


class Unsupported(Exception):
    """Something the fast path does not cover; the fitparse path decides instead."""


@dataclass
class FastDecode:
    """What ``decode.py`` needs: message dicts as fitparse gives them, plus the record columns.

    ``break_reason`` is fitparse's early-end text when the file is cut short (salvage).
    """

    messages: dict[str, list[dict[str, Any]]]
    records: C.RecordColumns
    record_count: int
    break_reason: str | None = None


def read_fast(data: bytes, wanted: Collection[str]) -> FastDecode | None:
    """Decode a well-formed FIT file, or None (logged at DEBUG) to fall back to fitparse.

    ``wanted`` names the messages whose dicts are returned (``record`` comes as a frame).
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _FastReader(data, frozenset(wanted)).read()
    except Unsupported as why:
        log.debug("fast FIT path not used, falling back to fitparse: %s", why)
    except (struct.error, IndexError, ValueError, KeyError, OverflowError) as exc:
        log.debug("fast FIT path not used, falling back to fitparse: %s: %s", type(exc).__name__, exc)
    return None


# --------------------------------------------------------------------------- CRC


class _CrcTables:
    """FIT's CRC-16 as lookup tables over all 65,536 CRC states.

    The byte table comes from fitparse's own ``Crc``. The CRC has no final xor, so it is
    linear: crc(A + B) = zeros[len(B)](crc(A)) ^ crc(B), where zeros[k] feeds k zero
    bytes. With a table of zeros[2^k] per level, NumPy reduces a file pairwise (about
    20 gathers of halving arrays for 1 MB) instead of looping over its bytes.
    """

    def __init__(self) -> None:
        byte = np.array([Crc.calculate(bytes([b])) for b in range(256)], dtype=np.int64)
        state = np.arange(65536, dtype=np.int64)
        one_zero = (state >> 8) ^ byte[state & 0xFF]
        # crc of the 2-byte unit (a, b), read little-endian as a + 256 b: zeros[1](crc(a)) ^ crc(b)
        self.unit = (one_zero[byte[state & 0xFF]] ^ byte[state >> 8]).astype(np.uint16)
        self.zeros = [one_zero.astype(np.uint16)]  # zeros[k]: feed 2^k zero bytes

    def feed_zeros(self, level: int) -> np.ndarray:
        while len(self.zeros) <= level:
            last = self.zeros[-1]
            self.zeros.append(last[last])
        return self.zeros[level]


_CRC = _CrcTables()


def crc16(data: bytes | memoryview) -> int:
    """FIT CRC-16 of data (same value as ``fitparse.records.Crc.calculate``)."""
    n = len(data)
    if n < 64:
        return Crc.calculate(bytes(data))
    units = 1 << max(0, (n - 1).bit_length() - 1)  # 2-byte units, a power of two >= n / 2
    padded = np.zeros(2 * units, dtype=np.uint8)
    padded[2 * units - n:] = np.frombuffer(data, dtype=np.uint8)  # leading zeros leave crc 0
    values = _CRC.unit[padded.view("<u2")]
    level = 1  # each value is the crc of 2^level bytes
    while len(values) > 1:
        pairs = values.reshape(-1, 2)
        values = _CRC.feed_zeros(level)[pairs[:, 0]] ^ pairs[:, 1]
        level += 1
    return int(values[0])


# --------------------------------------------------------------------------- base types


@cache
def _numeric_type(base_name: str, endian: str) -> np.dtype:
    """:func:`_numpy_type` of a base type known to be numeric."""
    dtype = _numpy_type(base_name, endian)
    if dtype is None:
        raise Unsupported(f"{base_name} is not a numeric FIT base type")
    return dtype


def _numpy_type(base_name: str, endian: str) -> np.dtype | None:
    """NumPy dtype for a numeric FIT base type (struct format from fitparse), else None."""
    for bt in BASE_TYPES.values():
        if bt.name == base_name and bt.fmt in "bBhHiIqQfd":
            return np.dtype(endian + bt.fmt)
    return None


@cache
def _invalid_value(base_name: str) -> int | None:
    """The invalid sentinel of an integer base type, found by asking fitparse's parser."""
    bt = next(bt for bt in BASE_TYPES.values() if bt.name == base_name)
    bits = 8 * bt.size
    found = [v for v in (0, (1 << bits) - 1, (1 << (bits - 1)) - 1)
             if _struct_ok(bt.fmt, v) and bt.parse(v) is None]
    return found[0] if found else None


def _struct_ok(fmt: str, value: int) -> bool:
    try:
        struct.pack("<" + fmt, value)
    except struct.error:
        return False
    return True


def _is_int_scalar(base: Any, size: int, max_size: int = 8, unsigned: bool = False) -> bool:
    dtype = _numpy_type(base.name, "<")
    return (dtype is not None and dtype.kind in ("u" if unsigned else "iu")
            and size == dtype.itemsize <= max_size)


# --------------------------------------------------------------------------- definitions


class _Layout:
    """One definition message (built like fitparse builds it), plus what the walk needs of it.

    Layouts without developer fields depend only on the definition's bytes, so they are
    shared between files (a runner's watch writes the same definitions every time).
    """

    __slots__ = ("dm", "name", "length", "msg_size", "kind", "ts_at", "resets", "problem", "_decoder")

    def __init__(self, dm: Any, length: int, wanted: frozenset[str]) -> None:
        self.dm, self.length = dm, length
        self.name = dm.name
        self.msg_size = 1 + sum(fd.size for fd in dm.field_defs) + sum(fd.size for fd in dm.dev_field_defs)
        self.kind = _layout_kind(dm, self.name, wanted)
        self.ts_at = _timestamp_offset(dm)
        self.resets = _accumulator_keys(dm)
        self.problem = _layout_problem(dm)
        self._decoder: _MessageDecoder | None = None

    def projected(self) -> Any:
        """The definition with the fields nobody reads merged into padding (see FIELDS_READ)."""
        names = FIELDS_READ.get(self.name)
        return self.dm if names is None else _projection(self.dm, names)

    def decoder(self) -> _MessageDecoder:
        if self._decoder is None:
            self._decoder = _MessageDecoder(self.projected())
        return self._decoder


class _Used:
    """A layout as one file uses it: its number in that file, and what the walk reads per message."""

    __slots__ = ("index", "layout", "msg_size", "kind")

    def __init__(self, index: int, layout: _Layout) -> None:
        self.index, self.layout, self.msg_size, self.kind = index, layout, layout.msg_size, layout.kind


_SHARED_LAYOUTS: dict[tuple[bytes, frozenset[str]], _Layout] = {}
_SHARED_LAYOUTS_MAX = 4096


def _layout_kind(dm: Any, name: str, wanted: frozenset[str]) -> int:
    if dm.mesg_num == RECORD_NUM and dm.mesg_type is not None:
        return _RECORD
    if name in DEV_REGISTRY:
        return _DEV
    return _WANTED if name in wanted and FIELDS_READ.get(name, True) else _SKIP


def _timestamp_offset(dm: Any) -> int | None:
    at = 0
    for fd in dm.field_defs:
        if fd.def_num == TIMESTAMP_NUM:
            return at
        at += fd.size
    return None


def _accumulator_keys(dm: Any) -> tuple[int, ...]:
    """Component numbers fitparse resets to 0 when it reads this definition."""
    return tuple(c.def_num for fd in dm.field_defs if fd.field and fd.field.components
                 for c in fd.field.components if c.accumulate)


def _layout_problem(dm: Any) -> str | None:
    """Why fitparse might raise or behave oddly on this definition's data messages."""
    timestamps = [fd for fd in dm.field_defs if fd.def_num == TIMESTAMP_NUM]
    if len(timestamps) > 1:
        return "two timestamp fields in one definition"
    if timestamps and not _is_int_scalar(timestamps[0].base_type, timestamps[0].size, 4):
        return f"timestamp stored as {timestamps[0].base_type.name}[{timestamps[0].size}]"
    for fd in dm.field_defs:
        problem = _field_problem(dm.mesg_num, fd.def_num, fd.size, fd.base_type.identifier)
        if problem:
            return f"{dm.name}.{fd.field.name if fd.field else fd.def_num}: {problem}"
    for fd in dm.dev_field_defs:
        if fd.size == 0 or fd.size % fd.base_type.size or fd.def_num == TIMESTAMP_NUM:
            return f"developer field {fd.def_num} of size {fd.size} ({fd.base_type.name})"
        if not isinstance(fd.field.name, str) or not isinstance(fd.field.units, (str, type(None))):
            return f"developer field {fd.def_num} whose name or units are not text"  # fitparse's processors fail
    return None


@lru_cache(maxsize=8192)
def _field_problem(global_num: int, def_num: int, size: int, base_id: int) -> str | None:
    fd = _field_definition(global_num, def_num, size, base_id)
    mesg_type = MESSAGE_TYPES.get(global_num)
    if fd.size == 0:
        return "zero-size field"
    field = fd.field
    if field is None:
        return None
    has_components = any(f.components for f in _variants(field))
    if _processed_types(field, mesg_type) and not _is_int_scalar(fd.base_type, fd.size, 4, unsigned=True):
        return f"date/time value stored as {fd.base_type.name}[{fd.size}]"
    if has_components and not (_is_int_scalar(fd.base_type, fd.size) or fd.base_type.name == "byte"):
        return f"components over a {fd.base_type.name}[{fd.size}] value"
    return None


def _variants(field: Any) -> list[Any]:
    return [field, *(field.subfields or ())]


def _processed_types(field: Any, mesg_type: Any) -> bool:
    """Does any value fitparse may derive from this field get a date/time processor?"""
    return any(f.type.name in PROCESSOR_TYPES for f in _related(field, mesg_type))


def _related(field: Any, mesg_type: Any) -> list[Any]:
    """The field, its subfields, and the fields its components write (with theirs)."""
    related = _variants(field)
    for variant in list(related):
        for comp in variant.components or ():
            target = mesg_type.fields.get(comp.def_num) if mesg_type else None
            related += _variants(target) if target else []
    return related


def _projection(dm: Any, names: frozenset[str]) -> DefinitionMessage:
    """dm with every field that cannot write one of names merged into byte padding.

    Fields that select a kept field's subfield stay, so fitparse resolves it the same.
    """
    keep = {i for i, fd in enumerate(dm.field_defs)
            if fd.field is not None and any(f.name in names for f in _related(fd.field, dm.mesg_type))}
    refs = {ref.def_num for i in keep for f in _related(dm.field_defs[i].field, dm.mesg_type)
            for ref in getattr(f, "ref_fields", None) or ()}
    keep |= {i for i, fd in enumerate(dm.field_defs) if fd.def_num in refs}
    field_defs, padding = [], 0
    for i, fd in enumerate(dm.field_defs):
        if i in keep:
            field_defs += _padding(padding) + [fd]
            padding = 0
        else:
            padding += fd.size
    return DefinitionMessage(
        header=dm.header, endian=dm.endian, mesg_type=dm.mesg_type, mesg_num=dm.mesg_num,
        field_defs=field_defs + _padding(padding), dev_field_defs=dm.dev_field_defs,
    )


def _padding(size: int) -> list[FieldDefinition]:
    return [FieldDefinition(field=None, def_num=PADDING_NUM, base_type=BASE_TYPE_BYTE, size=size)] if size else []


# --------------------------------------------------------------------------- the few other messages

_PROCESSOR = FitFileDataProcessor()
# fitparse's default processor only rewrites values by type; per-field or per-unit hooks
# would need its full machinery (none exist in the installed version; checked here).
_FIELD_OR_UNIT_HOOKS = [m for m in dir(FitFileDataProcessor)
                        if m.startswith(("process_field_", "process_units_", "process_message_"))]


class _Value:
    """What a fitparse processor needs of a FieldData: a value and units."""

    __slots__ = ("value", "units")

    def __init__(self, value: Any) -> None:
        self.value, self.units = value, None


@cache
def _type_hook(type_name: str) -> Any:
    return getattr(_PROCESSOR, scrub_method_name("process_type_" + type_name), None)


def _processed_value(field_type: Any, value: Any) -> Any:
    """fitparse's type processor (date_time -> datetime, bool, ...) applied to one value."""
    hook = _type_hook(field_type.name)
    if hook is None:
        return value
    holder = _Value(value)
    hook(holder)
    return holder.value


def _scaled_value(field: Any, raw: Any) -> Any:
    """fitparse's ``_apply_scale_offset``."""
    if isinstance(raw, tuple):
        return tuple(_scaled_value(field, x) for x in raw)
    if isinstance(raw, (int, float)):
        if field.scale:
            raw = float(raw) / field.scale
        if field.offset:
            raw = raw - field.offset
    return raw


class _MessageDecoder:
    """fitparse's data-message decoding + default processors + ``get_values()``, for one definition.

    The same steps as ``FitFileDecoder._parse_data_message_components`` (raw values with
    invalid sentinels, subfields, components, scale and offset, the compressed timestamp)
    without a Python object per field, for the few non-record messages. Fields nobody
    reads arrive as padding (see ``_projection``) and are skipped.
    """

    def __init__(self, dm: Any) -> None:
        self.dm = dm
        self.defs = list(dm.field_defs) + list(dm.dev_field_defs)
        formats: list[str] = []
        self.slots: list[tuple[int, int, Any] | None] = []
        at = 0
        for fd in self.defs:
            count = fd.size // fd.base_type.size
            if fd.field is None and fd.def_num == PADDING_NUM:
                formats.append(f"{fd.size}x")
                self.slots.append(None)
                continue
            formats.append(f"{count}{fd.base_type.fmt}")
            items = 1 if fd.base_type.fmt == "s" else count
            self.slots.append((at, items, fd.base_type))
            at += items
        self.struct = struct.Struct(dm.endian + "".join(formats))
        if _FIELD_OR_UNIT_HOOKS or any(c.accumulate for fd in dm.field_defs if fd.field
                                       for f in _variants(fd.field) for c in f.components or ()):
            raise Unsupported(f"{dm.name}: needs fitparse's full message decoding")

    def values(self, data: bytes, pos: int, header: int, ts_before: int) -> dict[str, Any]:
        flat = self.struct.unpack_from(data, pos + 1)
        raw_values = [None if slot is None else _raw_value(flat, slot) for slot in self.slots]
        out: dict[str, Any] = {}
        accumulator = ts_before
        for fd, raw in zip(self.defs, raw_values):
            if fd.field is None:
                if fd.def_num != PADDING_NUM:
                    out[f"unknown_{fd.def_num}"] = _processed_value(fd.base_type, raw)
            else:
                self._field_values(fd.field, raw, raw_values, out)
            if fd.def_num == TIMESTAMP_NUM and raw is not None:
                accumulator = raw
        if header & 0x80:
            accumulator = FitFileDecoder._apply_compressed_accumulation(header & 0x1F, accumulator, 5)
            timestamp = FIELD_TYPE_TIMESTAMP
            out[timestamp.name] = _processed_value(timestamp.type, timestamp.render(accumulator))
        return out

    def _field_values(self, field: Any, raw: Any, raw_values: list[Any], out: dict[str, Any]) -> None:
        field, _ = FitFileDecoder._resolve_subfield(field, self.dm, raw_values)
        for comp in field.components or ():
            try:
                value = comp.render(raw)
            except ValueError:
                continue
            target, _ = FitFileDecoder._resolve_subfield(self.dm.mesg_type.fields[comp.def_num], self.dm, raw_values)
            out[target.name] = _processed_value(target.type, target.render(_scaled_value(comp, value)))
        out[field.name] = _processed_value(field.type, _scaled_value(field, field.render(raw)))


def _raw_value(flat: tuple, slot: tuple[int, int, Any]) -> Any:
    """One field's raw value as fitparse's ``_parse_raw_values_from_data_message`` gives it."""
    at, items, base = slot
    if base.name == "byte":
        return base.parse(flat[at:at + items])
    if items > 1:
        return tuple(base.parse(v) for v in flat[at:at + items])
    return base.parse(flat[at])


# --------------------------------------------------------------------------- the reader


class _FastReader:
    """Walks one FIT byte string (chained files included) and collects what is wanted."""

    def __init__(self, data: bytes, wanted: frozenset[str]) -> None:
        self.data = data
        self.u8 = np.frombuffer(data, dtype=np.uint8)
        self.wanted = wanted - {"record"}
        self.fitparse = fitparse.UncachedFitFile(io.BytesIO(data), check_crc=False)
        self.layouts: list[_Layout] = []  # by their number in this file
        self.used: dict[int, _Used] = {}  # id(layout) -> how this file uses it
        self.dev_cache: dict[tuple[bytes, int], _Layout] = {}
        self.dev_version = 0  # bumped by every developer data message (dev field types may change)
        self.local: list[_Used | None] = [None] * 16  # the current file's local message types
        self.offsets: list[int] = []  # start of every data message, in file order
        self.layout_ids: list[int] = []
        self.segment_starts: list[int] = []  # message ordinal where each chained file starts
        self.resets: list[tuple[int, tuple[int, ...]]] = []  # (ordinal, record accumulators reset)
        self.tail: tuple[int, int] | None = None  # (where the file is cut short, end of its data)

    def read(self) -> FastDecode:
        self._read_files()
        walk = _Walk(self)
        messages = self._wanted_messages(walk)
        columns = _RecordColumns(self, walk)
        break_reason, partial = self._read_tail(walk, columns) if self.tail else (None, None)
        extra_records = []
        if partial is not None and partial.name == "record":
            extra_records.append(partial.get_values())
        elif partial is not None and partial.name in self.wanted:
            messages[partial.name].append(partial.get_values())
        records = columns.frame(extra_records)
        return FastDecode(messages, records, len(records), break_reason)

    # -- pass 1: files, message boundaries, definitions

    def _read_files(self) -> None:
        data, pos = self.data, 0
        while True:
            start, end = _file_header(data, pos)
            self.segment_starts.append(len(self.offsets))
            stop = self._walk(start, end)
            if self.tail is not None:
                return
            if stop + 2 > len(data):  # the CRC is missing: fitparse reports the early end
                self.tail = (stop, end)
                return
            _check_crc(data, pos, stop)
            pos = stop + 2
            if pos >= len(data):
                return

    def _walk(self, pos: int, end: int) -> int:
        """Find every message of one file; returns where its data ended (or was cut short).

        Like fitparse, reads messages while the file's declared data size is not used
        up, so a last message may cross it; the CRC follows the last message.
        """
        data, offsets, layout_ids = self.data, self.offsets, self.layout_ids
        size = len(data)
        local = self.local = [None] * 16
        previous = -1  # the last data message's header (local type bits only if compressed)
        while pos < end and pos < size:
            header = data[pos]
            if header & 0x80:
                key = header & 0xE0
                used = local[(header >> 5) & 0x3]
            elif header & 0x40:
                used = self._definition(pos, header)
                if used is None:
                    self.tail = (pos, end)
                    return pos
                local[header & 0x0F] = used
                pos += used.layout.length
                previous = -1
                continue
            else:
                key = header
                used = local[header & 0x0F]
            if used is None:
                raise Unsupported(f"data message at byte {pos} has no definition (local type)")
            if key == previous and used.kind != _DEV:
                count = _run_length(self.u8, pos, key, used.msg_size, min(end, size), size)
                if count:
                    offsets.extend(range(pos, pos + count * used.msg_size, used.msg_size))
                    layout_ids.extend(repeat(used.index, count))
                    pos += count * used.msg_size
                    previous = -1
                    continue
            if used.kind == _DEV and pos + used.msg_size <= size:
                self._register_developer_data(pos, used.layout)
            offsets.append(pos)
            layout_ids.append(used.index)
            pos += used.msg_size
            previous = key
        if pos > size:  # the file ends inside the last data message
            layout_ids.pop()
            self.tail = (offsets.pop(), end)
        elif pos < end:  # the file ends where a message should start
            self.tail = (pos, end)
        return pos

    def _definition(self, pos: int, header: int) -> _Used | None:
        """The layout of the definition message at pos, or None if the file ends inside it."""
        length = _definition_length(self.data, pos, header)
        if length is None:
            return None
        layout = self._layout(pos, length, header)
        used = self.used.get(id(layout))
        if used is None:
            used = self.used[id(layout)] = _Used(len(self.layouts), layout)
            self.layouts.append(layout)
        if layout.resets and layout.kind == _RECORD:
            self.resets.append((len(self.offsets), layout.resets))
        return used

    def _layout(self, pos: int, length: int, header: int) -> _Layout:
        key = self.data[pos:pos + length]
        if header & 0x20:  # developer fields: valid while the developer data stays the same
            return self._cached_layout(self.dev_cache, (key, self.dev_version), pos, length, header)
        return self._cached_layout(_SHARED_LAYOUTS, (key, self.wanted), pos, length, header)

    def _cached_layout(self, cache: dict[Any, _Layout], cache_key: tuple[bytes, Any], pos: int, length: int,
                       header: int) -> _Layout:
        layout = cache.get(cache_key)
        if layout is None:
            dm = _definition_message(self.data, pos, header, self.fitparse)
            layout = _Layout(dm, length, self.wanted)
            if len(cache) >= _SHARED_LAYOUTS_MAX:
                cache.clear()
            cache[cache_key] = layout
        return layout

    def _register_developer_data(self, pos: int, layout: _Layout) -> None:
        self.dev_version += 1
        message = self._parse_data(pos, layout.dm, ts_before=0)
        try:
            if message.name == "developer_data_id":
                self.fitparse.add_dev_data_id(message)
            else:
                self.fitparse.add_dev_field_description(message)
        except Exception as exc:
            raise Unsupported(f"fitparse rejects developer data at byte {pos}: {exc!r}") from exc

    def _parse_data(self, pos: int, dm: Any, ts_before: int) -> Any:
        """One data message through fitparse's own code (values, subfields, processors)."""
        reader = self.fitparse
        reader._file.seek(pos)
        try:
            header = reader._parse_message_header()
            reader._local_mesgs[header.local_mesg_num] = dm
            reader._compressed_ts_accumulator = ts_before
            return reader._parse_data_message(header)
        except Exception as exc:
            raise Unsupported(f"fitparse fails on the message at byte {pos}: {exc!r}") from exc

    # -- pass 2: the few non-record messages

    def _wanted_messages(self, walk: _Walk) -> dict[str, list[dict[str, Any]]]:
        messages: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for i in np.flatnonzero(walk.kinds == _WANTED):
            layout = self.layouts[walk.layout_ids[i]]
            pos, header = int(walk.offsets[i]), int(walk.headers[i])
            values = layout.decoder().values(self.data, pos, header, int(walk.ts_before[i]))
            messages[layout.name].append(_message_values(layout.name, values))
        return messages

    # -- a file cut short: fitparse reads the rest, exactly as the reference would

    def _read_tail(self, walk: _Walk, columns: _RecordColumns) -> tuple[str, Any]:
        """The early-end reason and the partly read last message (or None), from fitparse."""
        assert self.tail is not None  # only called for a file cut short
        pos, end = self.tail
        reader = self.fitparse
        reader.check_crc, reader._complete = True, False
        reader._file.seek(pos)
        reader._bytes_left = end - pos
        reader._local_mesgs = {i: used.layout.dm for i, used in enumerate(self.local) if used}
        started = self.segment_starts[-1] < len(walk.offsets)
        reader._compressed_ts_accumulator = int(walk.ts_after[-1]) if started else 0
        reader._accumulators = self._accumulators_at_end(columns)
        message = None
        try:
            message = reader._parse_message()
            reader._parse_message()
        except FitEOFError as exc:
            return f"file ends unexpectedly: {exc}", message
        except Exception as exc:
            raise Unsupported(f"fitparse fails where the file is cut short: {exc!r}") from exc
        raise Unsupported("fitparse reads on where the fast path saw the file end")

    def _accumulators_at_end(self, columns: _RecordColumns) -> dict[int, dict[int, int]]:
        accumulators: dict[int, dict[int, int]] = {}
        for layout in (used.layout for used in self.local if used):
            if layout.resets:
                accumulators.setdefault(layout.dm.mesg_num, {}).update(dict.fromkeys(layout.resets, 0))
        if RECORD_NUM in accumulators:
            for key in accumulators[RECORD_NUM]:
                accumulators[RECORD_NUM][key] = columns.final_accumulator(key)
        return accumulators


def _run_length(u8: np.ndarray, pos: int, key: int, step: int, limit: int, size: int) -> int:
    """How many messages of one type follow each other from pos (a run of records).

    Message j starts at pos + j*step as long as every message before it had this
    same header, so comparing the header bytes at that stride finds the run with
    NumPy instead of one Python step per message. Only whole messages that start
    before limit count.
    """
    most = min(-(-(limit - pos) // step), (size - pos) // step)
    done, window = 0, 32
    while done < most:
        heads = u8[pos + done * step: pos + min(most, done + window) * step: step]
        same = (heads & 0xE0) == key if key & 0x80 else heads == key
        if not same.all():
            return done + int(np.argmin(same))
        done += len(heads)
        window *= 4
    return done


def _message_values(name: str, values: dict[str, Any]) -> dict[str, Any]:
    return values  # a hook: the tests check which fields decode.py reads


def _definition_length(data: bytes, pos: int, header: int) -> int | None:
    if pos + 6 > len(data):
        return None
    length = 6 + 3 * data[pos + 5]
    if header & 0x20:
        if pos + length + 1 > len(data):
            return None
        length += 1 + 3 * data[pos + length]
    return length if pos + length <= len(data) else None


def _definition_message(data: bytes, pos: int, header: int, reader: Any) -> DefinitionMessage:
    """The definition message at pos, built as fitparse's ``_parse_definition_message`` builds it."""
    big = data[pos + 2] != 0
    global_num = int.from_bytes(data[pos + 3:pos + 5], "big" if big else "little")
    first, count = pos + 6, data[pos + 5]
    field_defs = [_field_definition(global_num, data[p], data[p + 1], data[p + 2])
                  for p in range(first, first + 3 * count, 3)]
    dev_field_defs = []
    if header & 0x20:
        first += 3 * count
        for p in range(first + 1, first + 1 + 3 * data[first], 3):
            dev_field_defs.append(_dev_field_definition(reader, data[p], data[p + 1], data[p + 2]))
    return DefinitionMessage(
        header=MessageHeader(is_definition=True, is_developer_data=bool(header & 0x20),
                             local_mesg_num=header & 0x0F, time_offset=None),
        endian=">" if big else "<", mesg_type=MESSAGE_TYPES.get(global_num), mesg_num=global_num,
        field_defs=field_defs, dev_field_defs=dev_field_defs,
    )


@lru_cache(maxsize=8192)
def _field_definition(global_num: int, def_num: int, size: int, base_num: int) -> FieldDefinition:
    mesg_type = MESSAGE_TYPES.get(global_num)
    field = mesg_type.fields.get(def_num) if mesg_type else None
    base_type = BASE_TYPES.get(base_num, BASE_TYPE_BYTE)
    if size % base_type.size:
        if field is None:  # fitparse's warning text itself fails on an unknown field
            raise Unsupported(f"unknown field {def_num} of odd size {size} in message {global_num}")
        base_type = BASE_TYPE_BYTE
    return FieldDefinition(field=field, def_num=def_num, base_type=base_type, size=size)


def _dev_field_definition(reader: Any, def_num: int, size: int, dev_index: int) -> DevFieldDefinition:
    try:
        field = reader.get_dev_type(dev_index, def_num)
    except FitParseError as exc:
        raise Unsupported(f"fitparse rejects a developer field: {exc}") from exc
    return DevFieldDefinition(field=field, dev_data_index=dev_index, def_num=def_num, size=size)


def _file_header(data: bytes, pos: int) -> tuple[int, int]:
    """(first message byte, end of declared data) of the file starting at pos."""
    if len(data) - pos < 14:
        raise Unsupported(f"{len(data) - pos} stray bytes after the last file")
    header_size, data_size = data[pos], int.from_bytes(data[pos + 4:pos + 8], "little")
    if header_size not in (12, 14) or data[pos + 8:pos + 12] != b".FIT":
        raise Unsupported(f"unusual FIT header at byte {pos}")
    if header_size == 14:
        stored = int.from_bytes(data[pos + 12:pos + 14], "little")
        if stored and stored != Crc.calculate(data[pos:pos + 12]):
            raise Unsupported("header CRC mismatch")
    return pos + header_size, pos + header_size + data_size


def _check_crc(data: bytes, start: int, stop: int) -> None:
    computed, stored = crc16(memoryview(data)[start:stop]), int.from_bytes(data[stop:stop + 2], "little")
    if computed != stored:
        raise Unsupported(f"CRC mismatch (computed {computed:#06x}, stored {stored:#06x})")


# --------------------------------------------------------------------------- per-message arrays


class _Walk:
    """The walk as arrays: offsets, layouts, kinds and the timestamp accumulator."""

    def __init__(self, reader: _FastReader) -> None:
        self.reader = reader
        self.offsets = np.array(reader.offsets, dtype=np.int64)
        self.layout_ids = np.array(reader.layout_ids, dtype=np.int64)
        layouts = reader.layouts
        _check_used_layouts(layouts, self.layout_ids)
        kinds = np.array([layout.kind for layout in layouts], dtype=np.int8)
        self.kinds = kinds[self.layout_ids] if len(layouts) else np.zeros(0, np.int8)
        self.is_record = self.kinds == _RECORD
        self.headers = reader.u8[self.offsets]
        self.compressed = (self.headers & 0x80) != 0
        self.groups = _group_by_layout(self.layout_ids)
        self.segment_start = np.zeros(len(self.offsets), dtype=bool)
        self.segment_start[[s for s in reader.segment_starts if s < len(self.offsets)]] = True
        self._timestamps()

    def _timestamps(self) -> None:
        """fitparse's compressed-timestamp accumulator before and after every message."""
        n = len(self.offsets)
        self.ts_value = np.zeros(n, dtype=np.int64)
        self.ts_set = np.zeros(n, dtype=bool)
        for layout_id, members in self.groups.items():
            layout = self.reader.layouts[layout_id]
            if layout.ts_at is None:
                continue
            if self.compressed[members].any():
                raise Unsupported("compressed-timestamp message whose definition has a timestamp field")
            fd = layout.dm.field_defs[[f.def_num for f in layout.dm.field_defs].index(TIMESTAMP_NUM)]
            raw = _take_ints(self.reader.u8, self.offsets[members] + 1 + layout.ts_at, fd, layout.dm.endian)
            valid = raw != _invalid_value(fd.base_type.name)
            self.ts_value[members] = raw
            self.ts_set[members] = valid
        self.ts_after, self.ts_before = _accumulate_timestamps(
            self.ts_value, self.ts_set, self.compressed, self.headers & 0x1F, self.segment_start)


def _check_used_layouts(layouts: list[_Layout], layout_ids: np.ndarray) -> None:
    for index in np.unique(layout_ids):
        if layouts[index].problem:
            raise Unsupported(layouts[index].problem)


def _group_by_layout(layout_ids: np.ndarray) -> dict[int, np.ndarray]:
    """Message ordinals per layout, each in file order."""
    if not len(layout_ids):
        return {}
    order = np.argsort(layout_ids, kind="stable")
    ids, starts = np.unique(layout_ids[order], return_index=True)
    return dict(zip(ids.tolist(), np.split(order, starts[1:])))


def _accumulate_timestamps(
    value: np.ndarray, is_set: np.ndarray, compressed: np.ndarray, offset5: np.ndarray, restart: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """fitparse's ``_compressed_ts_accumulator`` after and before each message, vectorised.

    A full timestamp sets it; a compressed header adds (offset - acc) mod 32; a new
    chained file restarts at 0.
    """
    n = len(value)
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    new_group = is_set | restart
    new_group[0] = True
    group = np.cumsum(new_group) - 1
    base = np.where(is_set, value, 0)[new_group]
    comp = np.flatnonzero(compressed)
    offsets = offset5[comp].astype(np.int64)
    previous_low = np.empty_like(offsets)
    previous_low[1:] = offsets[:-1]
    first = np.ones(len(comp), dtype=bool)
    first[1:] = group[comp[1:]] != group[comp[:-1]]
    previous_low[first] = base[group[comp[first]]] & 0x1F
    delta = np.zeros(n, dtype=np.int64)
    delta[comp] = (offsets - previous_low) & 0x1F
    running = np.cumsum(delta)
    starts = np.flatnonzero(new_group)
    before_group = running[starts] - delta[starts]
    after = base[group] + running - before_group[group]
    before = np.empty(n, dtype=np.int64)
    before[0] = 0
    before[1:] = after[:-1]
    before[restart] = 0
    return after, before


def _take(u8: np.ndarray, starts: np.ndarray, width: int) -> np.ndarray:
    """(len(starts), width) bytes starting at each offset (one row copy per message)."""
    if len(u8) < width:
        return np.zeros((0, width), dtype=np.uint8)
    return np.lib.stride_tricks.sliding_window_view(u8, width)[starts]


def _take_ints(u8: np.ndarray, starts: np.ndarray, fd: Any, endian: str) -> np.ndarray:
    dtype = _numeric_type(fd.base_type.name, endian)
    return _take(u8, starts, fd.size).view(dtype).ravel().astype(np.int64)


# --------------------------------------------------------------------------- record columns


@dataclass
class _Values:
    """One FIT field's values for some messages, as ``columns._num`` will see them."""

    none: np.ndarray  # value is None (or the field is absent)
    number: np.ndarray  # float64; NaN where the value is not a finite number


class _RecordColumns:
    """The stored record columns, extracted per record definition, in file order."""

    def __init__(self, reader: _FastReader, walk: _Walk) -> None:
        self.reader, self.walk = reader, walk
        self.rank = np.cumsum(walk.is_record) - 1  # message ordinal -> record row
        self.n = int(walk.is_record.sum())
        self.accumulated: dict[int, tuple[np.ndarray, int]] = {}

    def frame(self, extra: list[dict[str, Any]]) -> C.RecordColumns:
        """The record columns; extra are message dicts of records fitparse read (a cut-short last one)."""
        ts = np.full(self.n, np.datetime64("NaT"), dtype="datetime64[us]")
        columns = {name: np.full(self.n, np.nan) for name in C.RECORD_SOURCES}
        for layout_id, members in self.walk.groups.items():
            layout = self.reader.layouts[layout_id]
            if layout.kind == _RECORD:
                rows = self.rank[members]
                ts[rows] = _record_timestamps(self.walk, members)
                for name, values in self._layout_columns(layout, members).items():
                    columns[name][rows] = values
        records = C.RecordColumns(ts, columns)
        return records.concat(C.record_columns(extra)) if extra else records

    def _layout_columns(self, layout: _Layout, members: np.ndarray) -> dict[str, np.ndarray]:
        writers = _record_writers(layout.dm)
        if "timestamp" in writers and writers["timestamp"][0] != "field":
            raise Unsupported("record timestamp comes from a component")
        block = _take(self.reader.u8, self.walk.offsets[members] + 1, layout.msg_size - 1)
        values = {name: self._writer_values(w, block, layout, members) for name, w in writers.items()
                  if name != "timestamp"}
        out = {}
        for column, names in C.RECORD_SOURCES.items():
            number = _first_number([values.get(name) for name in names], len(members))
            out[column] = number * C.SEMICIRCLE_TO_DEG if column in C.SEMICIRCLE_COLUMNS else number
        return out

    def _writer_values(self, writer: tuple, block: np.ndarray, layout: _Layout, members: np.ndarray) -> _Values:
        kind, fd, at, item, target = writer
        if kind == "field":
            return _field_values(block, at, fd, item, layout.dm.endian)
        raw, none = _component_source(block, at, fd, layout.dm.endian)
        bits = (raw >> item.bit_offset) & ((1 << item.bits) - 1)
        if item.accumulate:
            bits = self._accumulate(item, members)
        return _scaled(bits.astype(np.float64), none, item.scale, item.offset, target.type)

    def _accumulate(self, component: Any, members: np.ndarray) -> np.ndarray:
        return self._accumulated_series(component.def_num, component.bits)[0][members]

    def final_accumulator(self, key: int) -> int:
        """fitparse's accumulator for one record component number after the last message."""
        bits = next(c.bits for fd in MESSAGE_TYPES[RECORD_NUM].fields.values() for c in fd.components or ()
                    if c.accumulate and c.def_num == key)
        return self._accumulated_series(key, bits)[1]

    def _accumulated_series(self, key: int, bits: int) -> tuple[np.ndarray, int]:
        """fitparse's accumulator of one record component number, per message and at the end.

        Every record field with an accumulating component of that number feeds it, even
        where a later field of the same name hides the component in get_values().
        """
        if key not in self.accumulated:
            walk, n = self.walk, len(self.walk.offsets)
            raw = np.zeros(n, dtype=np.int64)
            present = np.zeros(n, dtype=bool)
            for layout_id, members in walk.groups.items():
                layout = self.reader.layouts[layout_id]
                if layout.kind == _RECORD:
                    self._feed_accumulator(layout, members, key, raw, present)
            restart = np.zeros(n + 1, dtype=bool)  # before message i; [n]: after the last one
            restart[self.reader.segment_starts] = True
            for ordinal, keys in self.reader.resets:
                if key in keys:
                    restart[ordinal] = True
            self.accumulated[key] = _unwrap(raw, present, restart, bits)
        return self.accumulated[key]

    def _feed_accumulator(self, layout: _Layout, members: np.ndarray, key: int,
                          raw: np.ndarray, present: np.ndarray) -> None:
        at = 0
        for fd in layout.dm.field_defs:
            for comp in (fd.field.components or ()) if fd.field else ():
                if comp.accumulate and comp.def_num == key:
                    if not _component_source_ok(fd, comp):
                        raise Unsupported(f"accumulated component over a {fd.base_type.name}[{fd.size}] value")
                    block = _take(self.reader.u8, self.walk.offsets[members] + 1 + at, fd.size)
                    source, none = _component_source(block, 0, fd, layout.dm.endian)
                    valid = members[~none]
                    raw[valid] = (source[~none] >> comp.bit_offset) & ((1 << comp.bits) - 1)
                    present[valid] = True
            at += fd.size


def _unwrap(raw: np.ndarray, present: np.ndarray, restart: np.ndarray, bits: int) -> tuple[np.ndarray, int]:
    """fitparse's ``_apply_compressed_accumulation`` run over a sequence, vectorised.

    restart[i] puts the accumulator back to 0 before message i (restart[n]: after the
    last). Returns the value after each message where present, and the final value.
    """
    group = np.cumsum(restart)
    idx = np.flatnonzero(present)
    values = raw[idx]
    previous = np.zeros_like(values)
    previous[1:] = values[:-1]
    first = np.ones(len(idx), dtype=bool)
    first[1:] = group[idx[1:]] != group[idx[:-1]]
    previous[first] = 0
    delta = (values - previous) & ((1 << bits) - 1)
    running = np.cumsum(delta)
    starts = np.flatnonzero(first)
    group_of = np.cumsum(first) - 1
    out = np.zeros(len(raw), dtype=np.int64)
    out[idx] = running - (running[starts] - delta[starts])[group_of]
    final = int(out[idx[-1]]) if len(idx) and group[idx[-1]] == group[-1] else 0
    return out, final


def _record_timestamps(walk: _Walk, members: np.ndarray) -> np.ndarray:
    """Record timestamps as fitparse gives them, then as pandas stores them.

    fitparse leaves values below 0x10000000 (device-relative time) as plain integers,
    which a datetime64[us] column takes as microseconds since 1970.
    """
    compressed = walk.compressed[members]
    value = np.where(compressed, walk.ts_after[members], walk.ts_value[members])
    present = compressed | walk.ts_set[members]
    absolute = present & (value >= FIRST_ABSOLUTE_TS)
    seconds = np.where(absolute, value + UTC_REFERENCE, 0).astype("datetime64[s]").astype("datetime64[us]")
    micros = np.where(present & ~absolute, value, 0).astype("datetime64[us]")
    return np.where(absolute, seconds, np.where(present, micros, np.datetime64("NaT")))


def _record_writers(dm: Any) -> dict[str, tuple]:
    """For each field name, the last FieldData fitparse writes under it: get_values() keeps that.

    A writer is (kind, field_def, byte offset, Field or ComponentField, target Field).
    """
    writers: dict[str, tuple] = {}
    at = 0
    for fd in dm.field_defs:
        field = fd.field
        if field is not None:
            if field.subfields:
                raise Unsupported(f"record field {field.name} has subfields")
            for comp in field.components or ():
                target = dm.mesg_type.fields[comp.def_num]
                writers.pop(target.name, None)
                writers[target.name] = ("component", fd, at, comp, target)
            writers.pop(field.name, None)
            writers[field.name] = ("field", fd, at, field, field)
        at += fd.size
    for fd in dm.dev_field_defs:
        if fd.field.name in RECORD_FIELD_NAMES:
            raise Unsupported(f"developer field named {fd.field.name!r} in records")
    relevant = {name: w for name, w in writers.items() if name in RECORD_FIELD_NAMES}
    for name, writer in relevant.items():
        _check_record_writer(name, writer)
    return relevant


def _check_record_writer(name: str, writer: tuple) -> None:
    kind, fd, _, item, target = writer
    base, size = fd.base_type, fd.size
    if kind == "component":
        if target.subfields:
            raise Unsupported(f"component target {name} has subfields")
        if not _component_source_ok(fd, item):
            raise Unsupported(f"component {name} over a {base.name}[{size}] value")
    elif base.name in ("sint64", "uint64", "uint64z") and size == 8:
        raise Unsupported(f"record field {name} stored as a 64-bit integer")


def _component_source_ok(fd: Any, component: Any) -> bool:
    """Integer sources up to 32 bits, or bytes read as one little-endian integer."""
    if fd.base_type.name == "byte":
        return fd.size <= 7 and not (component.bit_offset and component.bit_offset >= 8 * fd.size)
    return _is_int_scalar(fd.base_type, fd.size, 4)


def _component_source(block: np.ndarray, at: int, fd: Any, endian: str) -> tuple[np.ndarray, np.ndarray]:
    """A component's source value as fitparse renders it: the integer, or the bytes read little-endian."""
    raw = block[:, at:at + fd.size]
    if fd.base_type.name == "byte":
        none = (raw == 0xFF).all(axis=1)
        value = np.zeros(len(raw), dtype=np.int64)
        for i in range(fd.size - 1, -1, -1):
            value = (value << 8) | raw[:, i].astype(np.int64)
        return value, none
    dtype = _numeric_type(fd.base_type.name, endian)
    value = np.ascontiguousarray(raw).view(dtype).ravel()
    return value.astype(np.int64), value == _invalid_value(fd.base_type.name)


def _field_values(block: np.ndarray, at: int, fd: Any, field: Any, endian: str) -> _Values:
    raw = block[:, at:at + fd.size]
    base = fd.base_type.name
    n = len(raw)
    if base in ("byte", "string"):  # a byte tuple / text: None when invalid, else not a number
        none = (raw == 0xFF).all(axis=1) if base == "byte" else raw[:, 0] == 0
        return _Values(none, np.full(n, np.nan))
    if fd.size != fd.base_type.size:  # an array: a tuple, never None, not a number
        return _Values(np.zeros(n, dtype=bool), np.full(n, np.nan))
    value = np.ascontiguousarray(raw).view(_numeric_type(base, endian)).ravel()
    none = np.isnan(value) if value.dtype.kind == "f" else value == _invalid_value(base)
    return _render(value, none, field)


def _render(value: np.ndarray, none: np.ndarray, field: Any) -> _Values:
    """field.render + scale/offset + processors, as ``_num`` then sees the value."""
    named = _named_values(value, field.type)
    if value.dtype.kind in "iu" and not field.scale and field.offset:
        number = (value.astype(np.int64) - field.offset).astype(np.float64)
    else:
        number = _scale(value.astype(np.float64), field.scale, field.offset)
    return _finish(number, none, named | _processed(field.type))


def _scaled(value: np.ndarray, none: np.ndarray, scale: Any, offset: Any, target_type: Any) -> _Values:
    """A component: scale/offset of the component, then the target field's render."""
    number = _scale(value, scale, offset)
    return _finish(number, none, _named_values(number, target_type) | _processed(target_type))


def _scale(number: np.ndarray, scale: Any, offset: Any) -> np.ndarray:
    if scale:
        number = number / scale
    if offset:
        number = number - offset
    return number


def _named_values(value: np.ndarray, field_type: Any) -> np.ndarray:
    names = getattr(field_type, "values", None)
    if not names:
        return np.zeros(len(value), dtype=bool)
    return np.isin(value, np.array(list(names), dtype=np.float64))


def _processed(field_type: Any) -> bool:
    return field_type.name in PROCESSOR_TYPES or field_type.name == "bool"


def _finish(number: np.ndarray, none: np.ndarray, not_a_number: Any) -> _Values:
    ok = ~none & ~np.asarray(not_a_number) & np.isfinite(number)
    return _Values(none, np.where(ok, number, np.nan))


def _first_number(candidates: Iterable[_Values | None], n: int) -> np.ndarray:
    """``_num(_first(m, *names))``: the first value that is not None, as a number or NaN."""
    result = np.full(n, np.nan)
    for values in reversed(list(candidates)):
        if values is not None:
            result = np.where(values.none, result, values.number)
    return result
