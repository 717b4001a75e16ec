"""Folder inbox source: ``INBOX/<athlete>/**.fit`` as written by a watch-sync tool or a
mounted watch.

A file is taken only once it is complete:

* its FIT header proves it (file size == header size + data size + 2-byte CRC), which
  is the case at once for a file renamed in or copied whole; or
* its size and mtime stayed unchanged for ``settle_s`` (files the header cannot vouch
  for: a chained FIT file, a copy still in progress that will turn out truncated).

Hidden names (``.x``), hidden folders and temporary/partial-download names (``*.tmp``,
``*.part``, ``*.crdownload``, ...) are ignored, so writers that write a temporary file
and rename it are picked up at the rename. Files already in the inbox when the watcher
starts are caught up (listed once the OS watch is active, so nothing falls in between);
a folder moved in whole is listed when it appears. An unchanged file is reported once
per process; a rewritten one again (ingest then recognises it by content hash).

OS notifications come from ``watchfiles`` (Rust ``notify``: inotify / FSEvents /
ReadDirectoryChangesW); ``poll=True`` polls instead, for network and FUSE mounts where
notifications do not arrive.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from pathlib import Path

from tendon_pipeline.connectors.sources.base import (
    Arrival,
    Emit,
    athlete_from_inbox_path,
    fit_expected_size,
    is_candidate_name,
)

_log = logging.getLogger(__name__)
TICK_MS = 100  # how often pending files are re-checked while nothing else happens


class _Settler:
    """Tracks files seen but not yet complete, and files already reported."""

    def __init__(self, inbox: Path, settle_s: float, source: str, remember: int = 100_000) -> None:
        self.inbox = inbox
        self.settle_s = settle_s
        self.source = source
        self.pending: dict[Path, tuple[int, int, float]] = {}  # path -> (size, mtime_ns, unchanged since)
        self.taken: OrderedDict[Path, tuple[int, int]] = OrderedDict()
        self.remember = remember

    def saw(self, path: Path) -> None:
        try:
            stat = path.stat()
        except OSError:
            self.pending.pop(path, None)
            return
        key = (stat.st_size, stat.st_mtime_ns)
        if self.taken.get(path) == key:
            return
        old = self.pending.get(path)
        if old is None or old[:2] != key:
            self.pending[path] = (*key, time.monotonic())

    def forget(self, path: Path) -> None:
        self.pending.pop(path, None)
        self.taken.pop(path, None)

    def ready(self) -> list[Arrival]:
        now = time.monotonic()
        done: list[Arrival] = []
        for path, (size, mtime_ns, since) in list(self.pending.items()):
            try:
                stat = path.stat()
            except OSError:
                del self.pending[path]
                continue
            if (stat.st_size, stat.st_mtime_ns) != (size, mtime_ns):
                self.pending[path] = (stat.st_size, stat.st_mtime_ns, now)
                continue
            complete = size > 0 and fit_expected_size(path) == size
            if not complete and now - since < self.settle_s:
                continue
            del self.pending[path]
            self.taken[path] = (size, mtime_ns)
            self.taken.move_to_end(path)
            while len(self.taken) > self.remember:
                self.taken.popitem(last=False)
            done.append(Arrival(athlete_id=athlete_from_inbox_path(self.inbox, path), path=path, size=size,
                                mtime_ns=mtime_ns, source=self.source))
        return done


class FolderSource:
    """Watches ``inbox`` recursively; see the module docstring."""

    name = "folder"

    def __init__(self, inbox: Path, *, settle_s: float = 1.0, poll: bool = False, poll_interval_ms: int = 300) -> None:
        self.inbox = Path(inbox).expanduser().resolve()
        self.settle_s = settle_s
        self.poll = poll
        self.poll_interval_ms = poll_interval_ms
        self.watching = threading.Event()  # set once the OS watch is active and the catch-up listed

    # -- listing -------------------------------------------------------------------
    def _visible(self, path: Path) -> bool:
        try:
            parts = path.relative_to(self.inbox).parts
        except ValueError:
            return False
        return bool(parts) and not any(p.startswith(".") for p in parts)

    def scan(self, folder: Path | None = None) -> list[Path]:
        """Candidate files under ``folder`` (default: the whole inbox), oldest first."""
        found = []
        for dirpath, dirnames, filenames in os.walk(folder or self.inbox):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in filenames:
                if is_candidate_name(name):
                    found.append(Path(dirpath) / name)
        def mtime(p: Path) -> float:
            try:
                return p.stat().st_mtime
            except OSError:
                return 0.0
        return sorted(found, key=lambda p: (mtime(p), str(p)))

    def _filter(self, change, raw: str) -> bool:
        path = Path(raw)
        if not self._visible(path):
            return False
        return is_candidate_name(path.name) or os.path.isdir(raw) or "." not in path.name

    # -- running -------------------------------------------------------------------
    def run(self, emit: Emit, stop: threading.Event) -> None:
        """Catch up, then report arrivals until ``stop`` is set."""
        from watchfiles import Change, watch

        self.inbox.mkdir(parents=True, exist_ok=True)
        settler = _Settler(self.inbox, self.settle_s, self.name)
        first = True
        for changes in watch(self.inbox, watch_filter=self._filter, stop_event=stop, yield_on_timeout=True,
                             rust_timeout=TICK_MS, debounce=400, step=30, raise_interrupt=False,
                             force_polling=self.poll, poll_delay_ms=self.poll_interval_ms, recursive=True):
            if first:  # the watch is active now: list what was already there
                for path in self.scan():
                    settler.saw(path)
                for arrival in settler.ready():
                    emit(arrival)
                first = False
                self.watching.set()
            for change, raw in changes:
                path = Path(raw)
                if change == Change.deleted:
                    settler.forget(path)
                elif path.is_dir():
                    for inner in self.scan(path):
                        settler.saw(inner)
                elif is_candidate_name(path.name):
                    settler.saw(path)
            for arrival in settler.ready():
                emit(arrival)
            if stop.is_set():
                break

    def catch_up(self, emit: Emit, *, timeout: float | None = None) -> int:
        """Report every complete file now in the inbox, waiting for incomplete ones to settle."""
        settler = _Settler(self.inbox, self.settle_s, self.name)
        for path in self.scan():
            settler.saw(path)
        deadline = time.monotonic() + (timeout if timeout is not None else self.settle_s * 3 + 5)
        count = 0
        while True:
            for arrival in settler.ready():
                emit(arrival)
                count += 1
            if not settler.pending or time.monotonic() > deadline:
                break
            time.sleep(TICK_MS / 1000)
        for path in settler.pending:
            _log.warning("still being written, left for the next run: %s", path)
        return count
