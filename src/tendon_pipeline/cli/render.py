"""Plain-text layouts for the terminal: alerts, plans, an athlete's status."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tendon_pipeline.domain.statuses import Severity

if TYPE_CHECKING:  # the CLI starts without importing the library behind its commands (nor pydantic)
    from tendon_pipeline.app.status import AthleteStatus
    from tendon_pipeline.domain.models import Alert, WeekPlan
    from tendon_pipeline.warehouse.views import Freshness

SEVERITY_MARK = {Severity.INFO: "i", Severity.CAUTION: "!", Severity.WARNING: "!!", Severity.HIGH: "!!!"}


def alert_line(alert: Alert) -> str:
    return f"{SEVERITY_MARK[alert.severity]:>3} {alert.date} {alert.severity:<7} {alert.athlete_id}: {alert.message}"


def alert_block(alert: Alert) -> str:
    numbers = ", ".join(f"{k}={v}" for k, v in alert.evidence.items())
    return "\n".join([alert_line(alert), f"      rule {alert.rule} | {numbers}", f"      source: {alert.source}"])


def alert_json(alert: Alert) -> dict:
    return {"athlete": alert.athlete_id, "rule": alert.rule, "severity": alert.severity,
            "date": alert.date.isoformat(), "period": alert.period, "message": alert.message,
            "evidence": alert.evidence, "source": alert.source, "key": alert.key}


def plan_text(plan: WeekPlan) -> str:
    lines = [
        f"Plan for {plan.athlete_id}, week of {plan.week_start} ({plan.status})"
        + (f", program week {plan.program_week}" if plan.program_week else ""),
        f"  running: {plan.target_km_low:.1f}-{plan.target_km_high:.1f} km, long run at most"
        f" {plan.long_run_cap_km:.1f} km",
    ]
    if plan.cross_training_sessions:
        lines.append(f"  cross-training: {plan.cross_training_sessions} session(s) in place of runs")
    lines.append(f"  tendon sessions: {plan.tendon_sessions_per_week} a week, each:")
    for s in plan.tendon_sessions:
        dose = f"{s.sets} x " + (f"{s.reps} reps" if s.reps else f"{s.hold_s:.0f} s" if s.hold_s else "")
        load = f" + {s.load_kg:g} kg" if s.load_kg else ""
        lines.append(f"    - {s.exercise.replace('_', ' ')}: {dose}{load}" + (f" ({s.note})" if s.note else ""))
    lines.append("  why:")
    lines += [f"    - {reason}" for reason in plan.reasons]
    return "\n".join(lines)


def status_text(status: AthleteStatus) -> str:
    week, ratio, adherence = status.week, status.ratio, status.adherence
    lines = [
        f"{status.athlete} on {status.as_of}",
        freshness_text(status.freshness, status.athlete),
        f"  this week so far: {week['km']:.1f} km in {week['runs']} run(s), longest {week['longest_km']:.1f} km,"
        f" tendon load {week['load_bw'] / 1000:.0f}k x body weight ({week.get('load_method') or 'no runs'})",
        f"  acute:chronic tendon load: {_ratio(ratio.get('acwr_uncoupled'))} (uncoupled),"
        f" {_ratio(ratio.get('acwr_ewma'))} (EWMA): context, never the only signal",
        f"  tendon program: {program_week_text(adherence.get('program_week'), adherence.get('program_weeks'))},"
        f" {adherence.get('weeks_on_target')}/{adherence.get('weeks_completed')} completed weeks with enough sessions",
        f"  alerts in the last {status.alert_days} days: {len(status.alerts)}",
    ]
    lines += [f"  {alert_line(a)}" for a in status.alerts]
    if status.plan:
        lines += ["", plan_text(status.plan)]
    return "\n".join(lines)


def freshness_text(freshness: Freshness, athlete_id: str) -> str:
    update = f"run `tendon evaluate --athlete {athlete_id}` to bring them in"
    if freshness.evaluated_at is None:
        return f"  never evaluated: no loads, alerts or plan stored yet; {update}"
    when = f"  as stored by the last evaluation ({freshness.evaluated_at:%Y-%m-%d %H:%M} UTC)"
    if not freshness.stale:
        return when
    newer = [f"{n} {what}" for n, what in ((freshness.newer_activities, "activity(ies)"),
                                          (freshness.newer_logs, "log entry(ies)")) if n]
    return f"{when}; STALE: {' and '.join(newer)} stored since; {update}"


def program_week_text(week: int | None, weeks: int | None) -> str:
    """'week 5 of 12', 'not started', or past the end 'week 41, the 12-week program done'."""
    if week is None:
        return "not started"
    if weeks is not None and week > weeks:
        return f"week {week}, the {weeks}-week program done (maintenance)"
    return f"week {week} of {weeks}"


def _ratio(value: float | None) -> str:
    return "n/a (too little history)" if value is None else f"{value:.2f}"
