"""Warehouse housekeeping flow: compact a DuckLake (merge small files, expire old snapshots,
delete unreferenced files), checkpoint a DuckDB file. Thin: it only wires the task.

Deployed entrypoint: ``flows/maintenance.py:maintenance_flow`` (nightly in
``deploy/prefect-kubernetes.yaml``).
"""

from __future__ import annotations

from typing import Any

from prefect import flow, task

from tendon_pipeline.config.settings import load_settings
from tendon_pipeline.flows.ingest import retry_if_transient
from tendon_pipeline.warehouse.store import open_warehouse


@task(name="maintain-warehouse", retries=3, retry_delay_seconds=[5, 30, 120],
      retry_condition_fn=retry_if_transient)
def maintain_task(db: str | None, config: str | None, keep_days: float) -> dict[str, Any]:
    """I/O task: opens the warehouse for the housekeeping only."""
    settings = load_settings(config, db=db)
    with open_warehouse(settings.location, wait_s=settings.warehouse.busy_wait_s) as warehouse:
        return warehouse.maintain(keep_days=keep_days)


@flow(name="maintain-warehouse")
def maintenance_flow(db: str | None = None, config: str | None = None, keep_days: float = 7.0) -> dict[str, Any]:
    """Compact the lake (or checkpoint the file); snapshots younger than ``keep_days`` stay."""
    return maintain_task(db, config, keep_days)
