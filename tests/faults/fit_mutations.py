"""Structure-aware mutations of FIT bytes for the fuzz tests (test helper, not shipped)."""

from __future__ import annotations

import contextlib
import struct

from tendon_pipeline.fit.fast import crc16

HEADER_SIZES = (12, 14)


def message_boundaries(data: bytes) -> list[int]:
    """Offsets where each message of the first FIT file starts (a minimal walker that stops
    quietly where earlier mutations broke the structure)."""
    starts: list[int] = []
    with contextlib.suppress(IndexError, struct.error):
        _walk(data, starts)
    return starts


def _walk(data: bytes, starts: list[int]) -> None:
    header = data[0]
    end = header + struct.unpack_from("<I", data, 4)[0]
    sizes: dict[int, int] = {}
    pos = header
    while pos < min(end, len(data)):
        starts.append(pos)
        head = data[pos]
        if head & 0x80:  # compressed timestamp data message
            pos += 1 + sizes.get((head >> 5) & 0x3, 0)
        elif head & 0x40:  # definition
            n = data[pos + 5]
            size = sum(data[pos + 6 + 3 * i + 1] for i in range(n))
            length = 6 + 3 * n
            if head & 0x20:  # developer fields
                nd = data[pos + length]
                size += sum(data[pos + length + 1 + 3 * i + 1] for i in range(nd))
                length += 1 + 3 * nd
            sizes[head & 0x0F] = size
            pos += length
        else:
            pos += 1 + sizes.get(head & 0x0F, 0)


def definition_offsets(data: bytes) -> list[int]:
    return [p for p in message_boundaries(data) if data[p] & 0x40 and not data[p] & 0x80]


def with_file_crc(body: bytes) -> bytes:
    """Recompute the trailing CRC so a mutation gets past the checksum."""
    return body[:-2] + struct.pack("<H", crc16(body[:-2]))


def set_byte(data: bytes, pos: int, value: int) -> bytes:
    buf = bytearray(data)
    buf[pos % len(buf)] = value & 0xFF
    return bytes(buf)


def flip_bit(data: bytes, pos: int, bit: int) -> bytes:
    buf = bytearray(data)
    buf[pos % len(buf)] ^= 1 << (bit % 8)
    return bytes(buf)


def huge_declared_size(data: bytes) -> bytes:
    """A header that claims 4 GB of data."""
    return data[:4] + struct.pack("<I", 0xFFFFFFF0) + data[8:]


def endless_compressed_timestamps(data: bytes, count: int) -> bytes:
    """Append ``count`` compressed-timestamp record headers for local type 0 before the CRC."""
    header = data[0]
    body = data[header:-2] + bytes([0x80 | (i & 0x1F) for i in range(count)])
    head = data[:4] + struct.pack("<I", len(body)) + data[8:header]
    if header == 14:
        head = head[:12] + struct.pack("<H", crc16(head[:12]))
    return with_file_crc(head + body + b"\x00\x00")


def mutate_definition(data: bytes, which: int, field: str, value: int) -> bytes:
    """Change a definition's field count, a field size, or its global message number."""
    offsets = definition_offsets(data)
    if not offsets:
        return data
    pos = offsets[which % len(offsets)]
    if pos + 6 > len(data) - 2:  # an earlier mutation cut this definition short
        return data
    if field == "num_fields":
        return with_file_crc(set_byte(data, pos + 5, value))
    if field == "field_size" and data[pos + 5]:
        at = pos + 6 + 3 * (value % data[pos + 5]) + 1
        return with_file_crc(set_byte(data, at, value)) if at < len(data) - 2 else data
    return with_file_crc(data[: pos + 3] + struct.pack("<H", value & 0xFFFF) + data[pos + 5:])
