"""What a delivery run did, per message: the outcome (DeliveryOutcome), secret-free."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from tendon_pipeline.domain.models import DeliveryOutcome


@dataclass
class MessageResult:
    message_key: str
    recipient: str
    channel: str
    items: int
    outcome: DeliveryOutcome
    error: str | None = None
    next_attempt_at: str | None = None


_PROBLEMS = frozenset({DeliveryOutcome.TRANSIENT, DeliveryOutcome.PERMANENT, DeliveryOutcome.GAVE_UP,
                       DeliveryOutcome.CANCELLED})


@dataclass
class DeliveryReport:
    """What one run did, secret-free (channels as scheme://host)."""

    routed: int = 0
    results: list[MessageResult] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for r in self.results if r.outcome == outcome)

    @property
    def delivered(self) -> int:
        return self.count(DeliveryOutcome.DELIVERED)

    @property
    def retrying(self) -> int:
        return self.count(DeliveryOutcome.TRANSIENT)

    @property
    def failed(self) -> int:
        return self.count(DeliveryOutcome.PERMANENT) + self.count(DeliveryOutcome.GAVE_UP)

    @property
    def deferred(self) -> int:
        return self.count(DeliveryOutcome.DEFERRED) + self.count(DeliveryOutcome.SKIPPED)

    def problems(self) -> list[MessageResult]:
        return [r for r in self.results if r.outcome in _PROBLEMS]

    def summary(self) -> str:
        parts = [f"{self.routed} routed", f"{self.delivered} delivered", f"{self.retrying} to retry",
                 f"{self.failed} failed", f"{self.deferred} deferred"]
        if self.count(DeliveryOutcome.CANCELLED):
            parts.append(f"{self.count(DeliveryOutcome.CANCELLED)} cancelled")
        return "notify: " + ", ".join(parts)

    def to_json(self) -> str:
        return json.dumps({"routed": self.routed, "delivered": self.delivered, "retrying": self.retrying,
                           "failed": self.failed, "deferred": self.deferred,
                           "messages": [asdict(r) for r in self.results]}, indent=2)
