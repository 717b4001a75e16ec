"""The bulk path of ingest: many files, decoded in worker processes, written in batches.

Large inputs (``BULK_MIN_FILES`` files or more) take this path: the files are hashed
first so already-seen ones are never decoded, new ones are decoded in worker processes
(``ingest_workers``; spawned, unless the caller forked them before it opened the
warehouse: :func:`forked_decode_pool`), which send each activity back as plain columns (lists
and NumPy arrays; no pandas frame is built on this path), and this process, the only writer,
stores them in batches of up to ``BATCH_FILES`` files / ``BATCH_RECORDS`` records, one
transaction per batch with one INSERT per table from the batch's concatenated columns
(:meth:`Warehouse.store_batch`). Each file gets the same decision as file by file
(:func:`decision.decide`); a batch is all or nothing, so a killed run redoes at most one
batch when restarted.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tendon_pipeline.app.ingest import decision as decision_module
from tendon_pipeline.app.ingest.decision import (
    AlreadySeen,
    DecodeResult,
    OfferedForAnother,
    Refused,
    Seen,
    Unattributed,
    decide,
)
from tendon_pipeline.app.ingest.discover import SourceFile, read_source
from tendon_pipeline.app.ingest.ingestor import Ingestor, file_identity, stored_outcome
from tendon_pipeline.app.ingest.report import FileOutcome, ProgressCallback
from tendon_pipeline.config.settings import Settings
from tendon_pipeline.domain.models import FileStatus
from tendon_pipeline.errors import WarehouseError
from tendon_pipeline.warehouse.store import FileRow, PendingActivity, StoredActivity

BULK_MIN_FILES = 16  # from this many files: batched writes; from this many new files: decode processes
# One write transaction per batch: up to BATCH_FILES files, fewer when their records reach
# BATCH_RECORDS. About two of DuckDB's row groups (122,880 rows) of records per commit: a commit
# that large writes its rows straight into the database file, compressed, where smaller ones go
# through the write-ahead log first (a decade of files stored 2.5x faster than in batches of 64).
# A killed run redoes at most one batch; the batch (~30 MB of columns) bounds memory.
BATCH_FILES = 512
BATCH_RECORDS = 250_000
# Files read and decoding (or decoded, waiting) ahead of the writer: enough for the workers to go on
# decoding while a batch is written; these two bound the memory they take.
IN_FLIGHT_PER_WORKER = 32
IN_FLIGHT_BYTES = 32 * 1024 * 1024  # file bytes ahead (a decoded activity takes a few times its file)
EARLY_FILES_PER_WORKER = 256  # files decoded before the warehouse is open (DecodeWorkers.decode_early)
WRITER_THREADS = 1  # DuckDB threads of the writer while decode processes run (they have the cores)


def _worker_init() -> None:
    # Ctrl-C goes to the whole process group: the parent alone handles it (and stops the pool).
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextmanager
def _main_module_hidden() -> Iterator[None]:
    """While workers start: a spawned worker re-runs the parent's ``__main__`` script unless it
    cannot find it, so a caller's script without an ``if __name__ == "__main__"`` guard would
    run again in every worker. The workers need only this module."""
    main = sys.modules.get("__main__")
    if main is None:
        yield
        return
    saved = {k: main.__dict__[k] for k in ("__file__", "__spec__") if k in main.__dict__}
    main.__dict__.pop("__file__", None)
    main.__dict__["__spec__"] = None
    try:
        yield
    finally:
        main.__dict__.pop("__spec__", None)
        main.__dict__.update(saved)


def decode_workers(settings: Settings, files: int) -> int:
    """Decode processes worth starting for ``files`` new files (1: decode in this process)."""
    wanted = settings.ingest_workers or os.cpu_count() or 1
    return min(wanted, files) if files >= BULK_MIN_FILES else 1


@dataclass
class DecodeWorkers:
    """Decode processes a caller forked (and stops), and the jobs given to them before the
    warehouse was open, by the file's content hash (:meth:`decode_early`)."""

    pool: ProcessPoolExecutor
    workers: int
    early: dict[str, Future] = field(default_factory=dict)
    reads: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # path -> what was read early, its hash

    def decode_early(self, sources: list[SourceFile], max_file_mb: float) -> None:
        """Start decoding the first files now, before anyone knows whether the warehouse has
        seen them: the workers decode while this process opens the warehouse (its first query
        imports pandas) and imports the rest, half a second on a fresh start. Up to
        ``EARLY_FILES_PER_WORKER`` files a worker and ``IN_FLIGHT_BYTES``; a job for a file the
        warehouse turns out to know is cancelled or its result dropped (:meth:`forget`), so a
        rerun over seen files wastes at most that much decoding, on the workers' cores."""
        budget = IN_FLIGHT_BYTES
        for source in sources[:EARLY_FILES_PER_WORKER * self.workers]:
            data = read_source(source, max_file_mb)
            if isinstance(data, FileOutcome):  # too large or unreadable: the ingest says so in its turn
                continue
            if len(data) > budget:
                break
            budget -= len(data)
            file_hash = file_identity(source, data)
            self.reads[source.text] = data, file_hash
            self.early.setdefault(file_hash, self.pool.submit(decision_module.decode_job, data))

    def read(self, source: SourceFile, *, keep: bool = False) -> tuple[bytes, str] | None:
        """The file's bytes and hash as read early, if it was (let go unless ``keep``)."""
        return self.reads.get(source.text) if keep else self.reads.pop(source.text, None)

    def take(self, file_hash: str) -> Future | None:
        """The early job decoding this content, if any (once)."""
        return self.early.pop(file_hash, None)

    def forget(self, hashes: Iterable[str] | None = None) -> None:
        """Drop early jobs (all of them, and the bytes read early, by default): cancelled if not started."""
        if hashes is None:
            self.reads.clear()
        for file_hash in list(self.early) if hashes is None else hashes:
            job = self.early.pop(file_hash, None)
            if job is not None:
                job.cancel()


