"""An athlete's status as stored: read-only (``tendon status``); says when it is stale.

Loads, alerts and the plan are what the last evaluation stored; activities or log entries
stored after it are not in them (:class:`Freshness`), and ``tendon evaluate`` brings them in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from tendon_pipeline.app.evaluate import configured_history, today_for
from tendon_pipeline.config.settings import Settings
from tendon_pipeline.domain.aggregate import load_metrics
from tendon_pipeline.domain.load import week_monday
from tendon_pipeline.domain.models import Alert, WeekPlan
from tendon_pipeline.domain.rules import load_method_text, program_adherence
from tendon_pipeline.warehouse.history import load_history, read_alerts, read_plan
from tendon_pipeline.warehouse.store import Warehouse
from tendon_pipeline.warehouse.views import Freshness, evaluation_freshness

RECENT_ALERT_DAYS = 14


@dataclass
class AthleteStatus:
    athlete: str
    as_of: date
    week: dict  # km, runs, longest_km, load_bw, load_method: this week so far
    ratio: dict  # acwr_uncoupled, acwr_coupled, acwr_ewma today (None: too little history)
    adherence: dict  # the tendon program's adherence (ProgramAdherence as JSON)
    alerts: list[Alert]  # stored alerts of the last RECENT_ALERT_DAYS days
    plan: WeekPlan | None  # the latest stored plan
    freshness: Freshness
    alert_days: int = RECENT_ALERT_DAYS


def athlete_status(warehouse: Warehouse, settings: Settings, athlete_id: str,
                   as_of: date | None = None) -> AthleteStatus:
    """This week so far, the load ratios today, program adherence, recent alerts, the plan: as stored."""
    as_of = as_of or today_for(settings, athlete_id)
    config = settings.athlete(athlete_id)
    history = load_history(warehouse, athlete_id, tz_name=config.timezone if config else None,
                           **configured_history(config, athlete_id))
    monday = week_monday(as_of)
    week_runs = [r for r in history.runs if r.is_running and monday <= r.local_date <= as_of]
    today = load_metrics(history, settings.rules, as_of, as_of, "day")[0]
    since = as_of - timedelta(days=RECENT_ALERT_DAYS)
    recent = [a for a in read_alerts(warehouse, athlete_id) if since <= a.date <= as_of]
    return AthleteStatus(
        athlete=athlete_id, as_of=as_of,
        week={"km": sum(r.distance_m for r in week_runs) / 1000, "runs": len(week_runs),
              "longest_km": max((r.distance_m for r in week_runs), default=0.0) / 1000,
              "load_bw": sum(r.tendon_load_bw for r in week_runs),
              "load_method": load_method_text(week_runs) if week_runs else None},
        ratio={"acwr_uncoupled": today.acwr_uncoupled, "acwr_coupled": today.acwr_coupled,
               "acwr_ewma": today.acwr_ewma},
        adherence=program_adherence(history, as_of, settings.rules).model_dump(mode="json"),
        alerts=recent, plan=read_plan(warehouse, athlete_id), freshness=evaluation_freshness(warehouse, athlete_id),
    )
