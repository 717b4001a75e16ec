"""Evaluate athletes: load in SQL, rules and plan in the pure domain core, results stored.

Library code, no Prefect; the evaluate flow and the CLI call this.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from tendon_pipeline.config.settings import AthleteConfig, Settings
from tendon_pipeline.domain.models import Alert, AthleteHistory, RaceEntry, WeekPlan
from tendon_pipeline.domain.plan import plan_next_week
from tendon_pipeline.domain.rules import evaluate
from tendon_pipeline.warehouse.history import (
    athlete_body,
    athlete_ids,
    load_history,
    store_alerts,
    store_plan,
    update_changed_alerts,
)
from tendon_pipeline.warehouse.loads import compute_run_loads
from tendon_pipeline.warehouse.store import EVALUATION_LOCK, Warehouse, athlete_lock, retry_on_conflict


@dataclass
class AthleteEvaluation:
    athlete_id: str
    as_of: date
    alerts: list[Alert]
    new_alerts: list[Alert]
    plan: WeekPlan
    updated_alerts: list[Alert] = field(default_factory=list)  # stored before, changed now (see alert_revisions)


@dataclass
class EvaluationReport:
    evaluation_id: str
    athletes: list[AthleteEvaluation] = field(default_factory=list)

    def new_alerts(self) -> list[Alert]:
        return [a for e in self.athletes for a in e.new_alerts]

    def updated_alerts(self) -> list[Alert]:
        return [a for e in self.athletes for a in e.updated_alerts]

    def to_dict(self) -> dict:
        return {"evaluation_id": self.evaluation_id,
                "athletes": [{"athlete": e.athlete_id, "as_of": e.as_of.isoformat(),
                              "alerts": len(e.alerts), "new_alerts": [a.key for a in e.new_alerts],
                              "updated_alerts": [a.key for a in e.updated_alerts],
                              "plan_week": e.plan.week_start.isoformat(), "plan_status": e.plan.status}
                             for e in self.athletes]}


def today_for(settings: Settings, athlete_id: str) -> date:
    """Today in the athlete's configured time zone (UTC when none is configured)."""
    config = settings.athlete(athlete_id)
    zone = ZoneInfo(config.timezone) if config and config.timezone else UTC
    return datetime.now(zone).date()


def athlete_history(warehouse: Warehouse, settings: Settings, athlete_id: str) -> AthleteHistory:
    """Recompute the athlete's run loads in SQL and read the full history."""
    config = settings.athlete(athlete_id)
    mass, height = athlete_body(warehouse, athlete_id)
    tz_name = config.timezone if config else None
    compute_run_loads(warehouse, athlete_id, settings.rules, body_mass_kg=mass, height_m=height, tz_name=tz_name)
    return load_history(warehouse, athlete_id, tz_name=tz_name, **configured_history(config, athlete_id))


def configured_history(config: AthleteConfig | None, athlete_id: str) -> dict:
    """What ``[[athletes]]`` adds to the history: program start, declared baseline, races."""
    if config is None:
        return {}
    races = [RaceEntry(athlete_id=athlete_id, local_date=r.date, distance_km=r.distance_km,
                       priority=r.priority, name=r.name) for r in config.races]
    return {"program_start": config.program_start, "baseline_weekly_km": config.baseline_weekly_km,
            "races": races}


@retry_on_conflict
def evaluate_athlete(warehouse: Warehouse, settings: Settings, athlete_id: str, *,
                     as_of: date | None = None, evaluation_id: str = "") -> AthleteEvaluation:
    """Recompute one athlete's loads, alerts and plan, holding the athlete's and the
    evaluation lock (see EVALUATION_LOCK); run again if another writer's commit conflicted."""
    as_of = as_of or today_for(settings, athlete_id)
    with warehouse.lock(athlete_lock(athlete_id), EVALUATION_LOCK):
        history = athlete_history(warehouse, settings, athlete_id)
        alerts = evaluate(history, settings.rules, as_of)
        plan = plan_next_week(history, alerts, settings.rules, as_of)
        with warehouse.transaction():
            new = store_alerts(warehouse, alerts, evaluation_id)
            updated = update_changed_alerts(warehouse, alerts, evaluation_id)
            store_plan(warehouse, plan, evaluation_id)
    return AthleteEvaluation(athlete_id, as_of, alerts, new, plan, updated)


def evaluate_athletes(warehouse: Warehouse, settings: Settings, athletes: list[str] | None = None, *,
                      as_of: date | None = None) -> EvaluationReport:
    """Evaluate the given athletes (all known athletes when None)."""
    report = EvaluationReport(uuid.uuid4().hex[:16])
    for athlete_id in (athletes if athletes is not None else athlete_ids(warehouse)):
        report.athletes.append(evaluate_athlete(warehouse, settings, athlete_id, as_of=as_of,
                                                evaluation_id=report.evaluation_id))
    return report
