"""Ingest flow: a batch of FIT files into the warehouse. Thin: it only wires tasks.

Deployed entrypoint: ``flows/ingest.py:ingest_flow``.
"""

from __future__ import annotations

from prefect import flow, task

from tendon_pipeline.app.ingest import IngestReport, ingest_paths
from tendon_pipeline.config.settings import load_settings
from tendon_pipeline.errors import TendonError
from tendon_pipeline.warehouse.store import open_warehouse


def retry_if_transient(task, task_run, state) -> bool:
    """Retry only errors a retry can fix (e.g. the warehouse locked by another process)."""
    try:
        state.result()
    except TendonError as exc:
        return exc.transient
    except Exception:  # noqa: BLE001 - anything else is not known to be transient
        return False
    return False


@task(name="ingest-batch", retries=4, retry_delay_seconds=[1, 2, 5, 10],
      retry_condition_fn=retry_if_transient)
def ingest_batch(paths: list[str], athlete: str | None, db: str | None, config: str | None) -> IngestReport:
    """I/O task: opens the warehouse for the batch only, then releases it."""
    settings = load_settings(config, db=db)
    with open_warehouse(settings.location, wait_s=settings.warehouse.busy_wait_s) as warehouse:
        return ingest_paths(warehouse, settings, paths, athlete=athlete)


@flow(name="ingest-fit-files", log_prints=False)
def ingest_flow(paths: list[str], athlete: str | None = None, db: str | None = None,
                config: str | None = None) -> IngestReport:
    """Ingest FIT files and folders (recursive) for one batch."""
    return ingest_batch(paths, athlete, db, config)
