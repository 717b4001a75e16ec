"""One batch of arrived files through the whole pipeline, in process (the embedded default).

Front ends (the CLI, the folder watcher, the upload server) call :func:`run_batch`;
it runs the ``process-fit-files`` Prefect flow in this process with the heartbeat off.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tendon_pipeline.app.evaluate import EvaluationReport
    from tendon_pipeline.app.ingest import IngestReport
    from tendon_pipeline.config.settings import Settings


@dataclass
class BatchResult:
    ingest: "IngestReport"
    evaluation: "EvaluationReport | None"
    delivery: Any = None  # DeliveryReport when notifications ran

    def new_alerts(self) -> list:
        return self.evaluation.new_alerts() if self.evaluation else []

    def to_dict(self) -> dict:
        return {"ingest": self.ingest.to_dict(),
                "evaluation": self.evaluation.to_dict() if self.evaluation else None,
                "new_alerts": [a.model_dump(mode="json") for a in self.new_alerts()],
                "notify": self.delivery.summary() if self.delivery else None}


def run_batch(paths: list[str | Path], settings: "Settings", *, athlete: str | None = None,
              config: str | Path | None = None, console_to_stderr: bool = False) -> BatchResult:
    """Ingest ``paths``, evaluate the athletes they touched and notify, in one flow run."""
    from tendon_pipeline.orchestration.embedded import quiet_prefect_env, run_flow_embedded

    quiet_prefect_env()
    from tendon_pipeline.flows.pipeline import process_files_flow

    return run_flow_embedded(process_files_flow, paths=[str(p) for p in paths], athlete=athlete,
                             db=str(settings.db), config=str(config) if config else None,
                             console_to_stderr=console_to_stderr)
