"""Ingest use case: find FIT files, decide whose they are and what becomes of each, store them."""

from tendon_pipeline.app.ingest.ingestor import (
    STATUSES,
    FileOutcome,
    Ingestor,
    IngestReport,
    SourceFile,
    athlete_from_folder,
    discover,
    ingest_paths,
    progress_callback,
)

__all__ = ["STATUSES", "FileOutcome", "IngestReport", "Ingestor", "SourceFile", "athlete_from_folder",
           "discover", "ingest_paths", "progress_callback"]
