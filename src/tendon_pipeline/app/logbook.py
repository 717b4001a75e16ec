"""The runner's own log stored, and the athlete evaluated again at once: behind ``tendon log
strength`` / ``tendon log pain`` / ``tendon log race`` and the runner's check-in page alike (the entries are built and
checked in ``domain/logbook.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from tendon_pipeline.app.evaluate import AthleteEvaluation, evaluate_athlete
from tendon_pipeline.config.settings import Settings
from tendon_pipeline.domain.models import PainEntry, RaceEntry, StrengthEntry, WeekPlan
from tendon_pipeline.warehouse.feedback import log_unwell
from tendon_pipeline.warehouse.history import log_pain, log_race, log_strength, read_plan
from tendon_pipeline.warehouse.store import Warehouse


@dataclass
class LogResult:
    plan_before: WeekPlan | None
    evaluation: AthleteEvaluation


def record_entries(warehouse: Warehouse, settings: Settings, athlete_id: str, *, pain: PainEntry | None = None,
                   strength: StrengthEntry | None = None, unwell_on: date | None = None,
                   race: RaceEntry | None = None) -> LogResult:
    """Store what was logged (pain replaces that day's report; strength adds an entry; unwell
    once per day; a race replaces that day's race) and evaluate the athlete again at once."""
    before = read_plan(warehouse, athlete_id)
    warehouse.ensure_athlete(athlete_id)
    if pain is not None:
        log_pain(warehouse, pain)
    if strength is not None:
        log_strength(warehouse, strength)
    if unwell_on is not None:
        log_unwell(warehouse, athlete_id, unwell_on)
    if race is not None:
        log_race(warehouse, race)
    return LogResult(before, evaluate_athlete(warehouse, settings, athlete_id))
