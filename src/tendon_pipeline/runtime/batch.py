"""One batch of arrived files through the whole pipeline, in process (the embedded default).

Front ends (the CLI, the folder watcher, the upload server) call :func:`run_batch`;
it runs the ``process-fit-files`` Prefect flow in this process with the heartbeat off.
"""

from __future__ import annotations

from pathlib import Path

from tendon_pipeline.app.batch import BatchResult
from tendon_pipeline.config.settings import Settings
from tendon_pipeline.flows.pipeline import process_files_flow
from tendon_pipeline.orchestration.embedded import run_flow_embedded


def run_batch(paths: list[str | Path], settings: Settings, *, athlete: str | None = None,
              config: str | Path | None = None, console_to_stderr: bool = False) -> BatchResult:
    """Ingest ``paths``, evaluate the athletes they touched and notify, in one flow run."""
    return run_flow_embedded(process_files_flow, paths=[str(p) for p in paths], athlete=athlete,
                             db=str(settings.db), config=str(config) if config else None,
                             console_to_stderr=console_to_stderr)
