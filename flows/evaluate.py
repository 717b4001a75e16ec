"""Evaluate flow: recompute load, apply the rules, store alerts and next week's plan.

Deployed entrypoint: ``flows/evaluate.py:evaluate_flow``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from prefect import flow, task

from tendon_pipeline.app.evaluate import EvaluationReport, evaluate_athletes
from tendon_pipeline.config.settings import load_settings
from tendon_pipeline.flows.ingest import retry_if_transient
from tendon_pipeline.report.artifacts import publish_evaluation_artifacts
from tendon_pipeline.warehouse.outbox import due_count
from tendon_pipeline.warehouse.store import open_warehouse


@task(name="evaluate-athletes", retries=4, retry_delay_seconds=[1, 2, 5, 10],
      retry_condition_fn=retry_if_transient)
def evaluate_task(athletes: list[str] | None, db: str | None, config: str | None,
                  as_of: date | None = None) -> EvaluationReport:
    """I/O task: holds the warehouse only while it evaluates."""
    settings = load_settings(config, db=db)
    with open_warehouse(settings.location, wait_s=settings.warehouse.busy_wait_s) as warehouse:
        report = evaluate_athletes(warehouse, settings, athletes, as_of=as_of)
        report.due = due_count(warehouse, datetime.now(UTC).replace(tzinfo=None))
        if report.athletes:
            publish_evaluation_artifacts(report, warehouse)  # the same summary in the Prefect UI
        return report


@flow(name="evaluate-athletes")
def evaluate_flow(athletes: list[str] | None = None, db: str | None = None, config: str | None = None,
                  as_of: date | None = None) -> EvaluationReport:
    """Evaluate the given athletes (all when none are given)."""
    return evaluate_task(athletes, db, config, as_of)
