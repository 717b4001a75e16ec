"""What an ingest run did: one outcome per file offered, and the run's report."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field

from tendon_pipeline.domain.models import STORED_STATUSES, FileStatus

STATUSES: tuple[FileStatus, ...] = tuple(FileStatus)  # the order reports list them in
_PROBLEMS = frozenset({FileStatus.SKIPPED, FileStatus.QUARANTINED, FileStatus.SALVAGED})
NOTED_CODES = ("athlete_conflict", "replaced", "implausible")  # stored, but shown with the reason


@dataclass
class FileOutcome:
    path: str
    status: FileStatus
    athlete_id: str | None = None
    reason_code: str | None = None
    reason: str | None = None
    activity_id: str | None = None
    file_hash: str | None = None


ProgressCallback = Callable[[FileOutcome, int, int], None]
# Set by a front end (the CLI) to follow an ingest that runs inside a flow/task.
progress_callback: ContextVar[ProgressCallback | None] = ContextVar("tendon_ingest_progress", default=None)


@dataclass
class IngestReport:
    ingest_id: str
    outcomes: list[FileOutcome] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counter = Counter(o.status for o in self.outcomes)
        return {status: counter.get(status, 0) for status in STATUSES}

    def athletes_changed(self) -> list[str]:
        """Athletes with newly stored activities (what the rules must re-evaluate)."""
        return sorted({o.athlete_id for o in self.outcomes
                       if o.status in STORED_STATUSES and o.athlete_id})

    def problems(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status in _PROBLEMS or o.reason_code in NOTED_CODES]

    def to_dict(self) -> dict:
        return {"ingest_id": self.ingest_id, "counts": self.counts(),
                "athletes_changed": self.athletes_changed(),
                "files": [asdict(o) for o in self.outcomes]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), default=str)


def new_ingest_id() -> str:
    return uuid.uuid4().hex[:16]
