"""Prefect artifacts: each evaluation publishes one markdown summary per athlete.

A Prefect UI user sees the same summary as the runner: this week so far, the alerts and
next week's plan with its reasons. The artifact key is stable per athlete
(``tendon-athlete-<id>``), so the UI keeps each athlete's summaries as one history.

Call :func:`publish_evaluation_artifacts` (or :func:`publish_athlete_artifact` per athlete)
from inside a flow or task run so the artifact is linked to it.
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from typing import TYPE_CHECKING, Iterable
from uuid import UUID

from tendon_pipeline.domain.models import Alert, WeekPlan

if TYPE_CHECKING:  # pragma: no cover
    from tendon_pipeline.app.evaluate import AthleteEvaluation, EvaluationReport
    from tendon_pipeline.warehouse.store import Warehouse

KEY_PREFIX = "tendon-athlete-"
ALERT_DAYS = 14
_NOT_KEY = re.compile(r"[^a-z0-9]+")


def artifact_key(athlete_id: str) -> str:
    """A valid Prefect artifact key (lowercase letters, digits, dashes) for the athlete.

    An id that is not already lowercase letters, digits and dashes gets a short hash of the
    original appended, so ``Ana`` and ``ana``, or ``a.b`` and ``a_b``, never share a key.
    """
    slug = _NOT_KEY.sub("-", athlete_id.lower()).strip("-") or "athlete"
    if slug != athlete_id:
        slug = f"{slug}-{hashlib.sha256(athlete_id.encode()).hexdigest()[:6]}"
    return KEY_PREFIX + slug


def _cell(text: object) -> str:
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _alert_rows(alerts: Iterable[Alert], new_keys: set[str]) -> list[str]:
    rows = ["| severity | date | rule | what | |", "| --- | --- | --- | --- | --- |"]
    for a in alerts:
        rows.append(f"| **{a.severity}** | {a.date.isoformat()} | `{a.rule}` | {_cell(a.message)} |"
                    f" {'new' if a.key in new_keys else ''} |")
    return rows


def _plan_lines(plan: WeekPlan) -> list[str]:
    lines = [f"## Next week's plan: week of {plan.week_start.isoformat()} ({plan.status})", ""]
    if plan.program_week:
        lines.append(f"Program week {plan.program_week}.")
        lines.append("")
    lines += [
        "| | |", "| --- | --- |",
        f"| running | {plan.target_km_low:.1f}-{plan.target_km_high:.1f} km |",
        f"| long run | at most {plan.long_run_cap_km:.1f} km |",
        f"| cross-training | {plan.cross_training_sessions} session(s) in place of runs |",
        f"| tendon sessions | {plan.tendon_sessions_per_week} a week |",
    ]
    for s in plan.tendon_sessions:
        dose = f"{s.sets} x " + (f"{s.reps} reps" if s.reps else f"{s.hold_s:.0f} s" if s.hold_s else "")
        load = f" + {s.load_kg:g} kg" if s.load_kg else ""
        lines.append(f"| - {_cell(s.exercise.replace('_', ' '))} | {_cell(dose + load)}"
                     + (f" ({_cell(s.note)})" if s.note else "") + " |")
    lines += ["", "**Why**", ""]
    lines += [f"- {r}" for r in plan.reasons]
    return lines


def athlete_summary_markdown(evaluation: "AthleteEvaluation", week: dict | None = None) -> str:
    """The artifact's markdown: this week so far (when ``week`` is given: km, runs,
    longest_km, load_bw), the alerts dated in the last 14 days (new ones marked), the plan."""
    as_of = evaluation.as_of
    recent = sorted((a for a in evaluation.alerts if a.date >= as_of - timedelta(days=ALERT_DAYS)),
                    key=lambda a: (-a.rank, -a.date.toordinal(), a.rule))  # worst, then newest, first
    older = len(evaluation.alerts) - len(recent)
    new_keys = {a.key for a in evaluation.new_alerts}
    lines = [f"# {evaluation.athlete_id}: as of {as_of.isoformat()}", ""]
    if week is not None:
        lines += [
            "## This week so far", "",
            "| running | runs | longest run | tendon load |", "| --- | --- | --- | --- |",
            f"| {week['km']:.1f} km | {week['runs']} | {week['longest_km']:.1f} km |"
            f" {week['load_bw'] / 1000:.0f}k x body weight |", "",
        ]
    lines += [f"## Alerts of the last {ALERT_DAYS} days: {len(recent)} ({len(new_keys)} new in this evaluation)", ""]
    lines += _alert_rows(recent, new_keys) if recent else ["No alerts."]
    if older:
        lines += ["", f"{older} older alert(s) not shown (`tendon alerts --athlete {evaluation.athlete_id}`)."]
    lines.append("")
    lines += _plan_lines(evaluation.plan)
    return "\n".join(lines) + "\n"


def publish_athlete_artifact(evaluation: "AthleteEvaluation", week: dict | None = None) -> UUID:
    """Create the athlete's markdown artifact (key ``tendon-athlete-<id>``); returns its id."""
    from prefect.artifacts import create_markdown_artifact

    worst = max((a.rank for a in evaluation.new_alerts), default=None)
    description = (f"{evaluation.athlete_id}: {len(evaluation.new_alerts)} new alert(s), "
                   f"plan for {evaluation.plan.week_start.isoformat()}: {evaluation.plan.status}")
    if worst is not None:
        description += f" (worst new: {next(a.severity for a in evaluation.new_alerts if a.rank == worst)})"
    return create_markdown_artifact(markdown=athlete_summary_markdown(evaluation, week),
                                    key=artifact_key(evaluation.athlete_id), description=description)


def publish_evaluation_artifacts(report: "EvaluationReport", warehouse: "Warehouse | None" = None) -> list[UUID]:
    """One artifact per evaluated athlete; with an open ``warehouse`` each includes this week so far."""
    from tendon_pipeline.warehouse.views import week_so_far

    ids = []
    for evaluation in report.athletes:
        week = week_so_far(warehouse, evaluation.athlete_id, evaluation.as_of) if warehouse is not None else None
        ids.append(publish_athlete_artifact(evaluation, week))
    return ids
