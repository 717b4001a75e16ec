"""One batch of arrived files on the whole path: ingest, evaluation, delivery (and what it did)."""

from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass
from pathlib import Path

from tendon_pipeline.app.delivery import DeliveryReport, notify_command
from tendon_pipeline.app.evaluate import EvaluationReport, evaluate_athletes
from tendon_pipeline.app.ingest import IngestReport, discover, forked_decode_pool, ingest_paths
from tendon_pipeline.config.settings import Settings
from tendon_pipeline.domain.models import Alert
from tendon_pipeline.warehouse.store import open_warehouse


@dataclass
class BatchResult:
    ingest: IngestReport
    evaluation: EvaluationReport | None
    delivery: DeliveryReport | None = None  # when notifications ran

    def new_alerts(self) -> list[Alert]:
        return self.evaluation.new_alerts() if self.evaluation else []

    def to_dict(self) -> dict:
        return {"ingest": self.ingest.to_dict(),
                "evaluation": self.evaluation.to_dict() if self.evaluation else None,
                "new_alerts": [a.model_dump(mode="json") for a in self.new_alerts()],
                "notify": self.delivery.summary() if self.delivery else None}


def process_files(paths: list[str | Path], settings: Settings, *, athlete: str | None = None,
                  console_to_stderr: bool = False) -> BatchResult:
    """Ingest ``paths``, evaluate every athlete whose data changed, deliver: the steps of the
    ``process-fit-files`` flow (``flows/pipeline.py``) called directly, in one warehouse
    session. One-shot commands use this when no Prefect API is configured
    (``runtime.batch.run_batch``); a locked warehouse fails at once (transient) instead of
    being retried by the flow's tasks."""
    redirect = contextlib.redirect_stdout(sys.stderr) if console_to_stderr else contextlib.nullcontext()
    sources = discover(paths)
    with forked_decode_pool(settings, len(sources)) as pool, open_warehouse(settings.location) as warehouse:
        ingest = ingest_paths(warehouse, settings, paths, athlete=athlete, sources=sources, pool=pool)
        changed = ingest.athletes_changed()
        evaluation = evaluate_athletes(warehouse, settings, changed) if changed else None
        delivery = None
        if evaluation is not None:
            with redirect:
                delivery = notify_command(settings, warehouse=warehouse)
    return BatchResult(ingest=ingest, evaluation=evaluation, delivery=delivery)
