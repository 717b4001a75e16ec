"""The whole path for a batch of arrived files: ingest, rules for the athletes it touched, notify.

Deployed entrypoint: ``flows/pipeline.py:process_files_flow``. One flow run per batch
(not per file) keeps orchestration cheap.
"""

from __future__ import annotations

from prefect import flow

from tendon_pipeline.app.batch import BatchResult
from tendon_pipeline.app.ingest.report import IngestReport, new_ingest_id
from tendon_pipeline.faults import fault_point
from tendon_pipeline.flows.evaluate import evaluate_task
from tendon_pipeline.flows.ingest import ingest_batch
from tendon_pipeline.flows.notify import deliver_task
from tendon_pipeline.orchestration import events


@flow(name="process-fit-files")
def process_files_flow(paths: list[str], athlete: str | None = None, db: str | None = None,
                       config: str | None = None, console_to_stderr: bool = False,
                       emit_events: bool = False) -> BatchResult:
    """Ingest FIT files and folders, evaluate every athlete whose data changed (and any whose
    evaluation an earlier run did not finish: ``pending_evaluations``), notify what is due.
    No paths: only that catching up (what a watcher does when it starts).

    ``emit_events`` (the watcher's batches): ``athlete.data.changed`` as soon as the ingest has
    stored, ``alert.raised`` as soon as the evaluation has committed the alerts (and queued their
    deliveries), from inside this run, before the deliveries are sent."""
    ingest = ingest_batch(paths, athlete, db, config) if paths else IngestReport(new_ingest_id())
    if ingest.athletes_changed():
        fault_point("after_store")
    if emit_events:
        events.emit_data_changed(ingest)
    evaluation = evaluate_task(ingest.athletes_changed(), db, config)
    fault_point("after_evaluate")
    if emit_events:
        events.emit_alerts_raised(evaluation.new_alerts())
    delivery = deliver_task(db, config, console_to_stderr) if evaluation.athletes or evaluation.due else None
    return BatchResult(ingest=ingest, evaluation=evaluation if evaluation.athletes else None, delivery=delivery,
                       events_emitted=emit_events)
