"""Ingest a set of files and folders into an open warehouse: file by file, or in bulk."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path

from tendon_pipeline.app.ingest import bulk
from tendon_pipeline.app.ingest.discover import SourceFile, discover
from tendon_pipeline.app.ingest.ingestor import Ingestor
from tendon_pipeline.app.ingest.report import IngestReport, ProgressCallback, progress_callback
from tendon_pipeline.config.settings import Settings
from tendon_pipeline.warehouse.store import FileRow, Warehouse

# Outcomes whose path gets no source_files row of its own (its bytes were seen): kept in file_offers.
OFFER_CODES = ("already_seen", "athlete_conflict")


def run_ingest(ingestor: Ingestor, sources: list[SourceFile], on_file: ProgressCallback | None = None,
               forked: bulk.DecodeWorkers | None = None,
               while_decoding: Callable[[], object] | None = None) -> IngestReport:
    """Every source through ``ingestor``: from ``bulk.BULK_MIN_FILES`` files on the bulk path
    (``forked``: decode workers the caller started, see :func:`bulk.forked_decode_pool`;
    ``while_decoding``: called once while the workers decode the first files)."""
    on_file = on_file or progress_callback.get()
    report = ingestor.report
    ingestor.warehouse.start_ingest_run(report.ingest_id, len(sources))
    if len(sources) >= bulk.BULK_MIN_FILES:
        bulk.BulkRun(ingestor, sources, on_file, forked, while_decoding).run()
    else:
        for number, source in enumerate(sources, start=1):
            outcome = ingestor.ingest_one(source)
            report.outcomes.append(outcome)
            if on_file:
                on_file(outcome, number, len(sources))
    ingestor.warehouse.record_offers([FileRow(o.file_hash, o.path, 0, o.status, o.athlete_id, o.reason_code, o.reason)
                                      for o in report.outcomes if o.file_hash and o.reason_code in OFFER_CODES],
                                     report.ingest_id)
    ingestor.warehouse.finish_ingest_run(report.ingest_id, json.dumps(report.counts()))
    return report


def ingest_paths(warehouse: Warehouse, settings: Settings, paths: Iterable[str | Path], *,
                 athlete: str | None = None, ingest_id: str | None = None,
                 on_file: ProgressCallback | None = None, sources: list[SourceFile] | None = None,
                 forked: bulk.DecodeWorkers | None = None,
                 while_decoding: Callable[[], object] | None = None) -> IngestReport:
    """Discover and ingest files and folders into an open warehouse (``sources``: already
    discovered from ``paths``; ``forked``, ``while_decoding``: see :func:`run_ingest`)."""
    ingestor = Ingestor(warehouse, settings, athlete=athlete, ingest_id=ingest_id)
    return run_ingest(ingestor, sources if sources is not None else discover(paths), on_file, forked,
                      while_decoding)
