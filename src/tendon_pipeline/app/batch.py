"""What one batch of arrived files did on the whole path: ingest, evaluation, delivery."""

from __future__ import annotations

from dataclasses import dataclass

from tendon_pipeline.app.delivery import DeliveryReport
from tendon_pipeline.app.evaluate import EvaluationReport
from tendon_pipeline.app.ingest import IngestReport
from tendon_pipeline.domain.models import Alert


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
