"""Backfills: a large set of FIT files (months or years of several athletes), split by athlete.

Library code, no Prefect. :func:`plan_backfill` groups the discovered files by athlete
(``INBOX/<athlete>/...`` folders, or one explicit athlete) and cuts each athlete's files into
chunks; :func:`backfill_athlete` ingests one athlete's chunks in order, opening the warehouse
once per chunk, then evaluates that athlete. The backfill flow (``flows/backfill.py``) runs one
:func:`backfill_athlete` per athlete on a Dask cluster: an athlete never has two writers,
different athletes may (on a DuckLake warehouse; the embedded DuckDB file takes one writer at a
time). Results are small dataclasses (counts, alert keys, seconds), never data frames.
"""

from __future__ import annotations

import multiprocessing
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from tendon_pipeline.app.evaluate import evaluate_athletes
from tendon_pipeline.app.ingest import STATUSES, athlete_from_folder, discover, ingest_paths
from tendon_pipeline.config.settings import Settings
from tendon_pipeline.errors import TendonError
from tendon_pipeline.warehouse.history import athlete_ids
from tendon_pipeline.warehouse.location import LakeLocation, WarehouseLocation
from tendon_pipeline.warehouse.store import open_warehouse

DEFAULT_CHUNK_FILES = 500  # files per warehouse session: a killed or retried backfill redoes little


class BackfillIncomplete(TendonError):
    """Some athletes' backfills failed; the others are stored. Running it again resumes."""


@dataclass(frozen=True)
class AthleteBatch:
    """One athlete's files in ingest order, cut into chunks of at most ``chunk_files``.

    ``athlete`` is None for files outside any ``INBOX/<athlete>/`` folder when no athlete was
    given: only their device serial (decoded at ingest) can tell whose they are, so they may
    touch any athlete and run alone, after the others.
    """

    athlete: str | None
    chunks: tuple[tuple[str, ...], ...]

    @property
    def files(self) -> int:
        return sum(len(chunk) for chunk in self.chunks)

    @property
    def label(self) -> str:
        return self.athlete or "by-device-serial"


@dataclass
class AthleteBackfillResult:
    """What one athlete's backfill did (small: travels back from a Dask worker)."""

    athlete: str | None
    files: int
    chunks: int
    counts: dict[str, int]  # ingest outcomes: ingested, salvaged, duplicate, skipped, quarantined
    evaluated: list[str]  # athletes evaluated (the athlete; for by-serial files those they changed)
    alerts: int  # current alerts of the evaluated athletes
    new_alerts: list[str]  # keys of the alerts stored for the first time by this backfill
    plans: dict[str, str]  # athlete -> next week's plan status
    started_at: float  # epoch seconds
    seconds: float
    ingest_seconds: float

    def to_dict(self) -> dict:
        return {"athlete": self.athlete, "files": self.files, "chunks": self.chunks, "counts": self.counts,
                "evaluated": self.evaluated, "alerts": self.alerts, "new_alerts": self.new_alerts,
                "plans": self.plans, "seconds": round(self.seconds, 3),
                "ingest_seconds": round(self.ingest_seconds, 3)}


