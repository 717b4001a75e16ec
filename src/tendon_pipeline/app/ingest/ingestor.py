"""Ingest: find FIT files, decide whose they are, decode, store. Library code, no Prefect.

Every file offered ends in exactly one outcome: ingested, salvaged, duplicate,
skipped (with a reason) or quarantined (with a reason). One bad file never stops
the others, and each stored file lands in one transaction.

Large inputs (``BULK_MIN_FILES`` files or more) take the bulk path: the files are hashed
first so already-seen ones are never decoded, new ones are decoded in worker processes
(``ingest_workers``; spawned, never forked: this process holds DuckDB and Prefect
threads) and this process, the only writer, stores them in batches of up to
``BATCH_FILES`` files / ``BATCH_RECORDS`` records, one transaction per batch
(:meth:`Warehouse.store_batch`). Outcomes are the same as file by file; a batch is all
or nothing, so a killed run redoes at most one batch when restarted.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import re
import signal
import sys
import uuid
from collections import Counter, deque
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from tendon_pipeline.errors import FitFileRejected, NotAnActivity, WarehouseError
from tendon_pipeline.fit.decode import DecodedActivity, decode_bytes
from tendon_pipeline.domain.privacy import apply_privacy
from tendon_pipeline.config.settings import Settings
from tendon_pipeline.warehouse.store import FileRow, PendingActivity, StoredActivity, Warehouse

ProgressCallback = Callable[["FileOutcome", int, int], None]
# Set by a front end (the CLI) to follow an ingest that runs inside a flow/task.
progress_callback: ContextVar[ProgressCallback | None] = ContextVar("tendon_ingest_progress", default=None)
ATHLETE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
STATUSES = ("ingested", "salvaged", "duplicate", "skipped", "quarantined")
BULK_MIN_FILES = 16  # from this many files: batched writes; from this many new files: decode processes
BATCH_FILES = 64  # files per write transaction on the bulk path ...
BATCH_RECORDS = 500_000  # ... or fewer when their records reach this
IN_FLIGHT_PER_WORKER = 4  # files read and decoding (or decoded, waiting) per worker: bounds memory


@dataclass(frozen=True)
class SourceFile:
    """A file to ingest and the folder it was found under (for INBOX/<athlete>/ naming)."""

    path: Path
    root: Path | None = None


@dataclass
class FileOutcome:
    path: str
    status: str
    athlete_id: str | None = None
    reason_code: str | None = None
    reason: str | None = None
    activity_id: str | None = None
    file_hash: str | None = None


@dataclass
class IngestReport:
    ingest_id: str
    outcomes: list[FileOutcome] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counter = Counter(o.status for o in self.outcomes)
        return {status: counter.get(status, 0) for status in STATUSES}

    def athletes_changed(self) -> list[str]:
        """Athletes with newly stored activities (what the rules must re-evaluate)."""
        return sorted({o.athlete_id for o in self.outcomes
                       if o.status in ("ingested", "salvaged") and o.athlete_id})

    def problems(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status in ("skipped", "quarantined", "salvaged")]

    def to_dict(self) -> dict:
        return {"ingest_id": self.ingest_id, "counts": self.counts(),
                "athletes_changed": self.athletes_changed(),
                "files": [asdict(o) for o in self.outcomes]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), default=str)


def new_ingest_id() -> str:
    return uuid.uuid4().hex[:16]


def discover(paths: Iterable[str | Path]) -> list[SourceFile]:
    """Files named directly, and ``*.fit`` files under folders (recursive, hidden skipped)."""
    found: dict[Path, SourceFile] = {}
    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and child.suffix.lower() == ".fit" and not _hidden(child, path):
                    found.setdefault(child.resolve(), SourceFile(child, path))
        else:
            found.setdefault(path.resolve(), SourceFile(path, None))
    return list(found.values())


def _hidden(child: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in child.relative_to(root).parts)


def athlete_from_folder(source: SourceFile, settings: Settings) -> str | None:
    """Under the configured inbox, ``INBOX/<athlete>/.../file.fit`` whatever folder was named
    (``tendon ingest INBOX/ana`` keeps ``INBOX/ana/2024/x.fit`` ana's); elsewhere
    ``ROOT/<athlete>/.../file.fit`` for a folder ROOT that was named."""
    if source.root is None:
        return None
    inbox = settings.inbox.expanduser().resolve()
    path = source.path.resolve()
    if path.is_relative_to(inbox) and len(under_inbox := path.relative_to(inbox).parts) >= 2:
        return under_inbox[0]
    parts = source.path.relative_to(source.root).parts
    return parts[0] if len(parts) >= 2 else None


class Ingestor:
    """Runs files through decode and store against one open warehouse."""

    def __init__(self, warehouse: Warehouse, settings: Settings, *, athlete: str | None = None,
                 ingest_id: str | None = None) -> None:
        self.warehouse = warehouse
        self.settings = settings
        self.athlete = athlete
        self.report = IngestReport(ingest_id or new_ingest_id())
        self._configured: set[str] = set()

    def run(self, sources: list[SourceFile], on_file: ProgressCallback | None = None) -> IngestReport:
        on_file = on_file or progress_callback.get()
        self.warehouse.start_ingest_run(self.report.ingest_id, len(sources))
        if len(sources) >= BULK_MIN_FILES:
            _BulkRun(self, sources, on_file).run()
        else:
            for number, source in enumerate(sources, start=1):
                outcome = self.ingest_one(source)
                self.report.outcomes.append(outcome)
                if on_file:
                    on_file(outcome, number, len(sources))
        self.warehouse.finish_ingest_run(self.report.ingest_id, json.dumps(self.report.counts()))
        return self.report

    def ingest_one(self, source: SourceFile) -> FileOutcome:
        path = str(source.path)
        data_or_outcome = self._read(source)
        if isinstance(data_or_outcome, FileOutcome):
            return data_or_outcome
        data = data_or_outcome
        file_hash = hashlib.sha256(data).hexdigest()
        seen = self.warehouse.file_status(file_hash)
        if seen is not None and seen[0] != "quarantined":
            return FileOutcome(path, "duplicate", reason_code="already_seen",
                               reason=f"file already seen ({seen[0]})", file_hash=file_hash)
        athlete = self.athlete or athlete_from_folder(source, self.settings)
        try:
            decoded = decode_bytes(data)
        except NotAnActivity as exc:
            return self._remember(path, data, file_hash, athlete, "skipped", "not_activity", str(exc))
        except FitFileRejected as exc:
            if seen is not None:  # still damaged: nothing new to record
                return FileOutcome(path, "duplicate", reason_code="already_seen",
                                   reason=f"file already seen (quarantined: {seen[1]})", file_hash=file_hash)
            return self._remember(path, data, file_hash, athlete, "quarantined", exc.reason_code, exc.message)
        if seen is not None:  # a quarantined file that decodes now (a newer decoder): take it in
            self.warehouse.forget_file(file_hash)
        athlete = athlete or self.settings.athlete_for_serial(decoded.serial_number)
        problem = _athlete_problem(athlete, decoded)
        if problem:
            return FileOutcome(path, "skipped", athlete, "no_athlete", problem, file_hash=file_hash)
        return self._store(path, decoded, athlete)

    def _read(self, source: SourceFile) -> bytes | FileOutcome:
        path = str(source.path)
        limit = int(self.settings.max_file_mb * 1024 * 1024)
        try:
            size = source.path.stat().st_size
            if size > limit:
                return FileOutcome(path, "quarantined", reason_code="too_large",
                                   reason=f"file is {size / 1e6:.1f} MB, over the {self.settings.max_file_mb:g} MB limit (max_file_mb)")
            return source.path.read_bytes()
        except OSError as exc:
            return FileOutcome(path, "skipped", reason_code="unreadable",
                               reason=f"cannot read the file: {exc.strerror or exc}")

    def _remember(self, path: str, data: bytes, file_hash: str, athlete: str | None,
                  status: str, code: str, reason: str) -> FileOutcome:
        self.warehouse.record_file(file_hash=file_hash, path=path, size_bytes=len(data), status=status,
                                   athlete_id=athlete, reason_code=code, reason=reason,
                                   ingest_id=self.report.ingest_id)
        return FileOutcome(path, status, athlete, code, reason, file_hash=file_hash)

    def _store(self, path: str, decoded: DecodedActivity, athlete: str) -> FileOutcome:
        self._apply_athlete_config(athlete)
        decoded.records = apply_privacy(decoded.records, self.settings.privacy)
        stored = self.warehouse.store_activity(decoded, athlete_id=athlete, path=path,
                                               ingest_id=self.report.ingest_id)
        return _stored_outcome(path, decoded, athlete, stored)

    def _apply_athlete_config(self, athlete: str) -> None:
        if athlete in self._configured:
            return
        config = self.settings.athlete(athlete)
        self.warehouse.ensure_athlete(
            athlete, body_mass_kg=config.body_mass_kg if config else None,
            height_m=config.height_m if config else None, display_name=config.name if config else None,
        )
        self._configured.add(athlete)


def _stored_outcome(path: str, decoded: DecodedActivity, athlete: str, stored: StoredActivity) -> FileOutcome:
    reason = decoded.salvage_reason if stored.status == "salvaged" else None
    code = "truncated" if stored.status == "salvaged" else None
    if stored.status == "duplicate":
        code, reason = "duplicate_activity", f"same activity as {stored.activity_id} already stored"
    return FileOutcome(path, stored.status, athlete, code, reason, stored.activity_id, decoded.content_hash)


# --------------------------------------------------------------------------- bulk path

DecodeResult = tuple  # ("ok", DecodedActivity) | ("not_activity", message) | ("rejected", code, message)


def _decode_job(data: bytes) -> DecodeResult:
    """decode_bytes as a picklable result (worker side; also run in process)."""
    try:
        return ("ok", decode_bytes(data))
    except NotAnActivity as exc:
        return ("not_activity", str(exc))
    except FitFileRejected as exc:
        return ("rejected", exc.reason_code, exc.message)


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


def _start_pool(workers: int) -> ProcessPoolExecutor:
    """A spawned (never forked) pool with every worker started now, the main script hidden."""
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=_worker_init)
    with _main_module_hidden():
        for _ in range(workers):  # each submit starts a worker while none is idle yet
            pool.submit(os.getpid)
    return pool


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class _Item:
    """One file on the bulk path, from reading to its outcome."""

    source: SourceFile
    read: bytes | FileOutcome
    file_hash: str | None = None
    job: Future | DecodeResult | None = None


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


class _BulkRun:
    """The bulk path of :meth:`Ingestor.run`: same outcomes as ``ingest_one`` file by file."""

    def __init__(self, ingestor: Ingestor, sources: list[SourceFile], on_file: ProgressCallback | None) -> None:
        self.ing = ingestor
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
            self.pool = _start_pool(workers)
        window = IN_FLIGHT_PER_WORKER * max(workers, 1) if self.pool else 1
        queue: deque[_Item] = deque()
        upcoming = iter(self.sources)
        batch = _Batch()
        try:
            while True:
                while len(queue) < window:
                    source = next(upcoming, None)
                    if source is None:
                        break
                    queue.append(self._prepare(source))
                if not queue:
                    break
                self._resolve(queue.popleft(), batch)
                if batch.full():
                    self._flush(batch)
                    batch = _Batch()
            self._flush(batch)
        finally:
            if self.pool is not None:  # Ctrl-C or an error: drop what is queued, keep what was committed
                self.pool.shutdown(wait=True, cancel_futures=True)
                self.pool = None

    def _workers(self, to_decode: int) -> int:
        wanted = self.ing.settings.ingest_workers or os.cpu_count() or 1
        return min(wanted, to_decode) if to_decode >= BULK_MIN_FILES else 1

    def _prescan(self) -> int:
        """Hash every file (one status query for all) so seen files are never decoded; the files to decode."""
        hashes = []
        for source in self.sources:
            read = self.ing._read(source)
            if not isinstance(read, FileOutcome):
                hashes.append(_sha256(read))
        self.hashed = set(hashes)
        self.db_seen = self.wh.file_statuses(hashes)
        return sum(1 for h in set(hashes) if self.db_seen.get(h, ("quarantined",))[0] == "quarantined")

    def _seen(self, file_hash: str) -> tuple[str, str | None] | None:
        if file_hash in self.run_seen:
            value = self.run_seen[file_hash]
            return None if value is _NO_ROW else value
        if file_hash in self.hashed:
            return self.db_seen.get(file_hash)
        return self.wh.file_status(file_hash)  # the file changed since the prescan

    def _prepare(self, source: SourceFile) -> _Item:
        item = _Item(source, self.ing._read(source))
        if isinstance(item.read, FileOutcome):
            return item
        item.file_hash = _sha256(item.read)
        seen = self._seen(item.file_hash)
        if (seen is None or seen[0] == "quarantined") and self.pool is not None:
            try:
                item.job = self.pool.submit(_decode_job, item.read)
            except RuntimeError:  # a broken pool (a worker died): decode here from now on
                self.pool.shutdown(wait=False, cancel_futures=True)
                self.pool = None
        return item

    def _result(self, item: _Item) -> DecodeResult:
        if isinstance(item.job, Future):
            try:
                return item.job.result()
            except Exception:  # noqa: BLE001 - a worker died or the result did not pickle: decode here
                return _decode_job(item.read)
        return item.job if item.job is not None else _decode_job(item.read)

    # -- one file, in source order (mirrors Ingestor.ingest_one) ---------------------
    def _resolve(self, item: _Item, batch: _Batch) -> None:
        if isinstance(item.read, FileOutcome):
            batch.outcomes.append(item.read)
            return
        path, data, file_hash = str(item.source.path), item.read, item.file_hash
        seen = self._seen(file_hash)
        if seen is not None and seen[0] != "quarantined":
            outcome = FileOutcome(path, "duplicate", reason_code="already_seen",
                                  reason=f"file already seen ({seen[0]})", file_hash=file_hash)
            if seen[0] == "pending":
                batch.seen_later.append((outcome, file_hash))
            batch.outcomes.append(outcome)
            return
        athlete = self.ing.athlete or athlete_from_folder(item.source, self.ing.settings)
        result = self._result(item)
        if result[0] == "not_activity":
            batch.outcomes.append(self._remember(batch, path, data, file_hash, seen, athlete, "skipped",
                                                 "not_activity", result[1]))
            return
        if result[0] == "rejected":
            if seen is not None:
                batch.outcomes.append(FileOutcome(path, "duplicate", reason_code="already_seen",
                                                  reason=f"file already seen (quarantined: {seen[1]})",
                                                  file_hash=file_hash))
                return
            batch.outcomes.append(self._remember(batch, path, data, file_hash, seen, athlete, "quarantined",
                                                 result[1], result[2]))
            return
        decoded: DecodedActivity = result[1]
        if seen is not None:  # a quarantined file that decodes now
            batch.forget.append(file_hash)
            self.run_seen[file_hash] = _NO_ROW
        athlete = athlete or self.ing.settings.athlete_for_serial(decoded.serial_number)
        problem = _athlete_problem(athlete, decoded)
        if problem:
            batch.outcomes.append(FileOutcome(path, "skipped", athlete, "no_athlete", problem, file_hash=file_hash))
            return
        self.ing._apply_athlete_config(athlete)
        decoded.records = apply_privacy(decoded.records, self.ing.settings.privacy)
        batch.activities.append(PendingActivity(decoded, athlete, path))
        batch.records += len(decoded.records)
        batch.outcomes.append(None)
        self.run_seen[file_hash] = ("pending", None)

    def _remember(self, batch: _Batch, path: str, data: bytes, file_hash: str, seen: Any, athlete: str | None,
                  status: str, code: str, reason: str) -> FileOutcome:
        if seen is None:  # first sighting wins, as record_file
            batch.files.append(FileRow(file_hash, path, len(data), status, athlete, code, reason))
            self.run_seen[file_hash] = (status, reason)
        return FileOutcome(path, status, athlete, code, reason, file_hash=file_hash)

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
            return FileOutcome(pending.path, "skipped", pending.athlete_id, "store_failed",
                               f"cannot store the activity: {type(result).__name__}: {result}",
                               file_hash=d.content_hash)
        outcome = _stored_outcome(pending.path, d, pending.athlete_id, result)
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


def _athlete_problem(athlete: str | None, decoded: DecodedActivity) -> str | None:
    if athlete is None:
        serial = decoded.serial_number
        return ("cannot tell whose activity this is: pass --athlete, put the file in INBOX/<athlete>/, "
                f"or list device serial {serial} under an athlete's `devices` in the config")
    if not ATHLETE_ID.match(athlete):
        return f"'{athlete}' is not a valid athlete id (letters, digits, '_', '.', '-'; at most 64)"
    return None


def ingest_paths(warehouse: Warehouse, settings: Settings, paths: Iterable[str | Path], *,
                 athlete: str | None = None, ingest_id: str | None = None,
                 on_file: ProgressCallback | None = None) -> IngestReport:
    """Discover and ingest files and folders into an open warehouse."""
    return Ingestor(warehouse, settings, athlete=athlete, ingest_id=ingest_id).run(discover(paths), on_file)
