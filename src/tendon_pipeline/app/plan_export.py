"""Next week's plan as downloads (``tendon plan --export``, the runner's web page).

:func:`plan_export` reads the athlete's latest stored plan and their time zone and builds the
files with the pure builders of :mod:`tendon_pipeline.app.plan_files`; :func:`write_plan_files`
puts them in a folder. An unknown athlete or an athlete without a plan yet is a
:class:`~tendon_pipeline.errors.NotFound` that says which and what to do (it names no other athlete:
the web server shows it to people who may see only their own).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from tendon_pipeline.app.plan_files import PlanFile, plan_files
from tendon_pipeline.config.settings import Settings
from tendon_pipeline.domain.models import WeekPlan
from tendon_pipeline.errors import NotFound
from tendon_pipeline.fileio import write_atomic
from tendon_pipeline.warehouse.history import read_plan
from tendon_pipeline.warehouse.store import Warehouse
from tendon_pipeline.warehouse.views import known_athletes


@dataclass(frozen=True)
class PlanExport:
    """An athlete's latest plan and its files (FIT workouts and the calendar)."""

    athlete_id: str
    plan: WeekPlan
    timezone: str  # the calendar's zone: the athlete's configured zone, else UTC
    files: list[PlanFile]

    def file(self, name: str) -> PlanFile:
        """The file of this name; NotFound (with the names there are) otherwise."""
        for found in self.files:
            if found.name == name:
                return found
        raise NotFound(f"no file '{name}' in the plan for athlete '{self.athlete_id}'",
                       hint=f"the plan's files: {', '.join(f.name for f in self.files)}")


def athlete_timezone(settings: Settings, athlete_id: str) -> str:
    """The athlete's configured IANA zone (the one their plan's dates are in), else UTC."""
    config = settings.athlete(athlete_id)
    return config.timezone if config and config.timezone else "UTC"


def stored_plan(warehouse: Warehouse, settings: Settings, athlete_id: str) -> WeekPlan:
    """The latest plan stored for the athlete; NotFound for an unknown athlete or no plan yet."""
    plan = read_plan(warehouse, athlete_id)
    if plan is not None:
        return plan
    known = known_athletes(warehouse) | {a.id for a in settings.athletes}
    if athlete_id not in known:
        raise NotFound(f"no plan for athlete '{athlete_id}': the athlete is unknown (not in the warehouse "
                       f"or the configuration)",
                       hint="check the athlete id (`tendon summary` shows whom the warehouse holds); a new "
                            "athlete's files must be ingested first")
    raise NotFound(f"no plan for athlete '{athlete_id}' yet",
                   hint=f"plans are made when the rules run: ingest their files or run "
                        f"`tendon evaluate --athlete {athlete_id}`")


def plan_export(warehouse: Warehouse, settings: Settings, athlete_id: str, *,
                stamp: datetime | None = None) -> PlanExport:
    """The athlete's latest stored plan as files (``stamp``: the calendar's DTSTAMP, default now)."""
    plan = stored_plan(warehouse, settings, athlete_id)
    zone = athlete_timezone(settings, athlete_id)
    return PlanExport(athlete_id, plan, zone, plan_files(plan, zone, stamp=stamp))


def write_plan_files(files: list[PlanFile], folder: Path) -> list[Path]:
    """Write each file into ``folder`` (created if missing), atomically; returns the paths."""
    return [write_atomic(Path(folder) / found.name, found.content) for found in files]
