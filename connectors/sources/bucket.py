"""Cloud sources: an object-store bucket polled for new FIT objects (the seam for S3/GCS/
Azure buckets and for push webhooks).

Every cloud source ends the same way as the folder and upload sources: the file is
landed atomically in ``INBOX/<athlete>/`` and reported as an :class:`~.base.Arrival`
(``source="bucket"``), so the events, batching, single writer and idempotence are the
same. A new provider implements only :class:`ObjectStore` (list + read); a push webhook
(Garmin Health API, Strava) would be one more FastAPI route on the upload app that
checks the provider's signature, fetches the file from the URL in the notification and
calls :func:`~.base.land_bytes` -- see docs/event-driven.md.

Layout in the bucket: ``<prefix><athlete>/<anything>.fit``. What was already taken is
remembered by (key, etag) in a small state file, written atomically, so a restart does
not download everything again; ingest would recognise a re-download anyway.

Built and tested here: :class:`LocalDirStore` (a directory as a bucket: an rclone /
gcsfuse / s3fs mount, or a test). An S3 store is a dozen lines over ``boto3``
(``list_objects_v2`` paginator for :meth:`ObjectStore.list`, ``get_object`` for
:meth:`ObjectStore.read`); it is not shipped because it cannot be tested here.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from tendon_pipeline.connectors.sources.base import (
    Arrival,
    Emit,
    fit_header,
    is_candidate_name,
    land_bytes,
)
from tendon_pipeline.connectors.sources.config import ATHLETE_PATTERN

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    etag: str


class ObjectStore(Protocol):
    """The two calls a bucket must offer."""

    def list(self, prefix: str) -> Iterable[ObjectInfo]: ...

    def read(self, key: str) -> bytes: ...


class LocalDirStore:
    """A directory seen as a bucket: keys are POSIX paths relative to ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def list(self, prefix: str) -> Iterable[ObjectInfo]:
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames.sort()
            for name in sorted(filenames):
                path = Path(dirpath) / name
                key = path.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    stat = path.stat()
                    yield ObjectInfo(key, stat.st_size, f"{stat.st_size}-{stat.st_mtime_ns}")

    def read(self, key: str) -> bytes:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError(f"key outside the bucket: {key!r}")
        return path.read_bytes()


class BucketSource:
    """Polls an :class:`ObjectStore` and lands each new FIT object in the inbox."""

    name = "bucket"

    def __init__(self, store: ObjectStore, inbox: Path, *, prefix: str = "", interval_s: float = 30.0,
                 state_file: Path | None = None, max_bytes: int = 64 * 1024 * 1024) -> None:
        import re

        self.store = store
        self.inbox = Path(inbox)
        self.prefix = prefix
        self.interval_s = interval_s
        self.max_bytes = max_bytes
        self.state_file = state_file or self.inbox / ".bucket-state.json"
        self._athlete = re.compile(ATHLETE_PATTERN)
        self._taken: dict[str, str] = self._load_state()

    def _load_state(self) -> dict[str, str]:
        try:
            return dict(json.loads(self.state_file.read_text()))
        except (OSError, ValueError):
            return {}

    def _save_state(self) -> None:
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_name(f".{self.state_file.name}.tmp")
        tmp.write_text(json.dumps(self._taken, sort_keys=True))
        os.replace(tmp, self.state_file)

    def sync_once(self, emit: Emit) -> int:
        """Land every object not taken before; returns how many arrivals were reported."""
        count = 0
        for info in self.store.list(self.prefix):
            if self._taken.get(info.key) == info.etag:
                continue
            parts = info.key[len(self.prefix):].split("/")
            if len(parts) < 2 or not self._athlete.fullmatch(parts[0]) or not is_candidate_name(parts[-1]) \
                    or any(p.startswith(".") or p in ("", "..") for p in parts):
                continue
            if info.size > self.max_bytes:
                _log.warning("bucket object %s is %d bytes, over the limit: left", info.key, info.size)
                self._taken[info.key] = info.etag
                continue
            data = self.store.read(info.key)
            self._taken[info.key] = info.etag
            if fit_header(data[:14]) is None:
                _log.warning("bucket object %s is not a FIT file: left", info.key)
                continue
            name = hashlib.sha256(info.key.encode()).hexdigest()[:16] + ".fit"  # stable per key, never the key
            path = land_bytes(self.inbox / parts[0], name, data)
            emit(Arrival.for_file(path, source=self.name, athlete_id=parts[0],
                                  sha256=hashlib.sha256(data).hexdigest()))
            count += 1
        self._save_state()
        return count

    def run(self, emit: Emit, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.sync_once(emit)
            except Exception:  # noqa: BLE001 - a flaky bucket must not stop the watcher
                _log.exception("bucket sync failed; retrying in %.0f s", self.interval_s)
            stop.wait(self.interval_s)