@contextmanager
def forked_decode_pool(settings: Settings, sources: list[SourceFile]) -> Iterator[DecodeWorkers | None]:
    """Decode workers forked now, already decoding the first of ``sources`` (None: not worth
    it, or not safe here).

    Forking costs milliseconds where spawning costs a fresh interpreter importing pandas per
    worker (about a second, more than decoding a year of files takes). It is safe only while
    this process holds no warehouse and runs no other thread, so a one-shot ingest forks the
    pool first and opens the warehouse after (``app.batch.process_files``); a flow or the
    watcher, where other threads run, gets None and :class:`BulkRun` spawns its workers.
    """
    workers = decode_workers(settings, len(sources))
    if workers <= 1 or threading.active_count() > 1 or "fork" not in multiprocessing.get_all_start_methods():
        yield None
        return
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"), initializer=_worker_init)
    try:
        pool.submit(os.getpid).result()  # a fork pool starts every worker at the first submit
        forked = DecodeWorkers(pool, workers)
        forked.decode_early(sources, settings.max_file_mb)
        yield forked
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _start_pool(workers: int) -> ProcessPoolExecutor:
    """A spawned (never forked) pool with every worker started now, the main script hidden."""
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=_worker_init)
    with _main_module_hidden():
        for _ in range(workers):  # each submit starts a worker while none is idle yet
            pool.submit(os.getpid)
    return pool


@dataclass
class _Item:
    """One file on the bulk path, from reading to its outcome."""

    source: SourceFile
    read: bytes | FileOutcome
    file_hash: str | None = None
    job: Future | None = None


def _size(item: _Item) -> int:
    return len(item.read) if isinstance(item.read, bytes) else 0


_NO_ROW = object()  # run_seen value: the file's source_files row was removed (forget_file)


@dataclass
class _Batch:
    outcomes: list[FileOutcome | None] = field(default_factory=list)  # in source order; None: an activity
    activities: list[PendingActivity] = field(default_factory=list)
    files: list[FileRow] = field(default_factory=list)
    forget: list[str] = field(default_factory=list)
    seen_later: list[tuple[FileOutcome, str]] = field(default_factory=list)  # reason filled after the write
    records: int = 0

    def full(self) -> bool:
        return len(self.outcomes) >= BATCH_FILES or self.records >= BATCH_RECORDS


