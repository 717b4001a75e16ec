"""Everything the runner's report shows, gathered in one object (no rendering here).

The numbers come from the same places as the rules: the athlete's history from the
warehouse, ``domain.aggregate.load_metrics`` for weekly and daily load, the stored alerts
and plans. Nothing is recomputed differently for the picture.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from tendon_pipeline.config.settings import Settings
from tendon_pipeline.domain.aggregate import (
    HistoryFacts,
    is_tendon_loading,
    load_metrics,
    running_runs,
    up_to,
    weekly_running_km,
    weekly_tendon_load,
)
from tendon_pipeline.domain.baseline import reference
from tendon_pipeline.domain.load import week_monday
from tendon_pipeline.domain.models import (
    Alert,
    LoadMetrics,
    PainEntry,
    ProgramAdherence,
    RunSummary,
    StrengthEntry,
    VisaAEntry,
    WeekPlan,
)
from tendon_pipeline.domain.rules import SESSION_SPIKE, program_adherence
from tendon_pipeline.domain.thresholds import RuleThresholds
from tendon_pipeline.errors import ConfigError
from tendon_pipeline.warehouse.history import load_history, read_alerts
from tendon_pipeline.warehouse.store import Warehouse
from tendon_pipeline.warehouse.views import athlete_sync_row, read_plans

WEEK = timedelta(days=7)


@dataclass
class RunPoint:
    """One run on the runs chart, with the spike reference of the rule."""

    run: RunSummary
    longest_previous_km: float | None  # longest run of the previous window (None: no reference)
    spike_line_km: float | None  # above this the spike rule's caution band starts
    spike: Alert | None  # the session_spike alert on this run, if it fired


@dataclass
class WeekPoint:
    """One week on the weekly charts, with the progression guide from the week before."""

    metrics: LoadMetrics
    previous_km: float
    previous_load_bw: float
    guide_km: float | None  # the usual level + the volume rule's caution line (10 %)
    guide_load_bw: float | None
    plan: WeekPlan | None  # the plan that was made for this week, if stored
    partial: bool  # the week of as_of, still running


@dataclass
class ReportData:
    athlete_id: str
    display_name: str | None
    as_of: date
    generated_at: datetime
    thresholds: RuleThresholds
    start: date  # Monday of the first week shown
    weeks: list[WeekPoint] = field(default_factory=list)
    days: list[LoadMetrics] = field(default_factory=list)
    runs: list[RunPoint] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)  # dated in the window, newest first
    strength: list[StrengthEntry] = field(default_factory=list)
    pain: list[PainEntry] = field(default_factory=list)
    visa_a: list[VisaAEntry] = field(default_factory=list)
    adherence: ProgramAdherence | None = None
    plan: WeekPlan | None = None  # the latest plan: next week's
    this_week: dict = field(default_factory=dict)
    last_sync_at: datetime | None = None
    body_mass_kg: float | None = None
    ratio_from: date | None = None  # first day the acute:chronic ratio is judged (enough history)

    @property
    def has_runs(self) -> bool:
        return bool(self.runs)

    @property
    def spikes(self) -> list[RunPoint]:
        return [p for p in self.runs if p.spike is not None]

    def tendon_work(self) -> list[StrengthEntry]:
        return [s for s in self.strength if is_tendon_loading(s, self.thresholds)]


def collect_report(warehouse: Warehouse, settings: Settings, athlete_id: str, *,
                   as_of: date, weeks: int = 12) -> ReportData:
    """The report for ``athlete_id`` on ``as_of``, over the last ``weeks`` ISO weeks."""
    if weeks < 1:
        raise ConfigError("--weeks must be at least 1")
    sync = athlete_sync_row(warehouse, athlete_id)
    if sync is None:
        raise ConfigError(f"athlete '{athlete_id}' is not in the warehouse",
                          hint="ingest their files first (tendon ingest), or check the id with `tendon summary`")
    config = settings.athlete(athlete_id)
    th = settings.rules
    full = load_history(warehouse, athlete_id, tz_name=config.timezone if config else None,
                        program_start=config.program_start if config else None)
    history = up_to(full, as_of)
    plans = read_plans(warehouse, athlete_id)
    alerts = [a for a in read_alerts(warehouse, athlete_id) if a.date <= as_of]

    this_monday = week_monday(as_of)
    first = history.first_date()
    start = this_monday - (weeks - 1) * WEEK
    if first is not None:
        start = max(start, week_monday(first))
    data = ReportData(
        athlete_id=athlete_id, display_name=(config.name if config and config.name else sync.get("display_name")),
        as_of=as_of, generated_at=datetime.now(UTC).replace(microsecond=0), thresholds=th,
        start=start, plan=plans[-1] if plans else None, last_sync_at=sync.get("last_sync_at"),
        body_mass_kg=history.body_mass_kg,
        alerts=sorted((a for a in alerts if a.date >= start), key=lambda a: (a.date, a.rank), reverse=True),
        strength=[s for s in history.strength if s.local_date >= start],
        pain=[p for p in history.pain if p.local_date >= start],
        visa_a=[v for v in history.visa_a if v.local_date >= start],
        adherence=program_adherence(history, as_of, th),
    )
    week_runs = [r for r in running_runs(history) if this_monday <= r.local_date <= as_of]
    data.this_week = {
        "monday": this_monday, "km": sum(r.distance_m for r in week_runs) / 1000.0, "runs": len(week_runs),
        "longest_km": max((r.distance_m for r in week_runs), default=0.0) / 1000.0,
        "load_bw": sum(r.tendon_load_bw for r in week_runs),
        "plan": next((p for p in plans if p.week_start == this_monday), None),
    }
    if first is None:
        return data
    data.weeks = _weeks(history, th, start, as_of, plans)
    data.days = load_metrics(history, th, start, as_of, "day")
    first_run = next((r.local_date for r in running_runs(history)), None)
    if first_run is not None:  # as the acwr rule: the chronic window needs this much history
        data.ratio_from = first_run + timedelta(days=th.acwr_min_chronic_days + th.acute_days - 1)
    spikes = {a.period: a for a in alerts if a.rule == SESSION_SPIKE}
    data.runs = _runs(history, th, start, spikes)
    return data


def _weeks(history, th: RuleThresholds, start: date, as_of: date, plans: list[WeekPlan]) -> list[WeekPoint]:
    """Weekly points; the guide is the rules' usual level (``domain.baseline``) + the caution line."""
    by_week = {p.week_start: p for p in plans}
    facts = HistoryFacts(history, as_of)
    points = []
    for metrics in load_metrics(history, th, start, as_of, "week"):
        monday = metrics.start
        previous_km = weekly_running_km(history, monday - WEEK)
        previous_load = weekly_tendon_load(history, monday - WEEK)
        level, _ = reference(facts, monday, th)
        usual_km = level.km if level is not None and level.km > 0 else None
        usual_load = level.load_bw if level is not None and level.load_bw else None
        points.append(WeekPoint(
            metrics=metrics, previous_km=previous_km, previous_load_bw=previous_load,
            guide_km=usual_km * (1 + th.volume_increase_caution) if usual_km else None,
            guide_load_bw=usual_load * (1 + th.tendon_load_increase_caution) if usual_load else None,
            plan=by_week.get(monday), partial=metrics.end > as_of,
        ))
    return points


def _runs(history, th: RuleThresholds, start: date, spikes: dict[str, Alert]) -> list[RunPoint]:
    """Running runs from ``start`` with the longest run of the previous window (the spike
    rule's reference: runs that started earlier, at most ``spike_window_days`` before)."""
    runs = running_runs(history)
    points = []
    for index, run in enumerate(runs):
        if run.local_date < start:
            continue
        window_start = run.local_date - timedelta(days=th.spike_window_days)
        prior = [r.distance_m for r in runs[:index] if r.local_date >= window_start and r.distance_m > 0]
        longest = max(prior) / 1000.0 if prior else None
        points.append(RunPoint(
            run=run, longest_previous_km=longest,
            spike_line_km=longest * (1 + th.spike_caution) if longest is not None else None,
            spike=spikes.get(run.activity_id),
        ))
    return points