@dataclass
class BackfillReport:
    """The whole backfill: one result per athlete that finished, the failures, the pace."""

    athletes: list[AthleteBackfillResult] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # athlete label -> error message
    writers: int = 1  # athletes written at the same time
    seconds: float = 0.0
    delivery: str | None = None  # the notify summary when notifications ran

    @property
    def files(self) -> int:
        return sum(r.files for r in self.athletes)

    @property
    def files_per_second(self) -> float:
        return self.files / self.seconds if self.seconds > 0 else 0.0

    def counts(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for result in self.athletes:
            total.update(result.counts)
        return {status: total.get(status, 0) for status in STATUSES}

    def new_alerts(self) -> list[str]:
        return [key for r in self.athletes for key in r.new_alerts]

    def to_dict(self) -> dict:
        return {"files": self.files, "counts": self.counts(), "writers": self.writers,
                "seconds": round(self.seconds, 3), "files_per_second": round(self.files_per_second, 2),
                "new_alerts": self.new_alerts(), "failed": self.failed, "delivery": self.delivery,
                "athletes": [r.to_dict() for r in self.athletes]}


def plan_backfill(settings: Settings, paths: Iterable[str | Path], *, athlete: str | None = None,
                  chunk_files: int = DEFAULT_CHUNK_FILES) -> list[AthleteBatch]:
    """Group the files under ``paths`` by athlete, in a stable order.

    Athletes come sorted by id, files of one athlete sorted by path (the generator's and most
    exports' names start with the date, so that is mostly chronological), cut into chunks of at
    most ``chunk_files``. ``athlete`` assigns every file to that athlete. Files whose athlete no
    folder tells form one last batch with athlete None.
    """
    if chunk_files < 1:
        raise ValueError("chunk_files must be at least 1")
    by_athlete: dict[str | None, set[str]] = defaultdict(set)
    for source in discover(paths):
        owner = athlete or athlete_from_folder(source, settings)
        by_athlete[owner].add(str(source.path))
    order = sorted(a for a in by_athlete if a is not None) + ([None] if None in by_athlete else [])
    batches = []
    for owner in order:
        files = sorted(by_athlete[owner])
        chunks = tuple(tuple(files[i:i + chunk_files]) for i in range(0, len(files), chunk_files))
        batches.append(AthleteBatch(owner, chunks))
    return batches


def is_shared_warehouse(location: WarehouseLocation) -> bool:
    """True for a DuckLake (several writers, one per athlete); False for a DuckDB file (one writer)."""
    return isinstance(location, LakeLocation)


def writers_for(location: WarehouseLocation, workers: int) -> int:
    """How many athletes may be written at once: ``workers`` on a lake, 1 on a DuckDB file."""
    return max(1, workers) if is_shared_warehouse(location) else 1


def backfill_athlete(settings: Settings, batch: AthleteBatch, *, as_of: date | None = None) -> AthleteBackfillResult:
    """Ingest one athlete's chunks in order (a warehouse session per chunk), then evaluate the athlete.

    Always evaluates (not only when files were new): a retry or a rerun after a crash between the
    ingest and the evaluation finds every file already stored and must still evaluate. In a Dask
    worker (a daemonic process, which cannot start the decode pool) files are decoded in this
    process (``ingest_workers`` = 1).
    """
    if _in_worker_process():
        settings = settings.model_copy(update={"ingest_workers": 1})
    started_at, start = time.time(), time.perf_counter()
    counts: Counter[str] = Counter()
    changed: set[str] = set()
    for chunk in batch.chunks:
        with open_warehouse(settings.location, wait_s=settings.warehouse.busy_wait_s) as warehouse:
            report = ingest_paths(warehouse, settings, list(chunk), athlete=batch.athlete)
        counts.update(report.counts())
        changed.update(report.athletes_changed())
    ingest_seconds = time.perf_counter() - start
    with open_warehouse(settings.location, wait_s=settings.warehouse.busy_wait_s) as warehouse:
        known = set(athlete_ids(warehouse))
        wanted = [batch.athlete] if batch.athlete else sorted(changed)
        evaluation = evaluate_athletes(warehouse, settings, [a for a in wanted if a in known], as_of=as_of)
    return AthleteBackfillResult(
        athlete=batch.athlete, files=batch.files, chunks=len(batch.chunks),
        counts={status: counts.get(status, 0) for status in STATUSES},
        evaluated=[e.athlete_id for e in evaluation.athletes],
        alerts=sum(len(e.alerts) for e in evaluation.athletes),
        new_alerts=[a.key for a in evaluation.new_alerts()],
        plans={e.athlete_id: e.plan.status for e in evaluation.athletes},
        started_at=started_at, seconds=time.perf_counter() - start, ingest_seconds=ingest_seconds,
    )


def _in_worker_process() -> bool:
    """A daemonic process (Dask's nanny-started workers) or any Dask worker."""
    if multiprocessing.current_process().daemon:
        return True
    try:
        from distributed import get_worker
    except ImportError:
        return False
    try:
        get_worker()
    except ValueError:
        return False
    return True
