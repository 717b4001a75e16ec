"""Helpers for the issue-14 reliability tests: real FIT files written by the project's generator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tendon_pipeline.examples.generate import ActivitySpec, write_activity

START = datetime(2026, 3, 2, 6, 30, tzinfo=UTC)  # a Monday


def run_file(path: Path, day: int = 0, **overrides) -> Path:
    spec = dict(start_utc=START + timedelta(days=day), distance_m=5000.0, duration_s=1700,
                serial_number=3_900_000_001)
    spec.update(overrides)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_activity(path, ActivitySpec(**spec))
