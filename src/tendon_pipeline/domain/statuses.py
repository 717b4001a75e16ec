"""The statuses the pipeline stores and reports, declared once as plain enums.

No pydantic here: the warehouse and the command line import these on every command, including
the read commands that must start fast (issue 17); ``domain.models`` imports them for its models.
"""

from __future__ import annotations

from enum import StrEnum


class Severity(StrEnum):
    """How serious an alert is, lowest first (stored as these values)."""

    INFO = "info"
    CAUTION = "caution"
    WARNING = "warning"
    HIGH = "high"


SEVERITY_RANK: dict[str, int] = {severity.value: rank for rank, severity in enumerate(Severity)}


class FileStatus(StrEnum):
    """What became of a file offered to ingest (``source_files.status`` and ingest reports)."""

    INGESTED = "ingested"
    SALVAGED = "salvaged"  # a truncated file whose complete part was stored
    DUPLICATE = "duplicate"
    SKIPPED = "skipped"  # with a reason: not an activity, no athlete, unreadable
    QUARANTINED = "quarantined"  # with a reason: damaged or too large


STORED_STATUSES = frozenset({FileStatus.INGESTED, FileStatus.SALVAGED})  # a new activity was stored


class DeliveryOutcome(StrEnum):
    """What one delivery run did with one message (``delivery_attempts.outcome`` holds the first four)."""

    DELIVERED = "delivered"
    TRANSIENT = "transient"  # failed, retried with back-off
    PERMANENT = "permanent"  # refused by the receiver, not retried
    GAVE_UP = "gave_up"  # transient failures for longer than the retry window
    DEFERRED = "deferred"  # quiet hours: waits, not dropped
    SKIPPED = "skipped"  # not tried in this run (channel failing, run out of time)
    CANCELLED = "cancelled"  # recipient or channel no longer configured
