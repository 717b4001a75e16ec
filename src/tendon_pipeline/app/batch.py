"""One batch of arrived files on the whole path: ingest, evaluation, delivery (and what it did)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from tendon_pipeline.app.ingest import IngestReport, SourceFile, discover, forked_decode_pool, ingest_paths
from tendon_pipeline.app.ingest.bulk import DecodeWorkers
from tendon_pipeline.app.ingest.report import new_ingest_id
from tendon_pipeline.config.settings import Settings
from tendon_pipeline.faults import fault_point
from tendon_pipeline.warehouse.store import open_warehouse
from tendon_pipeline.warehouse.views import Holdings, read_holdings

if TYPE_CHECKING:  # imported when the batch gets there (_import_later_steps): see process_files
    from tendon_pipeline.app.delivery import DeliveryReport
    from tendon_pipeline.app.evaluate import EvaluationReport
    from tendon_pipeline.domain.models import Alert


@dataclass
class BatchResult:
    ingest: IngestReport
    evaluation: EvaluationReport | None
    delivery: DeliveryReport | None = None  # when notifications ran
    events_emitted: bool = False  # the flow run sent athlete.data.changed and alert.raised itself
    holdings: Holdings | None = None  # what the warehouse held after the batch (the direct path reads it)

    def new_alerts(self) -> list[Alert]:
        return self.evaluation.new_alerts() if self.evaluation else []

    def to_dict(self) -> dict:
        return {"ingest": self.ingest.to_dict(),
                "evaluation": self.evaluation.to_dict() if self.evaluation else None,
                "new_alerts": [a.model_dump(mode="json") for a in self.new_alerts()],
                "notify": self.delivery.summary() if self.delivery else None}


def process_files(paths: list[str | Path], settings: Settings, *, athlete: str | None = None,
                  console_to_stderr: bool = False, workers_started: Callable[[], None] | None = None) -> BatchResult:
    """Ingest ``paths``, evaluate every athlete whose data changed, deliver: the steps of the
    ``process-fit-files`` flow (``flows/pipeline.py``) called directly, in one warehouse
    session. One-shot commands use this when no Prefect API is configured
    (``runtime.batch.run_batch``); a locked warehouse fails at once (transient) instead of
    being retried by the flow's tasks.

    ``workers_started`` is called once the decode workers are forked (or it was decided not to),
    before anything else runs: forking is safe only while this process runs no other thread, so
    a caller that starts one (the child reaper) starts it there.

    The evaluation and delivery steps (pandas and the rules, ~0.3 s of imports) are imported once
    the first files are decoding, not before: the workers are forked from a small process and
    decode while this one imports (``BulkRun``'s ``while_decoding``)."""
    redirect = contextlib.redirect_stdout(sys.stderr) if console_to_stderr else contextlib.nullcontext()
    sources = discover(paths)
    with forked_decode_pool(settings, sources) as forked:
        if workers_started is not None:
            workers_started()
        return _ingest_evaluate_deliver(paths, settings, sources, forked, athlete, redirect)


def _ingest_evaluate_deliver(paths: list[str | Path], settings: Settings, sources: list[SourceFile],
                             forked: DecodeWorkers | None, athlete: str | None,
                             redirect: contextlib.AbstractContextManager) -> BatchResult:
    with open_warehouse(settings.location, wait_s=settings.warehouse.busy_wait_s) as warehouse:
        ingest = (ingest_paths(warehouse, settings, paths, athlete=athlete, sources=sources, forked=forked,
                               while_decoding=_import_later_steps)
                  if paths else IngestReport(new_ingest_id()))
        evaluate_athletes, notify_command, due_count = _import_later_steps()
        if ingest.athletes_changed():
            fault_point("after_store")
        # the athletes this batch changed, and any an earlier run stored but did not evaluate
        evaluation = evaluate_athletes(warehouse, settings, ingest.athletes_changed())
        fault_point("after_evaluate")
        delivery = None
        if evaluation.athletes or due_count(warehouse, datetime.now(UTC).replace(tzinfo=None)):
            with redirect:
                delivery = notify_command(settings, warehouse=warehouse)
        holdings = read_holdings(warehouse)  # the command prints it: read here, not by opening the file again
    return BatchResult(ingest=ingest, evaluation=evaluation if evaluation.athletes else None, delivery=delivery,
                       holdings=holdings)


def _import_later_steps() -> tuple:
    """The evaluation and delivery steps, imported on first use."""
    from tendon_pipeline.app.delivery import notify_command
    from tendon_pipeline.app.evaluate import evaluate_athletes
    from tendon_pipeline.warehouse.outbox import due_count

    return evaluate_athletes, notify_command, due_count