class BulkRun:
    """The bulk path: the same decision and outcomes as ``Ingestor.ingest_one`` file by file."""

    def __init__(self, ingestor: Ingestor, sources: list[SourceFile], on_file: ProgressCallback | None,
                 forked: DecodeWorkers | None = None, while_decoding: Callable[[], object] | None = None) -> None:
        self.ing = ingestor
        self.forked = forked  # decode workers the caller started (and stops); else spawned here
        self.given_pool = forked.pool if forked else None
        self.while_decoding = while_decoding  # the caller's work done once the first files are decoding
        self.wh = ingestor.warehouse
        self.sources = sources
        self.on_file = on_file
        self.number = 0
        # source_files rows decided in this run (committed or in the open batch); ("pending", None)
        # for an activity not written yet, _NO_ROW for a forgotten quarantined row.
        self.run_seen: dict[str, Any] = {}
        self.db_seen: dict[str, tuple[str, str | None]] = {}
        self.hashed: set[str] = set()
        self.pool: ProcessPoolExecutor | None = None

    # -- driving ---------------------------------------------------------------
    def run(self) -> None:
        to_decode = self._prescan()
        workers = self._workers(to_decode)
        if workers > 1:
            self.pool = self.given_pool or _start_pool(workers)
        window = IN_FLIGHT_PER_WORKER * max(workers, 1) if self.pool else 1
        try:
            with self.wh.threads(WRITER_THREADS) if self.pool else contextlib.nullcontext():
                last = self._drive(window)
            self._flush(last)  # every file decoded: the writer no longer leaves the cores to the workers
        finally:
            if self.forked is not None:
                self.forked.forget()  # early jobs no file asked for (a file changed since it was read)
            if self.pool is not None and self.pool is not self.given_pool:
                # Ctrl-C or an error: drop what is queued, keep what was committed
                self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    def _drive(self, window: int) -> _Batch:
        """Read and submit up to ``window`` files ahead; decide each in source order; write in
        batches but the last (returned: written once every file is decoded)."""
        queue: deque[_Item] = deque()
        upcoming = iter(self.sources)
        batch = _Batch()
        ahead = 0  # bytes of the files in the queue
        while True:
            while len(queue) < window and (ahead < IN_FLIGHT_BYTES or not queue):
                source = next(upcoming, None)
                if source is None:
                    break
                queue.append(self._prepare(source))
                ahead += _size(queue[-1])
            if self.while_decoding is not None:
                self.while_decoding()  # once, while the first files decode
                self.while_decoding = None
            if not queue:
                break
            item = queue.popleft()
            ahead -= _size(item)
            self._resolve(item, batch)
            if batch.full():
                self._flush(batch)
                batch = _Batch()
        return batch

    def _workers(self, to_decode: int) -> int:
        return decode_workers(self.ing.settings, to_decode)

    def _prescan(self) -> int:
        """Hash every file (one status query for all) so seen files are never decoded; the files to decode."""
        hashes = [file_hash for _, file_hash in map(self._read, self.sources) if file_hash is not None]
        self.hashed = set(hashes)
        self.db_seen = self.wh.file_statuses(hashes)
        if self.forked is not None:  # decoding them was started early: not needed after all
            self.forked.forget(h for h, seen in self.db_seen.items() if seen[0] != FileStatus.QUARANTINED)
        return sum(1 for h in set(hashes)
                   if self.db_seen.get(h, (FileStatus.QUARANTINED,))[0] == FileStatus.QUARANTINED)

    def _seen(self, file_hash: str) -> tuple[str, str | None] | None:
        if file_hash in self.run_seen:
            value = self.run_seen[file_hash]
            return None if value is _NO_ROW else value
        if file_hash in self.hashed:
            return self.db_seen.get(file_hash)
        return self.wh.file_status(file_hash)  # the file changed since the prescan

    def _read(self, source: SourceFile, *, last: bool = False) -> tuple[bytes | FileOutcome, str | None]:
        """The file's bytes (or why not) and content hash: as read early for the decode workers if
        it was (``last``: the run's last read of it, the early copy is let go), else read now."""
        early = self.forked.read(source, keep=not last) if self.forked is not None else None
        if early is not None:
            return early
        data = self.ing.read(source)
        return data, None if isinstance(data, FileOutcome) else file_identity(source, data)

    def _prepare(self, source: SourceFile) -> _Item:
        data, file_hash = self._read(source, last=True)
        item = _Item(source, data, file_hash)
        if file_hash is None:
            return item
        seen = self._seen(file_hash)
        if seen is not None and seen[0] != FileStatus.QUARANTINED:
            if self.forked is not None:
                self.forked.forget([file_hash])  # not to be decoded: an early job for it is cancelled
            return item
        item.job = self.forked.take(file_hash) if self.forked is not None else None
        if item.job is None and self.pool is not None:
            try:
                item.job = self.pool.submit(decision_module.decode_job, item.read)
            except RuntimeError:  # a broken pool (a worker died): decode here from now on
                self.pool.shutdown(wait=False, cancel_futures=True)
                self.pool = None
        return item

    def _result(self, item: _Item) -> DecodeResult:
        assert isinstance(item.read, bytes)
        if isinstance(item.job, Future):
            try:
                return item.job.result()
            except Exception:  # noqa: BLE001 - a worker died or the result did not pickle: decode here
                return decision_module.decode_job(item.read)
        return decision_module.decode_job(item.read)

    # -- one file, in source order: the same decision as Ingestor.ingest_one ------------------
    def _resolve(self, item: _Item, batch: _Batch) -> None:
        if isinstance(item.read, FileOutcome):
            batch.outcomes.append(item.read)
            return
        path, data, file_hash = item.source.text, item.read, item.file_hash
        assert file_hash is not None  # set by _prepare for every file read
        seen = self._seen(file_hash)
        decision = decide(seen, lambda: self._result(item), self.ing.named_athlete(item.source),
                          self.ing.settings.athlete_for_serial, self.ing.implausible)
        if isinstance(decision, AlreadySeen):
            outcome = decision.outcome(path, file_hash)
            if seen is not None and seen[0] == "pending":
                batch.seen_later.append((outcome, file_hash))
            batch.outcomes.append(outcome)
            return
        if isinstance(decision, OfferedForAnother):  # a committed row of another athlete: noted at once
            self.wh.note_offered_for(file_hash, decision.athlete, path, self.ing.report.ingest_id)
            batch.outcomes.append(decision.outcome(path, file_hash))
            return
        if isinstance(decision, Refused):
            batch.outcomes.append(self._remember(batch, path, data, file_hash, seen, decision))
            return
        if decision.forget_quarantined:
            batch.forget.append(file_hash)
            self.run_seen[file_hash] = _NO_ROW
        if isinstance(decision, Unattributed):
            batch.outcomes.append(decision.outcome(path, file_hash))
            return
        self.ing.prepare(decision.decoded, decision.athlete)
        batch.activities.append(PendingActivity(decision.decoded, decision.athlete, path))
        batch.records += len(decision.decoded.record_table)
        batch.outcomes.append(None)
        self.run_seen[file_hash] = ("pending", None)

    def _remember(self, batch: _Batch, path: str, data: bytes, file_hash: str, seen: Seen | None,
                  decision: Refused) -> FileOutcome:
        if seen is None:  # first sighting wins, as record_file
            batch.files.append(FileRow(file_hash, path, len(data), decision.status, decision.athlete,
                                       decision.code, decision.reason))
            self.run_seen[file_hash] = (decision.status, decision.reason)
        return decision.outcome(path, file_hash)

    # -- writing -------------------------------------------------------------------
    def _flush(self, batch: _Batch) -> None:
        stored: list[StoredActivity | Exception] = []
        if batch.activities or batch.files or batch.forget:
            try:
                stored = list(self.wh.store_batch(batch.activities, files=batch.files, forget=batch.forget,
                                                  ingest_id=self.ing.report.ingest_id))
            except WarehouseError:
                raise  # disk full, read-only file: stop; what was committed stays, a rerun resumes
            except Exception:  # noqa: BLE001 - one odd file must not block the batch: file by file
                stored = self._one_by_one(batch)
        results = iter(zip(batch.activities, stored))
        for outcome in batch.outcomes:
            if outcome is None:
                pending, result = next(results)
                outcome = self._activity_outcome(pending, result)
            self.ing.report.outcomes.append(outcome)
            self.number += 1
            if self.on_file:
                self.on_file(outcome, self.number, len(self.sources))
        for outcome, file_hash in batch.seen_later:
            status = self.run_seen.get(file_hash, ("pending", None))
            outcome.reason = f"file already seen ({status[0] if status is not _NO_ROW else 'pending'})"

    def _activity_outcome(self, pending: PendingActivity, result: StoredActivity | Exception) -> FileOutcome:
        d = pending.decoded
        if isinstance(result, Exception):  # not stored; not recorded either, so a rerun tries again
            self.run_seen.pop(d.content_hash, None)
            return FileOutcome(pending.path, FileStatus.SKIPPED, pending.athlete_id, "store_failed",
                               f"cannot store the activity: {type(result).__name__}: {result}",
                               file_hash=d.content_hash)
        outcome = stored_outcome(pending.path, d, pending.athlete_id, result)
        self.run_seen[d.content_hash] = (result.status, outcome.reason)
        return outcome

    def _one_by_one(self, batch: _Batch) -> list[StoredActivity | Exception]:
        for file_hash in batch.forget:
            self.wh.forget_file(file_hash)
        for row in batch.files:
            self.wh.record_file(file_hash=row.file_hash, path=row.path, size_bytes=row.size_bytes,
                                status=row.status, athlete_id=row.athlete_id, reason_code=row.reason_code,
                                reason=row.reason, ingest_id=self.ing.report.ingest_id)
        stored: list[StoredActivity | Exception] = []
        for pending in batch.activities:
            try:
                stored.append(self.wh.store_activity(pending.decoded, athlete_id=pending.athlete_id,
                                                     path=pending.path, ingest_id=self.ing.report.ingest_id))
            except WarehouseError:
                raise
            except Exception as exc:  # noqa: BLE001 - reported as skipped (store_failed), retried next run
                stored.append(exc)
        return stored
