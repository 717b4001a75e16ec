"""What each web page shows, gathered from the warehouse (no HTTP, no rendering here).

The coach page is the coach board (``report.coach``) with each alert's numbers and the
program week; the athlete and runner pages carry the report's charts (``report.data`` and
``report.page``), live from the warehouse.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from tendon_pipeline.app.evaluate import today_for
from tendon_pipeline.app.plan_export import plan_export
from tendon_pipeline.app.plan_files import PlanFile
from tendon_pipeline.config.settings import Settings
from tendon_pipeline.domain.models import Alert, WeekPlan
from tendon_pipeline.errors import NotFound
from tendon_pipeline.report.coach import ALERT_DAYS, CoachRow, coach_board
from tendon_pipeline.report.data import ReportData, collect_report
from tendon_pipeline.report.page import chart_fragments
from tendon_pipeline.warehouse.feedback import Feedback, latest_feedback, unwell_days
from tendon_pipeline.warehouse.history import read_alerts
from tendon_pipeline.warehouse.store import Warehouse
from tendon_pipeline.warehouse.views import known_athletes, read_plans

CHART_WEEKS = 12


@dataclass
class BoardEntry:
    """One athlete on the coach page: the board's row plus what the terminal board leaves out."""

    row: CoachRow
    alerts: list[Alert] = field(default_factory=list)  # the row's open alerts with their numbers, worst first
    program_week: int | None = None
    unwell: list[date] = field(default_factory=list)

    @property
    def label(self) -> str:
        r = self.row
        return r.athlete_id if not r.name or r.name == r.athlete_id else f"{r.name} ({r.athlete_id})"


@dataclass
class AlertWithFeedback:
    alert: Alert
    feedback: list[Feedback]  # the latest answer of each coach

    @property
    def anchor(self) -> str:
        return "alert-" + "".join(c if c.isalnum() else "-" for c in self.alert.key)


@dataclass
class AthletePage:
    data: ReportData
    charts: list[dict]
    alerts: list[AlertWithFeedback]  # every alert ever raised, newest first
    unwell: list[date]
    downloads: list[PlanFile] = field(default_factory=list)  # next week's FIT workouts and calendar


def _program_week(plans: list[WeekPlan], as_of: date) -> int | None:
    monday = as_of - timedelta(days=as_of.weekday())
    current = next((p for p in plans if p.week_start == monday), None)
    return (current or (plans[-1] if plans else None)).program_week if (current or plans) else None


def coach_entries(warehouse: Warehouse, settings: Settings, coach_name: str) -> list[BoardEntry]:
    """The coach's athletes, worst first (the coach board's order)."""
    entries = []
    for row in coach_board(warehouse, settings, coach_name):
        entry = BoardEntry(row)
        if row.known:
            stored = {a.key: a for a in read_alerts(warehouse, row.athlete_id)}
            keys = [f"{row.athlete_id}:{a['rule']}:{a['period']}" for a in row.alerts]
            entry.alerts = [stored[k] for k in keys if k in stored]
            entry.program_week = _program_week(read_plans(warehouse, row.athlete_id), row.as_of)
            entry.unwell = unwell_days(warehouse, row.athlete_id, row.as_of - timedelta(days=ALERT_DAYS))
        entries.append(entry)
    return entries


def plan_downloads(warehouse: Warehouse, settings: Settings, athlete_id: str) -> list[PlanFile]:
    """Next week's plan as FIT workouts and a calendar (``app/plan_export``); none before a plan exists."""
    try:
        return plan_export(warehouse, settings, athlete_id).files
    except NotFound:
        return []


def athlete_page(warehouse: Warehouse, settings: Settings, athlete_id: str) -> AthletePage | None:
    """The runner's charts and every alert with the coaches' answers; None for an athlete
    the warehouse does not hold."""
    if athlete_id not in known_athletes(warehouse):
        return None
    as_of = today_for(settings, athlete_id)
    data = collect_report(warehouse, settings, athlete_id, as_of=as_of, weeks=CHART_WEEKS)
    answers = latest_feedback(warehouse, athlete_id)
    alerts = sorted(read_alerts(warehouse, athlete_id), key=lambda a: (a.date, a.rank), reverse=True)
    return AthletePage(data, chart_fragments(data), [AlertWithFeedback(a, answers.get(a.key, [])) for a in alerts],
                       unwell_days(warehouse, athlete_id, as_of - timedelta(days=ALERT_DAYS)),
                       plan_downloads(warehouse, settings, athlete_id))
