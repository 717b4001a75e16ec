"""Event-driven processing: arrivals from any source -> batches -> one in-process flow run.

::

    sources (threads)            Watcher.submit()                 one worker thread
    FolderSource  ──┐   de-duplicate by (path, size, mtime)    ┌─ take the first arrival,
    HttpUpload    ──┼─> emit fit.file.received             ──> │  collect more for batch_window_s,
    (bucket, ...) ──┘   put on the queue                       └─ process_batch() per athlete group,
                                                                   emit athlete.data.changed / alert.raised

Single writer: only the worker thread runs flows, so one process never has two
writers on the DuckDB file, and the warehouse is opened per batch only (inside the
flow's tasks) so other processes (``tendon summary``, a notebook) can read between
batches. Between processes, DuckDB's file lock refuses a second writer
(``WarehouseLockedError``, transient): the flow's tasks retry it, and a batch that
still fails on it is re-queued with back-off; nothing is corrupted, nothing lost.
Idempotence comes from ingest itself (content hash and activity key), so the same
file delivered twice, or by two sources, ends in one stored activity.

Latency on the embedded default: no per-file subprocess, the flow heartbeat off,
files proven complete by their FIT header are taken at the rename (no settle wait),
and one flow run covers every file that arrived within the batch window.
"""

from __future__ import annotations

import logging
import os
import queue
import signal
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tendon_pipeline.app.batch import BatchResult
from tendon_pipeline.config.settings import Settings
from tendon_pipeline.connectors.sources.base import Arrival, Source
from tendon_pipeline.connectors.sources.folder import FolderSource
from tendon_pipeline.connectors.sources.upload_files import release_uploads
from tendon_pipeline.orchestration import events
from tendon_pipeline.orchestration.embedded import quiet_prefect_env
from tendon_pipeline.orchestration.reaper import reap_children_on_exit
from tendon_pipeline.runtime.batch import catch_up_pending, run_batch

_log = logging.getLogger(__name__)
_MAX_RETRY_DELAY_S = 30  # back-off cap between retries of a batch that failed with a transient error


# -- the one seam to the pipeline ------------------------------------------------------
def process_batch(paths: list[str], settings: Settings, *, athlete: str | None = None,
                  config: str | None = None) -> BatchResult:
    """Run one batch (one athlete or none) through the pipeline (ingest + rules + notifications,
    one flow run), in this process: a long-running watcher has started Prefect's API once. The
    flow run emits ``athlete.data.changed`` and ``alert.raised`` as soon as each step has committed,
    so an alert is announced before its deliveries are sent (issue 17: file -> alert)."""
    return run_batch(paths, settings, athlete=athlete, config=config, flow_run=True, emit_events=True)


def _ingest_report(result: Any) -> Any:
    """The IngestReport inside whatever process_batch returned (BatchResult or IngestReport)."""
    return getattr(result, "ingest", result)


def _new_alerts(result: Any) -> list:
    method = getattr(result, "new_alerts", None)
    return list(method()) if callable(method) else []


def warm_up_prefect() -> float:
    """Start Prefect's local API and events worker now, not on the first file (seconds taken).

    Without ``PREFECT_API_URL`` Prefect starts its ephemeral API as a subprocess on first
    use (several seconds); the watcher pays that once at start so the first arrival is
    processed as fast as the rest.
    """
    started = time.monotonic()
    quiet_prefect_env()
    reap_children_on_exit()  # the API process must not outlive the watcher, even after a SIGKILL
    # a long-running service can wait for it: Prefect's 20 s default fails on a loaded machine
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    from prefect.client.orchestration import get_client

    get_client(sync_client=True)
    if events.prefect_enabled():
        from prefect.events.worker import EventsWorker

        EventsWorker.instance()
    return time.monotonic() - started


