"""Evaluate athletes: load in SQL, rules and plan in the pure domain core, results stored.

Library code, no Prefect; the evaluate flow and the CLI call this.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from tendon_pipeline.app.delivery.routing import route_new_alerts
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
from tendon_pipeline.warehouse.loads import compute_run_loads, stored_run_dates
from tendon_pipeline.warehouse.store import EVALUATION_LOCK, OUTBOX_LOCK, Warehouse, athlete_lock, retry_on_conflict


@dataclass(frozen=True)
class Redated:
    """A run whose local date changed since the last evaluation (the athlete's time zone changed)."""

    run_id: str
    before: date
    after: date

    @property
    def other_week(self) -> bool:
        return self.before - timedelta(days=self.before.weekday()) != self.after - timedelta(days=self.after.weekday())


@dataclass
class AthleteEvaluation:
    athlete_id: str
    as_of: date
    alerts: list[Alert]
    new_alerts: list[Alert]
    plan: WeekPlan
    updated_alerts: list[Alert] = field(default_factory=list)  # stored before, changed now (see alert_revisions)
    consumed: int = 0  # pending_evaluations rows this evaluation consumed
    routed: int = 0  # deliveries queued in its transaction
    redated: list[Redated] = field(default_factory=list)
    timezone: str | None = None

    def redated_text(self) -> str | None:
        """One line saying that runs moved to other days (and weeks), or None."""
        if not self.redated:
            return None
        weeks = sum(1 for r in self.redated if r.other_week)
        examples = ", ".join(f"{r.before} -> {r.after}" for r in self.redated[:3])
        return (f"{self.athlete_id}: {len(self.redated)} run(s) re-dated by the time zone"
                f" ({self.timezone or 'UTC'}; runs whose file has no UTC offset), {weeks} into another week:"
                f" {examples}{' ...' if len(self.redated) > 3 else ''}; weekly loads and alerts recomputed")


@dataclass
class EvaluationReport:
    evaluation_id: str
    athletes: list[AthleteEvaluation] = field(default_factory=list)
    due: int = 0  # deliveries waiting in the outbox after it (an earlier run's, too)

    def new_alerts(self) -> list[Alert]:
        return [a for e in self.athletes for a in e.new_alerts]

    def updated_alerts(self) -> list[Alert]:
        return [a for e in self.athletes for a in e.updated_alerts]
    def redated(self) -> list[str]:
        return [text for e in self.athletes if (text := e.redated_text())]

    def to_dict(self) -> dict:
        return {"evaluation_id": self.evaluation_id,
                "athletes": [{"athlete": e.athlete_id, "as_of": e.as_of.isoformat(),
                              "alerts": len(e.alerts), "new_alerts": [a.key for a in e.new_alerts],
                              "updated_alerts": [a.key for a in e.updated_alerts],
                              "plan_week": e.plan.week_start.isoformat(), "plan_status": e.plan.status,
                              "consumed_pending": e.consumed, "routed": e.routed,
                              "redated_runs": [[r.run_id, r.before.isoformat(), r.after.isoformat()]
                                               for r in e.redated]}
                             for e in self.athletes]}


def today_for(settings: Settings, athlete_id: str) -> date:
    """Today in the athlete's configured time zone (UTC when none is configured)."""
    config = settings.athlete(athlete_id)
    zone = ZoneInfo(config.timezone) if config and config.timezone else UTC
    return datetime.now(zone).date()


def athlete_history(warehouse: Warehouse, settings: Settings, athlete_id: str) -> AthleteHistory:
    """Recompute the athlete's run loads in SQL and read the full history."""
    return _recompute(warehouse, settings, athlete_id)[0]


def _recompute(warehouse: Warehouse, settings: Settings, athlete_id: str) -> tuple[AthleteHistory, list[Redated]]:
    """The history, and the runs whose local date moved since the loads were last computed
    (only the configured time zone can move them: a file's own offset never changes)."""
    config = settings.athlete(athlete_id)
    mass, height = athlete_body(warehouse, athlete_id)
    tz_name = config.timezone if config else None
    before = stored_run_dates(warehouse, athlete_id)
    frame = compute_run_loads(warehouse, athlete_id, settings.rules, body_mass_kg=mass, height_m=height,
                              tz_name=tz_name)
    moved = [Redated(run_id, before[run_id], day) for run_id, day in zip(frame["run_id"], frame["local_date"])
             if run_id in before and before[run_id] != day]
    history = load_history(warehouse, athlete_id, tz_name=tz_name, **configured_history(config, athlete_id))
    return history, moved


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
                     as_of: date | None = None, evaluation_id: str = "",
                     now: datetime | None = None) -> AthleteEvaluation:
    """Recompute one athlete's loads, alerts and plan, holding the athlete's, the evaluation
    and the outbox lock (see EVALUATION_LOCK); run again if another writer's commit conflicted.

    One transaction stores the new (and updates the changed) alerts and the plan, queues their deliveries
    (their horizon counted from when the data arrived, see :func:`route_new_alerts`) and
    deletes the ``pending_evaluations`` rows read at the start: a crash before the commit
    leaves them, and the next evaluation does all of it. ``now`` fixes the clock (tests).
    """
    as_of = as_of or today_for(settings, athlete_id)
    with warehouse.lock(athlete_lock(athlete_id), EVALUATION_LOCK, OUTBOX_LOCK):
        pending = warehouse.pending_evaluations(athlete_id)
        history, moved = _recompute(warehouse, settings, athlete_id)
        alerts = evaluate(history, settings.rules, as_of)
        plan = plan_next_week(history, alerts, settings.rules, as_of)
        arrived_at = min((p.since for p in pending), default=now or _utcnow())
        with warehouse.transaction():
            new = store_alerts(warehouse, alerts, evaluation_id)
            updated = update_changed_alerts(warehouse, alerts, evaluation_id)
            store_plan(warehouse, plan, evaluation_id)
            routed = route_new_alerts(warehouse, settings, [a.key for a in new + updated], arrived_at=arrived_at,
                                      now=now)
            warehouse.clear_pending(athlete_id, pending)
    config = settings.athlete(athlete_id)
    return AthleteEvaluation(athlete_id, as_of, alerts, new, plan, updated, consumed=len(pending), routed=routed,
                             redated=moved, timezone=config.timezone if config else None)


def evaluate_athletes(warehouse: Warehouse, settings: Settings, athletes: list[str] | None = None, *,
                      as_of: date | None = None, now: datetime | None = None) -> EvaluationReport:
    """Evaluate the given athletes (all known athletes when None) and every athlete still
    waiting for an evaluation (``pending_evaluations``: data stored by a run that crashed
    or was stopped before its evaluation)."""
    report = EvaluationReport(uuid.uuid4().hex[:16])
    wanted = list(athletes) if athletes is not None else athlete_ids(warehouse)
    wanted += sorted({p.athlete_id for p in warehouse.pending_evaluations()} - set(wanted))
    for athlete_id in wanted:
        report.athletes.append(evaluate_athlete(warehouse, settings, athlete_id, as_of=as_of,
                                                evaluation_id=report.evaluation_id, now=now))
    return report


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
