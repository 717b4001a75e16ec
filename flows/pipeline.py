"""The whole path for a batch of arrived files: ingest, rules for the athletes it touched, notify.

Deployed entrypoint: ``flows/pipeline.py:process_files_flow``. One flow run per batch
(not per file) keeps orchestration cheap.
"""

from __future__ import annotations

from prefect import flow

from tendon_pipeline.flows.evaluate import evaluate_task
from tendon_pipeline.flows.ingest import ingest_batch
from tendon_pipeline.flows.notify import deliver_task
from tendon_pipeline.app.batch import BatchResult


@flow(name="process-fit-files")
def process_files_flow(paths: list[str], athlete: str | None = None, db: str | None = None,
                       config: str | None = None, console_to_stderr: bool = False) -> BatchResult:
    """Ingest FIT files and folders, evaluate every athlete whose data changed, notify."""
    ingest = ingest_batch(paths, athlete, db, config)
    changed = ingest.athletes_changed()
    evaluation = evaluate_task(changed, db, config) if changed else None
    delivery = deliver_task(db, config, console_to_stderr) if evaluation else None
    return BatchResult(ingest=ingest, evaluation=evaluation, delivery=delivery)