# -- records of what happened ------------------------------------------------------------
@dataclass
class BatchRecord:
    """One processed batch: for logs, tests and latency figures."""

    number: int
    arrivals: list[Arrival]
    started: float  # time.time()
    finished: float = 0.0
    results: list[Any] = field(default_factory=list)
    error: str | None = None

    @property
    def outcomes(self) -> list[Any]:
        return [o for r in self.results for o in getattr(_ingest_report(r), "outcomes", [])]

    def counts(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for result in self.results:
            for status, n in _ingest_report(result).counts().items():
                totals[status] = totals.get(status, 0) + n
        return totals

    @property
    def new_alerts(self) -> list:
        return [a for r in self.results for a in _new_alerts(r)]


@dataclass
class _Item:
    arrival: Arrival
    attempt: int = 0


class Watcher:
    """Receives arrivals from sources, batches them and processes them on one thread."""

    def __init__(self, settings: Settings, *, config: str | None = None, sources: Iterable[Source] = (),
                 batch_window_s: float | None = None, max_batch: int | None = None,
                 batch_quiet_s: float | None = None, on_batch: Callable[[BatchRecord], None] | None = None,
                 processor: Callable[..., Any] = process_batch, warm_up: bool = True,
                 process: bool = True, recover: Callable[..., Any] | None | bool = True,
                 announce: bool = True) -> None:
        self.settings = settings
        self.config = config
        self.sources = list(sources)
        self.batch_window_s = settings.watch.batch_window_s if batch_window_s is None else batch_window_s
        self.batch_quiet_s = settings.watch.batch_quiet_s if batch_quiet_s is None else batch_quiet_s
        self.max_batch = max_batch or settings.watch.max_batch
        self.on_batch = on_batch
        self.processor = processor
        self.warm_up = warm_up
        self.process = process  # False: server mode, emit fit.file.received only (triggers do the rest)
        self.announce = announce  # False: the arrivals come from fit.file.received events already (warm worker)
        # at start, evaluate what an earlier run stored but did not evaluate (and send what is due);
        # True: the pipeline's own catch-up when batches go through the pipeline (process_batch)
        if recover is True:
            recover = catch_up_pending if processor is process_batch else None
        self.recover = recover if process and callable(recover) else None
        self.stop_event = threading.Event()
        self.batches: list[BatchRecord] = []
        self._queue: queue.Queue[_Item] = queue.Queue()
        self._alone: queue.Queue[_Item] = queue.Queue()  # files retried in a batch of their own
        self._seen: OrderedDict[tuple[str, int, int], None] = OrderedDict()
        self._seen_lock = threading.Lock()
        self._busy = threading.Event()
        self._pending = 0
        self._pending_lock = threading.Lock()
        self._idle = threading.Condition(self._pending_lock)
        self._worker: threading.Thread | None = None
        self._source_threads: list[threading.Thread] = []
        self._worker_stop = threading.Event()

    # -- input -------------------------------------------------------------------------
    def submit(self, arrival: Arrival) -> bool:
        """Accept an arrival (thread-safe). False when the same landing was already taken."""
        with self._seen_lock:
            if arrival.fingerprint in self._seen:
                return False
            self._seen[arrival.fingerprint] = None
            while len(self._seen) > 100_000:
                self._seen.popitem(last=False)
        if self.announce:
            events.emit_file_received(arrival)
        if self.process:
            self._enqueue(_Item(arrival))
        return True

    def _enqueue(self, item: _Item) -> None:
        with self._pending_lock:
            self._pending += 1
        self._queue.put(item)

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> Watcher:
        if self.warm_up:
            warm_up_prefect()
        if self.recover is not None:
            with self._pending_lock:  # wait_idle() and stop() wait for the catch-up as for a batch
                self._pending += 1
        self._worker = threading.Thread(target=self._work, name="tendon-batch-writer", daemon=True)
        self._worker.start()
        for source in self.sources:
            thread = threading.Thread(target=self._run_source, args=(source,), name=f"tendon-source-{source.name}",
                                      daemon=True)
            thread.start()
            self._source_threads.append(thread)
        return self

    def _run_source(self, source: Source) -> None:
        try:
            source.run(self.submit, self.stop_event)
        except Exception:  # noqa: BLE001
            _log.exception("source %s stopped with an error", source.name)
            self.stop_event.set()

    def wait_ready(self, timeout: float = 30.0) -> bool:
        """Until every source that says so (``watching``) is active and has caught up."""
        deadline = time.monotonic() + timeout
        for source in self.sources:
            flag = getattr(source, "watching", None) or getattr(source, "started", None)
            if flag is not None and not flag.wait(max(0.0, deadline - time.monotonic())):
                return False
        return True

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Until every accepted arrival is processed (or the timeout passes)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._idle:
            while self._pending:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._idle.wait(remaining if remaining is not None else 1.0)
        return True

    def stop(self, *, drain_timeout: float = 60.0) -> None:
        """Stop the sources, finish what was accepted (bounded), stop the worker, flush events."""
        self.stop_event.set()
        for thread in self._source_threads:
            thread.join(timeout=10)
        if not self.wait_idle(drain_timeout):
            _log.warning("stopping with %d arrivals not processed; they are caught up on the next start",
                         self._pending)
        self._worker_stop.set()
        if self._worker is not None:
            self._worker.join(timeout=30)
        events.flush()

    def __enter__(self) -> Watcher:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def run_forever(self) -> None:
        """Start, process until SIGINT/SIGTERM (or a source fails), then stop gracefully."""
        previous = {}
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                previous[sig] = signal.signal(sig, lambda *_: self.stop_event.set())
        try:
            self.start()
            while not self.stop_event.wait(0.5):
                pass
        finally:
            self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    # -- the single writer -----------------------------------------------------------------
    def _catch_up(self) -> None:
        """The first job of the writer thread: what an earlier run left pending (retried like a
        batch while the warehouse is held by another process)."""
        delay = 1.0
        while not self._worker_stop.is_set():
            try:
                result = self.recover(self.settings, config=self.config)
                if not getattr(result, "events_emitted", False):  # announced like a batch's alerts
                    events.emit_alerts_raised(_new_alerts(result))
                return
            except Exception as exc:  # noqa: BLE001 - the watcher keeps running; a batch retries it too
                if not getattr(exc, "transient", False):
                    _log.error("catching up pending evaluations failed (%s); the next batch tries again", exc)
                    return
                _log.warning("catching up pending evaluations: %s; retrying in %.0f s", exc, delay)
                self._worker_stop.wait(delay)
                delay = min(delay * 2, 30.0)

    def _work(self) -> None:
        if self.recover is not None:
            try:
                self._catch_up()
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()
        while not self._worker_stop.is_set():
            items = self._next_batch()
            if not items:
                continue
            try:
                self._process(items)
            finally:
                with self._idle:
                    self._pending -= len(items)
                    self._idle.notify_all()

    def _next_batch(self) -> list[_Item]:
        """A file to retry alone, else what arrives within the batch window (up to max_batch),
        closed early once nothing arrived for ``batch_quiet_s``."""
        try:
            return [self._alone.get_nowait()]
        except queue.Empty:
            pass
        try:
            items = [self._queue.get(timeout=0.2)]
        except queue.Empty:
            return []
        deadline = time.monotonic() + self.batch_window_s
        while len(items) < self.max_batch:
            remaining = deadline - time.monotonic()
            if remaining > 0 and self.batch_quiet_s > 0:
                remaining = min(remaining, self.batch_quiet_s)
            try:
                items.append(self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait())
            except queue.Empty:
                break
        return items

    def _process(self, items: list[_Item]) -> None:
        record = BatchRecord(len(self.batches) + 1, [i.arrival for i in items], time.time())
        groups: dict[str | None, list[_Item]] = {}
        for item in items:
            groups.setdefault(item.arrival.athlete_id, []).append(item)
        errors = []
        for athlete, group in groups.items():
            paths = [str(i.arrival.path) for i in group]
            try:
                result = self.processor(paths, self.settings, athlete=athlete, config=self.config)
            except Exception as exc:  # noqa: BLE001 - one failing batch must not stop the watcher
                errors.append(f"{athlete or '-'}: {exc}")
                self._retry_later(group, exc)
                continue
            record.results.append(result)
            report = _ingest_report(result)
            release_uploads(getattr(report, "outcomes", []), self.settings.upload, self.settings.inbox)
            if not getattr(result, "events_emitted", False):  # a processor that does not emit them itself
                events.emit_data_changed(report)
                events.emit_alerts_raised(_new_alerts(result))
        record.finished = time.time()
        record.error = "; ".join(errors) or None
        self.batches.append(record)
        _log.info("batch %d: %d files in %.2f s %s%s", record.number, len(items), record.finished - record.started,
                  record.counts(), f" errors: {record.error}" if record.error else "")
        if self.on_batch is not None:
            try:
                self.on_batch(record)
            except Exception:  # noqa: BLE001
                _log.exception("on_batch callback failed")

    def _retry_later(self, group: list[_Item], exc: Exception) -> None:
        """A transient failure (the warehouse held by a reader or another writer, the catalog
        down) is retried with back-off for as long as the watcher runs: nothing is given up.
        Any other failure of several files is retried file by file once, so that one file that
        breaks its batch does not hold back the others; a single file that still fails stays in
        the inbox (logged) for the next start."""
        if self.stop_event.is_set():
            _log.error("batch of %d files failed (%s) while stopping; they are caught up on the next start",
                       len(group), exc)
            return
        if getattr(exc, "transient", False):
            attempt = group[0].attempt + 1
            delay = min(2 ** attempt, _MAX_RETRY_DELAY_S)
            _log.warning("batch of %d files failed with a transient error (%s); retry %d in %d s",
                         len(group), exc, attempt, delay)
            self._later(delay, [_Item(item.arrival, attempt) for item in group])
        elif len(group) > 1:
            _log.warning("batch of %d files failed (%s); retrying them one by one", len(group), exc)
            for item in group:
                self._enqueue_alone(_Item(item.arrival, item.attempt))
        else:
            _log.error("%s failed (%s); it stays in the inbox for the next start", group[0].arrival.path, exc)

    def _later(self, delay: float, items: list[_Item]) -> None:
        def again() -> None:
            for item in items:
                self._enqueue(item)

        timer = threading.Timer(delay, again)
        timer.daemon = True
        timer.start()

    def _enqueue_alone(self, item: _Item) -> None:
        """Queue a file to be processed in a batch of its own."""
        with self._pending_lock:
            self._pending += 1
        self._alone.put(item)


def catch_up_once(settings: Settings, inbox: Path | None = None, *, config: str | None = None,
                  batch_window_s: float | None = None, on_batch: Callable[[BatchRecord], None] | None = None,
                  timeout: float | None = None) -> list[BatchRecord]:
    """``tendon watch --once``: process every complete file now in the inbox, then return."""
    source = FolderSource(inbox or settings.inbox, settle_s=settings.watch.settle_s)
    watcher = Watcher(settings, config=config, batch_window_s=batch_window_s, on_batch=on_batch)
    with watcher:
        source.catch_up(watcher.submit, timeout=timeout)
        watcher.wait_idle()
    return watcher.batches


def folder_watcher(settings: Settings, inbox: Path | None = None, *, config: str | None = None,
                   batch_window_s: float | None = None, poll: bool | None = None,
                   on_batch: Callable[[BatchRecord], None] | None = None, process: bool = True) -> Watcher:
    """A Watcher over the folder inbox (not started)."""
    source = FolderSource(inbox or settings.inbox, settle_s=settings.watch.settle_s,
                          poll=settings.watch.poll if poll is None else poll,
                          poll_interval_ms=settings.watch.poll_interval_ms)
    return Watcher(settings, config=config, sources=[source], batch_window_s=batch_window_s, on_batch=on_batch,
                   process=process)
