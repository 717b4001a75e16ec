"""Run the backfill flow in this process (embedded Prefect), as the CLI does.

The planning and the per-athlete work are the use case (``app/backfill.py``); the Dask fan-out
is the flow (``flows/backfill.py``).
"""

from __future__ import annotations

from pathlib import Path

from tendon_pipeline.app.backfill import DEFAULT_CHUNK_FILES, BackfillReport
from tendon_pipeline.config.settings import Settings
from tendon_pipeline.flows.backfill import backfill_flow
from tendon_pipeline.orchestration.embedded import run_flow_embedded


def run_backfill(paths: list[str | Path], settings: Settings, *, athlete: str | None = None,
                 config: str | Path | None = None, dask_address: str | None = None, workers: int = 2,
                 chunk_files: int = DEFAULT_CHUNK_FILES, notify: bool = True,
                 console_to_stderr: bool = False) -> BackfillReport:
    """Run the backfill flow in this process (embedded Prefect), as the CLI would."""
    return run_flow_embedded(backfill_flow, paths=[str(p) for p in paths], athlete=athlete, db=str(settings.db),
                             config=str(config) if config else None, dask_address=dask_address,
                             workers=workers, chunk_files=chunk_files, notify=notify,
                             console_to_stderr=console_to_stderr)
