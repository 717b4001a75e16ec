"""The demo (``tendon demo``, ``bin/demo``): example watch data through the whole pipeline.

The steps live here; the CLI only prints them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tendon_pipeline.app.batch import BatchResult
from tendon_pipeline.config.settings import Settings
from tendon_pipeline.domain.models import WeekPlan
from tendon_pipeline.examples.generate import generate_example_inbox
from tendon_pipeline.runtime.batch import run_batch
from tendon_pipeline.warehouse.history import read_plan
from tendon_pipeline.warehouse.store import open_warehouse


@dataclass(frozen=True)
class ExampleInbox:
    folder: Path
    files: list[Path]
    reused: bool  # the files were there from an earlier run

    @property
    def athletes(self) -> list[str]:
        return sorted({p.parent.name for p in self.files})


def example_inbox(settings: Settings, *, weeks: int) -> ExampleInbox:
    """The example inbox next to the warehouse: the first run's files when there are any
    (regenerating on another day would shift the history), else ``weeks`` of new ones."""
    folder = settings.db.parent / "example-inbox"
    found = sorted(folder.glob("*/*.fit")) if folder.is_dir() else []
    if found:
        return ExampleInbox(folder, found, reused=True)
    return ExampleInbox(folder, generate_example_inbox(folder, weeks=weeks), reused=False)


def process_example_inbox(settings: Settings, inbox: ExampleInbox, *, config: str | None = None,
                          console_to_stderr: bool = False) -> BatchResult:
    """Ingest, rules and notifications for the example files: one in-process flow run, or the
    same steps called directly when no Prefect API is configured (``run_batch``)."""
    return run_batch([str(inbox.folder)], settings, config=config, console_to_stderr=console_to_stderr)


def next_week_plans(settings: Settings, athletes: list[str]) -> dict[str, WeekPlan | None]:
    with open_warehouse(settings.location, read_only=True) as wh:
        return {athlete: read_plan(wh, athlete) for athlete in athletes}
