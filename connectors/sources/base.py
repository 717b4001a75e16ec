"""The one shape every source produces: an :class:`Arrival` (a complete FIT file that
landed under ``INBOX/<athlete>/``), and the :class:`Source` protocol.

A source's only job is to land the file durably and describe it; what happens next
(the ``fit.file.received`` event, batching, ingest, rules, notifications) is the same
for every source and lives in :mod:`tendon_pipeline.runtime.watch`.

Sources here: :mod:`.folder` (a watched inbox), :mod:`.http_upload` (an authenticated
upload endpoint) and :mod:`.bucket` (an object-store bucket or a push webhook's
download, the seam for cloud sources).
"""

from __future__ import annotations

import hashlib
import os
import struct
import threading
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

FIT_SIGNATURE = b".FIT"
TEMP_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".download", ".swp", "~")


def new_arrival_id() -> str:
    """16 hex digits, the same form as an ingest id."""
    return uuid.uuid4().hex[:16]


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Arrival(BaseModel):
    """A FIT file that has fully arrived and waits to be processed.

    ``arrival_id`` identifies the arrival end to end: it is the ``ingest_id`` the upload
    endpoint answers with, the id of the ``fit.file.received`` event, and (for uploads)
    the file name under the inbox.
    """

    model_config = ConfigDict(frozen=True)

    arrival_id: str = Field(default_factory=new_arrival_id)
    athlete_id: str | None = Field(description="from INBOX/<athlete>/, the upload token, ...; None: by device serial")
    path: Path
    size: int = Field(ge=0)
    mtime_ns: int = 0
    sha256: str | None = None
    source: str = Field(description="name of the source: folder, http, bucket, ...")
    device: str | None = None
    received_at: datetime = Field(default_factory=utcnow)

    @property
    def fingerprint(self) -> tuple[str, int, int]:
        """Same file, same content on disk: two sightings of one landing share this."""
        return (str(self.path), self.size, self.mtime_ns)

    @classmethod
    def for_file(cls, path: Path, *, source: str, athlete_id: str | None, with_hash: bool = False,
                 **fields) -> "Arrival":
        stat = path.stat()
        digest = sha256_file(path) if with_hash else fields.pop("sha256", None)
        return cls(path=path, size=stat.st_size, mtime_ns=stat.st_mtime_ns, source=source,
                   athlete_id=athlete_id, sha256=digest, **fields)


Emit = Callable[[Arrival], None]


@runtime_checkable
class Source(Protocol):
    """Anything that lands FIT files and reports each complete one as an :class:`Arrival`.

    ``run`` blocks, calling ``emit`` once per arrival, until ``stop`` is set (or, for a
    finite source, until it is exhausted). It must be safe to call ``emit`` from the
    source's own thread: the receiver is thread-safe and de-duplicates sightings.
    """

    name: str

    def run(self, emit: Emit, stop: threading.Event) -> None: ...


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fit_header(head: bytes) -> tuple[int, int] | None:
    """(header_size, data_size) when ``head`` starts like a FIT file, else None."""
    if len(head) < 12:
        return None
    header_size = head[0]
    if header_size not in (12, 14) or head[8:12] != FIT_SIGNATURE:
        return None
    (data_size,) = struct.unpack_from("<I", head, 4)
    return header_size, data_size


def fit_expected_size(path: Path) -> int | None:
    """The size a complete (single) FIT file with this header has, or None if unknown yet."""
    try:
        with path.open("rb") as handle:
            header = fit_header(handle.read(14))
    except OSError:
        return None
    if header is None:
        return None
    header_size, data_size = header
    return header_size + data_size + 2  # + file CRC


def is_candidate_name(name: str) -> bool:
    """A ``*.fit`` file that is not hidden and not a temporary/partial download name."""
    lower = name.lower()
    return (not name.startswith(".") and lower.endswith(".fit")
            and not lower.endswith(TEMP_SUFFIXES))


def athlete_from_inbox_path(inbox: Path, path: Path) -> str | None:
    """``INBOX/<athlete>/...`` names the athlete; a file directly in INBOX has none."""
    try:
        parts = path.relative_to(inbox).parts
    except ValueError:
        return None
    return parts[0] if len(parts) >= 2 else None


def land_bytes(folder: Path, name: str, data: bytes) -> Path:
    """Write ``data`` as ``folder/name`` atomically: a hidden temporary file, fsync, rename.

    ``name`` must be chosen by the caller (server side), never taken from user input.
    """
    if "/" in name or name.startswith(".") or not name:
        raise ValueError(f"bad landing name {name!r}")
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".land-{uuid.uuid4().hex}.part"
    try:
        with tmp.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, folder / name)
    finally:
        tmp.unlink(missing_ok=True)
    return folder / name
