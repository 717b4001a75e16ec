"""Ingest use case: find FIT files, decide whose they are and what becomes of each, store them.

Library code, no Prefect. ``discover`` finds and reads files, ``attribution`` says whose they
are, ``decision`` is the one per-file decision, ``ingestor`` carries it out file by file,
``bulk`` in batches with decode processes, ``run`` picks the path, ``report`` holds the outcomes.
"""

from tendon_pipeline.app.ingest.attribution import athlete_from_folder
from tendon_pipeline.app.ingest.bulk import forked_decode_pool
from tendon_pipeline.app.ingest.discover import SourceFile, discover
from tendon_pipeline.app.ingest.ingestor import Ingestor
from tendon_pipeline.app.ingest.report import STATUSES, FileOutcome, IngestReport, progress_callback
from tendon_pipeline.app.ingest.run import ingest_paths, run_ingest

__all__ = ["STATUSES", "FileOutcome", "IngestReport", "Ingestor", "SourceFile", "athlete_from_folder",
           "discover", "forked_decode_pool", "ingest_paths", "progress_callback", "run_ingest"]
